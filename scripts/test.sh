#!/usr/bin/env bash
# Runs the whole test suite from a fresh machine: installs what the tests need,
# builds everything, starts a throwaway PostgreSQL (removed afterwards, also
# on failure) and runs every test with CTest; then builds and runs the suite
# again under AddressSanitizer + UndefinedBehaviorSanitizer (CMakePresets.json
# "asan", in ./build-asan). Exits non-zero if any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --test
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMAGICLINK_BUILD_TESTS=ON >/dev/null
cmake --build build -j2
scripts/with-postgres.sh ctest --test-dir build --output-on-failure -j2 --timeout 1200

# The same suite instrumented (see docs/security.md for what the asan test
# preset leaves out and why).
cmake --preset asan >/dev/null
cmake --build --preset asan
scripts/with-postgres.sh ctest --preset asan
