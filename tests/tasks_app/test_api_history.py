"""Issue 18, the API: a task with its history in one request (`?expand=updates`), and no
fixed cost an answer does not need: no count query when the list fits on one page, the
evidence files read in the updates' own query, no query for the children of a task that
has none.

The page `count` stays exact on every page: counted in the database only when a page is
full, else computed from the page itself.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tasks_app import services
from tasks_app.api.serializers import LATEST_UPDATES
from tests.tasks_app.conftest import PDF_BYTES, PNG_BYTES

pytestmark = pytest.mark.django_db


def _report(task, author, progress: int, files: int = 0):
    evidence = [
        services.EvidenceUpload(f"bien-ban-{progress}-{n}.pdf", "application/pdf", PDF_BYTES)
        for n in range(files)
    ]
    return services.status_update_record(
        task=task, author=author, state="in_progress", progress=progress, evidence=evidence
    )


def _counts(queries) -> list[str]:
    return [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]


@pytest.fixture
def reader(api_client, manager):
    """The Hải Hậu manager, staff of the lead agency of `task`."""
    return api_client(manager)


# --- ?expand=updates --------------------------------------------------------------------------


def test_a_task_carries_its_latest_updates_with_their_evidence_and_a_link_to_the_rest(
    task, manager, reader
):
    for progress in range(1, LATEST_UPDATES + 6):  # 25 updates; the 24th with two files
        _report(task, manager, progress, files=2 if progress == LATEST_UPDATES + 4 else 0)

    answer = reader.get(f"/api/v1/tasks/{task.pk}/?expand=updates")

    assert answer.status_code == 200
    body = answer.json()
    assert body["code"] == task.code and body["version"] == task.version + 25
    latest = body["updates"]["results"]
    assert [u["progress"] for u in latest] == list(range(25, 5, -1))  # newest first
    assert [f["name"] for f in latest[1]["evidence"]] == ["bien-ban-24-0.pdf", "bien-ban-24-1.pdf"]
    assert latest[1]["evidence"][0]["download_url"].startswith("/api/v1/evidence/")
    # The same updates as the first page of the history, and `next` is its second page.
    first_page = reader.get(f"/api/v1/tasks/{task.pk}/updates/?page_size={LATEST_UPDATES}")
    assert latest == first_page.json()["results"]
    assert body["updates"]["next"] == (
        f"http://testserver/api/v1/tasks/{task.pk}/updates/?page=2&page_size={LATEST_UPDATES}"
    )
    assert body["updates"]["next"] == first_page.json()["next"]
    rest = reader.get(body["updates"]["next"]).json()
    assert [u["progress"] for u in rest["results"]] == [5, 4, 3, 2, 1]
    assert (rest["count"], rest["next"]) == (25, None)


def test_a_short_history_comes_whole_without_a_next_link(task, manager, reader):
    _report(task, manager, 10, files=1)
    _report(task, manager, 20)

    body = reader.get(f"/api/v1/tasks/{task.pk}/?expand=updates").json()

    assert [u["progress"] for u in body["updates"]["results"]] == [20, 10]
    assert [f["name"] for f in body["updates"]["results"][1]["evidence"]] == ["bien-ban-10-0.pdf"]
    assert body["updates"]["next"] is None


def test_a_task_without_updates_answers_an_empty_history(task, reader):
    body = reader.get(f"/api/v1/tasks/{task.pk}/?expand=updates").json()
    assert body["updates"] == {"results": [], "next": None}


def test_without_expand_the_task_answer_has_no_updates(task, manager, reader):
    _report(task, manager, 10)
    body = reader.get(f"/api/v1/tasks/{task.pk}/").json()
    assert "updates" not in body
    assert body["progress"] == 10


def test_an_outsider_gets_404_for_a_task_with_its_history(task, manager, outsider, api_client):
    _report(task, manager, 10, files=1)
    answer = api_client(outsider).get(f"/api/v1/tasks/{task.pk}/?expand=updates")
    assert answer.status_code == 404
    assert "bien-ban" not in answer.content.decode()


def test_an_unknown_expansion_is_refused_with_a_message(task, reader):
    answer = reader.get(f"/api/v1/tasks/{task.pk}/?expand=children", HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400
    assert list(answer.json()) == ["expand"]


def test_a_task_with_its_history_takes_the_same_queries_for_any_number_of_updates_and_files(
    task, make_task, manager, reader, django_assert_max_num_queries
):
    _report(task, manager, 10)
    busy = make_task(code="busy")
    for progress in range(1, LATEST_UPDATES + 3):
        _report(busy, manager, progress, files=2)

    # token, memberships, the task with its coordinating agencies (no children query: it
    # has none), the latest updates with their authors, agencies and evidence files.
    with django_assert_max_num_queries(4):
        few = reader.get(f"/api/v1/tasks/{task.pk}/?expand=updates")
    with CaptureQueriesContext(connection) as many:
        answer = reader.get(f"/api/v1/tasks/{busy.pk}/?expand=updates")

    assert (few.status_code, answer.status_code) == (200, 200)
    assert len(many.captured_queries) <= 4
    assert sum(len(u["evidence"]) for u in answer.json()["updates"]["results"]) == 40
    assert _counts(many.captured_queries) == []


# --- The history and its pages ------------------------------------------------------------------


def test_a_history_on_one_page_is_not_counted_in_the_database(
    task, manager, reader, django_assert_max_num_queries
):
    for progress in (10, 20, 30):
        _report(task, manager, progress, files=1)
    # token, memberships, the task through the scope, the updates with their evidence.
    with django_assert_max_num_queries(4) as captured:
        answer = reader.get(f"/api/v1/tasks/{task.pk}/updates/")
    body = answer.json()
    assert (body["count"], body["next"], body["previous"]) == (3, None, None)
    assert [len(u["evidence"]) for u in body["results"]] == [1, 1, 1]
    assert _counts(captured.captured_queries) == []


def test_the_count_stays_exact_on_a_full_page_and_on_the_last_one(task, manager, reader):
    for progress in (10, 20, 30):
        _report(task, manager, progress)
    url = f"/api/v1/tasks/{task.pk}/updates/?page_size=2"

    with CaptureQueriesContext(connection) as full:
        first = reader.get(url).json()
    with CaptureQueriesContext(connection) as last:
        second = reader.get(f"{url}&page=2").json()

    assert (first["count"], [u["progress"] for u in first["results"]]) == (3, [30, 20])
    assert first["next"].endswith("page=2&page_size=2")
    assert len(_counts(full.captured_queries)) == 1  # a full page: more may follow
    assert (second["count"], [u["progress"] for u in second["results"]]) == (3, [10])
    assert second["next"] is None and second["previous"].endswith("page_size=2")
    assert _counts(last.captured_queries) == []


def test_a_page_that_is_exactly_full_is_counted_and_has_no_next(task, manager, reader):
    for progress in (10, 20):
        _report(task, manager, progress)
    body = reader.get(f"/api/v1/tasks/{task.pk}/updates/?page_size=2").json()
    assert (body["count"], body["next"], len(body["results"])) == (2, None, 2)


def test_a_page_past_the_end_or_malformed_answers_404(task, manager, reader):
    _report(task, manager, 10)
    base = f"/api/v1/tasks/{task.pk}/updates/?page_size=2"
    for page in ("2", "0", "x"):
        assert reader.get(f"{base}&page={page}").status_code == 404, page
    last = reader.get(f"{base}&page=last").json()
    assert (last["count"], [u["progress"] for u in last["results"]]) == (1, [10])


def test_a_task_list_on_one_page_is_not_counted_in_the_database(
    make_task, api_client, monitor, django_assert_max_num_queries
):
    for n in range(3):
        make_task(code=f"L{n}")
    client = api_client(monitor)
    # token, memberships, the page, its coordinating agencies (no parents: no roll-up)
    with django_assert_max_num_queries(5) as captured:
        body = client.get("/api/v1/tasks/?page_size=100").json()
    assert (body["count"], len(body["results"]), body["next"]) == (3, 3, None)
    assert _counts(captured.captured_queries) == []

    full = client.get("/api/v1/tasks/?page_size=2").json()
    assert (full["count"], len(full["results"])) == (3, 2)
    last = client.get("/api/v1/tasks/?page_size=2&page=2").json()
    assert (last["count"], [t["code"] for t in last["results"]]) == (3, ["L2"])


def test_the_schema_says_what_count_is_and_documents_expand(api_client):
    schema = api_client().get("/api/schema/?format=json").json()
    page = schema["components"]["schemas"]["PaginatedStatusUpdateList"]
    assert "exact" in page["properties"]["count"]["description"]
    detail = schema["paths"]["/api/v1/tasks/{id}/"]["get"]
    expand = next(p for p in detail["parameters"] if p["name"] == "expand")
    assert expand["schema"]["enum"] == ["updates"]
    task_detail = schema["components"]["schemas"]["TaskDetail"]
    assert "updates" in task_detail["properties"]
    assert "updates" not in task_detail["required"]


def test_an_image_and_a_pdf_on_one_update_keep_their_order_in_the_history(task, manager, reader):
    services.status_update_record(
        task=task,
        author=manager,
        state="in_progress",
        progress=50,
        evidence=[
            services.EvidenceUpload("z-anh.png", "image/png", PNG_BYTES),
            services.EvidenceUpload("a-bien-ban.pdf", "application/pdf", PDF_BYTES),
        ],
    )
    [update] = reader.get(f"/api/v1/tasks/{task.pk}/updates/").json()["results"]
    assert [f["name"] for f in update["evidence"]] == ["z-anh.png", "a-bien-ban.pdf"]
    assert [f["content_type"] for f in update["evidence"]] == ["image/png", "application/pdf"]


# --- The list's page read with SQL built once per query string ---------------------------------


def _cached_list_keys() -> list[tuple]:
    from django.db import connections

    cache = connections["default"].__dict__.get("plan_tracker_compiled_rows", {})
    return [key for key in cache if key[0] == "task list page"]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?page_size=2",
        "?page_size=2&page=2",
        "?state=not_started&state=in_progress&ordering=-code",
        "?lead_agency={haihau}",
        "?category=not_started&page_size=5",
    ],
)
def test_a_list_read_with_sql_built_once_answers_as_one_built_each_time(
    make_task, agencies, api_client, monitor, manager, query
):
    for n in range(4):
        make_task(code=f"L{n}", lead_agency=agencies["haihau" if n % 2 else "giaothuy"])
    url = "/api/v1/tasks/" + query.format(haihau=agencies["haihau"].pk)
    for reader in (monitor, manager):
        client = api_client(reader)
        first = client.get(url)
        assert first.status_code == 200
        make_task(code=f"M-{reader.username}")  # the rows are read again, not kept
        again = client.get(url).json()
        uncached = client.get(url + ("&" if "?" in url else "?") + "q=").json()  # not cached
        assert (again["count"], again["results"]) == (uncached["count"], uncached["results"])
        if not query:  # the new task is on the page: the rows were read again
            assert f"M-{reader.username}" in [row["code"] for row in again["results"]]
    assert _cached_list_keys()


def test_a_list_whose_filters_read_the_database_is_built_each_time(
    make_task, agencies, api_client, monitor
):
    from django.db import connections

    connections["default"].__dict__.pop("plan_tracker_compiled_rows", None)
    make_task(code="L1")
    client = api_client(monitor)
    district = agencies["haihau"].pk
    for query in (f"?lead_agency={district}&subtree=true", "?q=L1", "?relation=led"):
        assert client.get(f"/api/v1/tasks/{query}").status_code == 200
    assert _cached_list_keys() == []
    assert client.get(f"/api/v1/tasks/?lead_agency={district}").status_code == 200
    assert len(_cached_list_keys()) == 1


def test_a_refused_filter_value_answers_400_every_time_even_after_valid_ones(
    make_task, agencies, api_client, monitor
):
    """A valid query string of value filters is checked once per process
    (TaskFilter.check_values); a refused one is never remembered as valid."""
    make_task(code="L1", lead_agency=agencies["haihau"])
    client = api_client(monitor)
    valid = f"/api/v1/tasks/?lead_agency={agencies['haihau'].pk}&state=not_started"
    for _ in range(2):
        assert [row["code"] for row in client.get(valid).json()["results"]] == ["L1"]
    for query in ("?lead_agency=abc&state=not_started", "?state=bogus", "?due_before=31/02/2022"):
        for _ in range(2):
            response = client.get(f"/api/v1/tasks/{query}")
            assert response.status_code == 400, query
            field = query[1:].split("=")[0]
            assert response.json()[field], response.json()
    assert client.get(valid).status_code == 200
