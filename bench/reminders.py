"""Benchmark of the daily reminder job (issue 5) at 20,000 and 200,000 tasks.

    python bench/reminders.py                    # both sizes (generates when missing)
    python bench/reminders.py --sizes 200000     # one size

Data (bench/generate.py, seed 1): 260 agencies in one province, N tasks, three status
updates on half of the tasks (`--updates-per-task 3 --updated-fraction 0.5`; the other half
never started, so many are overdue and owe weekly notices), one database per size
(`plan_tracker_bench_rem_20k`, `…_200k`), reused when it holds the same parameters.

Measured in process on PostgreSQL, for the generator's "today", with the query count of
each call (CaptureQueriesContext):

- `dry_run`: reminders_run(day, dry_run=True): finds every notice owed and who gets it;
  writes nothing. Its query count must be the same at both sizes.
- `fan_out`: reminders_run(day) on an empty notification table: what the 07:00 beat task
  does (finds, records the rows, enqueues one digest per recipient; the enqueue is counted,
  not sent to a broker).
- `digests`: every digest of the day, one after another, as the workers would run them
  (claim, render the Vietnamese HTML + text e-mail, send to Django's in-memory backend, mark
  sent): the total, and the queries per digest.
- `rerun`: reminders_run(day) again: records and sends nothing.

Results: bench/results/reminders.json and reminders.md; a markdown line for the README is
printed at the end. Each size runs in its own process (Django is set up for one database).
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, log
from bench.runner import CallResult, measure_call, postgres_settings, write_results

SIZES = (20_000, 200_000)
DATASET = {"agencies": 260, "updates_per_task": 3, "updated_fraction": 0.5, "seed": 1}
BASE_URL = "postgres://postgres@127.0.0.1:5432"


def database_url(size: int, base: str = BASE_URL) -> str:
    return f"{base}/plan_tracker_bench_rem_{size // 1000}k"


def measure_one(size: int, url: str, repeat: int) -> dict:
    """Generate (or reuse) the data set of one size and measure the job; runs in a child."""
    from bench.common import migrate
    from bench.generate import generate

    summary = generate(database_url=url, tasks=size, reuse=True, **DATASET)
    migrate(url)  # a reused data set may predate the reminders tables
    from unittest import mock

    from django.conf import settings
    from django.core import mail
    from django.db import connection

    from reminders import tasks as reminder_tasks
    from reminders.models import Notification
    from reminders.services import digest_send, reminders_run

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    day = datetime.date.fromisoformat(summary["params"]["today"])
    tag = f"@{size // 1000}k"

    def empty_notifications() -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {Notification._meta.db_table}")

    empty_notifications()
    results = []

    # 1. The dry run (repeatable: it writes nothing).
    found = {}

    def dry_run():
        found["result"] = reminders_run(day, dry_run=True)

    result = measure_call(
        f"dry_run{tag}",
        dry_run,
        repeat=repeat,
        warmup=1,
        description="find every notice owed today and its recipients; write nothing",
    )
    notices = found["result"].notices
    result.extra = {
        "notices": len(notices),
        "tasks": len({n.task_id for n in notices}),
        "recipients": len({n.recipient.id for n in notices}),
        "by_kind": _by_kind(notices),
    }
    results.append(result)
    log("reminders", f"{size}: dry run {result.median_ms} ms, {result.queries} queries")

    # 2. The fan-out of the beat task, once, on an empty table (the enqueue is counted).
    enqueued = []
    ran = {}

    def fan_out():
        with mock.patch.object(
            reminder_tasks.digest_send_task, "delay", lambda *a: enqueued.append(a)
        ):
            ran["result"] = reminders_run(day)

    result = measure_call(
        f"fan_out{tag}",
        fan_out,
        repeat=1,
        warmup=0,
        description="record today's notices and enqueue one digest per recipient",
    )
    result.extra = {"rows": Notification.objects.count(), "digests_enqueued": len(enqueued)}
    results.append(result)
    log("reminders", f"{size}: fan-out {result.median_ms} ms, {result.queries} queries")

    # 3. Every digest of the day, as the workers would send them.
    recipients = ran["result"].digests

    def send_all():
        for user_id in recipients:
            digest_send(user_id=user_id, day=day)

    result = measure_call(
        f"digests{tag}",
        send_all,
        repeat=1,
        warmup=0,
        description="every digest of the day, one after another: claim, render, send, mark",
    )
    per_digest = result.queries[0] / max(len(recipients), 1)
    result.extra = {
        "emails": len(mail.outbox),
        "digests": len(recipients),
        "queries_per_digest": round(per_digest, 1),
        "ms_per_digest": round(result.median_ms / max(len(recipients), 1), 1),
        "largest_digest_tasks": max((_tasks_in(m) for m in mail.outbox), default=0),
        "unsent_rows": Notification.objects.exclude(email_status__in=["sent", "no_email"]).count(),
    }
    results.append(result)
    log("reminders", f"{size}: {len(mail.outbox)} e-mails in {result.median_ms} ms")

    # 4. A rerun of the same day: nothing new, nothing sent.
    before = len(mail.outbox)

    def rerun():
        ran["rerun"] = reminders_run(day, inline=True)

    result = measure_call(
        f"rerun{tag}",
        rerun,
        repeat=1,
        warmup=0,
        description="the same day again (beat firing twice, a manual rerun): sends nothing",
    )
    result.extra = {
        "new_notices": len(ran["rerun"].new_notices),
        "emails": len(mail.outbox) - before,
    }
    results.append(result)
    empty_notifications()
    return {
        "results": [r.__dict__ for r in results],
        "counts": summary.get("counts"),
        "day": day.isoformat(),
        "postgres": postgres_settings(),
    }


def _by_kind(notices) -> dict[str, int]:
    counts: dict[str, int] = {}
    for notice in notices:
        counts[notice.kind] = counts.get(notice.kind, 0) + 1
    return counts


def _tasks_in(message) -> int:
    return message.body.count("\n- ")


def readme_line(results: list[CallResult]) -> str:
    """One markdown table row per size, for the README's benchmark table."""
    by_name = {r.name: r for r in results}
    lines = []
    for tag in sorted({r.name.split("@")[1] for r in results}, key=lambda t: int(t[:-1])):
        names = ("dry_run", "fan_out", "digests", "rerun")
        dry, fan, dig, again = (by_name[f"{name}@{tag}"] for name in names)
        lines.append(
            f"| Daily reminders, {tag[:-1]},000 tasks | dry run {dry.median_ms / 1000:.1f} s, "
            f"{max(dry.queries)} queries ({dry.extra['notices']:,} notices) | beat fan-out "
            f"{fan.median_ms / 1000:.1f} s, {fan.queries[0]} queries | "
            f"{dig.extra['emails']} digests {dig.median_ms / 1000:.1f} s "
            f"({dig.extra['queries_per_digest']:g} queries each) | rerun "
            f"{again.median_ms / 1000:.1f} s, {again.extra['emails']} e-mails |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--repeat", type=int, default=3, help="runs of the dry run")
    parser.add_argument("--base-url", default=BASE_URL, help="PostgreSQL server URL, no db")
    parser.add_argument("--name", default="reminders")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child: one size
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.one:  # the child process: Django set up for this size's database
        data = measure_one(args.one, database_url(args.one, args.base_url), args.repeat)
        Path(args.out).write_text(json.dumps(data, default=str))
        return 0

    results, meta = [], {"dataset": DATASET, "sizes": {}}
    for size in args.sizes:
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            command = [sys.executable, str(Path(__file__)), "--one", str(size), "--out", out.name]
            command += ["--repeat", str(args.repeat), "--base-url", args.base_url]
            subprocess.run(command, check=True, cwd=ROOT)
            data = json.loads(Path(out.name).read_text())
        results += [CallResult(**r) for r in data["results"]]
        meta["sizes"][size] = {
            "counts": data["counts"],
            "day": data["day"],
            "postgres": data["postgres"],
        }
    dry_queries = {max(r.queries) for r in results if r.name.startswith("dry_run@")}
    json_path, md_path = write_results(
        args.name,
        results=results,
        title="Daily reminders: time and queries of the 07:00 job (issue 5)",
        meta=meta,
        notes=[
            "In process on PostgreSQL, for the generator's today; e-mails go to Django's "
            "in-memory backend (rendering included, no SMTP server).",
            "Queries of the dry run at every size: "
            + ", ".join(str(q) for q in sorted(dry_queries))
            + (" (the same: it does not grow with the tasks)." if len(dry_queries) == 1 else "."),
            "The digests' queries grow with the recipients (about four each), not with the tasks.",
        ],
    )
    log("reminders", f"wrote {json_path} and {md_path}")
    print(readme_line(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
