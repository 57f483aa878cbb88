#!/usr/bin/env bash
# Generates client stubs for magiclink.v1 from proto/ (plus the google.rpc error
# details and the gRPC health service where a language does not ship them) for
# Python, Go, Node.js and Java. Generated code is not committed.
#
#   scripts/generate-stubs.sh [OUT_DIR] [LANGUAGE...]
#     OUT_DIR    default out/stubs (relative to the current directory)
#     LANGUAGE   python go node java (default: all four)
#
# Layout of OUT_DIR:
#   python/  magiclink/v1/*_pb2*.py, google/rpc/*_pb2.py,
#            grpc_health/v1/health_pb2*.py      -> put it on PYTHONPATH
#   go/      src/magiclink/gen/go/magiclinkv1   -> add OUT_DIR/go to GOPATH
#            (google.rpc and health come from Debian's genproto and grpc-go)
#   node/    proto/...                          -> @grpc/proto-loader loads these
#   java/    src/... (com.google.rpc, io.grpc.health.v1, dev.magiclink.v1)
#
# Needs: protoc, grpc_python_plugin, grpc_java_plugin, protoc-gen-go-grpc and
# Go (to build protoc-gen-go from Debian's source package, offline): see
# scripts/install-deps.sh --test.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-out/stubs}"
shift || true
LANGUAGES=("$@")
((${#LANGUAGES[@]})) || LANGUAGES=(python go node java)

GOOGLEAPIS="${MAGICLINK_GOOGLEAPIS_DIR:-/usr/share/gocode/src/github.com/gogo/googleapis}"
GRPC_PROTO="${MAGICLINK_GRPC_PROTO_DIR:-/usr/share/grpc-proto}"
PROTOC="${PROTOC:-protoc}"

API_PROTO="magiclink/v1/magic_link_service.proto"
RPC_PROTOS=(google/rpc/status.proto google/rpc/error_details.proto google/rpc/code.proto)
HEALTH_PROTO="grpc/health/v1/health.proto"

die() { echo "generate-stubs: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found (scripts/install-deps.sh --test)"; }

need "$PROTOC"
[[ -f "$GOOGLEAPIS/google/rpc/status.proto" ]] || die "google/rpc protos not in $GOOGLEAPIS"
[[ -f "$GRPC_PROTO/$HEALTH_PROTO" ]] || die "health.proto not in $GRPC_PROTO"

mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

generate_python() {
  need grpc_python_plugin
  local dir="$OUT/python"
  rm -rf "$dir" && mkdir -p "$dir"
  "$PROTOC" -I "$ROOT/proto" -I "$GOOGLEAPIS" --python_out="$dir" "${RPC_PROTOS[@]}"
  "$PROTOC" -I "$ROOT/proto" --python_out="$dir" --grpc_out="$dir" \
    --plugin=protoc-gen-grpc="$(command -v grpc_python_plugin)" "$API_PROTO"
  # A top-level grpc/ folder would clash with the grpcio package, so health is
  # generated as grpc_health.v1, the module name grpcio-health-checking uses.
  local health_root
  health_root="$(mktemp -d)"
  mkdir -p "$health_root/grpc_health/v1"
  cp "$GRPC_PROTO/$HEALTH_PROTO" "$health_root/grpc_health/v1/health.proto"
  "$PROTOC" -I "$health_root" --python_out="$dir" --grpc_out="$dir" \
    --plugin=protoc-gen-grpc="$(command -v grpc_python_plugin)" grpc_health/v1/health.proto
  rm -rf "$health_root"
  # Regular packages for our own modules; google/ stays a namespace package so
  # it merges with the installed google.protobuf.
  touch "$dir/magiclink/__init__.py" "$dir/magiclink/v1/__init__.py" \
        "$dir/grpc_health/__init__.py" "$dir/grpc_health/v1/__init__.py"
}

generate_go() {
  need go
  need protoc-gen-go-grpc
  local dir="$OUT/go"
  rm -rf "$dir/src" && mkdir -p "$dir/src" "$dir/bin"
  # protoc-gen-go is only packaged as source: build it in GOPATH mode, offline.
  if [[ ! -x "$dir/bin/protoc-gen-go" ]]; then
    GO111MODULE=off GOPATH="$dir:/usr/share/gocode" GOPROXY=off GOFLAGS= \
      go build -o "$dir/bin/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
  fi
  # go_package is magiclink/gen/go/magiclinkv1, so the import path is the
  # folder under src/.
  "$PROTOC" -I "$ROOT/proto" \
    --plugin=protoc-gen-go="$dir/bin/protoc-gen-go" --go_out="$dir/src" \
    --plugin=protoc-gen-go-grpc="$(command -v protoc-gen-go-grpc)" --go-grpc_out="$dir/src" \
    "$API_PROTO"
}

generate_node() {
  # @grpc/proto-loader reads .proto files at run time; it brings the
  # google/protobuf well-known types itself.
  local dir="$OUT/node/proto"
  rm -rf "$OUT/node" && mkdir -p "$dir/magiclink/v1" "$dir/google/rpc" "$dir/grpc/health/v1"
  cp "$ROOT/proto/$API_PROTO" "$dir/$API_PROTO"
  local p
  for p in "${RPC_PROTOS[@]}"; do cp "$GOOGLEAPIS/$p" "$dir/$p"; done
  cp "$GRPC_PROTO/$HEALTH_PROTO" "$dir/$HEALTH_PROTO"
}

generate_java() {
  need grpc_java_plugin
  local dir="$OUT/java/src"
  rm -rf "$OUT/java" && mkdir -p "$dir"
  # Debian ships neither proto-google-common-protos nor grpc-services, so
  # com.google.rpc and io.grpc.health.v1 are generated here too.
  "$PROTOC" -I "$ROOT/proto" -I "$GOOGLEAPIS" -I "$GRPC_PROTO" \
    --java_out="$dir" \
    --plugin=protoc-gen-grpc-java="$(command -v grpc_java_plugin)" --grpc-java_out="$dir" \
    "$API_PROTO" "${RPC_PROTOS[@]}" "$HEALTH_PROTO"
}

for language in "${LANGUAGES[@]}"; do
  case "$language" in
    python | go | node | java) "generate_$language" ;;
    *) die "unknown language '$language' (python, go, node, java)" ;;
  esac
  echo "generate-stubs: $language -> $OUT/$language" >&2
done
