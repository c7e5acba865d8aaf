#!/usr/bin/env bash
# Run pytest with only the plugins this project uses.
# Entry-point plugins (hypothesis, faker, schemathesis...) add 2-3 s to every pytest
# process, so autoloading is off and the plugins are named with -p. Their module names
# come from the installed packages' pytest11 entry points, so a version that moves its
# plugin module keeps working. schemathesis is loaded only when a test uses it.
# Arguments go to pytest. Exit status 5 (no tests collected) is reported, not hidden.
set -uo pipefail

cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

mapfile -t plugin_args < <(python - <<'PY'
import importlib.metadata as md
from pathlib import Path

wanted = {"pytest-django", "time-machine", "pytest-playwright", "pytest-base-url"}
if any("schemathesis" in p.read_text("utf-8", "ignore") for p in Path("tests").rglob("*.py")):
    wanted.add("schemathesis")
for dist in md.distributions():
    name = (dist.metadata["Name"] or "").lower().replace("_", "-")
    if name in wanted:
        for ep in dist.entry_points:
            if ep.group == "pytest11":
                print("-p")
                print(ep.value)
PY
)

PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python -m pytest "${plugin_args[@]}" "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: the test suite is missing or was not found" >&2
fi
exit "$status"
