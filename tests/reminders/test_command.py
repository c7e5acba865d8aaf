"""`manage.py send_reminders [--date] [--dry-run] [--inline]`."""

# ruff: noqa: F811

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from reminders.models import Notification
from tests.smtp import smtp_server  # noqa: F401

pytestmark = pytest.mark.django_db

D = datetime.date


def send_reminders(*args) -> str:
    """The command's output, in English (the msgids) whatever the catalog says."""
    out = StringIO()
    with translation.override("en"):
        call_command("send_reminders", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def june_task(make_task, people, policy):
    return make_task(code="T-JUN", due=D(2022, 6, 30))


def test_dry_run_prints_who_would_get_what_and_sends_nothing(june_task, mailoutbox):
    out = send_reminders("--date", "2022-06-27", "--dry-run")
    assert "2022-06-27: 2 notices owed, 2 new for 2 recipients" in out
    assert "manager@example.vn" in out and "officer@example.vn" in out
    assert "Due soon: T-JUN, due 30/06/2022 (+3 days)" in out
    assert "Dry run" in out
    assert mailoutbox == []
    assert not Notification.objects.exists()


def test_a_run_for_a_given_day_sends_and_a_rerun_sends_nothing(june_task, mailoutbox, travel):
    travel(D(2022, 6, 27))
    out = send_reminders("--date", "2022-06-27", "--inline")
    assert "2 new" in out and "Digests sent from this process: 2" in out
    assert len(mailoutbox) == 2
    out = send_reminders("--date", "2022-06-27", "--inline")
    assert "0 new" in out and "2 already recorded" in out
    assert len(mailoutbox) == 2


def test_without_a_date_it_runs_for_today_in_the_projects_time_zone(june_task, travel):
    travel(D(2022, 6, 29))
    out = send_reminders("--dry-run")
    assert out.startswith("2022-06-29:")


def test_the_default_queues_the_digests_after_the_commit(
    june_task, mailoutbox, travel, django_capture_on_commit_callbacks
):
    travel(D(2022, 6, 27))
    with django_capture_on_commit_callbacks() as callbacks:
        out = send_reminders("--date", "2022-06-27")
    assert "Digests queued: 2" in out
    assert len(callbacks) == 2  # one digest task per recipient, sent once committed
    assert mailoutbox == []


@pytest.mark.parametrize("bad", ["27/06/2022", "2022-02-30", "tomorrow", ""])
def test_a_bad_date_is_a_command_error(bad):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        send_reminders("--date", bad)


@pytest.mark.slow
def test_a_bad_date_exits_non_zero_from_the_shell():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "manage.py", "send_reminders", "--date", "2022-13-01", "--dry-run"],
        cwd=root,
        env={"DJANGO_SETTINGS_MODULE": "plan_tracker.test_settings", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "2022-13-01" in done.stderr  # the message names the bad value, in any language


# --- Exit status and summary (issue 16), through a real SMTP exchange -----------------------


def test_a_refused_digest_exits_non_zero_after_the_summary(june_task, smtp_server, travel):
    travel(D(2022, 6, 27))
    smtp_server.refused.add("officer@example.vn")
    out = StringIO()
    with translation.override("en"), pytest.raises(CommandError) as failure:
        call_command("send_reminders", "--date", "2022-06-27", "--inline", stdout=out)
    assert failure.value.returncode == 1
    assert "1 digests could not be sent" in str(failure.value)
    assert out.getvalue().splitlines()[-1] == (
        "Summary: 1 digests sent, 0 queued, 0 skipped, 1 failed."
    )
    # The manager's digest went through; the officer's notices wait for the next run.
    assert [to for to, _message in smtp_server.received] == [["manager@example.vn"]]
    officer_rows = Notification.objects.filter(recipient__email="officer@example.vn")
    assert {row.email_status for row in officer_rows} == {"pending"}
    assert all("SMTPRecipientsRefused" in row.last_error for row in officer_rows)

    # The server takes the address again: the rerun sends the officer's digest and exits 0.
    smtp_server.refused.clear()
    out = send_reminders("--date", "2022-06-27", "--inline")
    assert out.splitlines()[-1] == "Summary: 1 digests sent, 0 queued, 0 skipped, 0 failed."
    assert len(smtp_server.received) == 2


def test_when_every_digest_goes_out_the_summary_says_so_and_the_exit_is_zero(
    june_task, smtp_server, travel
):
    travel(D(2022, 6, 27))
    out = send_reminders("--date", "2022-06-27", "--inline")  # raises on a non-zero exit
    assert out.splitlines()[-1] == "Summary: 2 digests sent, 0 queued, 0 skipped, 0 failed."
    assert sorted(to[0] for to, _message in smtp_server.received) == [
        "manager@example.vn",
        "officer@example.vn",
    ]


def test_the_summary_counts_queued_digests_without_a_worker(
    june_task, travel, django_capture_on_commit_callbacks
):
    travel(D(2022, 6, 27))
    with django_capture_on_commit_callbacks():
        out = send_reminders("--date", "2022-06-27")
    assert out.splitlines()[-1] == "Summary: 0 digests sent, 2 queued, 0 skipped, 0 failed."


def test_the_summary_is_in_vietnamese_by_default(june_task, smtp_server, travel):
    travel(D(2022, 6, 27))
    smtp_server.refused.add("officer@example.vn")
    out = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("send_reminders", "--date", "2022-06-27", "--inline", stdout=out)
    assert "Tóm tắt" in out.getvalue().splitlines()[-1]
    assert "không gửi được" in str(failure.value)
