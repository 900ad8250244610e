"""Issue 17's table in one run: each figure measured now, side by side with its baseline and target.

    .venv/bin/python bench/scale.py                                  # 1k and 100k (about 15 min)
    .venv/bin/python bench/scale.py --sizes 1000,100000,1000000 --tax-sizes 100000,1000000
                                                                     # with 1M rows (an hour or more)
    .venv/bin/python bench/scale.py --mongodb-uri 'mongodb://host/?replicaSet=rs0'   # a real MongoDB

It runs the benches that measure each row, each in its own process (each sets Django up on its own
database): bench/transactions_list.py (the list at every size of --sizes), bench/tax_report.py (import,
plain scan, `tax_report`, first journal sync, the periodic sync with nothing to do, at every size of
--tax-sizes; above --import-up-to rows the imported history is repeated in bulk) and bench/monitor.py
(a catch-up over 1000 blocks against the raw node fetch of the range). Each part's full results are
written to bench/results/ as usual; this prints the summary table and writes it, with the parts, to
bench/results/scale-<timestamp>.json. `--only list,tax,monitor` runs some of the parts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS = BASE_DIR / "bench" / "results"

# The baselines are the figures issue 17 was opened with (the project's own bench, 2026-12-01).
BASELINE = {
    "list_ratio": "9.3 s vs 92 ms (100x)",
    "tax_vs_scan": "4.0x",
    "periodic_sync": "70 s",
    "monitor_vs_raw": "2.0x",
    "first_sync": "185 s (540/s)",
}
FIRST_SYNC_BASELINE_PER_S = 540


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,100000", help="transactions list sizes (the smallest is the reference)")
    parser.add_argument("--tax-sizes", default="100000", help="rows for the tax report and the journal syncs")
    parser.add_argument("--journals-up-to", type=int, default=1000000,
                        help="time the journal syncs for tax sizes up to this (default: all)")
    parser.add_argument("--import-up-to", type=int, default=100000,
                        help="import at most this many rows; larger tax sizes repeat the import in bulk")
    parser.add_argument("--monitor-transfers", type=int, default=100, help="transfers in the 1000 monitored blocks")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per list size")
    parser.add_argument("--only", default="list,tax,monitor", help="parts to run, comma separated")
    parser.add_argument("--mongodb-uri", default="", help="run every part against this server")
    return parser.parse_args(argv)


def run_part(name: str, argv: list[str], out: Path, mongodb_uri: str) -> dict:
    """Run one bench script in its own process (its output shown as it goes); its results file."""
    command = [sys.executable, str(BASE_DIR / "bench" / argv[0]), *argv[1:], "--out", str(out)]
    if mongodb_uri:
        command += ["--mongodb-uri", mongodb_uri]
    print(f"\n=== {name}: {' '.join(command[1:])}", flush=True)
    began = time.perf_counter()
    subprocess.run(command, check=True, cwd=BASE_DIR)
    print(f"=== {name} took {time.perf_counter() - began:.0f} s", flush=True)
    return json.loads(out.read_text())


def fmt_ms(ms: float) -> str:
    return f"{ms / 1000:.1f} s" if ms >= 1000 else f"{ms:.0f} ms"


def fmt_s(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def summary_rows(parts: dict) -> list[dict]:
    """The issue's rows (and the figures beside them) from the parts' results."""
    rows = []
    if "list" in parts:
        sizes = sorted(parts["list"]["sizes"], key=lambda row: row["size"])
        reference = sizes[0]
        for row in sizes[1:]:
            ratio = row["p95_ms"] / reference["p95_ms"]
            rows.append({
                "measure": f"GET /api/transactions/?limit=50 p95, {row['size']:,} rows vs {reference['size']:,}",
                "baseline": BASELINE["list_ratio"] if row["size"] == 100000 else "",
                "now": f"{fmt_ms(row['p95_ms'])} vs {fmt_ms(reference['p95_ms'])} ({ratio:.1f}x)",
                "target": "<= 3x", "met": ratio <= 3})
            if "next_p95_ms" in row:
                rows.append({"measure": f"  the page after it (cursor) p95, {row['size']:,} rows",
                             "baseline": "", "now": fmt_ms(row["next_p95_ms"]), "target": "", "met": None})
    for row in sorted(parts.get("tax", {}).get("sizes", []), key=lambda row: row["rows"]):
        size = f"{row['rows']:,} rows ({row['documents']:,} documents)"
        at_baseline = row["rows"] == 100000
        ratio = row["tax_report_vs_scan"]  # the median of the pairs' ratios (bench/tax_report.py)
        rows.append({"measure": f"tax_report end to end vs a plain scan, {size} (medians)",
                     "baseline": BASELINE["tax_vs_scan"] if at_baseline else "",
                     "now": f"{fmt_s(row['tax_report_s'])} vs {fmt_s(row['scan_s'])} ({ratio:.2f}x)",
                     "target": "<= 1.3x", "met": ratio <= 1.3})
        rows.append({"measure": "  tax_report peak RSS (own process, Django included)", "baseline": "",
                     "now": f"{row['tax_report_peak_rss_mb']:.0f} MB", "target": "bounded", "met": None})
        if "journal_periodic_s" in row:
            rows.append({"measure": f"periodic journal sync with nothing to do, {size}",
                         "baseline": BASELINE["periodic_sync"] if at_baseline else "",
                         "now": fmt_s(row["journal_periodic_s"]), "target": "<= 1 s",
                         "met": row["journal_periodic_s"] <= 1})
            speedup = row["journal_entries_per_s"] / FIRST_SYNC_BASELINE_PER_S
            rows.append({"measure": f"first journal sync, {size}",
                         "baseline": BASELINE["first_sync"] if at_baseline else "",
                         "now": f"{fmt_s(row['journal_sync_s'])} ({row['journal_entries_per_s']:,}/s, "
                                f"{speedup:.1f}x the baseline's rate)",
                         "target": ">= 3x faster", "met": speedup >= 3})
            if "journal_sync_peak_rss_mb" in row:
                rows.append({"measure": "  its peak RSS (the bench process's, reset before the sync)", "baseline": "",
                             "now": f"{row['journal_sync_peak_rss_mb']:,} MB", "target": "", "met": None})
            rows.append({"measure": f"  its floor: the same entry documents inserted raw, {row['entries_indexes']} "
                                    "indexes, 500 per transaction", "baseline": "",
                         "now": f"{fmt_s(row['entries_raw_insert_s'])} ({row['entries_raw_insert_per_s']:,}/s)",
                         "target": "", "met": None})
        rows.append({"measure": f"  import of {row['imported_rows']:,} Koinly rows vs a raw insert of its documents",
                     "baseline": "", "now": f"{fmt_s(row['import_s'])} vs {fmt_s(row['raw_insert_s'])} "
                                            f"({row['import_vs_raw_insert']}x)", "target": "", "met": None})
    if "monitor" in parts:
        monitor = parts["monitor"]
        rows.append({"measure": f"monitor catch-up, {monitor['blocks']} blocks, {monitor['recorded']} transfers, "
                                "vs raw node fetch", "baseline": BASELINE["monitor_vs_raw"],
                     "now": f"{fmt_s(monitor['monitor_s'])} vs {fmt_s(monitor['raw_s'])} "
                            f"({monitor['monitor_vs_raw']:.2f}x)",
                     "target": "<= 1.5x", "met": monitor["monitor_vs_raw"] <= 1.5})
        rows.append({"measure": "  the same vs the raw fetch in JSON-RPC batches", "baseline": "",
                     "now": f"{fmt_s(monitor['raw_batched_s'])} ({monitor['monitor_vs_raw_batched']:.2f}x)",
                     "target": "", "met": None})
    return rows


def print_summary(rows: list[dict]) -> None:
    columns = [("measure", "measure"), ("baseline", "baseline"), ("now", "now"), ("target", "target"),
               ("met", "met")]
    shown = [{**row, "met": {True: "yes", False: "NO", None: ""}[row["met"]]} for row in rows]
    widths = [max(len(header), *(len(str(row[key])) for row in shown)) for key, header in columns]
    print("\nIssue 17, measured now against its baseline")
    print("  ".join(header.ljust(width) for (_, header), width in zip(columns, widths)))
    for row in shown:
        print("  ".join(str(row[key]).ljust(width) for (key, _), width in zip(columns, widths)))


def main(argv=None) -> int:
    args = parse_args(argv)
    only = {part.strip() for part in args.only.split(",") if part.strip()}
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    began, load_at_start = time.perf_counter(), os.getloadavg()
    parts = {}
    if "list" in only:
        largest = max(int(size) for size in args.sizes.split(","))
        parts["list"] = run_part("transactions list", [
            "transactions_list.py", "--sizes", args.sizes, "--requests", str(args.requests),
            "--performance-up-to", str(min(largest, 100000))],
            RESULTS / f"scale-{stamp}-list.json", args.mongodb_uri)
    if "tax" in only:
        parts["tax"] = run_part("tax report and journals", [
            "tax_report.py", "--sizes", args.tax_sizes, "--journals-up-to", str(args.journals_up_to),
            "--import-up-to", str(args.import_up_to)],
            RESULTS / f"scale-{stamp}-tax.json", args.mongodb_uri)
    if "monitor" in only:
        parts["monitor"] = run_part("wallet monitor", [
            "monitor.py", "--blocks", "1000", "--wallets", "10", "--transfers", str(args.monitor_transfers)],
            RESULTS / f"scale-{stamp}-monitor.json", args.mongodb_uri)
    rows = summary_rows(parts)
    print_summary(rows)
    total = round(time.perf_counter() - began)
    print(f"\ntotal {total} s; load average {load_at_start} -> {os.getloadavg()}")
    out = RESULTS / f"scale-{stamp}.json"
    out.write_text(json.dumps({"timestamp": stamp, "args": vars(args), "total_s": total,
                               "load_avg_at_start": load_at_start, "load_avg_at_end": os.getloadavg(),
                               "summary": rows, "parts": parts}, indent=2, default=str))
    print(f"written {out.relative_to(BASE_DIR)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
