#!/usr/bin/env bash
# Runs the invitation web-tier test (invite_flow_test.mjs): a real magiclinkd,
# the example app in examples/better-auth-invites and Debian's chromium,
# driven by playwright-core. The test starts and stops every process itself.
#
#   tests/web/run.sh PATH/TO/magiclinkd
#
# The example's npm packages come from scripts/install-example-packages.sh
# (`npm ci`, a no-op when scripts/install-deps.sh --test already ran it).
# Screenshots go to $MAGICLINK_WEB_SCREENSHOTS (default out/web/screenshots;
# CTest points it into the build folder). To refresh the ones docs/web-tier.md
# shows:
#   MAGICLINK_WEB_SCREENSHOTS=docs/images tests/web/run.sh build/server/magiclinkd
set -euo pipefail

if [[ $# -ne 1 ]]; then
  sed -n '2,/^set -e/p' "$0" | sed '$d' >&2
  exit 2
fi
magiclinkd="$(realpath "$1")"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
screenshots="${MAGICLINK_WEB_SCREENSHOTS:-$root/out/web/screenshots}"
mkdir -p "$screenshots"

command -v node >/dev/null || { echo "web: node not found (scripts/install-deps.sh --test)" >&2; exit 1; }
chromium="${CHROMIUM:-/usr/bin/chromium}"
[[ -x "$chromium" ]] || { echo "web: $chromium not found (scripts/install-deps.sh --test)" >&2; exit 1; }
"$root/scripts/install-example-packages.sh"

MAGICLINKD="$magiclinkd" INVITES_APP_DIR="$root/examples/better-auth-invites" \
  SCREENSHOT_DIR="$(cd "$screenshots" && pwd)" CHROMIUM="$chromium" \
  node --test --test-reporter=spec "$here/invite_flow_test.mjs"
