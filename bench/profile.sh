#!/usr/bin/env bash
# Profiles magiclinkd's CPU under one load generator scenario on a throwaway
# PostgreSQL: perf samples the server process only (software clock; this VM
# has no hardware counters) while the scenario runs, then prints the load
# generator's line (with CPU per call) and the top functions by self and by
# inclusive time.
#
#   bench/profile.sh                                  IssueBatch of 1 at 16 in flight
#   bench/profile.sh --scenario=verify --mode=consume --concurrency=16 --calls=60000
#
# The report and perf.data stay in $PROFILE_OUT (default /tmp/magiclink-profile).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
if [[ -z "${MAGICLINK_TEST_POSTGRES_URL:-}" ]]; then
  exec scripts/with-postgres.sh "$0" "$@"
fi
args=("$@")
((${#args[@]})) || args=(--scenario=issue --batch_size=1 --concurrency=16 --calls=40000)

source bench/lib.sh
bench_binaries MAGICLINKD LOADGEN
command -v perf >/dev/null || { echo "profile: perf is missing (Debian: linux-perf)" >&2; exit 2; }
out=${PROFILE_OUT:-/tmp/magiclink-profile}
mkdir -p "$out"
work=$(mktemp -d /tmp/magiclink-profile.XXXXXX)
trap '[[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
emit() { echo "$1"; }
echo '{"postgres": {"pool_size": 16}}' >"$work/config.json"

url=$(new_db magiclink_profile)
start_server "$url"
# Warm up (connections, threads, plans), then measure and sample together.
"$LOADGEN" --target="$target" --scenario=issue --batch_size=1 --concurrency=16 --calls=2000 >/dev/null
rm -f "$work/ready"
"$LOADGEN" --target="$target" "${args[@]}" --server_pid="$server_pid" --ready_file="$work/ready" \
  >"$out/loadgen.json" &
lg=$!
for _ in $(seq 600); do [[ -e "$work/ready" ]] && break; sleep 0.1; done
perf record -F 299 --call-graph dwarf,8192 -o "$out/perf.data" -p "$server_pid" 2>"$out/perf-record.log" &
perf_pid=$!
wait "$lg"
kill -INT "$perf_pid"; wait "$perf_pid" || true
stop_server
cat "$out/loadgen.json"
perf report -i "$out/perf.data" --no-children --sort dso,symbol --stdio --percent-limit 1 -g none \
  2>/dev/null | grep -v "^$" | sed "s/  */ /g" | awk "NR <= 45" | tee "$out/self.txt"
perf report -i "$out/perf.data" --children --sort symbol --stdio --percent-limit 4 -g none \
  2>/dev/null | grep -v "^$" | sed "s/  */ /g" | awk "NR <= 80" >"$out/children.txt"
echo "profile: self-time report in $out/self.txt, inclusive in $out/children.txt" >&2
