#!/usr/bin/env bash
# The magiclink benchmark suite. Runs every scenario against a throwaway
# PostgreSQL (same settings for every scenario) and against SQLite, measures
# the baselines on the same database in the same run (raw COPY of the rows an
# IssueBatch writes; pgbench running the statements of a Verify CONSUME, a
# Verify PEEK and a single-link IssueBatch at the same concurrency), and
# prints one JSON line per scenario plus a summary table.
#
#   bench/run.sh                 full run (about 6 minutes on 2 quiet cores before the
#                                single-link rows, which add about 2; 27 on a busy day)
#   bench/run.sh --smoke         tiny sizes: proves every step still works
#   bench/run.sh --poolers-only  only prepared vs unnamed statements, direct and via pgbouncer
#   BUILD=build bench/run.sh     where magiclinkd, load_generator, magiclinkctl are
#
#   bench/run.sh --large         100,000 vs 10,000,000 token rows (bench/large_table.sh; minutes)
#   bench/plot.py                redraws docs/images/perf-*.png from bench/results/
#
# Results: bench/results/<UTC time>.jsonl (full runs) and stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

if [[ "${1:-}" == --large ]]; then
  shift
  exec bench/large_table.sh "$@"
fi
smoke=0 poolers_only=0
for arg in "$@"; do
  case "$arg" in
    --smoke) smoke=1 ;;
    --poolers-only) poolers_only=1 ;;
    *) echo "usage: $0 [--smoke | --poolers-only | --large [--shared_buffers=SIZE]]" >&2; exit 2 ;;
  esac
done
if [[ -z "${MAGICLINK_TEST_POSTGRES_URL:-}" ]]; then
  exec scripts/with-postgres.sh "$0" "$@"
fi

source bench/lib.sh
bench_binaries MAGICLINKD LOADGEN CTL

load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)  # the machine is shared: say how busy it was
work=$(mktemp -d /tmp/magiclink-bench.XXXXXX)
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [[ -n "${pgbouncer_pid:-}" ]] && kill "$pgbouncer_pid" 2>/dev/null
  [[ -n "${pgbouncer_dir:-}" ]] && rm -rf "$pgbouncer_dir"
  rm -rf "$work"
}
trap cleanup EXIT

if ((smoke)); then
  ISSUE_SIZES=(100 1000); ISSUE_CALLS=2; VERIFY_CALLS=200; CONCURRENCY=(1 16)
  PGBENCH_SECONDS=2; PGBENCH_ROWS=10000; COPY_REPS=2; PAIRS=2; MIXED_SECONDS=2; MIXED_TOKENS=5000; BIG=2500
else
  ISSUE_SIZES=(100 1000 10000); ISSUE_CALLS=7; VERIFY_CALLS=0; CONCURRENCY=(1 16 64)
  PGBENCH_SECONDS=15; PGBENCH_ROWS=1000000; COPY_REPS=7; PAIRS=11; MIXED_SECONDS=30; MIXED_TOKENS=20000; BIG=100000
fi
COPY_ROWS=10000

results="$work/results.jsonl"
: >"$results"
emit() { echo "$1" | tee -a "$results"; }

# pgbench needs one connection per client. The server multiplexes its calls
# onto a bounded pool, which is what it is for: 16 connections, as many as
# this 2-core PostgreSQL runs well (at 64 in flight a pool of 64 measured
# about 25% slower: 64 busy backends on two cores).
echo '{"postgres": {"pool_size": 16}}' >"$work/config.json"

verify_calls() {  # about as many seconds of calls at concurrency $1 as pgbench runs
  if ((VERIFY_CALLS > 0)); then echo "$VERIFY_CALLS"; elif (($1 == 1)); then echo 12000; else echo 60000; fi
}

issue1_calls() {  # single-link IssueBatch calls at concurrency $1: about 10-15 s of them
  if ((VERIFY_CALLS > 0)); then echo "$VERIFY_CALLS"; elif (($1 == 1)); then echo 6000; else echo 20000; fi
}

run_store_scenarios() {  # run_store_scenarios LABEL DATABASE_URL
  local label=$1
  start_server "$2"
  for size in "${ISSUE_SIZES[@]}"; do
    "$LOADGEN" --target="$target" --scenario=issue --batch_size="$size" --calls="$ISSUE_CALLS" \
      --server_pid="$server_pid" --label="$label" | while read -r l; do emit "$l"; done
  done
  # One link per call, as a sign-in form asks for it (beside pgbench's
  # pgbench_issue_1 rows on PostgreSQL; SQLite at 16 in flight only).
  local levels=("${CONCURRENCY[@]}")
  [[ "$label" == sqlite ]] && levels=(16)
  for c in "${levels[@]}"; do
    "$LOADGEN" --target="$target" --scenario=issue --batch_size=1 --concurrency="$c" \
      --calls="$(issue1_calls "$c")" --server_pid="$server_pid" --label="$label" |
      while read -r l; do emit "$l"; done
  done
  for mode in consume peek; do
    for c in "${CONCURRENCY[@]}"; do
      "$LOADGEN" --target="$target" --scenario=verify --mode="$mode" --concurrency="$c" \
        --calls="$(verify_calls "$c")" --server_pid="$server_pid" --label="$label" |
        while read -r l; do emit "$l"; done
    done
  done
  # The mix consumes and revokes tokens issued up front and those its own
  # issues add, each once: every call should succeed.
  "$LOADGEN" --target="$target" --scenario=mixed --concurrency=16 --seconds="$MIXED_SECONDS" \
    --mixed_tokens="$MIXED_TOKENS" --server_pid="$server_pid" --label="$label" |
    while read -r l; do emit "$l"; done
  # A large list through the client library's chunking (magiclinkctl issue).
  /usr/bin/python3 -c "
import sys
print('email,name')
for i in range($BIG): print(f'person{i}@big.example,P{i}')" >"$work/big.csv"
  local rss_before rss_after start end
  rss_before=$(awk '/VmRSS/ {print $2}' "/proc/$server_pid/status")
  start=$(date +%s.%N)
  "$CTL" --server="$target" issue --purpose=bench --redirect_url=http://localhost/accept \
    --input="$work/big.csv" --chunk_size=10000 --output="$work/big-links.csv" 2>/dev/null
  end=$(date +%s.%N)
  rss_after=$(awk '/VmRSS/ {print $2}' "/proc/$server_pid/status")
  local links
  links=$(($(wc -l <"$work/big-links.csv") - 1))
  emit "$(printf '{"scenario":"issue_%d_chunked","label":"%s","links":%d,"seconds":%.3f,"links_per_s":%.1f,"server_rss_kb_before":%s,"server_rss_kb_after":%s}' \
    "$BIG" "$label" "$links" "$(echo "$end - $start" | bc)" "$(echo "$links / ($end - $start)" | bc -l)" "$rss_before" "$rss_after")"
  stop_server
}

# What postgres.prepared_statements = false costs (the setting for
# transaction-pooling proxies, docs/operators.md "Poolers"): every statement
# unnamed, parsed and planned on every call. IssueBatch(1,000) and consumes
# at 16 in flight, on a direct connection and through pgbouncer in
# transaction mode (when installed); compare with the "postgres" rows above,
# which use prepared statements. `bench/run.sh --poolers-only` runs just these
# rows next to the same two scenarios with prepared statements.
run_unnamed_scenarios() {  # run_unnamed_scenarios LABEL DATABASE_URL
  echo '{"postgres": {"pool_size": 16, "prepared_statements": false}}' >"$work/config-unnamed.json"
  start_server "$2" "$work/config-unnamed.json"
  "$LOADGEN" --target="$target" --scenario=issue --batch_size=1000 --calls="$ISSUE_CALLS" \
    --server_pid="$server_pid" --label="$1" | while read -r l; do emit "$l"; done
  "$LOADGEN" --target="$target" --scenario=verify --mode=consume --concurrency=16 \
    --calls="$(verify_calls 16)" --server_pid="$server_pid" --label="$1" |
    while read -r l; do emit "$l"; done
  stop_server
}
pgbouncer_pid="" pgbouncer_dir=""
start_pgbouncer() {  # sets pgbouncer_url: database $1 through a new pgbouncer
  # Its own folder: $work is private to this user, and pgbouncer runs as the
  # cluster's owner.
  local dir port hostport
  dir=$(mktemp -d /tmp/magiclink-bench-pgbouncer.XXXXXX)
  pgbouncer_dir=$dir
  port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  hostport=${base_url##*@}
  cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=${hostport%:*} port=${hostport##*:}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
default_pool_size = 16
max_client_conn = 200
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
  echo '"postgres" ""' >"$dir/userlist.txt"
  if [[ $(id -u) -eq 0 ]]; then
    chown -R "${MAGICLINK_PG_USER:-postgres}" "$dir"
    runuser -u "${MAGICLINK_PG_USER:-postgres}" -- pgbouncer -q -d "$dir/pgbouncer.ini"
  else
    pgbouncer -q -d "$dir/pgbouncer.ini"
  fi
  for _ in $(seq 50); do [[ -s "$dir/pgbouncer.pid" ]] && break; sleep 0.1; done
  [[ -s "$dir/pgbouncer.pid" ]] || { echo "bench: pgbouncer did not start" >&2; cat "$dir/pgbouncer.log" >&2; exit 1; }
  pgbouncer_pid=$(cat "$dir/pgbouncer.pid")
  pgbouncer_url="${base_url%@*}@127.0.0.1:$port/$1"
}
run_pooler_scenarios() {
  run_unnamed_scenarios postgres_unnamed_statements "$(new_db magiclink_bench_unnamed)"
  if command -v pgbouncer >/dev/null; then
    new_db magiclink_bench_pgbouncer >/dev/null
    start_pgbouncer magiclink_bench_pgbouncer
    run_unnamed_scenarios pgbouncer_unnamed_statements "$pgbouncer_url"
    kill "$pgbouncer_pid"
    pgbouncer_pid=""
  fi
}
save_results() {  # save_results PREFIX FLAGS: bench/results/<PREFIX><UTC time>.jsonl
  mkdir -p bench/results
  local out
  out="bench/results/$1$(date -u +%Y%m%dT%H%M%SZ).jsonl"
  { echo "{\"machine\":\"$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)\",\"command\":\"bench/run.sh${2:+ $2}\",\"load_at_start\":\"$load_at_start\",\"load_at_end\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
    cat "$results"; } >"$out"
  echo "bench: results written to $out" >&2
}
if ((poolers_only)); then
  echo '{"postgres": {"pool_size": 16}}' >"$work/config.json"
  start_server "$(new_db magiclink_bench_prepared)"
  "$LOADGEN" --target="$target" --scenario=issue --batch_size=1000 --calls="$ISSUE_CALLS" \
    --server_pid="$server_pid" --label=postgres_prepared_statements | while read -r l; do emit "$l"; done
  "$LOADGEN" --target="$target" --scenario=verify --mode=consume --concurrency=16 \
    --calls="$(verify_calls 16)" --server_pid="$server_pid" --label=postgres_prepared_statements |
    while read -r l; do emit "$l"; done
  stop_server
  run_pooler_scenarios
  /usr/bin/python3 bench/summarize.py "$results"
  save_results poolers- --poolers-only
  exit 0
fi

# --- Baseline 1: raw COPY of the rows IssueBatch writes, into the same schema.
copy_url=$(new_db magiclink_bench_copy)
migrate "$copy_url"
copy_series() {  # copy_series LABEL: median of COPY_REPS runs
  local times=() t
  for r in $(seq "$COPY_REPS"); do times+=("$(copy_once "$copy_url" "$1-$r" "$COPY_ROWS")"); done
  t=$(median "${times[@]}")
  emit "$(printf '{"scenario":"copy_%d","label":"%s","median_ms":%s,"runs_ms":[%s]}' \
    "$COPY_ROWS" "$1" "$t" "$(IFS=,; echo "${times[*]}")")"
}
copy_series "postgres_all_indexes"
# What each secondary index costs the issue path: COPY with it dropped.
for index in tokens_batch_position tokens_outstanding_email; do
  def=$(psql -X -At "$copy_url" -c "SELECT pg_get_indexdef('$index'::regclass)")
  psql -q -X "$copy_url" -c "DROP INDEX $index"
  copy_series "postgres_without_$index"
  psql -q -X "$copy_url" -c "$def"
done

# IssueBatch(10,000) end to end against its baseline, alternated with COPY
# (bench/lib.sh).
issue_copy_pairs postgres "$copy_url" "$PAIRS"

# --- Baseline 2: pgbench running the statements of a call at the same
# concurrency (bench/lib.sh has the scripts): Verify CONSUME and PEEK of a
# random token each, and IssueBatch of one recipient as one transaction per
# link.
pgb_url=$(new_db magiclink_bench_pgbench)
migrate "$pgb_url"
psql -q -X "$pgb_url" <<SQL
INSERT INTO batches (batch_id, issued_by, purpose, redirect_url, created_at, expires_at, total)
  VALUES ('b_pgbench', 'bench', 'bench', 'http://localhost/accept', now(), now() + interval '1 day', $PGBENCH_ROWS);
INSERT INTO tokens (token_hash, batch_id, position, expires_at, key_id, email, purpose, metadata)
  SELECT sha256(int8send(i)), 'b_pgbench', i, now() + interval '1 day', 'k1', 'u' || i || '@x.io', 'bench', '{}'
  FROM generate_series(1, $PGBENCH_ROWS) i;
VACUUM ANALYZE;
SQL
write_consume_sql "$work/consume.sql" "\\set id random(1, $PGBENCH_ROWS)"
write_peek_sql "$work/peek.sql" "\\set id random(1, $PGBENCH_ROWS)"
for c in "${CONCURRENCY[@]}"; do
  # Every level starts with every token outstanding: an UPDATE that finds its
  # token already used writes nothing and would flatter the baseline.
  psql -q -X "$pgb_url" -c "UPDATE tokens SET consumed_at = NULL WHERE consumed_at IS NOT NULL" -c "VACUUM tokens"
  run_pgbench pgbench_consume postgres "$c" "$PGBENCH_SECONDS" "$work/consume.sql" "$pgb_url"
done
for c in "${CONCURRENCY[@]}"; do
  run_pgbench pgbench_peek postgres "$c" "$PGBENCH_SECONDS" "$work/peek.sql" "$pgb_url"
done
# The single-link issue baseline in a database of its own, so every level
# starts from the same small table, as the server's rows do.
pgi_url=$(new_db magiclink_bench_pgbench_issue)
migrate "$pgi_url"
write_issue_sql "$work/issue.sql" "$pgi_url"
for c in "${CONCURRENCY[@]}"; do
  run_pgbench pgbench_issue_1 postgres "$c" "$PGBENCH_SECONDS" "$work/issue.sql" "$pgi_url"
done

# The baselines' leftovers must not run during the server's scenarios: the
# pgbench table's dead rows would draw autovacuum, its dirty pages the
# checkpointer.
psql -q -X "$MAGICLINK_TEST_POSTGRES_URL" -c "DROP DATABASE magiclink_bench_pgbench" \
  -c "DROP DATABASE magiclink_bench_pgbench_issue" -c "DROP DATABASE magiclink_bench_copy" -c "CHECKPOINT"

# --- magiclinkd on PostgreSQL, then on SQLite.
run_store_scenarios postgres "$(new_db magiclink_bench_server)"
# What coalescing buys: the same consumes at 16 in flight with every call in
# a statement of its own, as the store ran them before it coalesced.
echo '{"postgres": {"pool_size": 16, "consume_statements": 16, "max_consume_batch": 1}}' \
  >"$work/config-alone.json"
start_server "$(new_db magiclink_bench_alone)" "$work/config-alone.json"
"$LOADGEN" --target="$target" --scenario=verify --mode=consume --concurrency=16 \
  --calls="$(verify_calls 16)" --server_pid="$server_pid" --label=postgres_one_call_per_statement |
  while read -r l; do emit "$l"; done
stop_server

run_pooler_scenarios
rm -rf "$work/data"
run_store_scenarios sqlite "sqlite:$work/bench.db"

/usr/bin/python3 bench/summarize.py "$results"
((smoke)) || save_results "" ""
