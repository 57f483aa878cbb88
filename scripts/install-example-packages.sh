#!/usr/bin/env bash
# Installs the npm packages of examples/better-auth-invites (the web tier
# example, docs/web-tier.md) with `npm ci` from its package-lock.json, into
# its own node_modules. Does nothing when they are already installed from the
# same package.json and package-lock.json. scripts/install-deps.sh --test and
# tests/web/run.sh call it.
#
# Install scripts stay on: better-sqlite3 compiles its native module against
# Debian's Node.js headers (no download; needs build-essential and python3),
# which takes one to four minutes on a small machine.
set -euo pipefail

example="$(cd "$(dirname "${BASH_SOURCE[0]}")/../examples/better-auth-invites" && pwd)"
command -v npm >/dev/null || { echo "install-example-packages: npm not found (scripts/install-deps.sh --test)" >&2; exit 1; }
(
  flock 9
  want="$(cat "$example/package.json" "$example/package-lock.json" | sha256sum | cut -d' ' -f1)"
  stamp="$example/node_modules/.magiclink-lock-sha256"
  if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    start=$SECONDS
    (cd "$example" && npm ci --no-audit --no-fund --loglevel=error) >&2
    echo "$want" >"$stamp"
    echo "install-example-packages: npm ci in examples/better-auth-invites took $((SECONDS - start)) s" >&2
  fi
) 9>"${TMPDIR:-/tmp}/magiclink-example-packages.lock"
