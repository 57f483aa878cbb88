#!/usr/bin/env bash
# How cost grows with the table: the same scenarios on a tokens table of
# 100,000 rows and of 10,000,000, each beside its PostgreSQL baseline on that
# same table, plus one sweeper pass with Verify's latency measured during it.
# Not a CTest: the 10M fill alone takes minutes.
#
#   bench/run.sh --large                        the same as bench/large_table.sh
#   bench/large_table.sh                        100,000 and 10,000,000 rows
#   bench/large_table.sh --shared_buffers=2GB   then again at the largest size
#                                               after restarting PostgreSQL with it
#   bench/large_table.sh --batch_ids=random     filler and pgbench batch ids random, as
#                                               builds before time-ordered ids made them
#                                               (measure such a build with BUILD=)
#   LARGE_SIZES="10000 200000" bench/large_table.sh   other sizes (a quick check)
#   BUILD=build                                 where magiclinkd and load_generator are
#   COMPARE_MAGICLINKD=/path/to/old/magiclinkd  single-link IssueBatch also with that
#                                               build, alternated, on the same tables
#
# The filler: 10 tokens per batch, batches created over the last 30 days
# (oldest first), random 32-byte hashes (sha256 of the row id), per batch 7
# tokens outstanding, 2 consumed and 1 revoked an hour after issue; the
# oldest 5% of batches expired a day after issue. Loaded with INSERT ...
# SELECT generate_series with the tokens indexes dropped and built after,
# then CHECKPOINT and VACUUM ANALYZE. Verify's scenarios issue their own
# tokens through magiclinkd; the filler only has to be in the table and its
# indexes.
#
# Results: bench/results/large-<UTC time>.jsonl (written as it goes) and stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

shared_buffers="" batch_ids=time
for arg in "$@"; do
  case "$arg" in
    --shared_buffers=*) shared_buffers=${arg#*=} ;;
    --batch_ids=time | --batch_ids=random) batch_ids=${arg#*=} ;;
    *) echo "usage: $0 [--shared_buffers=SIZE] [--batch_ids=time|random]" >&2; exit 2 ;;
  esac
done
if [[ -z "${MAGICLINK_TEST_POSTGRES_URL:-}" ]]; then
  exec scripts/with-postgres.sh "$0" "$@"
fi

source bench/lib.sh
bench_binaries MAGICLINKD LOADGEN
read -r -a SIZES <<<"${LARGE_SIZES:-100000 10000000}"
PGBENCH_SECONDS=${PGBENCH_SECONDS:-10}
COPY_ROWS=10000 PAIRS=5

load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)  # the machine is shared: say how busy it was
work=$(mktemp -d /tmp/magiclink-bench-large.XXXXXX)
sweeper_pid="" loadgen_pid=""
cleanup() {
  for p in "$server_pid" "$sweeper_pid" "$loadgen_pid"; do
    [[ -n "$p" ]] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT

# Written as it goes, so an interrupted run keeps what it measured.
mkdir -p bench/results
results="bench/results/large-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
echo "{\"machine\":\"$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)\",\"command\":\"bench/large_table.sh $*\",\"batch_ids\":\"$batch_ids\",\"load_at_start\":\"$load_at_start\"}" >"$results"
emit() { echo "$1" | tee -a "$results"; }

# The measuring server keeps everything (its start-up sweep must not delete
# the filler); the sweeper run uses the default retention of 7 days.
echo '{"retention": "315360000s", "sweep_interval": "86400s", "postgres": {"pool_size": 16}}' \
  >"$work/config.json"
echo '{"sweep_interval": "86400s", "postgres": {"pool_size": 16}}' >"$work/config-sweeper.json"

fill() {  # fill URL ROWS
  local url=$1 n=$2 nb=$(($2 / 10)) defs
  defs=$(psql -X -At "$url" -c "SELECT pg_get_indexdef(indexrelid) || ';' FROM pg_index
    WHERE indrelid = 'tokens'::regclass AND NOT indisprimary")
  # Batch ids of the server's kind (TokenSource::NewBatchId): "b_", the
  # creation time in milliseconds as 8 characters of the base64url alphabet
  # in byte order, then 14 random ones; with --batch_ids=random, 22 random
  # base64url characters.
  local id_sql="'b_' || pg_temp.sorted64((extract(epoch FROM created) * 1000)::bigint, 8)
    || pg_temp.sorted64((random() * 4398046511103)::bigint, 7)
    || pg_temp.sorted64((random() * 4398046511103)::bigint, 7)"
  [[ "$batch_ids" == random ]] && id_sql="'b_' || substr(translate(encode(decode(md5(random()::text)
    || md5(random()::text), 'hex'), 'base64'), '+/', '-_'), 1, 22)"
  psql -q -X -v ON_ERROR_STOP=1 "$url" <<SQL
SET maintenance_work_mem = '1GB';
ALTER TABLE tokens DROP CONSTRAINT tokens_pkey;
DROP INDEX tokens_batch_position, tokens_outstanding_email, tokens_spent_at;
CREATE FUNCTION pg_temp.sorted64(v bigint, n int) RETURNS text LANGUAGE sql IMMUTABLE AS \$f\$
  SELECT string_agg(substr('-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz',
    ((v >> (6 * (n - 1 - i))) & 63)::int + 1, 1), '' ORDER BY i) FROM generate_series(0, n - 1) i
\$f\$;
CREATE TEMP TABLE fb AS
  SELECT b, created, $id_sql AS id,
    CASE WHEN b < $nb / 20 THEN created + interval '1 day' ELSE now() + interval '30 days' END AS expires
  FROM (SELECT b, now() - interval '30 days' + b * (interval '30 days' / $nb) AS created
        FROM generate_series(0, $nb - 1) b) s;
INSERT INTO batches (batch_id, issued_by, purpose, redirect_url, created_at, expires_at, total)
  SELECT id, 'fill', 'login', 'http://localhost/accept', created, expires, 10 FROM fb ORDER BY b;
INSERT INTO tokens (token_hash, batch_id, position, expires_at, consumed_at, revoked_at, key_id, email,
                    purpose, metadata)
  SELECT sha256(int8send(b * 10 + p)), id, p, expires,
    CASE WHEN p IN (7, 8) THEN created + interval '1 hour' END,
    CASE WHEN p = 9 THEN created + interval '1 hour' END,
    'k1', 'user' || (b * 10 + p) || '@fill.example', 'login', '{}'
  FROM fb CROSS JOIN generate_series(0, 9) p ORDER BY b, p;
ALTER TABLE tokens ADD PRIMARY KEY (token_hash);
$defs
CHECKPOINT;
VACUUM ANALYZE;
SQL
}

# Each measured scenario starts from a checkpoint, so every one (pgbench's
# and the server's alike) pays for the full-page images of the pages it is
# first to change, and none inherits another's dirty pages; wal_emit then
# says how much WAL it wrote (pg_stat_wal: records, full-page images, bytes).
wal_before=""
wal_now() { psql -X -At "$MAGICLINK_TEST_POSTGRES_URL" -c "SELECT wal_records || ' ' || wal_fpi || ' ' || wal_bytes FROM pg_stat_wal"; }
wal_start() { psql -q -X "$1" -c "CHECKPOINT"; wal_before=$(wal_now); }
wal_emit() {  # wal_emit LABEL SCENARIO: the WAL written since wal_start
  local after r0 f0 b0 r1 f1 b1
  after=$(wal_now)
  read -r r0 f0 b0 <<<"$wal_before"
  read -r r1 f1 b1 <<<"$after"
  emit "{\"scenario\":\"wal\",\"of\":\"$2\",\"label\":\"$1\",\"records\":$((r1 - r0)),\"fpi\":$((f1 - f0)),\"bytes\":$((b1 - b0))}"
}

sizes_json() {  # sizes_json URL -> the tokens and batches tables' sizes in bytes
  psql -X -At "$1" <<'SQL'
SELECT json_build_object(
  'tokens_rows', (SELECT count(*) FROM tokens),
  'batches_rows', (SELECT count(*) FROM batches),
  'tokens_heap_bytes', pg_relation_size('tokens'),
  'tokens_toast_bytes', pg_total_relation_size('tokens') - pg_relation_size('tokens') - pg_indexes_size('tokens'),
  'tokens_indexes_bytes', pg_indexes_size('tokens'),
  'tokens_total_bytes', pg_total_relation_size('tokens'),
  'batches_total_bytes', pg_total_relation_size('batches'),
  'batches_indexes_bytes', pg_indexes_size('batches'),
  'indexes', (SELECT json_object_agg(indexrelid::regclass::text, pg_relation_size(indexrelid))
              FROM pg_index WHERE indrelid IN ('tokens'::regclass, 'batches'::regclass)),
  'shared_buffers', current_setting('shared_buffers'))
SQL
}

# p50, p99 and max (ms) and the count of the calls that started in
# [FROM_US, TO_US], from a --latency_file.
window_json() {
  awk -v from="$2" -v to="$3" '$1 >= from && $1 <= to {print $2}' "$1" | sort -n |
    awk '{a[NR]=$1} END {if (NR == 0) {print "{\"calls\":0}"; exit}
      printf "{\"calls\":%d,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}", NR,
        a[int(NR*0.5)+1]/1000, a[int(NR*0.99)+1]/1000, a[NR]/1000}'
}

measure() {  # measure LABEL URL ROWS
  local label=$1 url=$2 n=$3 nb=$(($3 / 10)) extra
  extra=",\"rows\":$n"
  emit "{\"scenario\":\"large_sizes\",\"label\":\"$label\",\"rows\":$n,\"sizes\":$(sizes_json "$url")}"
  psql -q -X "$url" -c "SELECT pg_stat_reset()" >/dev/null

  # pgbench: CONSUME of filler tokens that are outstanding and unexpired
  # (position 0-6 of a batch past the oldest 5%); it writes a time of its own,
  # so the rows it really consumed (a random pick may find one already used)
  # can be counted: "effective_tps".
  local pick="\\set b random($((nb / 20)), $((nb - 1)))
\\set p random(0, 6)
\\set id :b * 10 + :p"
  local marker=$(($(date +%s) * 1000000 + 7))
  CONSUME_NOW_US=$marker write_consume_sql "$work/consume.sql" "$pick"
  write_peek_sql "$work/peek.sql" "\\set id random(0, $((n - 1)))"
  write_issue_sql "$work/issue.sql" "$url" "$batch_ids"
  wal_start "$url"
  run_pgbench pgbench_consume "$label" 16 "$PGBENCH_SECONDS" "$work/consume.sql" "$url" "$extra"
  wal_emit "$label" pgbench_consume
  local consumed
  consumed=$(psql -X -At "$url" -c "SELECT count(*) FROM tokens
    WHERE coalesce(consumed_at, revoked_at) = magiclink_time($marker)
      AND (consumed_at IS NOT NULL OR revoked_at IS NOT NULL)")
  emit "{\"scenario\":\"pgbench_consume_rows\",\"label\":\"$label\",\"concurrency\":16,\"rows\":$n,\"consumed\":$consumed,\"seconds\":$PGBENCH_SECONDS,\"effective_tps\":$(awk -v c="$consumed" -v s="$PGBENCH_SECONDS" 'BEGIN {printf "%.1f", c / s}')}"
  wal_start "$url"
  run_pgbench pgbench_peek "$label" 16 "$PGBENCH_SECONDS" "$work/peek.sql" "$url" "$extra"
  wal_start "$url"
  run_pgbench pgbench_issue_1 "$label" 16 "$PGBENCH_SECONDS" "$work/issue.sql" "$url" "$extra"
  wal_emit "$label" pgbench_issue_1

  wal_start "$url"
  issue_copy_pairs "$label" "$url" "$PAIRS" "$extra"

  # Single-link IssueBatch; with COMPARE_MAGICLINKD, alternated with that
  # build (labels "<label>_compare"), twice each, on the same table.
  local builds=("") round suffix
  [[ -n "${COMPARE_MAGICLINKD:-}" ]] && builds=("" _compare "" _compare)
  local this_build=$MAGICLINKD
  for round in "${!builds[@]}"; do
    suffix=${builds[$round]}
    ((round >= 2)) && suffix="${suffix}_again"
    [[ "${builds[$round]}" == _compare ]] && MAGICLINKD=$COMPARE_MAGICLINKD
    wal_start "$url"
    start_server "$url"
    "$LOADGEN" --target="$target" --scenario=issue --batch_size=1 --concurrency=16 --calls=10000 \
      --server_pid="$server_pid" --label="$label$suffix" | while read -r l; do emit "$l"; done
    stop_server
    wal_emit "$label$suffix" issue_1
    MAGICLINKD=$this_build
  done

  start_server "$url"
  for mode in consume peek; do
    wal_start "$url"
    "$LOADGEN" --target="$target" --scenario=verify --mode="$mode" --concurrency=16 --calls=30000 \
      --server_pid="$server_pid" --label="$label" | while read -r l; do emit "$l"; done
  done

  # One sweeper pass (a second magiclinkd on the same database with the
  # default retention: its sweeper runs once at start-up, at most 100 chunks
  # of 1,000 rows per kind) while the first serves Verify CONSUME at 16 in
  # flight; Verify's p50/p99/max over the calls that started during the pass.
  # PostgreSQL logs every lock wait longer than deadlock_timeout
  # (log_lock_waits): set to 10 ms for the pass, the lines it logs meanwhile
  # are the waits over 10 ms (none of these consumes waits for another: each
  # token is consumed once).
  local calls=$((n >= 1000000 ? 60000 : 15000)) t0 t1 swept
  local pg_log="$MAGICLINK_TEST_PGDATA/../server.log" log_from waits
  psql -q -X "$MAGICLINK_TEST_POSTGRES_URL" -c "ALTER SYSTEM SET log_lock_waits = on" \
    -c "ALTER SYSTEM SET deadlock_timeout = '10ms'" -c "SELECT pg_reload_conf()" >/dev/null
  log_from=$(stat -c %s "$pg_log")
  rm -f "$work/ready" "$work/latencies" "$work/sweeper.log"
  "$LOADGEN" --target="$target" --scenario=verify --mode=consume --concurrency=16 --calls="$calls" \
    --server_pid="$server_pid" --label="${label}_during_sweep" --ready_file="$work/ready" \
    --latency_file="$work/latencies" >"$work/verify-during-sweep.json" &
  loadgen_pid=$!
  for _ in $(seq 600); do [[ -e "$work/ready" ]] && break; sleep 0.1; done
  sleep 1
  t0=$(($(date +%s%N) / 1000))
  "$MAGICLINKD" --config="$work/config-sweeper.json" --database="$url" --data_dir="$work/data" \
    --listen=127.0.0.1:0 2>"$work/sweeper.log" &
  sweeper_pid=$!
  for _ in $(seq 30000); do grep -q '"swept"\|"sweep_failed"' "$work/sweeper.log" && break; sleep 0.02; done
  t1=$(($(date +%s%N) / 1000))
  kill "$sweeper_pid"; wait "$sweeper_pid" || true; sweeper_pid=""
  wait "$loadgen_pid"; loadgen_pid=""
  waits=$(tail -c +$((log_from + 1)) "$pg_log" | grep -c "still waiting for" || true)
  psql -q -X "$MAGICLINK_TEST_POSTGRES_URL" -c "ALTER SYSTEM RESET log_lock_waits" \
    -c "ALTER SYSTEM RESET deadlock_timeout" -c "SELECT pg_reload_conf()" >/dev/null
  emit "$(cat "$work/verify-during-sweep.json")"
  swept=$(grep -m1 '"swept"\|"sweep_failed"' "$work/sweeper.log" || echo '{}')
  emit "{\"scenario\":\"sweep\",\"label\":\"$label\",\"rows\":$n,\"seconds\":$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e6}'),\"log\":$swept,\"lock_waits_over_10ms\":$waits,\"verify_consume_16_during\":$(window_json "$work/latencies" "$t0" "$t1")}"
  stop_server
  # Where the measured scenarios' pages came from (shared_buffers or not) and
  # how many updates were HOT (no new index entries), over this table size.
  emit "{\"scenario\":\"large_table_stats\",\"label\":\"$label\",\"rows\":$n,\"stats\":$(psql -X -At "$url" -c "
    SELECT json_build_object('heap_blks_read', heap_blks_read, 'heap_blks_hit', heap_blks_hit,
      'idx_blks_read', idx_blks_read, 'idx_blks_hit', idx_blks_hit,
      'n_tup_ins', n_tup_ins, 'n_tup_upd', n_tup_upd, 'n_tup_hot_upd', n_tup_hot_upd,
      'n_tup_del', n_tup_del)
    FROM pg_statio_user_tables s JOIN pg_stat_user_tables u USING (relid) WHERE s.relname = 'tokens'")}"
}

largest_url=""
for n in "${SIZES[@]}"; do
  url=$(new_db "magiclink_bench_rows_$n")
  migrate "$url"
  start=$(date +%s.%N)
  fill "$url" "$n"
  emit "{\"scenario\":\"large_fill\",\"label\":\"rows_$n\",\"rows\":$n,\"seconds\":$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.3f", b - a}')}"
  measure "rows_$n" "$url" "$n"
  # Only the largest table is kept (for --shared_buffers); the others free their disk.
  [[ -n "$largest_url" ]] && psql -q -X "$MAGICLINK_TEST_POSTGRES_URL" -c "DROP DATABASE ${largest_url##*/}"
  largest_url=$url largest_n=$n
done

if [[ -n "$shared_buffers" ]]; then
  psql -q -X "$MAGICLINK_TEST_POSTGRES_URL" -c "ALTER SYSTEM SET shared_buffers = '$shared_buffers'"
  "$MAGICLINK_TEST_PGCTL" -D "$MAGICLINK_TEST_PGDATA" -l "$MAGICLINK_TEST_PGDATA/../server.log" -w -m fast restart >/dev/null
  psql -q -X "$largest_url" -c "VACUUM ANALYZE" -c "CHECKPOINT"
  measure "rows_${largest_n}_shared_buffers_$shared_buffers" "$largest_url" "$largest_n"
fi

echo "{\"load_at_end\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >>"$results"
/usr/bin/python3 bench/summarize.py "$results"
echo "bench: results written to $results" >&2
