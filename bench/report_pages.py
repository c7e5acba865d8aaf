"""The monthly report before and after a change (issue 18): same data, page images compared.

    python bench/report_pages.py --base e3d4ef7          # the tree at e3d4ef7 against this one
    python bench/report_pages.py --base e3d4ef7 --repeat 3 --name report-pages

The data is bench/report.py's database (generated there first; this script only reads it
and, when the report row does not exist yet, makes it with this tree's
`monthly_report_generate`). The base revision is extracted with `git archive` into a
temporary folder (no worktree, nothing written to the repository); both trees run with this
project's `.venv`, each in its own child process, which renders the same report row:

- the content (selectors, charts, template: `monthly_report_html`), the PDF layout
  (`reports.pdf.render_pdf`) and the Excel twin (`reports.excel.dashboard_workbook` from the
  same figures), each timed `--repeat` times in the process, the trees alternated;
- the PDF of each tree, turned into page images with `pdftoppm -r 50` and compared page by
  page with Pillow: the page count, and per page the share of pixels that differ (any
  channel by more than `PIXEL_TOLERANCE` of 255) and the box that holds them.

Results: bench/results/<name>.json and .md; the page images stay in
screenshots/<name>/{before,after}/ (not committed) to look at, with a difference image for
each page that differs (its pixels in red).
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
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS_DIR, ROOT, git_revision, log, machine_info
from bench.report import DATABASE_URL, PERIOD

# A pixel differs when one of its channels moves by more than this (anti-aliasing noise of
# the same glyph drawn at a sub-pixel offset stays under it).
PIXEL_TOLERANCE = 32
DPI = 50

# Run in each tree's child process (`python -c`, the tree first on sys.path): render the
# report row of PERIOD and time its three parts. Works with any revision that has
# monthly_report_html(report=…) returning (html, board, tasks).
CHILD = r"""
import json, os, statistics, sys, time, datetime
tree, database_url, out_pdf, out_json, repeat = sys.argv[1:6]
sys.path.insert(0, tree)
os.chdir(tree)
from bench.common import setup_django
setup_django(database_url)
from django.utils import translation
from reports import services
from reports.excel import dashboard_workbook
from reports.models import MonthlyReport
from reports.pdf import render_pdf
from tasks_app.models import Plan
plan = Plan.objects.order_by("code").first()
period = datetime.date.fromisoformat(os.environ["BENCH_PERIOD"])
report = MonthlyReport.objects.filter(plan=plan, period=period, scope=None, replaces=None).first()
if report is None or not report.issuer_id:
    report = services.monthly_report_generate(plan=plan, period=period)
times = {f"{part}{kind}": [] for part in ("content", "pdf", "excel") for kind in ("_s", "_cpu_s")}
def timed(name, call):
    started, cpu = time.perf_counter(), time.process_time()
    result = call()
    times[name + "_s"].append(time.perf_counter() - started)
    times[name + "_cpu_s"].append(time.process_time() - cpu)
    return result
def workbook():
    with translation.override(services.REPORT_LANGUAGE):
        return dashboard_workbook(board, tasks=tasks)
for _ in range(int(repeat)):
    html, board, tasks = timed("content", lambda: services.monthly_report_html(report=report))
    rendered = timed("pdf", lambda: render_pdf(html))
    timed("excel", workbook)
open(out_pdf, "wb").write(rendered.content)
json.dump({"times": times, "pages": rendered.pages, "html_kb": round(len(html) / 1024),
           "tasks": len(tasks), "load_average": os.getloadavg()[0]}, open(out_json, "w"))
"""


def extract(revision: str, folder: Path) -> Path:
    """The tree of `revision`, extracted with git archive (templates, static files, code)."""
    folder.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision], cwd=ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    # The report is in Vietnamese: its translations are compiled (*.mo is not committed).
    env = {**os.environ, "DEBUG": "1"}
    subprocess.run(
        [sys.executable, "manage.py", "compilemessages", "-l", "vi", "-v0"],
        cwd=folder,
        env=env,
        check=True,
    )
    return folder


def render(tree: Path, database_url: str, out_pdf: Path, repeat: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as media:
        out_json = Path(media) / "times.json"
        env = {
            **os.environ,
            "MEDIA_ROOT": media,
            "REPORT_SIGNER_NAME": "Nguyễn Văn A",
            "BENCH_PERIOD": PERIOD.isoformat(),
        }
        command = [sys.executable, "-c", CHILD, str(tree), database_url, str(out_pdf)]
        subprocess.run([*command, str(out_json), str(repeat)], check=True, cwd=tree, env=env)
        return json.loads(out_json.read_text())


def page_images(pdf: Path, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", str(DPI), "-png", str(pdf), str(folder / "page")], check=True)
    return sorted(folder.glob("page-*.png"))


def compare_pages(before: list[Path], after: list[Path], diff_folder: Path) -> list[dict]:
    """Per page: the share of pixels that differ and their bounding box (in pixels at DPI);
    a difference image (differing pixels in red over the 'after' page, faded) when any."""
    from PIL import Image, ImageChops

    diff_folder.mkdir(parents=True, exist_ok=True)
    for old in diff_folder.glob("*.png"):
        old.unlink()
    pages = []
    for number, (one, two) in enumerate(zip(before, after, strict=False), start=1):
        a, b = Image.open(one).convert("RGB"), Image.open(two).convert("RGB")
        page: dict = {"page": number, "size_before": a.size, "size_after": b.size}
        if a.size != b.size:
            page.update(differing=1.0, box=None)
            pages.append(page)
            continue
        difference = ImageChops.difference(a, b).convert("L")
        mask = difference.point(lambda v: 255 if v > PIXEL_TOLERANCE else 0)
        histogram = mask.histogram()
        differing = histogram[255] / (a.size[0] * a.size[1])
        page.update(differing=round(differing, 5), box=mask.getbbox())
        if differing:
            faded = Image.blend(b, Image.new("RGB", b.size, "white"), 0.6)
            faded.paste((255, 0, 0), mask=mask)
            faded.save(diff_folder / f"diff-{number:03d}.png")
        pages.append(page)
    return pages


def _markdown(document: dict) -> str:
    s = document["summary"]
    lines = [
        f"# {document['title']}",
        "",
        f"Run {document['finished_at']}: base {document['base']} against "
        f"{document['revision']}; {document['machine'].get('cpus')} CPUs, "
        f"{document['machine'].get('cpu_model', '')}; load average "
        f"{document['load_average_before']:.1f} before, {document['load_average_after']:.1f} "
        "after.",
        "",
        f"Data: {document['data']}; the report of {PERIOD:%m/%Y}, whole plan.",
        "",
        "| | pages | figures s (CPU) | PDF layout s (CPU) | Excel s (CPU) | HTML kB |",
        "|---|---|---|---|---|---|",
    ]
    for label in ("before", "after"):
        run = document[label]
        m = run["median"]
        lines.append(
            f"| {label} | {run['pages']} | {m['content_s']} ({m.get('content_cpu_s')}) | "
            f"{m['pdf_s']} ({m.get('pdf_cpu_s')}) | {m['excel_s']} ({m.get('excel_cpu_s')}) | "
            f"{run['html_kb']} |"
        )
    lines += [
        "",
        f"Medians of {document['repeat']} renderings each, in process, the trees alternated "
        "(all runs in the JSON file); wall-clock seconds, and in brackets the process's CPU "
        "seconds, which depend less on what else the machine runs (the database's time is "
        "not in them).",
        "",
        f"**Pages: {s['pages_before']} before, {s['pages_after']} after; "
        f"{s['pages_identical']} identical, {s['pages_differing']} differ** (a pixel differs "
        f"when a channel moves by more than {PIXEL_TOLERANCE}/255, at {DPI} dpi); the largest "
        f"difference is {s['max_differing_percent']} % of a page's pixels (page "
        f"{s['max_differing_page']}).",
        "",
    ]
    differing = [p for p in document["pages"] if p["differing"]]
    if differing:
        lines += ["| page | differing pixels % | box (x0, y0, x1, y1 px) |", "|---|---|---|"]
        lines += [
            f"| {p['page']} | {round(p['differing'] * 100, 3)} | {p['box']} |" for p in differing
        ]
        lines.append("")
    lines += [f"- {note}" for note in document["notes"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="the revision before the change")
    parser.add_argument("--database-url", default=DATABASE_URL)
    parser.add_argument("--data", default="bench/report.py's data set", help="for the notes")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--name", default="report-pages")
    parser.add_argument("--note", action="append", default=[])
    args = parser.parse_args(argv)

    out = ROOT / "screenshots" / args.name
    out.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    runs: dict[str, list[dict]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory(prefix="bench-base-") as base_folder:
        base = extract(args.base, Path(base_folder))
        # Alternated, this tree first (it makes the report row when there is none).
        for index in range(args.repeat):
            for label, tree in (("after", ROOT), ("before", base)):
                run = render(tree, args.database_url, out / f"{label}.pdf", 1)
                log("pages", f"{label} {index + 1}: {run['times']}, {run['pages']} pages")
                runs[label].append(run)
    before = page_images(out / "before.pdf", out / "before")
    after = page_images(out / "after.pdf", out / "after")
    pages = compare_pages(before, after, out / "diff")

    def side(label: str) -> dict:
        last = runs[label][-1]
        times = {k: [t for r in runs[label] for t in r["times"][k]] for k in last["times"]}
        return {
            "pages": last["pages"],
            "html_kb": last["html_kb"],
            "tasks": last["tasks"],
            "times": times,
            "median": {k: round(statistics.median(v), 2) for k, v in times.items()},
        }

    worst = max(pages, key=lambda p: p["differing"], default={"page": None, "differing": 0})
    document = {
        "title": "Monthly report: page images and timings before and after (issue 18)",
        "finished_at": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "base": args.base,
        "revision": git_revision(),
        "machine": machine_info(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg()[0],
        "data": args.data,
        "repeat": args.repeat,
        "before": side("before"),
        "after": side("after"),
        "summary": {
            "pages_before": len(before),
            "pages_after": len(after),
            "pages_identical": sum(1 for p in pages if not p["differing"]),
            "pages_differing": sum(1 for p in pages if p["differing"]),
            "max_differing_percent": round(worst["differing"] * 100, 3),
            "max_differing_page": worst["page"],
        },
        "pages": pages,
        "notes": [
            "Each tree renders the same report row of the same database, in its own process; "
            "timings are in process (no file writes), the machine shared with other work.",
            f"Page images: screenshots/{args.name}/before, after and diff (not committed).",
            *args.note,
        ],
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    json_path, md_path = RESULTS_DIR / f"{args.name}.json", RESULTS_DIR / f"{args.name}.md"
    json_path.write_text(json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n")
    md_path.write_text(_markdown(document))
    log("pages", f"{document['summary']}; wrote {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
