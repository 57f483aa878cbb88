#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer in a build folder of their own (the main build is
# g++ and stays as it is), then runs each target for a bounded time over its
# committed corpus. Exits non-zero if any input crashes a target.
#
#   scripts/fuzz.sh                 every target, MAGICLINK_FUZZ_SECONDS (15) each
#   scripts/fuzz.sh token_decode    one target
#
# MAGICLINK_FUZZ_BUILD_DIR sets the build folder (default build-fuzz). New
# inputs go to a temporary folder; the committed corpus is only read. When a
# target crashes, libFuzzer writes the input to <build>/crash-<target>-*: fix
# the bug, then add the input to tests/fuzz/corpus/<target>/ so it is replayed
# on every run from then on.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${MAGICLINK_FUZZ_SECONDS:-15}"
build="${MAGICLINK_FUZZ_BUILD_DIR:-build-fuzz}"
all_targets=(email redirect_link token_decode metadata_json issue_request csv cli_flags)
if [[ $# -gt 0 ]]; then targets=("$@"); else targets=("${all_targets[@]}"); fi

sanitize="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=undefined"
flags="${sanitize} -fno-omit-frame-pointer -g -O1"
CC=clang CXX=clang++ cmake -S . -B "${build}" -G Ninja -DCMAKE_BUILD_TYPE=None \
  -DCMAKE_C_FLAGS="${flags}" -DCMAKE_CXX_FLAGS="${flags}" \
  -DMAGICLINK_BUILD_TESTS=OFF -DMAGICLINK_WITH_POSTGRES=OFF -DMAGICLINK_BUILD_FUZZERS=ON >/dev/null
cmake --build "${build}" -j2 --target "${targets[@]/%/_fuzzer}"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
failed=0
for target in "${targets[@]}"; do
  scratch="$(mktemp -d)"
  echo "fuzz: ${target} for ${seconds}s" >&2
  if ! "${build}/tests/fuzz/${target}_fuzzer" -max_total_time="${seconds}" -timeout=10 \
      -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="${build}/crash-${target}-" \
      "${scratch}" "tests/fuzz/corpus/${target}" 2>"${build}/${target}.log"; then
    tail -n 60 "${build}/${target}.log" >&2
    echo "fuzz: ${target} FAILED; the input is in ${build}/crash-${target}-*" >&2
    failed=1
  else
    grep -E "^stat::number_of_executed_units|^Done" "${build}/${target}.log" >&2 || true
  fi
  rm -rf "${scratch}"
done
exit "${failed}"
