#!/usr/bin/python3
"""Draws the charts docs/performance.md shows from bench/results/*.jsonl.

    bench/plot.py                       every run file of bench/results/
    bench/plot.py --out docs/images     where the PNGs go (the default)
    bench/plot.py --max_load 6          leave out runs begun at a higher load average (default)

Each point is the median over the bench/run.sh runs that measured it (the
bars span their lowest and highest); each magiclink series is drawn beside
its baseline from the same runs. Runs that began on a busy machine (1-minute
load average above --max_load, from the file's header) are left out: on two
shared cores their figures measure the other work (a run leaves about 3-4
behind from its own processes; runs beside other builds began at 11-32).
The 100k-vs-10M chart takes the newest bench/large_table.sh run. Installs
matplotlib first if it is missing (bench/setup.sh).
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

try:
    import matplotlib
except ImportError:
    # setup.sh installs Debian's python3-matplotlib, which only Debian's
    # interpreter imports: run again under it, once.
    if os.environ.get("MAGICLINK_PLOT_SETUP_DONE"):
        sys.exit("plot: matplotlib is still missing after bench/setup.sh; run bench/plot.py with "
                 "/usr/bin/python3")
    subprocess.run([os.path.join(HERE, "setup.sh")], check=True)
    os.environ["MAGICLINK_PLOT_SETUP_DONE"] = "1"
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LEVELS = (1, 16, 64)
MAGICLINK, BASELINE = "tab:blue", "tab:gray"


def load(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    return [r for r in rows if "scenario" in r]


def load_at_start(path):
    """The 1-minute load average a run's header gives, or None."""
    with open(path) as f:
        header = json.loads(f.readline())
    load = header.get("load_at_start")
    return float(load.split()[0]) if load else None


def runs(results, max_load):
    """The full bench/run.sh runs that have the single-link rows and began on
    a machine no busier than max_load."""
    out = []
    for path in sorted(glob.glob(os.path.join(results, "[0-9]*.jsonl"))):
        rows = load(path)
        busy = load_at_start(path)
        if busy is not None and busy > max_load:
            continue
        if any(r["scenario"] == "pgbench_issue_1" for r in rows):
            out.append(rows)
    return out


def value(rows, scenario, label, concurrency, key):
    for r in rows:
        if r["scenario"] == scenario and r.get("label") == label and \
                r.get("concurrency") == concurrency and key in r:
            return r[key]
    return None


def series(all_runs, scenario, label, key, levels=LEVELS):
    """Per level: (median, low, high) over the runs, or None."""
    out = []
    for c in levels:
        vals = [v for v in (value(rows, scenario, label, c, key) for rows in all_runs)
                if v is not None]
        out.append((statistics.median(vals), min(vals), max(vals)) if vals else None)
    return out


def draw(ax, xs, points, **style):
    pts = [(x, p) for x, p in zip(xs, points) if p is not None]
    if not pts:
        return
    x = [x for x, _ in pts]
    mid = [p[0] for _, p in pts]
    err = [[p[0] - p[1] for _, p in pts], [p[2] - p[0] for _, p in pts]]
    ax.errorbar(x, mid, yerr=err, marker="o", capsize=3, **style)


def in_flight_axis(ax, title):
    ax.set_title(title)
    ax.set_xscale("log", base=4)
    ax.set_xticks(LEVELS, [str(c) for c in LEVELS])
    ax.set_xlabel("calls in flight")
    ax.grid(alpha=0.3, which="both")


def save_panels(fig, axes, ylabel, title, path):
    axes[0].set_ylabel(ylabel)
    axes[0].legend(loc="upper left", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


PANELS = (  # title, magiclink scenario, its rate key, baseline scenario
    ("Verify CONSUME", "verify_consume", "verifies_per_s", "pgbench_consume"),
    ("Verify PEEK", "verify_peek", "verifies_per_s", "pgbench_peek"),
    ("IssueBatch of 1 recipient", "issue_1", "calls_per_s", "pgbench_issue_1"),
)


def throughput(all_runs, out):
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    for ax, (title, scenario, key, base) in zip(axes, PANELS):
        draw(ax, LEVELS, series(all_runs, scenario, "postgres", key), color=MAGICLINK,
             label="magiclink (gRPC, PostgreSQL)")
        draw(ax, LEVELS, series(all_runs, base, "postgres", "tps"), color=BASELINE,
             linestyle="--", label="pgbench, same statements")
        in_flight_axis(ax, title)
        ax.set_ylim(bottom=0)
    save_panels(fig, axes, "calls (transactions) per second",
                f"Throughput against calls in flight (median of {len(all_runs)} runs; bars: range)",
                os.path.join(out, "perf-throughput.png"))


def latency(all_runs, out):
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    for ax, (title, scenario, _, base) in zip(axes, PANELS):
        for key, style in (("p50_ms", "-"), ("p99_ms", ":")):
            draw(ax, LEVELS, series(all_runs, scenario, "postgres", key), color=MAGICLINK,
                 linestyle=style, label=f"magiclink {key[:3]}")
            draw(ax, LEVELS, series(all_runs, base, "postgres", key), color=BASELINE,
                 linestyle=style, label=f"pgbench {key[:3]}")
        in_flight_axis(ax, title)
        ax.set_yscale("log")
    save_panels(fig, axes, "latency (ms)",
                f"Latency p50 and p99 against calls in flight (median of {len(all_runs)} runs)",
                os.path.join(out, "perf-latency.png"))


def issue_sizes(all_runs, out):
    sizes = (1, 100, 1000, 10000)
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    points = []
    for size in sizes:
        vals = [v for v in (value(rows, f"issue_{size}", "postgres", 1, "p50_ms")
                            for rows in all_runs) if v is not None]
        points.append((statistics.median(vals), min(vals), max(vals)) if vals else None)
    draw(ax, sizes, points, color=MAGICLINK, label="IssueBatch p50, one call at a time")
    paired = [r for rows in all_runs for r in rows if r["scenario"] == "issue_vs_copy_10000"
              and r.get("label") == "postgres"]
    if paired:
        issue = [r["issue_median_ms"] for r in paired]
        copy = [r["copy_median_ms"] for r in paired]
        draw(ax, [10000], [(statistics.median(issue), min(issue), max(issue))], color="tab:orange",
             label="IssueBatch 10,000 alternated with COPY")
        draw(ax, [10000], [(statistics.median(copy), min(copy), max(copy))], color=BASELINE,
             label="COPY of the same 10,000 token rows")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("recipients per IssueBatch")
    ax.set_ylabel("ms per call")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    ax.set_title(f"IssueBatch time against batch size (median of {len(all_runs)} runs)")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "perf-issue-batch.png"), dpi=100)


def large(results, out):
    files = sorted(glob.glob(os.path.join(results, "large-*.jsonl")))
    if not files:
        return
    rows = load(files[-1])
    labels = [r["label"] for r in rows if r["scenario"] == "large_sizes"]
    if len(labels) < 2:
        return

    def get(label, scenario, key, concurrency=16):
        for r in rows:
            if r.get("label") == label and r["scenario"] == scenario and \
                    r.get("concurrency", concurrency) == concurrency:
                return r.get(key)
        return None

    def consume_base(label):
        return get(label, "pgbench_consume_rows", "effective_tps")

    def copy_rate(label, key):  # rows per second of a 10,000-row call
        ms = get(label, "issue_vs_copy_10000", key)
        return None if ms is None else 10000 / ms * 1000

    metrics = (  # name, magiclink throughput, baseline throughput
        ("IssueBatch(1) x16", lambda l: get(l, "issue_1", "calls_per_s"),
         lambda l: get(l, "pgbench_issue_1", "tps")),
        ("IssueBatch(10,000)", lambda l: copy_rate(l, "issue_median_ms"),
         lambda l: copy_rate(l, "copy_median_ms")),
        ("Verify CONSUME x16", lambda l: get(l, "verify_consume", "verifies_per_s"), consume_base),
        ("Verify PEEK x16", lambda l: get(l, "verify_peek", "verifies_per_s"),
         lambda l: get(l, "pgbench_peek", "tps")),
    )
    first = labels[0]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / (2 * (len(labels) - 1))
    for i, (name, own, base) in enumerate(metrics):
        for j, label in enumerate(labels[1:]):
            for k, (fn, color, who) in enumerate(((own, MAGICLINK, "magiclink"),
                                                  (base, BASELINE, "baseline"))):
                a, b = fn(first), fn(label)
                if not a or not b:
                    continue
                x = i - 0.4 + width * (2 * j + k) + width / 2
                ax.bar(x, b / a * 100, width, color=color, alpha=1 - 0.3 * j,
                       label=f"{who}, {label}" if i == 0 else None)
                ax.text(x, b / a * 100 + 1, f"{b / a:.0%}", ha="center", fontsize=7)
    ax.axhline(80, color="tab:red", linestyle="--", linewidth=1, label="target: 80%")
    ax.set_xticks(range(len(metrics)), [m[0] for m in metrics])
    ax.set_ylabel(f"throughput, % of the same on {first}")
    ax.grid(alpha=0.3, axis="y")
    ax.set_ylim(top=ax.get_ylim()[1] * 1.35)
    ax.legend(fontsize=8, loc="upper left", ncol=2)
    ax.set_title("A large tokens table against a small one (baselines: pgbench; COPY for 10,000)")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "perf-large-table.png"), dpi=100)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=os.path.join(HERE, "results"))
    parser.add_argument("--out", default=os.path.join(HERE, "..", "docs", "images"))
    parser.add_argument("--max_load", type=float, default=6.0,
                        help="leave out runs that began at a higher 1-minute load average")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    all_runs = runs(args.results, args.max_load)
    if not all_runs:
        sys.exit("plot: no bench/run.sh results with the single-link rows in " + args.results)
    throughput(all_runs, args.out)
    latency(all_runs, args.out)
    issue_sizes(all_runs, args.out)
    large(args.results, args.out)
    print(f"plot: {len(all_runs)} runs drawn into {os.path.normpath(args.out)}/perf-*.png")


if __name__ == "__main__":
    main()
