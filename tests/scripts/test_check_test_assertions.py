"""scripts/check_test_assertions.py: a test without an assertion that can fail is named."""

import importlib.util
import textwrap
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_test_assertions.py"


@pytest.fixture(scope="module")
def checker():
    spec = importlib.util.spec_from_file_location("check_test_assertions", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write(folder: Path, name: str, source: str) -> None:
    (folder / name).write_text(textwrap.dedent(source), "utf-8")


def names(found: list[str]) -> list[str]:
    return sorted(line.rsplit(" ", 1)[1] for line in found)


def test_tests_without_a_real_assertion_are_listed(checker, tmp_path):
    write(
        tmp_path,
        "test_sample.py",
        """
        def test_only_calls(client):
            client.get("/")

        def test_asserts_a_constant():
            assert True

        def test_empty_body():
            pass
        """,
    )
    found = checker.unchecked_tests(tmp_path)
    assert names(found) == ["test_asserts_a_constant", "test_empty_body", "test_only_calls"]
    assert found[0].endswith(":2 test_only_calls")


def test_every_kind_of_assertion_counts(checker, tmp_path):
    write(
        tmp_path,
        "helpers.py",
        """
        def check_row(row):
            assert row["ok"]

        def check_table(rows):
            for row in rows:
                check_row(row)
        """,
    )
    write(
        tmp_path,
        "test_sample.py",
        """
        import pytest

        def test_plain_assert(value):
            assert value == 2

        def test_raises():
            with pytest.raises(ValueError):
                int("x")

        def test_query_count(django_assert_num_queries):
            with django_assert_num_queries(1):
                pass

        def test_assert_helper(response):
            assert_refused(response)

        def test_playwright(page):
            expect(page.get_by_role("heading")).to_have_text("Nhiệm vụ")

        def test_helper_of_a_helper(rows):
            check_table(rows)

        def _not_a_test_and_ignored():
            pass
        """,
    )
    assert checker.unchecked_tests(tmp_path) == []


def test_the_command_fails_when_one_test_has_no_assertion(checker, tmp_path, capsys):
    write(tmp_path, "test_sample.py", "def test_nothing():\n    print('hi')\n")
    assert checker.main([str(tmp_path)]) == 1
    assert "test_nothing" in capsys.readouterr().out
    write(tmp_path, "test_sample.py", "def test_something():\n    assert 1 + 1 == 2\n")
    assert checker.main([str(tmp_path)]) == 0
