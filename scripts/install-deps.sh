#!/usr/bin/env bash
# Installs what magiclink needs from Debian 12's packages.
#   scripts/install-deps.sh          build and run the server
#   scripts/install-deps.sh --test   also everything the full test suite uses
set -euo pipefail

build_packages=(
  build-essential cmake ninja-build pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  libabsl-dev libpqxx-dev libsqlite3-dev libssl-dev
  golang-github-gogo-googleapis-dev   # google/rpc/*.proto
  libmicrohttpd-dev                   # the /metrics listener
  nlohmann-json3-dev                  # JSON (header-only): metadata, log lines, ctl output
)
test_packages=(
  libgtest-dev libgmock-dev
  android-libboringssl-dev            # crypto tests also run against BoringSSL
  postgresql postgresql-contrib       # throwaway PostgreSQL 15 and pgbench
  pgbouncer                           # transaction-pooling proxy in front of it (store tests)
  clang libclang-rt-14-dev            # libFuzzer and sanitizers
  python3-grpcio python3-protobuf     # Python interop client
  golang-go golang-google-grpc-dev golang-google-protobuf-dev protoc-gen-go-grpc
  golang-github-golang-protobuf-1-5-dev  # Go stubs need golang/protobuf >= 1.4 at run time
  protobuf-compiler-grpc-java-plugin libgrpc-java libprotobuf-java libnetty-java
  libperfmark-java libgeronimo-annotation-1.3-spec-java libguava-java
  bazel-bootstrap bazel-rules-java
  nodejs openssl procps jq bc               # nodejs brings npm on this image
  chromium                                  # the web tier's browser test (tests/web)
  nginx-core                                # an L7 gRPC proxy in front of replicas (tests/client)
  prometheus                                # scrapes /metrics in tests/e2e/metrics_e2e_test.cc
)

packages=("${build_packages[@]}")
if [[ "${1:-}" == "--test" ]]; then
  packages+=("${test_packages[@]}")
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: every Debian package is installed" >&2
else
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=900 --no-install-recommends "${missing[@]}"
fi
if [[ "${1:-}" == "--test" ]]; then
  # The web tier example's npm packages (pinned in its package-lock.json).
  "$(dirname "${BASH_SOURCE[0]}")/install-example-packages.sh"
fi
