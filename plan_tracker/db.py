"""Prepared statements for the queries of short requests: `prepared_statements()`.

PostgreSQL parses and plans every query it is sent. For the API's actions on one task (a
status update, a task page) planning was the largest part of the database's time: a status
update took 8 ms in process with the plans kept, 11–12 ms without (bench/README.md). Inside
`prepared_statements()`, psycopg sends the parameters apart from the SQL (server-side
binding) and prepares a query once it has run five times on the connection; PostgreSQL
reuses its plan from then on.

Only there: a kept plan is a generic plan, made without the parameters' values. For the
dashboard's counts over a whole plan it was slower than planning with the values (the
district manager's page at 200,000 tasks: 0.95 s instead of 0.7 s). Everything else runs
as Django runs it by default: parameters bound into the SQL by psycopg, planned each time.

Issue 12 measured both alternatives (bench/README.md, "Issue 12"):
- without the block, a status update took 9.4–10.7 ms in process against 7.1–8.2 ms with
  it (five alternated rounds on a quiet machine), which leaves the 15 ms target (p50 over
  HTTP) only a thin margin;
- psycopg's supported settings for every connection instead (Django's `OPTIONS`
  `server_side_binding` and `prepare_threshold`) were as fast for the status update, but
  the district manager's dashboard at 200,000 tasks went from a 740 ms median to 3,073 ms
  once PostgreSQL switched the prepared queries to generic plans (from their tenth run on
  a connection), past its 1.5 s target (bench/results/dashboard-issue12-*.md).
So the block stays, and only the API's detail routes and the task list run inside it.

Issue 18 (one agency's list, target 100 requests a second): PostgreSQL kept planning the
list's page each time (0.7 ms; its estimate of the generic plan was higher than of the
plans made with the values), so a database session that runs the block asks for generic
plans (`plan_cache_mode`, set once per session, `_generic_plans`). It changes nothing
outside the block: there psycopg binds the values into the SQL, and PostgreSQL plans such a
query with them whatever the setting says. Inside the block, `planned_with_values()` sends
its queries that way too: the list's count, and a page whose SQL is built each time (a
search), whose best plans depend on the values. One agency's list went from 65-67 to
115-129 requests a second with the rest of issue 18's work, the open-tasks list (20,000
tasks, by due date) from 44-48 to 50-54 (bench/README.md). It sets psycopg's public
connection attributes (`cursor_factory`, `prepare_threshold`) and Django's
`ServerBindingCursor`, the class Django itself uses for `server_side_binding`.

`DATABASE_PREPARED_STATEMENTS` (settings.py) switches the block off; on SQLite it changes
nothing.
"""

from contextlib import contextmanager

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

# Runs of a query on a connection before psycopg prepares it (psycopg's default).
PREPARE_THRESHOLD = 5


@contextmanager
def prepared_statements(using: str = DEFAULT_DB_ALIAS):
    """Let the queries run in the block be prepared, with generic plans (see the module's
    docstring)."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not settings.DATABASE_PREPARED_STATEMENTS:
        yield
        return
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    raw = connection.connection
    _generic_plans(connection, raw)
    with _cursors(raw, ServerBindingCursor, PREPARE_THRESHOLD):
        yield


@contextmanager
def _cursors(raw, factory, prepare_threshold):
    """psycopg's connection `raw` makes its cursors with `factory` and prepares a query at
    `prepare_threshold` runs (None: never) in the block, then as before. A connection closed
    in the block (an error, CONN_MAX_AGE) takes the setting along; its successor starts
    with Django's."""
    before = raw.cursor_factory, raw.prepare_threshold
    raw.cursor_factory, raw.prepare_threshold = factory, prepare_threshold
    try:
        yield
    finally:
        raw.cursor_factory, raw.prepare_threshold = before


def _generic_plans(connection, raw) -> None:
    """Once per database session: queries sent with their parameters apart (only in
    prepared_statements() blocks: elsewhere psycopg binds the values into the SQL, and
    PostgreSQL plans with them whatever this says) get a generic plan, made once per
    prepared statement. PostgreSQL's own choice kept planning the task list's page each
    time (0.7 ms) because its estimate of the generic plan was higher (issue 18). Not in a
    transaction, whose rollback would undo it."""
    if connection.__dict__.get("plan_tracker_generic_plans") is raw:
        return
    if connection.in_atomic_block:
        return
    raw.execute("SET plan_cache_mode = force_generic_plan")
    connection.plan_tracker_generic_plans = raw


@contextmanager
def planned_with_values(using: str = DEFAULT_DB_ALIAS):
    """Inside `prepared_statements()`: the queries of this block are sent as Django sends
    them by default, the values in the SQL, so PostgreSQL plans each with its values (a
    list's count and a page whose SQL is built each time, whose best plans depend on them).
    Outside it, or on SQLite, it changes nothing."""
    connection = connections[using]
    raw = connection.connection
    if raw is None or connection.vendor != "postgresql":
        yield
        return
    from django.db.backends.postgresql.base import Cursor

    with _cursors(raw, Cursor, None):
        yield
