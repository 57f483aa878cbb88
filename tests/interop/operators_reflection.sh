#!/usr/bin/env bash
# The operator path (grpcurl) against a live magiclinkd, through
# node/grpcurl.js, which like grpcurl learns everything from server reflection:
#   1. list / describe show the three services and the five RPCs (sorted, as
#      grpcurl lists them);
#   2. health, IssueBatch, Verify PEEK/CONSUME and Revoke with JSON bodies; the
#      second CONSUME exits 73 (64 + FAILED_PRECONDITION) and prints the
#      ErrorInfo reason decoded (through reflection) from the status details;
#      responses use the proto field names (batch_id, revoked_count), as the
#      real grpcurl prints them;
#   3. docs/operators.md has a grpcurl command for every RPC, and every block
#      marked <!-- operators-doc-test --> there and in README.md (the tour)
#      runs without error, in order.
# Called by run.sh (which starts and stops the server):
#   operators_reflection.sh HOST:PORT SCRATCH_DIR
# Environment: NODE_PATH (the installed npm packages), MAGICLINK_API_KEY
# (optional), MAGICLINK_TOKENS_FILE (issued tokens are appended there).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
address="$1"
scratch="$2"
doc="$root/docs/operators.md"

fail() { echo "FAIL $*" >&2; exit 1; }
ok() { echo "ok   $*"; }
# Tokens are 43 base64url characters; never let one reach the test log.
redact() { sed -E 's/[A-Za-z0-9_-]{43}/<redacted>/g'; }

headers=()
[[ -n "${MAGICLINK_API_KEY:-}" ]] && headers=(-H "authorization: Bearer $MAGICLINK_API_KEY")
grpcurl() { node "$here/node/grpcurl.js" "${headers[@]}" "$@"; }

# 1. list and describe.
services="$(grpcurl -plaintext "$address" list)"
for s in magiclink.v1.MagicLinkService grpc.health.v1.Health grpc.reflection.v1alpha.ServerReflection; do
  grep -qx "$s" <<<"$services" || fail "list: $s missing (got: $services)"
done
ok "list: MagicLinkService, Health, ServerReflection"

methods="$(grpcurl -plaintext "$address" list magiclink.v1.MagicLinkService)"
expected_methods="$(printf 'magiclink.v1.MagicLinkService.%s\n' GetBatch IssueBatch ListLinks Revoke Verify)"
[[ "$methods" == "$expected_methods" ]] || fail "list service: got $methods"
ok "list magiclink.v1.MagicLinkService: the five RPCs, sorted"

described="$(grpcurl -plaintext "$address" describe magiclink.v1.MagicLinkService)"
for m in IssueBatch Verify Revoke GetBatch ListLinks; do
  grep -qF "rpc $m ( .magiclink.v1.${m}Request ) returns ( .magiclink.v1.${m}Response );" \
    <<<"$described" || fail "describe: rpc $m missing (got: $described)"
done
ok "describe service: five rpc lines with request and response types"
grpcurl -plaintext "$address" describe magiclink.v1.VerifyRequest |
  grep -qF '.magiclink.v1.VerifyMode mode = 2;' || fail "describe VerifyRequest: no mode field"
ok "describe message: VerifyRequest.mode"

# 2. Calls with JSON bodies.
if [[ -n "${MAGICLINK_API_KEY:-}" ]]; then
  set +e
  node "$here/node/grpcurl.js" -plaintext -d '{"batch_id": "b_x"}' "$address" \
    magiclink.v1.MagicLinkService/GetBatch >/dev/null 2>"$scratch/noauth.err"
  code=$?
  set -e
  [[ $code -eq 80 ]] && grep -qF '"reason":"UNAUTHENTICATED"' "$scratch/noauth.err" ||
    fail "call without the API key: exit $code, want 80 (64 + UNAUTHENTICATED)"
  ok "without -H authorization: exit 80, ErrorInfo UNAUTHENTICATED"
fi

health="$(grpcurl -plaintext "$address" grpc.health.v1.Health/Check)"
[[ "$(jq -r .status <<<"$health")" == SERVING ]] || fail "health: $health"
ok "health: SERVING"

issued="$(grpcurl -plaintext -d '{
  "recipients": [{"email": "ops-a@example.com"}, {"email": "ops-b@example.com"}],
  "purpose": "login", "ttl": "900s", "redirect_url": "http://127.0.0.1:8080/landing"
}' "$address" magiclink.v1.MagicLinkService/IssueBatch)"
batch_id="$(jq -r .batch_id <<<"$issued")"
token_a="$(jq -r '.links[0].token' <<<"$issued")"
token_b="$(jq -r '.links[1].token' <<<"$issued")"
printf '%s\n' "$token_a" "$token_b" >>"${MAGICLINK_TOKENS_FILE:-/dev/null}"
[[ "$(jq -c '[.links[].email]' <<<"$issued")" == '["ops-a@example.com","ops-b@example.com"]' ]] ||
  fail "IssueBatch: unexpected links $(redact <<<"$issued")"
[[ "$token_a" =~ ^[A-Za-z0-9_-]{43}$ && "$batch_id" != null ]] || fail "IssueBatch: no token or batch id"
ok "IssueBatch (JSON body, ttl as \"900s\"): two links in order"

verify() { grpcurl -plaintext -d "$1" "$address" magiclink.v1.MagicLinkService/Verify; }
peek="$(verify "{\"token\": \"$token_a\", \"mode\": \"PEEK\"}")"
[[ "$(jq -c '[.email, .purpose, .batch_id == "'"$batch_id"'", has("consumed_at")]' <<<"$peek")" == \
   '["ops-a@example.com","login",true,false]' ]] || fail "Verify PEEK: $peek"
ok "Verify PEEK: claims, not consumed"
consumed="$(verify "{\"token\": \"$token_a\", \"mode\": \"CONSUME\", \"expected_purpose\": \"login\"}")"
jq -e 'has("consumed_at")' <<<"$consumed" >/dev/null || fail "Verify CONSUME: $consumed"
ok "Verify CONSUME: consumed_at set"

set +e
verify "{\"token\": \"$token_a\"}" >"$scratch/again.out" 2>"$scratch/again.err"
code=$?
set -e
[[ $code -eq 73 ]] || fail "second CONSUME: exit $code, want 73 (64 + FAILED_PRECONDITION)"
grep -qF 'Code: FailedPrecondition' "$scratch/again.err" &&
  grep -qF '{"@type":"type.googleapis.com/google.rpc.ErrorInfo","domain":"magiclink.v1","reason":"TOKEN_ALREADY_USED"}' \
    "$scratch/again.err" ||
  fail "second CONSUME: error output $(redact <"$scratch/again.err")"
ok "second CONSUME: exit 73, ErrorInfo magiclink.v1/TOKEN_ALREADY_USED"

revoked="$(grpcurl -plaintext -d "{\"token\": \"$token_b\"}" "$address" magiclink.v1.MagicLinkService/Revoke)"
[[ "$(jq -r .revoked_count <<<"$revoked")" == 1 ]] || fail "Revoke: $revoked"
set +e
verify "{\"token\": \"$token_b\", \"mode\": \"PEEK\"}" >/dev/null 2>"$scratch/revoked.err"
code=$?
set -e
[[ $code -eq 73 ]] && grep -qF '"reason":"TOKEN_REVOKED"' "$scratch/revoked.err" ||
  fail "Verify after Revoke: exit $code $(redact <"$scratch/revoked.err")"
ok "Revoke by token: revoked_count 1, then Verify fails with TOKEN_REVOKED"

# 3. docs/operators.md: every RPC has a command, and the marked blocks run.
for pattern in ' list' ' describe magiclink.v1.MagicLinkService' 'grpc.health.v1.Health/Check' \
               'MagicLinkService/IssueBatch' '"mode": "PEEK"' '"mode": "CONSUME"' \
               'MagicLinkService/Revoke' '{"token": "$BOB_TOKEN"}' '"email": "cy@example.com"' \
               '{"batch_id": "$BATCH_ID"}' 'MagicLinkService/GetBatch' 'MagicLinkService/ListLinks'; do
  grep -qF -- "$pattern" "$doc" || fail "docs/operators.md has no command with '$pattern'"
done
ok "docs/operators.md: commands for list, describe, health and every RPC and Revoke target"

# The marked ```sh blocks of a document, in order, with localhost:50051
# pointing at this server, as one script (the document's name, then .sh).
marked_blocks() {
  local file="$1" min="$2" out="$scratch/$(basename "$1").sh"
  awk '/<!-- operators-doc-test -->/ { armed = 1; next }
       armed && /^```sh$/ { inside = 1; armed = 0; blocks++; next }
       inside && /^```$/ { inside = 0; next }
       inside { print }
       END { if (blocks < '"$min"') exit 1 }' "$file" | sed "s/localhost:50051/$address/g" >"$out.body" ||
    fail "$file: fewer than $min blocks marked operators-doc-test"
  {
    echo 'set -euo pipefail'
    declare -p headers here
    declare -f grpcurl
    cat "$out.body"
  } >"$out"
  echo "$out"
}

run_marked_blocks() {
  local file="$1" min="$2" script
  script="$(marked_blocks "$file" "$min")"
  if ! bash "$script" >"$script.out" 2>&1; then
    redact <"$script.out" >&2
    fail "$file: a marked block failed (output above)"
  fi
  echo "$script.out"
}

out="$(run_marked_blocks "$doc" 5)"
grep -qF '"revoked_count": "1"' "$out" && grep -qF '"status": "SERVING"' "$out" &&
  grep -qE '"batch_id": "b_[A-Za-z0-9_-]+"' "$out" ||
  fail "docs/operators.md: unexpected output $(redact <"$out")"
ok "docs/operators.md: $(grep -c '<!-- operators-doc-test -->' "$doc") marked blocks ran against the server"

out="$(run_marked_blocks "$root/README.md" 1)"
grep -qF '"status": "SERVING"' "$out" && grep -qE '"batch_id": "b_[A-Za-z0-9_-]+"' "$out" &&
  grep -qF '"consumed": "1"' "$out" || fail "README.md: unexpected output $(redact <"$out")"
ok "README.md: the grpcurl tour ran against the server"
