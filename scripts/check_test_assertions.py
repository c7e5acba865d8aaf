#!/usr/bin/env python3
"""List the test functions that cannot fail on a wrong result: no assertion anywhere.

A test counts as checking something when its body (or a helper it calls, see below) has
one of:
  - an `assert` statement whose condition is not a constant (`assert True` checks nothing);
  - `pytest.raises(...)`, `pytest.warns(...)` or `pytest.fail(...)`;
  - `django_assert_num_queries` / `django_assert_max_num_queries` (pytest-django);
  - a call of an assert helper: a function whose name starts with `assert` or `_assert`
    (`assert_refused(...)`, `self.assertEqual(...)`), or Playwright's `expect(...)`;
  - a call of a function defined under tests/ that checks something by these same rules
    (found by name, helpers calling helpers included), e.g. `_check_row(...)`.

Only the tests/ tree is read, with Python's ast module; nothing is imported or run.
Exits 1 and names each test (file:line) when one has no assertion, 0 otherwise.
Run: `python scripts/check_test_assertions.py [FOLDER]` (default: tests/).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PYTEST_CHECKS = {"raises", "warns", "fail"}
FIXTURE_CHECKS = {"django_assert_num_queries", "django_assert_max_num_queries"}
HELPER_PREFIXES = ("assert", "_assert")
PLAYWRIGHT_EXPECT = "expect"

Function = ast.FunctionDef | ast.AsyncFunctionDef


def _called_name(call: ast.Call) -> str | None:
    """`f` for f(...), `m` for obj.m(...); None for anything else."""
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _is_pytest_check(call: ast.Call) -> bool:
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr in PYTEST_CHECKS
        and isinstance(func.value, ast.Name)
        and func.value.id == "pytest"
    )


def _checks_directly(function: Function) -> bool:
    """True when the function's own body holds an assertion (nested functions included)."""
    for node in ast.walk(function):
        if isinstance(node, ast.Assert) and not isinstance(node.test, ast.Constant):
            return True
        if isinstance(node, ast.Name) and node.id in FIXTURE_CHECKS:
            return True
        if isinstance(node, ast.Call):
            name = _called_name(node)
            if _is_pytest_check(node) or name == PLAYWRIGHT_EXPECT:
                return True
            if name is not None and name.startswith(HELPER_PREFIXES):
                return True
    return False


def _calls(function: Function) -> set[str]:
    return {
        name
        for node in ast.walk(function)
        if isinstance(node, ast.Call) and (name := _called_name(node)) is not None
    }


def _functions(tree: ast.Module) -> Iterator[Function]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _is_test(function: Function, path: Path) -> bool:
    return path.name.startswith("test_") and function.name.startswith("test")


def unchecked_tests(folder: Path) -> list[str]:
    """'path:line name' of every test function under `folder` without an assertion."""
    parsed = {path: ast.parse(path.read_text("utf-8"), str(path)) for path in folder.rglob("*.py")}
    # 1. Helpers anywhere under the folder, by name: which ones check, directly or not.
    helpers: dict[str, list[Function]] = {}
    for tree in parsed.values():
        for function in _functions(tree):
            helpers.setdefault(function.name, []).append(function)
    checking = {name for name, defs in helpers.items() if any(_checks_directly(f) for f in defs)}
    calls = {name: set().union(*(_calls(f) for f in defs)) for name, defs in helpers.items()}
    changed = True
    while changed:  # a helper that calls a checking helper checks too
        changed = False
        for name, called in calls.items():
            if name not in checking and called & checking:
                checking.add(name)
                changed = True
    # 2. The tests themselves.
    found = []
    for path, tree in sorted(parsed.items()):
        for function in _functions(tree):
            if not _is_test(function, path):
                continue
            if _checks_directly(function) or _calls(function) & checking:
                continue
            where = path.relative_to(BASE_DIR) if path.is_relative_to(BASE_DIR) else path
            found.append(f"{where}:{function.lineno} {function.name}")
    return found


def main(argv: list[str]) -> int:
    folder = Path(argv[0]).resolve() if argv else BASE_DIR / "tests"
    found = unchecked_tests(folder)
    if not found:
        print(f"every test under {folder.name}/ has an assertion that can fail")
        return 0
    print(f"{len(found)} test(s) without an assertion that can fail:")
    for line in found:
        print(f"  {line}")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
