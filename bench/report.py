"""Benchmark of the monthly PDF report (issue 7; issue 18 at 20,000 tasks).

    python bench/report.py                      # generate (or reuse) the data, measure 3 runs
    python bench/report.py --repeat 5 --tasks 2000 --agencies 300
    python bench/report.py --tasks 20000 --agencies 260 --updates-per-task 3 \
        --updated-fraction 0.1 --name report-20k        # issue 18's data set and targets

Data: bench/generate.py (seed 1) into its own PostgreSQL database
(`plan_tracker_bench_report`), with the generator's clock on 15/07/2022, five status updates
on every task; the report is the plan's report of 06/2022 (the whole plan, as the beat
makes it), so the numbers are computed from history at 30/06/2022.

Each run is a full `monthly_report_generate` (selectors, charts, HTML, WeasyPrint, the
Excel twin, the atomic file swap) in a fresh child process, measured for:

- wall-clock seconds, with the parts the job records on the report row (issue 18): the
  figures (queries, charts, template), the PDF (WeasyPrint's layout), then the Excel twin
  built from the same figures;
- peak memory: the child's peak resident set size (ru_maxrss: Python, Django, WeasyPrint,
  Pango and cairo together) and the peak of Python allocations (tracemalloc, during the
  generation only);
- pages, PDF size, SQL queries.

Targets (issue 7, this machine): under 15 s and under 500 MB; at 20,000 tasks (issue 18):
the PDF (figures and layout) in 7 s or less, the whole job (PDF and Excel) in 10 s or less.
Results:
bench/results/report.json (latest run and a short history) and bench/results/report.md.
The machine's load average is written with the results: other work on the machine slows
the layout down (two cores).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS_DIR, ROOT, git_revision, log, machine_info

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/plan_tracker_bench_report"
TODAY = datetime.date(2022, 7, 15)
PERIOD = datetime.date(2022, 6, 1)
TARGET_SECONDS = 15.0
TARGET_MB = 500.0
# Issue 18, at 20,000 tasks and 260 agencies: the PDF (figures + layout) and the whole job.
TARGET_PDF_SECONDS = 7.0
TARGET_JOB_SECONDS = 10.0
HISTORY_KEPT = 20


def dataset(
    agencies: int, tasks: int, updates_per_task: int = 5, updated_fraction: float = 1.0
) -> dict:
    return {
        "agencies": agencies,
        "tasks": tasks,
        "updates_per_task": updates_per_task,
        "updated_fraction": updated_fraction,
        "seed": 1,
        "today": TODAY,
    }


def measure_once(database_url: str, media_root: str, trace: bool = False) -> dict:
    """One generation in this (child) process; Django is set up here. With `trace`, the
    Python allocations are traced too (tracemalloc slows Python down several times, so a
    traced run is not timed)."""
    os.environ["MEDIA_ROOT"] = media_root
    os.environ["REPORT_SIGNER_NAME"] = "Nguyễn Văn A"
    from bench.common import setup_django

    setup_django(database_url)
    import resource
    import tracemalloc

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reports import services
    from reports.models import MonthlyReport
    from tasks_app.models import Agency, Plan, Task

    plan = Plan.objects.order_by("code").first()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if trace:
        tracemalloc.start()

    def children_cpu() -> float:
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        return used.ru_utime + used.ru_stime

    started, cpu_started = time.perf_counter(), time.process_time()
    children_started = children_cpu()
    with CaptureQueriesContext(connection) as queries:
        report = services.monthly_report_generate(plan=plan, period=PERIOD)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    layout_children_cpu = children_cpu() - children_started
    traced_peak = 0
    if trace:
        _current, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = MonthlyReport.objects.get(pk=report.pk)
    return {
        "seconds": round(seconds, 2),
        # CPU time of this process: what the generation costs whatever else the machine
        # runs (the database's own time is not in it).
        "cpu_s": round(cpu, 2),
        # CPU time of the processes that laid out parts of the PDF beside this one
        # (reports/pdf.py), and their peak resident set size.
        "children_cpu_s": round(layout_children_cpu, 2),
        "children_rss_peak_mb": round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
        ),
        # The parts as the job records them on the row (issue 18).
        "content_s": round(report.figures_seconds or 0.0, 2),
        "pdf_s": round(report.pdf_seconds or 0.0, 2),
        "xlsx_s": round(report.xlsx_seconds or 0.0, 2),
        "pdf_job_s": round((report.figures_seconds or 0.0) + (report.pdf_seconds or 0.0), 2),
        "rss_peak_mb": round(rss_peak, 1),
        "rss_before_mb": round(rss_before, 1),
        "python_peak_mb": round(traced_peak / 1024 / 1024, 1) if trace else None,
        "traced": trace,
        "queries": len(queries.captured_queries),
        "pages": report.pages,
        "pdf_kb": round(report.pdf_size / 1024),
        "status": report.status,
        "number": report.number,
        "agencies": Agency.objects.count(),
        "tasks": Task.objects.filter(plan=plan).count(),
        "leaf_tasks": Task.objects.filter(plan=plan).leaves().count(),
        "load_average": os.getloadavg()[0],
    }


def _render_markdown(document: dict) -> str:
    latest = document["latest"]
    s = latest["summary"]
    lines = [
        f"# {latest['title']}",
        "",
        f"Run {latest['finished_at']} on revision {latest['revision']}; "
        f"{latest['machine'].get('cpus')} CPUs, {latest['machine'].get('cpu_model', '')}; "
        f"load average {latest['load_average_before']:.1f} before the runs.",
        "",
        f"Data: {s['agencies']} agencies, {s['tasks']} tasks ({s['leaf_tasks']} leaf tasks), "
        f"bench/generate.py seed 1, {latest['dataset']['updates_per_task']} status updates on "
        f"{float(latest['dataset']['updated_fraction']):.0%} of the tasks; report of 06/2022.",
        "",
        "| run | seconds | CPU s | CPU s, layout children | figures s | PDF layout s "
        "| figures + PDF s | Excel s | peak RSS MB | children's peak RSS MB | load avg "
        "| queries | pages | PDF kB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for index, run in enumerate(latest["runs"], start=1):
        lines.append(
            f"| {index} | {run['seconds']} | {run['cpu_s']} | {run.get('children_cpu_s', '')} | "
            f"{run['content_s']} | {run['pdf_s']} | {run.get('pdf_job_s', '')} | "
            f"{run.get('xlsx_s', '')} | {run['rss_peak_mb']} | "
            f"{run.get('children_rss_peak_mb', '')} | {run['load_average']:.1f} | "
            f"{run['queries']} | {run['pages']} | {run['pdf_kb']} |"
        )
    lines += [
        "",
        f"**Median {s['median_seconds']} s wall, {s['median_cpu_seconds']} s CPU** (target < "
        f"{TARGET_SECONDS:g} s: "
        f"{'met' if s['median_seconds'] < TARGET_SECONDS else 'NOT met'} in wall time, "
        f"{'met' if s['median_cpu_seconds'] < TARGET_SECONDS else 'NOT met'} in CPU time); "
        f"**peak RSS {s['max_rss_mb']} MB** (target < {TARGET_MB:g} MB: "
        f"{'met' if s['max_rss_mb'] < TARGET_MB else 'NOT met'}); peak of Python allocations "
        f"{s['python_peak_mb']} MB (traced run).",
        "",
        "Issue 18 (at 20,000 tasks): **the PDF (figures + layout) "
        f"{s.get('median_pdf_job_seconds')} s** median (target ≤ {TARGET_PDF_SECONDS:g} s: "
        f"{'met' if s.get('meets_pdf_target') else 'NOT met'}), **the Excel twin "
        f"{s.get('median_xlsx_seconds')} s**, the whole job {s['median_seconds']} s (target ≤ "
        f"{TARGET_JOB_SECONDS:g} s: {'met' if s.get('meets_job_target') else 'NOT met'}).",
        "",
        *[f"- {note}" for note in latest["notes"]],
    ]
    if document["history"]:
        lines += [
            "",
            "## Earlier runs",
            "",
            "| finished | revision | median s | peak RSS MB |",
            "|---|---|---|---|",
        ]
        for old in document["history"]:
            lines.append(
                f"| {old['finished_at']} | {old['revision']} | {old['median_seconds']} | "
                f"{old['max_rss_mb']} |"
            )
    return "\n".join(lines) + "\n"


def write_results(run: dict, name: str = "report") -> tuple[Path, Path]:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    json_path, md_path = RESULTS_DIR / f"{name}.json", RESULTS_DIR / f"{name}.md"
    history = []
    if json_path.exists():
        try:
            previous = json.loads(json_path.read_text())
            history = previous.get("history", [])
            if previous.get("latest"):
                old = previous["latest"]
                history.append(
                    {
                        "finished_at": old["finished_at"],
                        "revision": old["revision"],
                        "median_seconds": old["summary"]["median_seconds"],
                        "max_rss_mb": old["summary"]["max_rss_mb"],
                    }
                )
        except (ValueError, KeyError, AttributeError):
            history = []
    document = {"latest": run, "history": history[-HISTORY_KEPT:]}
    tmp = json_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n")
    tmp.replace(json_path)
    md_path.write_text(_render_markdown(document))
    return json_path, md_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DATABASE_URL)
    parser.add_argument("--agencies", type=int, default=300)
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--updates-per-task", type=int, default=5)
    parser.add_argument("--updated-fraction", type=float, default=1.0)
    parser.add_argument(
        "--store-trend",
        action="store_true",
        help="store the past month ends first, as the nightly job does in production",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--note", action="append", default=[], help="a note for the results")
    parser.add_argument("--name", default="report")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--media", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:  # one measured generation, in a fresh process
        data = measure_once(args.database_url, args.media, trace=args.trace)
        Path(args.out).write_text(json.dumps(data))
        return 0

    # 1. The data (generated once, reused while the parameters are the same), in a child
    #    process so that the measured processes start clean.
    params = dataset(args.agencies, args.tasks, args.updates_per_task, args.updated_fraction)
    code = (
        "from bench.generate import generate; import datetime, json, sys; "
        f"s = generate(database_url={args.database_url!r}, agencies={params['agencies']}, "
        f"tasks={params['tasks']}, updates_per_task={params['updates_per_task']}, "
        f"updated_fraction={params['updated_fraction']}, seed={params['seed']}, "
        f"today=datetime.date.fromisoformat({TODAY.isoformat()!r}), reuse=True)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    if args.store_trend:
        code = (
            "from bench.common import setup_django; "
            f"setup_django({args.database_url!r}); "
            "from reports.trend_store import trend_snapshots_refresh; "
            "from tasks_app.models import Plan; "
            "print('[report] month ends stored:', "
            "[trend_snapshots_refresh(plan) for plan in Plan.objects.all()])"
        )
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)

    # 2. The runs: each regenerates the same report (same number, files replaced).
    load_before = os.getloadavg()[0]
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-report-") as media:
        # The timed runs, then one run with tracemalloc for the peak of Python allocations.
        for index in range(args.repeat + 1):
            trace = index == args.repeat
            with tempfile.NamedTemporaryFile(suffix=".json") as out:
                command = [sys.executable, str(Path(__file__)), "--child", "--out", out.name]
                command += ["--media", media, "--database-url", args.database_url]
                command += ["--trace"] if trace else []
                subprocess.run(command, check=True, cwd=ROOT)
                run = json.loads(Path(out.name).read_text())
            if trace:
                traced = run
                log("report", f"traced run: Python peak {run['python_peak_mb']} MB")
                continue
            log(
                "report",
                f"run {index + 1}: {run['seconds']} s (figures {run['content_s']} s, PDF "
                f"{run['pdf_s']} s, Excel {run['xlsx_s']} s), peak RSS {run['rss_peak_mb']} MB, "
                f"{run['pages']} pages, "
                f"load {run['load_average']:.1f}",
            )
            runs.append(run)
        # Keep the last PDF to look at (screenshots/ is not committed).
        pdfs = sorted(Path(media).rglob("*.pdf"))
        if pdfs:
            sample = ROOT / "screenshots" / f"bench-{args.name}-sample.pdf"
            sample.parent.mkdir(exist_ok=True)
            sample.write_bytes(pdfs[-1].read_bytes())

    summary = {
        "median_seconds": round(statistics.median(r["seconds"] for r in runs), 2),
        "median_cpu_seconds": round(statistics.median(r["cpu_s"] for r in runs), 2),
        "max_rss_mb": max(r["rss_peak_mb"] for r in runs),
        "python_peak_mb": traced["python_peak_mb"],
        "pages": runs[-1]["pages"],
        "agencies": runs[-1]["agencies"],
        "tasks": runs[-1]["tasks"],
        "leaf_tasks": runs[-1]["leaf_tasks"],
        "meets_time_target": statistics.median(r["seconds"] for r in runs) < TARGET_SECONDS,
        "median_pdf_job_seconds": round(statistics.median(r["pdf_job_s"] for r in runs), 2),
        "median_xlsx_seconds": round(statistics.median(r["xlsx_s"] for r in runs), 2),
        "meets_pdf_target": statistics.median(r["pdf_job_s"] for r in runs) <= TARGET_PDF_SECONDS,
        "meets_job_target": statistics.median(r["seconds"] for r in runs) <= TARGET_JOB_SECONDS,
        "meets_memory_target": max(r["rss_peak_mb"] for r in runs) < TARGET_MB,
    }
    run = {
        "name": args.name,
        "title": "Monthly PDF report: time and memory (issue 7)",
        "finished_at": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "revision": git_revision(),
        "machine": machine_info(),
        "load_average_before": load_before,
        "dataset": {k: str(v) for k, v in params.items()},
        "targets": {
            "seconds": TARGET_SECONDS,
            "rss_mb": TARGET_MB,
            "pdf_seconds_20k": TARGET_PDF_SECONDS,
            "job_seconds_20k": TARGET_JOB_SECONDS,
        },
        "trend_stored": args.store_trend,
        "summary": summary,
        "runs": runs,
        "traced_run": traced,
        "notes": [
            "Each run is a full monthly_report_generate in a fresh process: selectors, "
            "charts, template, WeasyPrint layout, Excel twin, atomic file swap. The figures, "
            "PDF and Excel seconds are the parts the job records on the report row "
            "(figures_seconds, pdf_seconds, xlsx_seconds; issue 18): the PDF is written "
            "before the Excel twin is built from the same figures.",
            "Past month ends of the trend "
            + (
                "stored first, as the nightly job does (--store-trend)."
                if args.store_trend
                else "computed live (not stored: no --store-trend)."
            ),
            *args.note,
            "The PDF's parts (the body, each appendix) are laid out side by side "
            "(reports/pdf.py, REPORT_PDF_PROCESSES: one per CPU): the last appendix in a "
            "process forked from the job's; its CPU seconds and peak RSS are the 'layout "
            "children' columns, not in the job's own.",
            "Peak RSS is the child's ru_maxrss (whole process, C libraries included); the "
            "Python peak is tracemalloc's during the generation only, in a separate run that "
            "is not timed (tracing slows Python down several times).",
            "The same report is regenerated each run (same number, files replaced).",
            "The PDF's appendix lists the 500 tasks that most need attention (overdue first; "
            "reports.services.PDF_APPENDIX_MAX_ROWS) and says so; the Excel twin lists all "
            "of them. The whole appendix (1,990 rows, about 9 ms each in WeasyPrint) took "
            "25.8 s and 120 pages (earlier runs below).",
        ],
    }
    json_path, md_path = write_results(run, args.name)
    log(
        "report",
        f"median {summary['median_seconds']} s ({summary['median_cpu_seconds']} s CPU), peak "
        f"RSS {summary['max_rss_mb']} MB; wrote {json_path} and {md_path}",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
