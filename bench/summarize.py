#!/usr/bin/python3
"""Turns bench/run.sh's (and bench/large_table.sh's) JSON lines into the
tables of docs/performance.md: each scenario with its baseline from the same
run and the ratio."""
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


def pgbench_text(base):
    """A pgbench baseline row: throughput, latency, PostgreSQL's CPU."""
    text = f"pgbench {base['tps']:.0f} tps"
    if "p50_ms" in base:
        text += f", p50 {base['p50_ms']:.2f} ms, p99 {base['p99_ms']:.2f} ms"
    if "postgres_cpu_us_per_tx" in base:
        text += f"; PostgreSQL CPU {base['postgres_cpu_us_per_tx']} us/tx"
    return text


def find(rows, label, scenario, concurrency=None):
    for r in rows:
        if r.get("label") == label and r["scenario"] == scenario and (
                concurrency is None or r.get("concurrency") == concurrency):
            return r
    return None


def large_tables(rows):
    """bench/large_table.sh's rows: each scenario at each table size beside
    its baseline on that table, and the sizes per million tokens."""
    labels = [r["label"] for r in rows if r["scenario"] == "large_sizes"]
    if not labels:
        return

    def cells(label):
        out = {}
        issue = find(rows, label, "issue_1", 16)
        base = find(rows, label, "pgbench_issue_1", 16)
        if issue and base:
            out["IssueBatch(1) x16"] = (
                issue["calls_per_s"], f"{issue['calls_per_s']:.0f}/s, p99 {issue['p99_ms']:.1f} ms",
                base["tps"], f"pgbench {base['tps']:.0f} tps", True)
        pair = find(rows, label, "issue_vs_copy_10000")
        if pair:
            out["IssueBatch(10,000)"] = (
                pair["issue_median_ms"], f"{pair['issue_median_ms']:.0f} ms",
                pair["copy_median_ms"], f"COPY {pair['copy_median_ms']:.0f} ms", False)
        for mode in ("consume", "peek"):
            v = find(rows, label, f"verify_{mode}", 16)
            b = find(rows, label, f"pgbench_{mode}", 16)
            if mode == "consume":
                eff = find(rows, label, "pgbench_consume_rows", 16)
                if b and eff:
                    b = dict(b, tps=eff["effective_tps"])
            if v and b:
                out[f"Verify {mode.upper()} x16"] = (
                    v["verifies_per_s"], f"{v['verifies_per_s']:.0f}/s, p99 {v['p99_ms']:.1f} ms",
                    b["tps"], f"pgbench {b['tps']:.0f}/s", True)
        sweep = find(rows, label, "sweep")
        if sweep:
            during = sweep.get("verify_consume_16_during", {})
            deleted = int(sweep.get("log", {}).get("tokens", 0) or 0)
            p99 = f", Verify p99 during it {during['p99_ms']:.1f} ms (max {during['max_ms']:.0f})" \
                if during.get("calls") else ""
            if "lock_waits_over_10ms" in sweep:
                p99 += f", lock waits over 10 ms: {sweep['lock_waits_over_10ms']}"
            out["sweeper pass"] = (
                deleted / max(sweep["seconds"], 1e-9),
                f"{deleted:,} tokens in {sweep['seconds']:.1f} s{p99}", None, "", True)
        return out

    per = {label: cells(label) for label in labels}
    print()
    print("| scenario | " + " | ".join(f"{lab}: magiclink | baseline | ratio" for lab in labels)
          + " | largest / smallest: magiclink | baseline |")
    print("|---" * (1 + 3 * len(labels) + 2) + "|")
    first, last = labels[0], labels[-1]
    for name in per[first]:
        line = f"| {name} |"
        for lab in labels:
            c = per[lab].get(name)
            if not c:
                line += " | | |"
                continue
            value, text, base, base_text, higher_better = c
            ratio = "" if base is None else (
                f"{value / base:.0%}" if higher_better else f"{value / base:.2f}x")
            line += f" {text} | {base_text} | {ratio} |"
        a, b = per[first].get(name), per[last].get(name)
        if a and b:
            # Throughput: largest / smallest; times: smallest / largest (so
            # below 100% is always "slower on the large table").
            own = b[0] / a[0] if a[4] else a[0] / b[0]
            base = "" if a[2] is None else f"{(b[2] / a[2] if a[4] else a[2] / b[2]):.0%}"
            line += f" {own:.0%} | {base} |"
        else:
            line += " | |"
        print(line)
    # WAL written per single-link issue (each scenario started from a
    # checkpoint), and the COMPARE_MAGICLINKD build's rows beside this one's.
    wal = [r for r in rows if r["scenario"] == "wal"]
    if wal:
        print()
        print("| table | scenario | calls or transactions | WAL records / call | full-page images / call"
              " | WAL bytes / call |")
        print("|---|---|---|---|---|---|")
        for w in wal:
            ran = find(rows, w["label"], w["of"], 16)
            if not ran:
                continue
            n = ran.get("ok", ran.get("transactions", 0))
            if not n:
                continue
            print(f"| {w['label']} | {w['of']} | {n:,} | {w['records'] / n:.1f} | {w['fpi'] / n:.2f}"
                  f" | {w['bytes'] / n:,.0f} |")
    compared = [r for r in rows if r["scenario"] == "issue_1" and "_compare" in r.get("label", "")]
    if compared:
        print()
        print("| table | build | IssueBatch(1) x16 | p50 / p99 | server CPU per call |")
        print("|---|---|---|---|---|")
        for label in labels:
            for suffix, build in (("", "this build"), ("_compare", "COMPARE_MAGICLINKD"),
                                  ("_again", "this build, again"),
                                  ("_compare_again", "COMPARE_MAGICLINKD, again")):
                r = find(rows, label + suffix, "issue_1", 16)
                if r:
                    print(f"| {label} | {build} | {r['calls_per_s']:.0f}/s |"
                          f" {r['p50_ms']:.1f} / {r['p99_ms']:.1f} ms |"
                          f" {r['cpu_us_per_call']['server']} µs |")
    print()
    print("| table | tokens | tokens heap | tokens indexes | per million tokens: heap | indexes"
          " | batches (table + indexes) |")
    print("|---|---|---|---|---|---|---|")
    mib = 1024 * 1024
    for r in rows:
        if r["scenario"] != "large_sizes":
            continue
        z = r["sizes"]
        m = z["tokens_rows"] / 1e6
        print(f"| {r['label']} | {z['tokens_rows']:,} | {z['tokens_heap_bytes'] / mib:.0f} MiB |"
              f" {z['tokens_indexes_bytes'] / mib:.0f} MiB | {z['tokens_heap_bytes'] / mib / m:.0f} MiB"
              f" | {z['tokens_indexes_bytes'] / mib / m:.0f} MiB"
              f" ({', '.join(f'{k} {v / mib / m:.0f}' for k, v in z['indexes'].items() if k.startswith('tokens'))})"
              f" | {z['batches_total_bytes'] / mib:.0f} MiB |")


def main(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    rows = [r for r in rows if "scenario" in r]  # the machine/command header line
    copy = {r["label"]: r["median_ms"] for r in rows if r["scenario"].startswith("copy_")}
    pgbench = {r["concurrency"]: r for r in rows
               if r["scenario"] == "pgbench_consume" and r.get("label") == "postgres"}
    pgbench_peek = {r["concurrency"]: r for r in rows
                    if r["scenario"] == "pgbench_peek" and r.get("label") == "postgres"}
    pgbench_issue = {r["concurrency"]: r for r in rows
                     if r["scenario"] == "pgbench_issue_1" and r.get("label") == "postgres"}
    large = [r for r in rows if r.get("label", "").startswith("rows_")]
    rows = [r for r in rows if not r.get("label", "").startswith("rows_")]
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
        if s == "issue_1" and "concurrency" in r:
            c = r["concurrency"]
            res = (f"{r['calls_per_s']:.0f}/s, p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms"
                   f" (p99/p50 {r['p99_ms'] / max(r['p50_ms'], 1e-9):.1f})") + cpu_text(r)
            if label == "postgres" and c in pgbench_issue:
                base = pgbench_issue[c]
                print(f"| {label} | IssueBatch of 1 recipient x{c} | {res} | {pgbench_text(base)} |"
                      f" {r['calls_per_s'] / base['tps']:.2f}x pgbench |")
            else:
                print(f"| {label} | IssueBatch of 1 recipient x{c} | {res} | | |")
        elif s.startswith("issue_") and "chunked" not in s and "_vs_" not in s:
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
            bases = {"verify_consume": pgbench, "verify_peek": pgbench_peek}.get(s, {})
            if label.startswith("postgres") and c in bases:
                base = bases[c]
                print(f"| {label} | Verify {s.split('_')[1].upper()} x{c} | {res} |"
                      f" {pgbench_text(base)} | {r['verifies_per_s'] / base['tps']:.0%} of pgbench |")
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
    large_tables(large)
    for r in large:
        if r.get("errors"):
            print(f"errors by status code in {r['scenario']} ({r['label']}): {r['errors']}")


if __name__ == "__main__":
    main(sys.argv[1])
