#!/bin/bash
# Installs the magiclink build into a prefix under WORK_DIR, builds the
# consumer project against it twice (CMake package, then pkg-config) and runs
# the results against a live magiclinkd.
# Usage: run_consumer_test.sh BUILD_DIR WORK_DIR CONSUMER_SOURCE_DIR MAGICLINKD CXX
set -euo pipefail
build_dir=$1 work_dir=$2 source_dir=$3 magiclinkd=$4 cxx=$5
prefix=$work_dir/prefix

rm -rf "$work_dir"
mkdir -p "$work_dir"
server_pid=
cleanup() { if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; fi; }
trap cleanup EXIT

echo "== cmake --install into $prefix"
cmake --install "$build_dir" --prefix "$prefix" >"$work_dir/install.log"
for f in include/magiclink/client/client.h include/magiclink/client/mocks/mock_connection.h \
         include/magiclink/gen/magiclink/v1/magic_link_service.grpc.pb.h \
         include/magiclink/gen/google/rpc/error_details.pb.h \
         lib/cmake/magiclink/magiclinkConfig.cmake lib/pkgconfig/magiclink.pc bin/magiclinkctl; do
  [[ -e $prefix/$f ]] || { echo "missing from the install: $f"; exit 1; }
done

echo "== find_package(magiclink) build"
cmake -S "$source_dir" -B "$work_dir/cmake-build" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_PREFIX_PATH="$prefix" >"$work_dir/configure.log"
cmake --build "$work_dir/cmake-build" --parallel 2

echo "== pkg-config build"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
# shellcheck disable=SC2046  # pkg-config output is a list of flags
"$cxx" -std=c++17 -o "$work_dir/invite_service_pc" "$source_dir/invite_service.cc" \
  $(pkg-config --cflags --libs magiclink)

echo "== run against magiclinkd"
"$magiclinkd" --data_dir="$work_dir/data" --listen=127.0.0.1:0 --port_file="$work_dir/port" \
  2>"$work_dir/server.log" &
server_pid=$!
for _ in $(seq 1 200); do
  [[ -s $work_dir/port ]] && break
  kill -0 "$server_pid" || { echo "magiclinkd exited"; cat "$work_dir/server.log"; exit 1; }
  sleep 0.05
done
address=127.0.0.1:$(cat "$work_dir/port")
"$work_dir/cmake-build/invite_service" "$address"
"$work_dir/invite_service_pc" "$address"
"$work_dir/cmake-build/landing_page_test"
echo "consumer test: ok"
