"""Prepared statements for the queries of short requests: `prepared_statements()`.

PostgreSQL parses and plans every query it is sent. For the API's actions on one task
(a status update, a task page) planning was the largest part of the database's time: a
status update took 8 ms in process with the plans kept, 11–12 ms without (bench/README.md).
Inside `prepared_statements()`, psycopg prepares a query once it has run five times on the
connection, and PostgreSQL reuses its plan from then on.

Only there: a kept plan is a generic plan, made without the parameters' values. For the
dashboard's counts over a whole plan it was slower than planning with the values (the
district manager's page at 200,000 tasks: 0.95 s instead of 0.7 s), so everything else is
planned with its parameters, as before.

Needs server-side binding (settings.py, DATABASE_PREPARED_STATEMENTS); without it, or on
SQLite, the block changes nothing.
"""

from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections

# Runs of a query on a connection before psycopg prepares it (psycopg's default).
PREPARE_THRESHOLD = 5


@contextmanager
def prepared_statements(using: str = DEFAULT_DB_ALIAS):
    """Let the queries run in the block be prepared (see the module's docstring)."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not connection.settings_dict["OPTIONS"].get(
        "server_side_binding"
    ):
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    before = raw.prepare_threshold
    raw.prepare_threshold = PREPARE_THRESHOLD
    try:
        yield
    finally:
        # A connection closed in the block (an error, CONN_MAX_AGE) takes its setting along;
        # its successor starts with none.
        raw.prepare_threshold = before
