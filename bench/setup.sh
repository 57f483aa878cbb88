#!/usr/bin/env bash
# What the benchmarks need beyond the test dependencies (scripts/install-deps.sh
# --test): matplotlib for bench/plot.py. Installed only when missing.
set -euo pipefail
if ! /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo=sudo
  $sudo apt-get update
  $sudo apt-get install -y -o DPkg::Lock::Timeout=900 python3-matplotlib
fi
