# Shared by bench/run.sh, bench/large_table.sh and bench/profile.sh (sourced,
# not run). Expects ROOT and MAGICLINK_TEST_POSTGRES_URL; its functions also
# $work (a private temporary folder) and emit (prints a JSON line and keeps it
# with the results).

# bench_binaries VAR...: sets BUILD (default build/, relative to the checkout),
# MAGICLINKD, LOADGEN, CTL and PGBIN, and stops unless each named one exists.
bench_binaries() {
  BUILD=${BUILD:-build}
  [[ "$BUILD" == /* ]] || BUILD="$ROOT/$BUILD"
  MAGICLINKD="$BUILD/server/magiclinkd"
  LOADGEN="$BUILD/bench/load_generator"
  CTL="$BUILD/client/ctl/magiclinkctl"
  PGBIN=${MAGICLINK_PG_BIN:-/usr/lib/postgresql/15/bin}
  local var
  for var in "$@"; do
    [[ -x "${!var}" ]] || { echo "bench: ${!var} is missing; build first (cmake --build $BUILD)" >&2; exit 2; }
  done
}

base_url=${MAGICLINK_TEST_POSTGRES_URL%/*}
new_db() {  # creates database $1 and prints its URL
  psql -q -X "$MAGICLINK_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"
  echo "$base_url/$1"
}
migrate() { "$MAGICLINKD" --database="$1" --data_dir="$work/data" --migrate_only 2>>"$work/server.log"; }

server_pid=""
start_server() {  # start_server DATABASE_URL [CONFIG_FILE]: sets server_pid and target
  local port_file="$work/port" config=${2:-$work/config.json}
  rm -f "$port_file"
  "$MAGICLINKD" --config="$config" --database="$1" --data_dir="$work/data" --listen=127.0.0.1:0 \
    --port_file="$port_file" 2>>"$work/server.log" &
  server_pid=$!
  for _ in $(seq 100); do [[ -s "$port_file" ]] && break; sleep 0.1; done
  [[ -s "$port_file" ]] || { echo "bench: magiclinkd did not start" >&2; cat "$work/server.log" >&2; exit 1; }
  target="127.0.0.1:$(cat "$port_file")"
}
stop_server() { kill "$server_pid"; wait "$server_pid" || true; server_pid=""; }

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# copy_once URL TAG ROWS -> milliseconds for a psql \copy of ROWS token rows
# (random 32-byte hashes, addresses spread over the email index as the load
# generator's and real ones are, the columns IssueBatch writes) into a new batch.
copy_once() {
  local url=$1 tag=$2 rows=$3 csv="$work/copy-$2.csv"
  /usr/bin/python3 - "$tag" "$rows" >"$csv" <<'PY'
import os, sys
rep, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    h = os.urandom(32).hex()
    e = int.from_bytes(os.urandom(5), 'big') % 10000000000  # spread like real addresses
    print(f'"\\\\x{h}",b_copy_{rep},{i},2030-01-01 00:00:00+00,k1,user{e}.{i}.{rep}@copy.example,bench,{{}}')
PY
  psql -q -X "$url" -c "INSERT INTO batches (batch_id, issued_by, purpose, redirect_url, created_at, expires_at, total) VALUES ('b_copy_$tag', 'bench', 'bench', 'http://localhost/accept', now(), '2030-01-01', $rows)"
  psql -X "$url" -c '\timing on' \
    -c "\\copy tokens (token_hash, batch_id, position, expires_at, key_id, email, purpose, metadata) FROM '$csv' WITH (FORMAT csv)" \
    | awk '/^Time:/ {print $2}'
  rm -f "$csv"
}

# CPU ticks of all PostgreSQL processes, exited backends included (they move
# into the postmaster's children's time).
pg_cpu_ticks() {
  local total=0 p f
  for p in $(pgrep -x postgres); do
    f=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || continue
    total=$((total + $(echo "$f" | awk '{print $12 + $13 + $14 + $15}')))
  done
  echo "$total"
}

# The pgbench scripts: the statements magiclinkd runs, with the values pgbench
# can supply. Each takes the file to write and the pgbench lines that set :id,
# the row id of a token whose hash is sha256(int8send(id)).
#
# Verify CONSUME as the server ran each call before it coalesced concurrent
# consumes (kConsumeBatch in server/store/postgres/statements.cc is the same
# conditional UPDATE over unnest() of many calls): the hash array computed in
# SQL, the time as the server's bigint microseconds, no consume key, no
# expected purpose. CONSUME_NOW_US (default: now) is the time it writes, so a
# caller can count the rows it really consumed.
write_consume_sql() {
  cat >"$1" <<SQL
$2
\set now ${CONSUME_NOW_US:-$(($(date +%s) * 1000000))}
WITH t AS (UPDATE tokens SET consumed_at = magiclink_time(:now), consume_key_hash = NULLIF(''::bytea, ''::bytea) WHERE token_hash = ANY(ARRAY[sha256(int8send(:id))]) AND num_nonnulls(consumed_at, revoked_at) = 0 AND expires_at > magiclink_time(:now) AND ('' = '' OR purpose = '') RETURNING batch_id, position, email, purpose, metadata, expires_at, consumed_at, revoked_at, consume_key_hash) SELECT t.batch_id, t.position, t.email, t.purpose, t.metadata, b.redirect_url, magiclink_micros(b.created_at), magiclink_micros(t.expires_at), magiclink_micros(t.consumed_at), magiclink_micros(t.revoked_at), t.consume_key_hash FROM t JOIN batches b ON b.batch_id = t.batch_id;
SQL
}
# Verify PEEK: kFindToken, the claims of one token by its hash.
write_peek_sql() {
  cat >"$1" <<SQL
$2
SELECT t.batch_id, t.position, t.email, t.purpose, t.metadata, b.redirect_url, magiclink_micros(b.created_at), magiclink_micros(t.expires_at), magiclink_micros(t.consumed_at), magiclink_micros(t.revoked_at), t.consume_key_hash FROM tokens t JOIN batches b ON b.batch_id = t.batch_id WHERE t.token_hash = ANY(ARRAY[sha256(int8send(:id))]) LIMIT 1;
SQL
}
# IssueBatch of one recipient, the naive way: one transaction per link with
# the statements magiclinkd runs for it (kInsertBatch, then kInsertTokens over
# one-element arrays), a random 32-byte hash and a new batch id each time.
# Batch ids increase, as the server's do (they begin with their creation
# time, TokenSource::NewBatchId): from the sequence magiclink_bench_batch_ids,
# which write_issue_sql creates in database $2. With $3 = random, random ids
# instead, as builds before time-ordered ids made them.
write_issue_sql() {
  local now_us=$(($(date +%s) * 1000000))
  local id="'b_' || lpad(nextval('magiclink_bench_batch_ids')::text, 22, '0')"
  local same_id="'b_' || lpad(currval('magiclink_bench_batch_ids')::text, 22, '0')"
  [[ "${3:-}" == random ]] && id="'b_' || :r" same_id="'b_' || :r"
  psql -q -X "$2" -c "CREATE SEQUENCE IF NOT EXISTS magiclink_bench_batch_ids"
  cat >"$1" <<SQL
\set r random(1, 9000000000000000000)
\set now $now_us
\set exp $((now_us + 86400000000))
BEGIN;
INSERT INTO batches (batch_id, issued_by, purpose, redirect_url, created_at, expires_at, total, request_id, request_fingerprint, replay_sealed) VALUES ($id, 'bench', 'bench', 'http://localhost/accept', magiclink_time(:now), magiclink_time(:exp), 1, NULLIF(''::text, ''), NULLIF(''::bytea, ''::bytea), NULLIF(''::bytea, ''::bytea)) ON CONFLICT (issued_by, request_id) WHERE request_id IS NOT NULL DO NOTHING RETURNING batch_id;
INSERT INTO tokens (token_hash, batch_id, position, expires_at, key_id, email, purpose, metadata) SELECT u.h, $same_id, u.p, e.at, u.k, u.e, 'bench', u.m FROM (SELECT magiclink_time(:exp) AS at) e, unnest(ARRAY[sha256(int8send(:r))], ARRAY[0], ARRAY['k1'], ARRAY['user' || :r || '@bench.example'], ARRAY['{}']) AS u(h, p, k, e, m);
COMMIT;
SQL
}

# run_pgbench SCENARIO LABEL CLIENTS SECONDS SCRIPT URL [EXTRA_JSON]: emits
# one line with tps, latency average, p50 and p99 (from pgbench's
# per-transaction log) and PostgreSQL's CPU per transaction.
run_pgbench() {
  local scenario=$1 label=$2 c=$3 seconds=$4 script=$5 url=$6 extra=${7:-}
  local jobs=$((c < 2 ? c : 2)) ticks_before ticks_after out tps lat txs pg_us pct
  rm -f "$work"/pgblog*
  ticks_before=$(pg_cpu_ticks)
  out=$(cd "$work" && "$PGBIN/pgbench" -n -M prepared -c "$c" -j "$jobs" -T "$seconds" \
    -l --log-prefix=pgblog -f "$script" "$url" 2>&1)
  sleep 0.5  # let the backends exit and be counted
  ticks_after=$(pg_cpu_ticks)
  tps=$(echo "$out" | awk '/^tps/ {print $3; exit}')
  lat=$(echo "$out" | awk '/latency average/ {print $4; exit}')
  txs=$(echo "$out" | awk '/number of transactions actually processed/ {print $6; exit}')
  [[ -n "$tps" && -n "$txs" && "$txs" -gt 0 ]] || { echo "bench: pgbench failed: $out" >&2; exit 1; }
  pg_us=$(echo "($ticks_after - $ticks_before) * 1000000 / $(getconf CLK_TCK) / $txs" | bc)
  # Column 3 of the log is each transaction's latency in microseconds.
  pct=$(cat "$work"/pgblog* | awk '{print $3}' | sort -n |
    awk '{a[NR]=$1} END {printf "%.3f %.3f", a[int(NR*0.5)+1]/1000, a[int(NR*0.99)+1]/1000}')
  rm -f "$work"/pgblog*
  emit "$(printf '{"scenario":"%s","label":"%s","concurrency":%d,"tps":%s,"transactions":%s,"latency_avg_ms":%s,"p50_ms":%s,"p99_ms":%s,"postgres_cpu_us_per_tx":%s%s}' \
    "$scenario" "$label" "$c" "$tps" "$txs" "$lat" "${pct% *}" "${pct#* }" "$pg_us" "$extra")"
}

# IssueBatch(10,000) end to end against its baseline, alternated: one COPY,
# then one IssueBatch through magiclinkd, into the same database, PAIRS
# times. Both see the same table sizes and the same moments of the machine's
# other load, which moves single timings here by up to a half.
issue_copy_pairs() {  # issue_copy_pairs LABEL URL PAIRS [EXTRA_JSON] (needs LOADGEN, COPY_ROWS)
  local copy_pair_ms=() issue_pair_ms=() r
  start_server "$2"
  for r in $(seq "$3"); do
    copy_pair_ms+=("$(copy_once "$2" "pair-$1-$r" "$COPY_ROWS")")
    issue_pair_ms+=("$("$LOADGEN" --target="$target" --scenario=issue --batch_size="$COPY_ROWS" --calls=1 \
      --server_pid="$server_pid" --label=pair | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["p50_ms"])')")
  done
  stop_server
  emit "$(printf '{"scenario":"issue_vs_copy_%d","label":"%s","pairs":%d,"copy_median_ms":%s,"issue_median_ms":%s,"copy_runs_ms":[%s],"issue_runs_ms":[%s]%s}' \
    "$COPY_ROWS" "$1" "$3" "$(median "${copy_pair_ms[@]}")" "$(median "${issue_pair_ms[@]}")" \
    "$(IFS=,; echo "${copy_pair_ms[*]}")" "$(IFS=,; echo "${issue_pair_ms[*]}")" "${4:-}")"
}
