#!/usr/bin/python3
"""Turns bench/run.sh's JSON lines into the table of docs/performance.md:
each scenario with its baseline from the same run and the ratio."""
import json
import sys


COPY_SIZE = 10000


def cpu_text(r):
    """Where a call's CPU went, when the load generator measured it."""
    cpu = r.get("cpu_us_per_call")
    if not cpu:
        return ""
    return (f"; CPU/call: server {cpu['server']:.0f} us, PostgreSQL {cpu['postgres']:.0f} us,"
            f" load generator {cpu['load_generator']:.0f} us")


def main(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    rows = [r for r in rows if "scenario" in r]  # the machine/command header line
    copy = {r["label"]: r["median_ms"] for r in rows if r["scenario"].startswith("copy_")}
    pgbench = {r["concurrency"]: r for r in rows if r["scenario"] == "pgbench_consume"}
    print("| store | scenario | result | baseline (same run) | ratio |")
    print("|---|---|---|---|---|")
    for label, ms in copy.items():
        if label == "postgres_all_indexes":
            print(f"| postgres | COPY 10,000 token rows, PK + all indexes (the issue baseline) |"
                  f" {ms:.0f} ms | | |")
        else:
            base = copy.get("postgres_all_indexes")
            print(f"| postgres | COPY 10,000 rows, {label.replace('postgres_', '')} | {ms:.0f} ms |"
                  f" COPY with all indexes {base:.0f} ms | {ms / base:.2f}x |")
    for r in rows:
        s, label = r["scenario"], r.get("label", "")
        if s.startswith("issue_") and "chunked" not in s and "_vs_" not in s:
            size = int(s.split("_")[1])
            res = f"p50 {r['p50_ms']:.0f} ms/call, {r['links_per_s']:.0f} links/s"
            if size == 10000 and label == "postgres" and "postgres_all_indexes" in copy:
                base = copy["postgres_all_indexes"]
                print(f"| {label} | IssueBatch {size:,} | {res} | COPY {base:.0f} ms |"
                      f" {r['p50_ms'] / base:.2f}x the COPY time |")
            else:
                print(f"| {label} | IssueBatch {size:,} | {res} | | |")
        elif s.startswith("issue_vs_copy_"):
            ratio = r["issue_median_ms"] / r["copy_median_ms"]
            print(f"| {label} | IssueBatch {COPY_SIZE:,}, alternated with COPY in one database"
                  f" ({r['pairs']} pairs) | median {r['issue_median_ms']:.0f} ms |"
                  f" COPY median {r['copy_median_ms']:.0f} ms | {ratio:.2f}x the COPY time |")
        elif s.startswith("verify_"):
            c = r["concurrency"]
            res = f"{r['verifies_per_s']:.0f}/s, p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms"
            res += cpu_text(r)
            if s == "verify_consume" and label.startswith("postgres") and c in pgbench:
                base = pgbench[c]
                base_text = f"pgbench {base['tps']:.0f} tps"
                if "postgres_cpu_us_per_tx" in base:
                    base_text += f"; PostgreSQL CPU {base['postgres_cpu_us_per_tx']} us/tx"
                print(f"| {label} | Verify CONSUME x{c} | {res} | {base_text} |"
                      f" {r['verifies_per_s'] / base['tps']:.0%} of pgbench |")
            else:
                print(f"| {label} | Verify {s.split('_')[1].upper()} x{c} | {res} | | |")
        elif s == "mixed":
            print(f"| {label} | mixed x16 ({r['seconds']:.0f} s) | {r['calls_per_s']:.0f} calls/s,"
                  f" p99 {r['p99_ms']:.1f} ms, RSS {r['server_rss_kb_start'] // 1024}"
                  f" -> {r['server_rss_kb_end'] // 1024} MiB | | |")
        elif s.endswith("_chunked"):
            print(f"| {label} | {r['links']:,} links via magiclinkctl (chunks of 10,000) |"
                  f" {r['seconds']:.1f} s, {r['links_per_s']:.0f} links/s, RSS"
                  f" {r['server_rss_kb_before'] // 1024} -> {r['server_rss_kb_after'] // 1024} MiB | | |")
        bad = r.get("errors") or {}
        if bad:
            print(f"|   | errors by status code in {s}: {bad} | | | |")


if __name__ == "__main__":
    main(sys.argv[1])
