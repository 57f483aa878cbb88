#!/usr/bin/env bash
# Runs one interop client against a live magiclinkd and fails on any mismatch.
#
#   tests/interop/run.sh LANGUAGE PATH/TO/magiclinkd
#     LANGUAGE: python | go | node | java | operators | grpcurl_reference | cli
#     (cli runs the same scenario through $MAGICLINKCTL, a magiclinkctl binary;
#     grpcurl_reference replays tests/interop/grpcurl-reference.md through the
#     grpcurl stand-in against a server without callers, as it was recorded)
#
# Starts magiclinkd in a temporary folder on a free loopback port, generates
# the stubs for LANGUAGE (scripts/generate-stubs.sh), builds and runs the
# client, then stops the server with SIGTERM (also on failure). Afterwards it
# checks that the server exited cleanly and that neither the server log nor
# the client output contains any token the client was issued.
#
# The server has one caller with a fresh random API key (all scopes); the
# clients read it from MAGICLINK_API_KEY and send "authorization: Bearer
# <key>". The key is checked against the logs like the tokens.
#
# Caches (npm packages, compiled Java classes) live in $MAGICLINK_INTEROP_WORK
# (default: out/interop in the source tree; CTest points it into the build
# folder).
set -euo pipefail

if [[ $# -ne 2 ]]; then
  sed -n '2,/^set -e/p' "$0" | sed '$d' >&2
  exit 2
fi
language="$1"
magiclinkd="$(realpath "$2")"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="${MAGICLINK_INTEROP_WORK:-$root/out/interop}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"

scratch="$(mktemp -d "${TMPDIR:-/tmp}/magiclink-interop-$language.XXXXXX")"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$scratch"
}
trap cleanup EXIT

fail() {
  echo "interop/$language: FAIL $*" >&2
  exit 1
}
# Tokens are 43 base64url characters; logs shown here never carry one.
redact() { sed -E 's/[A-Za-z0-9_-]{43}/<redacted>/g' "$@"; }

start_server() {
  MAGICLINK_API_KEY="$(head -c 32 /dev/urandom | base64 | tr -d '=+/\n')"
  export MAGICLINK_API_KEY
  local key_sha256
  key_sha256="$(printf '%s' "$MAGICLINK_API_KEY" | sha256sum | cut -d' ' -f1)"
  (umask 077 && cat >"$scratch/magiclinkd.json" <<EOF
{"callers": [{"name": "interop", "api_key_sha256": ["$key_sha256"],
              "scopes": ["issue", "verify", "revoke", "read"]}]}
EOF
  )
  if [[ "$language" == grpcurl_reference ]]; then
    echo '{}' >"$scratch/magiclinkd.json"  # loopback, no callers: issued_by "local"
  fi
  "$magiclinkd" --config="$scratch/magiclinkd.json" --data_dir="$scratch/data" \
    --listen=127.0.0.1:0 --port_file="$scratch/port" >"$scratch/server.log" 2>&1 &
  server_pid=$!
  local i
  for ((i = 0; i < 300; i++)); do
    if [[ -s "$scratch/port" ]] && grep -qE '^[0-9]+$' "$scratch/port"; then
      address="127.0.0.1:$(cat "$scratch/port")"
      return
    fi
    kill -0 "$server_pid" 2>/dev/null || { redact "$scratch/server.log" >&2; fail "magiclinkd exited"; }
    sleep 0.1
  done
  redact "$scratch/server.log" >&2
  fail "magiclinkd did not write its port within 30 s"
}

stop_server() {
  kill -0 "$server_pid" 2>/dev/null || { redact "$scratch/server.log" >&2; fail "magiclinkd died"; }
  kill -TERM "$server_pid"
  local status=0
  wait "$server_pid" || status=$?
  server_pid=""
  [[ $status -eq 0 ]] || { redact "$scratch/server.log" >&2; fail "magiclinkd exited with $status"; }
}

# Installs the pinned npm packages once per package-lock.json (npm ci), under
# a lock so parallel tests share one install.
ensure_node_modules() {
  command -v node >/dev/null || fail "node not found (scripts/install-deps.sh --test)"
  local dir="$work/node"
  mkdir -p "$dir"
  (
    flock 9
    local want
    want="$(cat "$here/node/package.json" "$here/node/package-lock.json" | sha256sum | cut -d' ' -f1)"
    if [[ "$(cat "$dir/node_modules/.magiclink-lock-sha256" 2>/dev/null)" != "$want" ]]; then
      cp "$here/node/package.json" "$here/node/package-lock.json" "$dir/"
      (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >&2
      echo "$want" >"$dir/node_modules/.magiclink-lock-sha256"
    fi
  ) 9>"$work/node.lock"
  export NODE_PATH="$dir/node_modules"
}

java_classpath() {
  local jars=(grpc-api grpc-context grpc-core grpc-netty grpc-protobuf grpc-protobuf-lite grpc-stub
              protobuf guava failureaccess error-prone-annotations perfmark-api
              geronimo-annotation-1.3-spec
              netty-buffer netty-codec netty-codec-http netty-codec-http2 netty-common netty-handler
              netty-resolver netty-transport netty-transport-native-unix-common)
  local cp="" jar
  for jar in "${jars[@]}"; do
    if [[ -f "/usr/share/java/$jar.jar" ]]; then
      cp+="${cp:+:}/usr/share/java/$jar.jar"
    elif [[ "$jar" != failureaccess ]]; then
      fail "/usr/share/java/$jar.jar missing (scripts/install-deps.sh --test)"
    fi
  done
  echo "$cp"
}

run_client() {
  local stubs="$scratch/stubs"
  case "$language" in
    python)
      "$root/scripts/generate-stubs.sh" "$stubs" python
      PYTHONPATH="$stubs/python" PYTHONDONTWRITEBYTECODE=1 \
        /usr/bin/python3 "$here/python/interop_client.py" "$address"
      ;;
    go)
      # The stubs are APIv2 (google.golang.org/protobuf); grpc-go 1.33 reaches
      # them through github.com/golang/protobuf, which must be 1.4 or later.
      grep -q 'google.golang.org/protobuf' /usr/share/gocode/src/github.com/golang/protobuf/proto/proto.go ||
        fail "github.com/golang/protobuf is 1.3: install golang-github-golang-protobuf-1-5-dev"
      "$root/scripts/generate-stubs.sh" "$stubs" go
      (cd "$here/go" && GO111MODULE=off GOPATH="$stubs/go:/usr/share/gocode" GOPROXY=off GOFLAGS= \
        go build -o "$scratch/go-client" interop_client.go)
      "$scratch/go-client" "$address"
      ;;
    node)
      ensure_node_modules
      "$root/scripts/generate-stubs.sh" "$stubs" node
      node "$here/node/interop_client.js" "$stubs/node/proto" "$address"
      ;;
    java)
      command -v javac >/dev/null || fail "javac not found"
      "$root/scripts/generate-stubs.sh" "$stubs" java
      local cp key classes
      cp="$(java_classpath)"
      key="$( (echo "$cp"; find "$stubs/java/src" -name '*.java' -print0 | sort -z | xargs -0 cat;
               cat "$here/java/InteropClient.java") | sha256sum | cut -d' ' -f1)"
      classes="$work/java/$key"
      if [[ ! -d "$classes" ]]; then
        mkdir -p "$work/java"
        rm -rf "$classes.tmp.$$"
        mkdir "$classes.tmp.$$"
        find "$stubs/java/src" -name '*.java' >"$scratch/java-sources"
        echo "$here/java/InteropClient.java" >>"$scratch/java-sources"
        javac -nowarn -encoding UTF-8 -d "$classes.tmp.$$" -cp "$cp" @"$scratch/java-sources"
        mv -T "$classes.tmp.$$" "$classes" 2>/dev/null || rm -rf "$classes.tmp.$$"
      fi
      java -cp "$classes:$cp" InteropClient "$address"
      ;;
    operators)
      command -v jq >/dev/null || fail "jq not found"
      ensure_node_modules
      mkdir -p "$scratch/operators"
      "$here/operators_reflection.sh" "$address" "$scratch/operators"
      ;;
    grpcurl_reference)
      ensure_node_modules
      node "$here/node/grpcurl_reference_test.js" "$address" "$here/grpcurl-reference.md" \
        "$MAGICLINK_TOKENS_FILE"
      ;;
    cli)
      [[ -x "${MAGICLINKCTL:-}" ]] || fail "set MAGICLINKCTL to a magiclinkctl binary"
      run_cli_scenario
      ;;
    *)
      fail "unknown language (python, go, node, java, operators, grpcurl_reference, cli)"
      ;;
  esac
}

# The client scenario through magiclinkctl; tokens go through stdin only.
run_cli_scenario() {
  local ctl=("$MAGICLINKCTL" --server="$address") links="$scratch/links.jsonl" out code
  token_of() { jq -r --arg e "$1" 'select(.email == $e).token' "$links"; }
  printf 'email,name\nada@example.com,Ada\nbob@example.com,Bob\n' |
    "${ctl[@]}" issue --purpose=invite --redirect_url=http://localhost:3000/welcome --ttl=1h \
      --format=jsonl >"$links"
  jq -r .token "$links" >>"$MAGICLINK_TOKENS_FILE"
  [[ "$(jq -sc '[.[].email]' "$links")" == '["ada@example.com","bob@example.com"]' ]] ||
    fail "cli issue: unexpected emails"
  echo "ok   issue: two links from CSV on stdin"
  out="$(token_of ada@example.com | "${ctl[@]}" peek --token=-)"
  [[ "$(jq -c '[.email, .metadata.name, has("consumed_at")]' <<<"$out")" == '["ada@example.com","Ada",false]' ]] ||
    fail "cli peek: $out"
  echo "ok   peek: claims with CSV metadata, not consumed"
  out="$(token_of ada@example.com | "${ctl[@]}" verify --token=- --purpose=invite)"
  jq -e 'has("consumed_at")' <<<"$out" >/dev/null || fail "cli verify: $out"
  echo "ok   verify: consumed"
  code=0
  out="$(token_of ada@example.com | "${ctl[@]}" verify --token=- 2>&1)" || code=$?
  [[ $code -eq 3 && "$out" == *TOKEN_ALREADY_USED* ]] || fail "cli verify again: exit $code, $out"
  echo "ok   verify again: exit 3, TOKEN_ALREADY_USED"
  out="$(token_of bob@example.com | "${ctl[@]}" revoke --token=-)"
  [[ "$(jq -r .revoked_count <<<"$out")" == 1 ]] || fail "cli revoke: $out"
  code=0
  out="$(token_of bob@example.com | "${ctl[@]}" verify --token=- 2>&1)" || code=$?
  [[ $code -eq 3 && "$out" == *TOKEN_REVOKED* ]] || fail "cli verify revoked: exit $code, $out"
  echo "ok   revoke, then verify: exit 3, TOKEN_REVOKED"
  out="$("${ctl[@]}" batch --batch="$(jq -r .batch_id "$links" | head -1)")"
  [[ "$(jq -c '[.total, .consumed, .revoked] | map(tonumber)' <<<"$out")" == '[2,1,1]' ]] ||
    fail "cli batch: $out"
  echo "ok   batch: total 2, consumed 1, revoked 1"
}

start_server
export MAGICLINK_TOKENS_FILE="$scratch/tokens"
: >"$MAGICLINK_TOKENS_FILE"
status=0
run_client >"$scratch/client.log" 2>&1 || status=$?
redact "$scratch/client.log"
[[ $status -eq 0 ]] || fail "the $language client failed (exit $status)"
stop_server

# The client saw tokens; no log may contain one, nor the API key.
[[ -s "$MAGICLINK_TOKENS_FILE" ]] || fail "the client reported no issued tokens"
for log in server.log client.log; do
  if grep -qFf "$MAGICLINK_TOKENS_FILE" "$scratch/$log"; then
    fail "an issued token appears in $log"
  fi
  if grep -qF "$MAGICLINK_API_KEY" "$scratch/$log"; then
    fail "the API key appears in $log"
  fi
done
echo "interop/$language: passed (server on $address stopped cleanly, no token or key in any log)"
