#!/usr/bin/env bash
# Builds every Bazel target in bazel-compat/ offline with Debian's Bazel 4.2
# against the system libraries, runs the Bazel cc_tests, then runs the Python
# interop client and the Bazel-built magiclinkctl against the Bazel-built
# magiclinkd, so the binaries are proven to work, not only to link.
#
#   tests/bazel/bazel_build.sh
#
# Bazel's output root is $MAGICLINK_BAZEL_OUTPUT_ROOT (default
# /tmp/magiclink-bazel-$UID): a cold build takes a few minutes on 2 cores,
# later runs reuse it. No convenience symlinks are created in the source tree.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
output_root="${MAGICLINK_BAZEL_OUTPUT_ROOT:-/tmp/magiclink-bazel-$(id -u)}"

command -v bazel >/dev/null || { echo "bazel not found (apt: bazel-bootstrap)" >&2; exit 1; }
[[ -d /usr/share/bazel/rules/java ]] || { echo "rules_java missing (apt: bazel-rules-java)" >&2; exit 1; }

cd "$root/bazel-compat"
startup=(--output_user_root="$output_root" --max_idle_secs=300)
flags=(--jobs=2 --symlink_prefix=/ --color=no --curses=no --show_progress_rate_limit=30)
trap 'bazel "${startup[@]}" shutdown >/dev/null 2>&1 || true' EXIT

step() { echo "== $*"; }
started=$SECONDS

step "bazel build //... @magiclink//:all"
bazel "${startup[@]}" build "${flags[@]}" //... @magiclink//:all

step "bazel test //:tests"
bazel "${startup[@]}" test "${flags[@]}" //:tests

bin="$(bazel "${startup[@]}" info "${flags[@]}" bazel-bin 2>/dev/null)"
magiclinkd="$bin/external/magiclink/magiclinkd"
[[ -x "$magiclinkd" ]] || { echo "no magiclinkd at $magiclinkd" >&2; exit 1; }
for generated in magiclink/v1/magic_link_service.grpc.pb.h grpc/health/v1/health.grpc.pb.h \
                 google/rpc/error_details.pb.h server/config/server_config.pb.h; do
  [[ -f "$bin/external/magiclink/$generated" ]] || { echo "not generated: $generated" >&2; exit 1; }
done

step "Python interop client against the Bazel-built magiclinkd"
"$root/tests/interop/run.sh" python "$magiclinkd"

step "Bazel-built magiclinkctl against the Bazel-built magiclinkd"
MAGICLINKCTL="$bin/external/magiclink/magiclinkctl" "$root/tests/interop/run.sh" cli "$magiclinkd"

echo "bazel_build: passed in $((SECONDS - started)) s"
