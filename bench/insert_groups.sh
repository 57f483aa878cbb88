#!/usr/bin/env bash
# What insert coalescing buys single-link IssueBatch: the same calls (16 in
# flight, 20,000 per run) against magiclinkd with postgres.insert_statements
# 2 (the default), 1 and 4 (max_insert_group 100), and with no grouping
# (max_insert_group 1: one statement per call, 16 at once), alternated three
# times on one throwaway PostgreSQL, each run starting from a checkpoint.
#
#   bench/insert_groups.sh
#   BUILD=build bench/insert_groups.sh
#
# Results: bench/results/insert-groups-<UTC time>.jsonl and stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
if [[ -z "${MAGICLINK_TEST_POSTGRES_URL:-}" ]]; then
  exec scripts/with-postgres.sh "$0" "$@"
fi

source bench/lib.sh
bench_binaries MAGICLINKD LOADGEN
work=$(mktemp -d /tmp/magiclink-bench-groups.XXXXXX)
trap '[[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p bench/results
results="bench/results/insert-groups-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
echo "{\"machine\":\"$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)\",\"command\":\"bench/insert_groups.sh\",\"load_at_start\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >"$results"
emit() { echo "$1" | tee -a "$results"; }

variants=(statements_2 statements_1 statements_4 no_grouping)
declare -A config=(
  [statements_2]='{"postgres": {"pool_size": 16}}'
  [statements_1]='{"postgres": {"pool_size": 16, "insert_statements": 1}}'
  [statements_4]='{"postgres": {"pool_size": 16, "insert_statements": 4}}'
  [no_grouping]='{"postgres": {"pool_size": 16, "insert_statements": 16, "max_insert_group": 1}}'
)
url=$(new_db magiclink_bench_groups)
migrate "$url"
for round in 1 2 3; do
  for v in "${variants[@]}"; do
    echo "${config[$v]}" >"$work/config.json"
    psql -q -X "$url" -c "CHECKPOINT"
    start_server "$url"
    "$LOADGEN" --target="$target" --scenario=issue --batch_size=1 --concurrency=16 --calls=20000 \
      --server_pid="$server_pid" --label="$v" | while read -r l; do emit "$l"; done
    stop_server
  done
done

/usr/bin/python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()][1:]
print("| variant | calls/s (3 runs) | median | server µs/call | PostgreSQL µs/call | p99 ms |")
print("|---|---|---|---|---|---|")
for v in ("statements_2", "statements_1", "statements_4", "no_grouping"):
    rs = [r for r in rows if r["label"] == v]
    rates = ", ".join(f"{r['calls_per_s']:,.0f}" for r in rs)
    rate = statistics.median(r["calls_per_s"] for r in rs)
    server = statistics.median(r["cpu_us_per_call"]["server"] for r in rs)
    pg = statistics.median(r["cpu_us_per_call"]["postgres"] for r in rs)
    p99 = statistics.median(r["p99_ms"] for r in rs)
    print(f"| {v} | {rates} | {rate:,.0f} | {server:.0f} | {pg:.0f} | {p99:.1f} |")
PY
echo "bench: results written to $results" >&2
