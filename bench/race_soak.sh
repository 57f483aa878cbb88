#!/usr/bin/env bash
# Racing consumes over several magiclinkd replicas on one PostgreSQL: every
# token is consumed by many calls at once through different replicas, so their
# coalesced consume statements lock overlapping tokens. Reports successes per
# token (exactly one each: no doubles, none lost), every status code,
# PostgreSQL's deadlock count over the run (pg_stat_database.deadlocks), the
# aborted transactions the replicas logged, the table's own count, and
# attempts/s.
#
#   bench/race_soak.sh            full soak: 50,000 tokens x 20 racers = 1,000,000 attempts, 3 replicas
#   bench/race_soak.sh --short    2,000 tokens x 8 racers over 3 replicas, and fails unless every token
#                                 was consumed exactly once with 0 deadlocks and 0 UNAVAILABLE (CTest)
#   TOKENS=10000 RACERS=20 REPLICAS=3 CONCURRENCY=64 DEADLINE_MS=5000 bench/race_soak.sh
#   BUILD=build                   where magiclinkd and load_generator are
#
# The replicas share one key set through MAGICLINK_TOKEN_KEYS (each has its own
# data folder, as on separate hosts). Full runs append their JSON line to
# bench/results/race-<UTC time>.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

short=0
[[ "${1:-}" == "--short" ]] && short=1
if [[ -z "${MAGICLINK_TEST_POSTGRES_URL:-}" ]]; then
  exec scripts/with-postgres.sh "$0" "$@"
fi

if ((short)); then
  TOKENS=${TOKENS:-2000} RACERS=${RACERS:-8}
else
  TOKENS=${TOKENS:-50000} RACERS=${RACERS:-20}
fi
REPLICAS=${REPLICAS:-3} CONCURRENCY=${CONCURRENCY:-64} DEADLINE_MS=${DEADLINE_MS:-5000}

BUILD=${BUILD:-build}
[[ "$BUILD" == /* ]] || BUILD="$ROOT/$BUILD"
MAGICLINKD="$BUILD/server/magiclinkd"
LOADGEN="$BUILD/bench/load_generator"
for b in "$MAGICLINKD" "$LOADGEN"; do
  [[ -x "$b" ]] || { echo "race_soak: $b is missing; build first (cmake --build $BUILD)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/magiclink-race.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

db=magiclink_race
psql -q -X "$MAGICLINK_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
url="${MAGICLINK_TEST_POSTGRES_URL%/*}/$db"
"$MAGICLINKD" --database="$url" --data_dir="$work/migrate" --migrate_only 2>>"$work/server.log"

# One key set for every replica, as from a secret store.
secret=$(/usr/bin/python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode())')
export MAGICLINK_TOKEN_KEYS="k1 $secret"

targets=()
for i in $(seq "$REPLICAS"); do
  "$MAGICLINKD" --database="$url" --data_dir="$work/data$i" --listen=127.0.0.1:0 \
    --port_file="$work/port$i" 2>>"$work/server$i.log" &
  pids+=($!)
done
for i in $(seq "$REPLICAS"); do
  for _ in $(seq 100); do [[ -s "$work/port$i" ]] && break; sleep 0.1; done
  [[ -s "$work/port$i" ]] || { echo "race_soak: replica $i did not start" >&2; cat "$work/server$i.log" >&2; exit 1; }
  targets+=("127.0.0.1:$(cat "$work/port$i")")
done

deadlocks() {
  psql -X -At "$url" -c "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
}
deadlocks_before=$(deadlocks)
race=$("$LOADGEN" --scenario=race --target="$(IFS=,; echo "${targets[*]}")" --tokens="$TOKENS" \
  --racers="$RACERS" --concurrency="$CONCURRENCY" --deadline_ms="$DEADLINE_MS" --label=race_soak)
# Stopped first: a backend reports its counters when it ends at the latest.
for p in "${pids[@]}"; do kill "$p"; wait "$p" || true; done
pids=()
sleep 1
deadlocks_after=$(deadlocks)
consumed=$(psql -X -At "$url" -c "SELECT count(*) FROM tokens WHERE consumed_at IS NOT NULL")
aborted=$(cat "$work"/server*.log | grep -c '"store_transaction_aborted"' || true)
line=$(echo "$race" | /usr/bin/python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
r["postgres_deadlocks"] = int(sys.argv[1]) - int(sys.argv[2])
r["table_tokens_consumed"] = int(sys.argv[3])
r["replica_logged_aborted_transactions"] = int(sys.argv[4])
print(json.dumps(r, separators=(",", ":")))' "$deadlocks_after" "$deadlocks_before" "$consumed" "$aborted")
echo "$line"
if ((!short)); then
  mkdir -p bench/results
  echo "$line" >>"bench/results/race-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
fi

# UNAVAILABLE is gRPC code 14; a token consumed twice or never, a deadlock or
# a disagreeing table fails the short run.
if ((short)); then
  echo "$line" | /usr/bin/python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
problems = []
if r["tokens_consumed_twice_or_more"]: problems.append("tokens consumed more than once")
if r["tokens_never_consumed"]: problems.append("tokens never consumed")
if r["ok"] != r["tokens"]: problems.append("successes differ from tokens")
if r["table_tokens_consumed"] != r["tokens"]: problems.append("the table disagrees")
if r["postgres_deadlocks"]: problems.append("PostgreSQL detected deadlocks")
if "14" in r["errors"]: problems.append("UNAVAILABLE answers")
unexpected = {c: n for c, n in r["errors"].items() if c != "9"}
if unexpected: problems.append("errors other than FAILED_PRECONDITION (TOKEN_ALREADY_USED): %s" % unexpected)
if problems:
    sys.exit("race_soak: " + "; ".join(problems))
print("race_soak: every token consumed exactly once, 0 deadlocks, no UNAVAILABLE")'
fi
