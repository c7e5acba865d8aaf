"""Benchmark of the leadership dashboard (issue 6): page and API at 20,000 and 200,000 tasks.

    python bench/dashboard.py                          # both sizes (generates when missing)
    python bench/dashboard.py --sizes 20000            # one size
    python bench/dashboard.py --pg-options "-c jit=off" --name dashboard-jit-off
    python bench/dashboard.py --explain                # also EXPLAIN ANALYZE the main query

Data (bench/generate.py, seed 1): 260 agencies in one province, N tasks, ten status updates
on every task (`--updates-per-task 10 --updated-fraction 1.0`), one database per size
(`plan_tracker_bench_dash_20k`, `…_200k`), reused when it holds the same parameters.

Measured in process (Django's test client, so the query count is exact; no HTTP), as the
provincial leader (`lanhdao`, sees everything) and as a district manager (`haihau`, the
permission scope filters), at today's date:

- page: GET /dashboard/ (headline, areas, rankings, overdue list, KPI; the trend is a
  separate fragment, loaded by htmx after the page);
- trend: GET /dashboard/trend/ (the categories at each month end: past month ends from the
  counts stored by the nightly job, checked against what they were computed from; today
  counted live);
- api: GET /api/v1/dashboard/ (everything, trend included), and /api/v1/dashboard/categories/.

Targets (issue 6, this 2-core machine): median < 300 ms at 20,000 tasks and < 1.5 s at
200,000, for the page and the API. Results: bench/results/dashboard.json and dashboard.md.
Each size runs in its own process (Django is set up for one database per process).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, log
from bench.runner import CallResult, measure_call, postgres_settings, write_results

SIZES = (20_000, 200_000)
TARGET_MS = {20_000: 300, 200_000: 1500}
DATASET = {"agencies": 260, "updates_per_task": 10, "updated_fraction": 1.0, "seed": 1}
BASE_URL = "postgres://postgres@127.0.0.1:5432"


def database_url(size: int, base: str = BASE_URL) -> str:
    return f"{base}/plan_tracker_bench_dash_{size // 1000}k"


def measure_one(size: int, url: str, repeat: int, explain: bool) -> dict:
    """Generate (or reuse) the data set of one size and measure it; runs in a child."""
    from bench.generate import generate

    summary = generate(database_url=url, tasks=size, reuse=True, **DATASET)
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client needs it (templates rendered signal)
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1"]
    # In process there is no collectstatic manifest: plain static URLs (as gunicorn after
    # collectstatic would serve them, at no measurable cost).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # As on a deployed site after the nightly job (reports.trend_snapshots_refresh): the
    # trend's past month ends are stored. Timed: that is the job's cost at this size.
    from reports.trend_store import trend_snapshots_refresh
    from tasks_app.models import Plan

    started = time.perf_counter()
    stored = sum(trend_snapshots_refresh(plan) for plan in Plan.objects.all())
    store_seconds = round(time.perf_counter() - started, 1)
    log("dashboard", f"{size}: {stored} month ends stored in {store_seconds} s")
    users = get_user_model().objects
    clients = {}
    for username in ("lanhdao", "haihau"):
        client = Client()
        client.force_login(users.get(username=username))
        clients[username] = client

    def get(username: str, path: str):
        def call():
            response = clients[username].get(path)
            assert response.status_code == 200, (path, response.status_code)
            return response

        return call

    target = {"max_median_ms": TARGET_MS.get(size, 1500)}
    scenarios = [
        ("page", "lanhdao", "/dashboard/", "the dashboard page, leader (sees everything)"),
        ("page_manager", "haihau", "/dashboard/", "the dashboard page, a district manager"),
        ("trend", "lanhdao", "/dashboard/trend/", "the trend fragment (htmx), leader"),
        ("api", "lanhdao", "/api/v1/dashboard/", "the full dashboard JSON, trend included"),
        ("api_categories", "lanhdao", "/api/v1/dashboard/categories/", "categories JSON"),
    ]
    results = []
    for name, username, path, description in scenarios:
        log("dashboard", f"{size}: {name} …")
        result = measure_call(
            f"{name}@{size // 1000}k",
            get(username, path),
            repeat=repeat,
            warmup=1,
            description=description,
            targets=target,
        )
        log("dashboard", f"{size}: {name} median {result.median_ms} ms, {result.queries} queries")
        results.append(result)
    extra = {}
    if explain:
        extra["explain"] = explain_main_query()
    return {
        "results": [r.__dict__ for r in results],
        "counts": summary.get("counts"),
        "postgres": postgres_settings(),
        "trend_store": {"month_ends_computed": stored, "seconds": store_seconds},
        **extra,
    }


def explain_main_query() -> str:
    """EXPLAIN ANALYZE of the grouped-count query of the dashboard, as the leader today."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from reports import selectors
    from tasks_app.models import Plan

    user = get_user_model().objects.get(username="lanhdao")
    filters = selectors.DashboardFilters(plan=Plan.objects.first(), as_of=timezone.localdate())
    tasks = selectors.scoped_leaf_tasks(user=user, filters=filters)
    queryset = (
        selectors._categorised(tasks, filters.as_of)
        .values("own_category")
        .annotate(n=selectors.Count("pk"))
        .order_by()
    )
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def patch_querysets(url: str, path: str) -> None:
    """Swap TaskQuerySet's methods for those of a proposed querysets.py (evidence only)."""
    import importlib.util

    from bench.common import setup_django

    setup_django(url)
    from tasks_app import querysets

    spec = importlib.util.spec_from_file_location("proposed_querysets", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, value in vars(module.TaskQuerySet).items():
        if callable(value) and not name.startswith("__"):
            setattr(querysets.TaskQuerySet, name, value)
    log("dashboard", f"TaskQuerySet methods replaced from {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--base-url", default=BASE_URL, help="PostgreSQL server URL, no db")
    parser.add_argument("--pg-options", default="", help='e.g. "-c jit=off" (PGOPTIONS)')
    parser.add_argument("--name", default="dashboard")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument(
        "--queryset-patch",
        help="a copy of tasks_app/querysets.py whose TaskQuerySet methods replace the real "
        "ones for this run (to measure a proposed change without applying it)",
    )
    parser.add_argument("--note", action="append", default=[], help="a note for the results")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child: one size
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.one:  # the child process: Django set up for this size's database
        url = database_url(args.one, args.base_url)
        if args.queryset_patch:
            patch_querysets(url, args.queryset_patch)
        data = measure_one(args.one, url, args.repeat, args.explain)
        Path(args.out).write_text(json.dumps(data, default=str))
        return 0

    env = dict(os.environ)
    if args.pg_options:
        env["PGOPTIONS"] = args.pg_options
    results, meta = [], {"dataset": DATASET, "sizes": {}, "pg_options": args.pg_options}
    store_notes: list[str] = []
    for size in args.sizes:
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            command = [sys.executable, str(Path(__file__)), "--one", str(size), "--out", out.name]
            command += ["--repeat", str(args.repeat), "--base-url", args.base_url]
            command += ["--explain"] if args.explain else []
            if args.queryset_patch:
                command += ["--queryset-patch", str(Path(args.queryset_patch).resolve())]
            subprocess.run(command, check=True, cwd=ROOT, env=env)
            data = json.loads(Path(out.name).read_text())
        results += [CallResult(**r) for r in data["results"]]
        meta["sizes"][size] = {"counts": data["counts"], "postgres": data["postgres"]}
        store = data["trend_store"]
        store_notes.append(
            f"{size:,} tasks: the nightly job stored {store['month_ends_computed']} month "
            f"ends in {store['seconds']} s before the measurements (0 when still valid)."
        )
        if "explain" in data:
            explain_path = ROOT / "bench" / "results" / f"{args.name}-explain-{size // 1000}k.txt"
            explain_path.write_text(data["explain"] + "\n")
    json_path, md_path = write_results(
        args.name,
        results=results,
        title="Leadership dashboard: page and API latency and queries (issue 6)",
        meta=meta,
        notes=[
            "In process (Django test client), as lanhdao (leader) and haihau (district "
            "manager), at today's date; ten status updates on every task.",
            "The page does not include the trend: the browser loads it afterwards (htmx). "
            "The API's /api/v1/dashboard/ includes it.",
            *store_notes,
            f"PGOPTIONS: {args.pg_options or '(none: server default, JIT on)'}",
            f"TaskQuerySet patch: {args.queryset_patch or '(none: the code as it is)'}",
            *args.note,
        ],
    )
    log("dashboard", f"wrote {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
