"""Benchmark the pipeline at a given scale (not part of the test suite).

    .venv/bin/python benchmarks/run.py --scale province [--runs 3]

Generates the feeds once (cached under data/bench/<scale>/), then times, per run:
the read floor (DuckDB/Python reading every landed file once), a full refresh from an empty
warehouse (each stage from the progress display), and an incremental refresh after one more
week of deliveries. Peak memory is the summed RSS of the whole process tree, sampled every 0.2 s.
Appends a markdown table with the machine facts and the commit to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from datetime import date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GXINDUSTRY = str(Path(sys.executable).with_name("gxindustry"))
WEEK_N, WEEK_N1 = date(2024, 11, 18), date(2024, 11, 25)
STEP = re.compile(r"✓ (\S+) \(([\d.]+)s")


class TreeRss:
    """Peak of the summed RSS of a process and all its descendants."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            time.sleep(0.2)

    def _sample(self) -> int:
        parents, rss = {}, {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
                rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
            except (OSError, IndexError, ValueError):
                continue
        tree, frontier = {self.pid}, [self.pid]
        while frontier:
            parent = frontier.pop()
            children = [p for p, pp in parents.items() if pp == parent and p not in tree]
            tree.update(children)
            frontier.extend(children)
        return sum(rss.get(p, 0) for p in tree)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def timed(cmd: list[str], env: dict) -> tuple[float, int, str]:
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    meter = TreeRss(proc.pid)
    out = proc.communicate()[0]
    peak = meter.stop()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out[-3000:]}")
    return time.monotonic() - start, peak, out


def read_floor(landing: Path) -> tuple[float, int, int]:
    """Every landed file read once: DuckDB's CSV reader for UTF-8, Python decoding for GB18030
    (DuckDB cannot decode it here), openpyxl for the registers. Seconds, files and records read
    (past each file's header; a register's title row counts as a record): `tests/test_benchmarks.py`
    compares them with what ingestion reads from the same files."""
    import duckdb
    from openpyxl import load_workbook

    start = time.monotonic()
    records = 0
    utf8 = [str(p) for feed in ("power", "customs") for p in sorted((landing / feed).glob("*.csv"))]
    others = [p for feed in ("stats", "tax") for p in sorted((landing / feed).glob("*.csv"))]
    registers = sorted((landing / "registers").glob("*.xlsx"))
    if utf8:
        with duckdb.connect() as con:
            # Dialect given, not sniffed: a quoted field may first appear past the sniffer's sample.
            records += con.execute("select count(*) from read_csv(?, all_varchar = true, union_by_name = true, "
                                   "header = true, delim = ',', quote = '\"', escape = '\"')", [utf8]).fetchone()[0]
    for path in others:
        records += sum(1 for _ in io.StringIO(path.read_bytes().decode("gb18030"))) - 1
    for path in registers:
        wb = load_workbook(path, read_only=True)
        records += sum(1 for ws in wb for row in ws.iter_rows(values_only=True) if any(v is not None for v in row)) - 1
        wb.close()
    return time.monotonic() - start, len(utf8) + len(others) + len(registers), records


def feeds(scale: str, workdir: Path) -> tuple[Path, Path]:
    """Landing dirs as of week N and N+1, generated once."""
    from dagster_project.lib.generate import generate_feeds

    base, nxt = workdir / "week_n", workdir / "week_n1"
    for path, as_of in ((base, WEEK_N), (nxt, WEEK_N1)):
        if not path.exists():
            print(f"generating {scale} feeds as of {as_of} ...", flush=True)
            generate_feeds(path, scale=scale, as_of=as_of)
    return base, nxt


def one_run(scale_dir: Path, base: Path, nxt: Path) -> dict:
    run_dir = scale_dir / "run"
    shutil.rmtree(run_dir, ignore_errors=True)
    landing = run_dir / "landing"
    shutil.copytree(base, landing)
    env = dict(os.environ, GXINDUSTRY_LANDING=str(landing), GXINDUSTRY_WAREHOUSE=str(run_dir / "wh.duckdb"),
               GXINDUSTRY_REPORTS=str(run_dir / "reports"), DAGSTER_HOME=str(run_dir / "dagster_home"))
    floor, _, _ = read_floor(landing)
    full, full_rss, out = timed([GXINDUSTRY, "refresh", "--as-of", WEEK_N.isoformat()], env)
    steps = {name: float(seconds) for name, seconds in STEP.findall(out)}
    for path in nxt.glob("*/*"):
        target = landing / path.parent.name / path.name
        if not target.exists():
            shutil.copy(path, target)
    incremental, inc_rss, out = timed([GXINDUSTRY, "refresh", "--as-of", WEEK_N1.isoformat()], env)
    return {"floor": floor, "full": full, "full_rss": full_rss, "incremental": incremental, "inc_rss": inc_rss,
            **{f"step:{k}": v for k, v in steps.items()},
            **{f"incstep:{k}": float(v) for k, v in STEP.findall(out)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="province", choices=("tiny", "small", "province", "national"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=REPO / "data" / "bench")
    args = parser.parse_args()
    scale_dir = args.workdir / args.scale
    base, nxt = feeds(args.scale, scale_dir)
    runs = []
    for i in range(args.runs):
        print(f"run {i + 1}/{args.runs} ...", flush=True)
        runs.append(one_run(scale_dir, base, nxt))
    keys = dict.fromkeys(k for r in runs for k in r)
    median = {k: statistics.median(r[k] for r in runs if k in r) for k in keys}
    files = sum(1 for _ in base.glob("*/*"))
    size = sum(p.stat().st_size for p in base.glob("*/*")) / 2**20
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    mem = next(l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")).split()[1]
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor())
    lines = [
        f"\n## {args.scale} — {datetime.now():%Y-%m-%d %H:%M}, commit {commit}",
        "",
        f"Machine: {os.cpu_count()} cores ({cpu}), {int(mem) / 2**20:.1f} GiB; Python {platform.python_version()}. "
        f"Feeds as of {WEEK_N}: {files} files, {size:,.0f} MiB. Medians of {len(runs)} run(s). "
        f"Command: `.venv/bin/python benchmarks/run.py --scale {args.scale} --runs {args.runs}`.",
        "",
        "| measure | seconds | peak RSS (process tree) |",
        "|---|---:|---:|",
        f"| read floor (every landed file read once) | {median['floor']:.1f} | |",
        f"| full refresh (ingest → dbt → checks → measures → workbooks) | {median['full']:.1f} | "
        f"{median['full_rss'] / 2**30:.2f} GiB |",
        f"| incremental refresh after one more week | {median['incremental']:.1f} | {median['inc_rss'] / 2**30:.2f} GiB |",
        f"| full / floor | {median['full'] / median['floor']:.1f}× | |",
        f"| incremental / full | {median['incremental'] / median['full'] * 100:.0f}% | |",
    ]
    if len(runs) > 1:
        lines += ["", "Each run: full " + ", ".join(f"{r['full']:.1f}" for r in runs)
                  + " s; incremental " + ", ".join(f"{r['incremental']:.1f}" for r in runs) + " s."]
    lines += ["", "| step | full refresh (s) | incremental refresh (s) |", "|---|---:|---:|"]
    lines += [f"| `{k.split(':', 1)[1]}` | {v:.1f} | {median.get('inc' + k, float('nan')):.1f} |"
              for k, v in median.items() if k.startswith("step:")]
    table = "\n".join(lines) + "\n"
    print(table)
    docs = REPO / "docs" / "benchmarks.md"
    if not docs.exists():
        docs.write_text("# Benchmarks\n\nAppended by `benchmarks/run.py`; not part of the test suite.\n", encoding="utf-8")
    with open(docs, "a", encoding="utf-8") as fh:
        fh.write(table)


if __name__ == "__main__":
    main()
