"""In-process timings of the API's hot paths, for comparing two source trees interleaved.

    cd <tree> && .venv/bin/python <this file> LABEL [N]

Prints one JSON line: medians (after 10 warm-up calls) of a status update (POST through
DRF's test client, wall and CPU ms, as the district manager on open tasks of the district)
and of the monitor's page of 100 open tasks (what the list view does without HTTP, as
bench/api.py's in-process row). Run it from each tree in turn, several rounds, on the
bench database of bench/api.py (BENCH_DATABASE_URL to name another): on a shared machine
only interleaved runs compare. Used for issue 12 (bench/README.md); results in
bench/results/issue12-inprocess.jsonl. Issue 18 added, through the test client, a task with
its history in one request (`?expand=updates`, as the monitor; two requests in a tree
without it) and one agency's tasks (the
district manager's list filtered to the agency of the district with about 40 tasks);
results in bench/results/issue18-inprocess.jsonl.
"""

import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.getcwd())  # the tree being measured, not this file's

from bench.common import DEFAULT_DATABASE_URL, setup_django  # noqa: E402

WARM_UP = 10
PASSWORD = "bench-pass-2025"  # bench/generate.py's default


def main() -> None:
    setup_django(os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db.models import Count
    from django.utils import timezone
    from rest_framework.test import APIClient

    from tasks_app import selectors
    from tasks_app.api.serializers import task_list_data
    from tasks_app.models import Agency, Task

    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1"]
    label, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 80
    users = get_user_model().objects
    manager, monitor = users.get(username="haihau"), users.get(username="sotttt")
    pool = list(
        Task.objects.filter(
            lead_agency__memberships__user=manager,
            parent__isnull=True,
            state__in=["not_started", "in_progress"],
        )
        .annotate(n_children=Count("children"))
        .filter(n_children=0)
        .order_by("pk")
        .values_list("pk", flat=True)[:40]
    )
    versions = dict(Task.objects.filter(pk__in=pool).values_list("pk", "version"))

    def signed_in(username: str) -> APIClient:
        # Through the token endpoint, whichever token model it uses.
        client = APIClient()
        answer = client.post(
            "/api/v1/auth/token/", {"username": username, "password": PASSWORD}, format="json"
        )
        assert answer.status_code == 200, answer.content[:300]
        client.credentials(HTTP_AUTHORIZATION=f"Token {answer.json()['token']}")
        return client

    client = signed_in("haihau")
    wall, cpu = [], []
    for i in range(n):
        pk = pool[i % len(pool)]
        started, started_cpu = time.perf_counter(), time.process_time()
        answer = client.post(
            f"/api/v1/tasks/{pk}/updates/",
            {"version": versions[pk], "state": "in_progress", "progress": 1 + i % 90},
            format="json",
        )
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert answer.status_code == 201, answer.content[:300]
        versions[pk] = answer.json()["task"]["version"]

    def page():
        tasks = (
            selectors.task_list_for_api(user=monitor, by_category=False)
            .filter(state__in=["not_started", "in_progress", "awaiting_confirmation"])
            .order_by("due", "pk")
        )
        tasks.count()
        rows = selectors.task_rows_with_coordination(selectors.task_values_for_api(tasks)[:100])
        rows = selectors.task_rows_with_parent_categories(rows, timezone.localdate())
        return task_list_data(rows)

    pages = []
    for _ in range(WARM_UP + 20):
        started = time.perf_counter()
        page()
        pages.append((time.perf_counter() - started) * 1000)

    def timed_gets(reader: APIClient, paths: list[str]) -> tuple[float, float]:
        """Median wall and CPU ms of GET requests (after WARM_UP), each answering 200."""
        wall, cpu = [], []
        for i in range(WARM_UP + 40):
            started, started_cpu = time.perf_counter(), time.process_time()
            answer = reader.get(paths[i % len(paths)])
            if "expand=updates" in paths[i % len(paths)] and "updates" not in answer.json():
                # A tree before issue 18: the history takes a second request.
                answer = reader.get(paths[i % len(paths)].replace("?expand=updates", "updates/"))
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            assert answer.status_code == 200, answer.content[:300]
        return (
            round(statistics.median(wall[WARM_UP:]), 1),
            round(statistics.median(cpu[WARM_UP:]), 1),
        )

    # Issue 18: a task with its history in one request, and one agency's tasks (the agency
    # of the district with the number of tasks closest to 40, as bench/api.py picks it).
    histories = list(
        Task.objects.annotate(n=Count("updates"))
        .filter(n__gte=3, parent__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:50]
    )
    history = timed_gets(
        signed_in("sotttt"), [f"/api/v1/tasks/{pk}/?expand=updates" for pk in histories]
    )
    district = manager.memberships.get().agency
    agency = min(
        Agency.objects.filter(path__startswith=district.path)
        .exclude(pk=district.pk)
        .annotate(n=Count("led_tasks"))
        .values_list("n", "pk"),
        key=lambda row: (abs(row[0] - 40), row[1]),
    )[1]
    one_agency = timed_gets(client, [f"/api/v1/tasks/?lead_agency={agency}"])
    print(
        json.dumps(
            {
                "label": label,
                "load_1min": round(os.getloadavg()[0], 2),
                "status_update_wall_p50_ms": round(statistics.median(wall[WARM_UP:]), 1),
                "status_update_cpu_p50_ms": round(statistics.median(cpu[WARM_UP:]), 1),
                "list_page_p50_ms": round(statistics.median(pages[WARM_UP:]), 1),
                "task_with_history_wall_p50_ms": history[0],
                "task_with_history_cpu_p50_ms": history[1],
                "list_one_agency_wall_p50_ms": one_agency[0],
                "list_one_agency_cpu_p50_ms": one_agency[1],
            }
        )
    )


if __name__ == "__main__":
    main()
