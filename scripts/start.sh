#!/usr/bin/env bash
# Installs the dependencies, builds magiclinkd and starts it on the embedded
# default: SQLite in ./magiclink-data, listening on 127.0.0.1:50051.
# Extra arguments go to magiclinkd (e.g. --listen=127.0.0.1:6000).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMAGICLINK_BUILD_TESTS=OFF >/dev/null
cmake --build build -j2 --target magiclinkd
exec build/server/magiclinkd --data_dir=magiclink-data "$@"
