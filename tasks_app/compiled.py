"""Reads whose SQL is built once per connection: `rows_by_id`, `rows_by_value`, `rows_of`.

Cleverness kept because a benchmark row needs it (bench/README.md, "Issue 12"): the API's
status update, target p50 < 15 ms (bench/api.py `status_update`, 10.6 ms at the last quiet
run). Django turns a queryset into SQL every time it is evaluated; for the two reads of a
status update (the task the action reaches, `selectors.task_get_for_action`, and the
answer's row, `selectors.task_row_for_api`) that was most of their time. Measured on
2026-12-04 in process, interleaved with the plain ORM, on a machine at load 3.5-4: the
look-ups 1.5 and 2.2 ms here against 5.6 and 8 ms with `.filter(pk=…)`, and a status
update's median 20-23.5 ms here against 28-39 ms (bench/results/issue12-inprocess.jsonl).

Here the SQL of `queryset.filter(pk=<marker>)` is built once, and each read runs it with
the wanted id in the marker's place. Django's own compiler converts the values, so the rows
are exactly those the queryset would give. It leans on Django's compiler internals
(`get_compiler`, `as_sql`, `results_iter`, `query.selected`…): tests/tasks_app/
test_compiled.py compares its rows with the queryset's and fails when an upgrade changes
them. Inside prepared_statements() (plan_tracker/db.py) PostgreSQL also parses and plans
the query once per connection. The cache keys come from selectors.cache_key.

Issue 18 (bench/api.py `task_with_history`, a task with its history in one request, target
p50 <= 6 ms; `list_one_agency`, >= 100 req/s) reads two more queries so, through
`rows_by_value`: the user's memberships on every request (permissions._memberships, 1.7 ms
with the ORM) and a page of a task's history with its evidence (selectors.StatusUpdatePages,
4.4 ms with the ORM); and, through `rows_of`, the task list's page for a query string whose
filters are made of their values alone (TaskViewSet.list_sql_key): building its SQL was
2.2 of the 3.7 ms CPU of one agency's page (load 4). A page's coordinating agencies and
its days late are read through `rows_by_ids`, SQL built once per number of tasks on the
page: building them was a millisecond of one agency's list (issue 18).
"""

from collections.abc import Callable, Sequence

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

# Ids are positive: a filter on one of these names the parameter to replace.
MARKER = -(2**62) - 12345
MARKERS = tuple(MARKER - index for index in range(1000))
_BIGINT = range(-(2**63), 2**63)
_MAX_ENTRIES = 256


class CompiledRows:
    """`list(build(values))` of a values() queryset that names each of `values` (ids) once,
    for any values of that number, from SQL built once on `connection`: `queryset` is
    `build(markers)`, `markers` the first len(values) of MARKERS."""

    def __init__(self, queryset: QuerySet, connection, markers: tuple[int, ...] = ()):
        query = queryset.query
        self._connection = connection
        self._compiler = query.get_compiler(connection=connection)
        self._at: list[int] = []
        try:
            self._sql, params = self._compiler.as_sql()
        except EmptyResultSet:  # e.g. the scope of a user without agencies: no rows
            self._sql = None
            return
        self._params = list(params)
        # Where each value goes; none: the SQL names no value (rows_of), it runs as built.
        for marker in markers:
            if self._params.count(marker) != 1:
                raise ValueError("The queryset's SQL must name each value exactly once.")
            self._at.append(self._params.index(marker))
        # The names ValuesIterable gives the columns.
        self._names = (
            list(query.selected)
            if query.selected
            else [*query.extra_select, *query.values_select, *query.annotation_select]
        )

    def __call__(self, values: Sequence = ()) -> list[dict]:
        # ValueError or TypeError for a malformed id, as the ORM raises
        values = [int(value) for value in values]
        if self._sql is None or any(value not in _BIGINT for value in values):
            return []
        if len(values) != len(self._at):
            raise ValueError("The values must be as many as the SQL names.")
        params = self._params.copy()
        for at, value in zip(self._at, values, strict=True):
            params[at] = value
        with self._connection.cursor() as cursor:
            cursor.execute(self._sql, params)
            fetched = cursor.fetchall()
        rows = self._compiler.results_iter(results=[fetched])
        return [dict(zip(self._names, row, strict=True)) for row in rows]


def rows_by_id(
    key: tuple, build: Callable[[], QuerySet], pk, using: str = DEFAULT_DB_ALIAS
) -> list[dict]:
    """The rows of `build().filter(pk=pk)`, a values() queryset. Its SQL is built once per
    `key` (selectors.cache_key, which states what it must name) and database connection."""
    return rows_by_value(key, lambda marker: build().filter(pk=marker), pk, using)


def rows_of(key: tuple, build: Callable[[], QuerySet], using: str = DEFAULT_DB_ALIAS) -> list[dict]:
    """The rows of `build()`, a values() queryset, whose SQL is built once per `key` and
    database connection: `key` must name everything the SQL depends on, values included
    (the task list's page: TaskViewSet.list_sql_key)."""
    return _rows(key, lambda markers: build(), (), using)


def rows_by_value(
    key: tuple, build: Callable[[int], QuerySet], value, using: str = DEFAULT_DB_ALIAS
) -> list[dict]:
    """The rows of `build(value)`, a values() queryset that names `value` (an id: a task's,
    a user's) exactly once. Its SQL is built once per `key` and database connection, from
    `build(MARKER)`; `key` names everything else the query depends on."""
    return _rows(key, lambda markers: build(markers[0]), (value,), using)


def rows_by_ids(
    key: tuple, build: Callable[[list[int]], QuerySet], ids: Sequence, using=DEFAULT_DB_ALIAS
) -> list[dict]:
    """The rows of `build(ids)`, a values() queryset that names each of `ids` (distinct)
    exactly once, typically as `…__in=ids`: its SQL is built once per `key`, number of
    ids and database connection (a page's coordinating agencies, its days late)."""
    if not ids:
        return []
    if len(ids) > len(MARKERS):  # longer than any page: built as usual
        return list(build(list(ids)))
    return _rows((*key, len(ids)), lambda markers: build(list(markers)), tuple(ids), using)


def _rows(
    key: tuple, build: Callable[[tuple[int, ...]], QuerySet], values: tuple, using: str
) -> list[dict]:
    connection = connections[using]
    # Kept on the connection object: a compiler belongs to the connection it was built for,
    # one per thread.
    cache = connection.__dict__.setdefault("plan_tracker_compiled_rows", {})
    compiled = cache.get(key)
    if compiled is None:
        if len(cache) >= _MAX_ENTRIES:  # many dates or scopes: start again rather than grow
            cache.clear()
        markers = MARKERS[: len(values)]
        compiled = cache[key] = CompiledRows(build(markers), connection, markers)
    return compiled(values)
