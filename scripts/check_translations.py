#!/usr/bin/env python3
"""Check that the Vietnamese catalog (locale/vi/LC_MESSAGES/django.po) is complete.

What it does:
  1. copies the project (sources and the catalog, not .venv/.git/var) to a temporary folder;
  2. regenerates the copy's catalog from the code with `manage.py makemessages -l vi
     --no-location`, so a string added to the code but not to the catalog counts as
     untranslated;
  3. counts untranslated and fuzzy entries (`msgattrib --untranslated` / `--only-fuzzy`,
     obsolete entries left out) and checks placeholders (`msgfmt --check-format`);
  4. deletes the copy whatever happened (also on Ctrl-C or SIGTERM): the real catalog is
     never written, so it always stays exactly as it was;
  5. exits 1 naming every missing or fuzzy msgid, 0 when the catalog is complete, 2 when
     the check itself cannot run.

`--update` only runs step 2 and keeps the result: the way to refresh the catalog before
translating (`make messages`).

Needs GNU gettext (msgattrib, msgfmt, msgmerge). Runs with the venv's Python, from any
folder: `python scripts/check_translations.py`.
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PO_FILE = BASE_DIR / "locale" / "vi" / "LC_MESSAGES" / "django.po"
# The same arguments for the check and for `make messages`, so both see the same strings.
MAKEMESSAGES = [
    "makemessages",
    "--locale=vi",
    "--no-location",
    "--ignore=.venv/*",
    "--ignore=var/*",
    "--ignore=node_modules/*",
]
# What the copy of the project used by the check leaves out: not source, or large.
COPY_IGNORE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "var",
    "node_modules",
    "__pycache__",
    "*.pyc",
    "*.mo",
    ".ruff_cache",
    ".pytest_cache",
    "screenshots",
    "results",
)


@dataclass
class Entry:
    """One catalog entry as printed by msgattrib."""

    msgid: str = ""
    msgctxt: str | None = None
    flags: set[str] = field(default_factory=set)

    def label(self) -> str:
        if self.msgid == "":
            return "(the PO header)"
        text = repr(self.msgid)
        return f"{text} [context {self.msgctxt!r}]" if self.msgctxt is not None else text


def parse_po(text: str) -> list[Entry]:
    """Return the entries of a PO text: msgctxt, msgid and flags are all this check needs."""
    entries: list[Entry] = []
    current = Entry()
    seen_msgid = False
    target: str | None = None  # the keyword a continuation line ("...") belongs to

    def finish() -> None:
        nonlocal current, seen_msgid, target
        if seen_msgid:
            entries.append(current)
        current, seen_msgid, target = Entry(), False, None

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):  # obsolete entry: not part of the catalog
            target = None
            continue
        if line.startswith("#,"):
            if seen_msgid:
                finish()
            current.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            if seen_msgid:
                finish()
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            value, keyword = _unquote(line), target
        else:
            value = _unquote(rest)
        if keyword == "msgctxt":
            if seen_msgid:
                finish()
            current.msgctxt = (current.msgctxt or "") + value
        elif keyword == "msgid":
            if seen_msgid and target != "msgid":
                finish()
            current.msgid += value
            seen_msgid = True
        target = keyword
    finish()
    return entries


def _unquote(quoted: str) -> str:
    # PO strings use C escapes (\n, \t, \", \\), which a Python literal reads the same way.
    return ast.literal_eval(quoted)


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)  # noqa: S603


def makemessages(project_dir: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    # The test settings provide a SECRET_KEY; nothing here depends on other settings.
    env.setdefault("DJANGO_SETTINGS_MODULE", "plan_tracker.test_settings")
    env.pop("PYTHONPATH", None)  # import the project from project_dir, nothing else
    return run([sys.executable, "manage.py", *MAKEMESSAGES], cwd=project_dir, env=env)


def msgattrib(po_file: Path, *options: str) -> list[Entry]:
    result = run(["msgattrib", *options, "--no-obsolete", "--no-wrap", str(po_file)])
    if result.returncode != 0:
        raise RuntimeError(f"msgattrib {' '.join(options)} failed:\n{result.stderr}")
    return parse_po(result.stdout)


def _terminate(signum, frame):
    # Turn SIGTERM/SIGHUP into an exception so the `finally` below still cleans up.
    raise SystemExit(128 + signum)


def check() -> int:
    for tool in ("msgattrib", "msgfmt", "msgmerge", "xgettext"):
        if shutil.which(tool) is None:
            print(f"check_translations: {tool} not found; install gettext", file=sys.stderr)
            return 2

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)

    rel = PO_FILE.relative_to(BASE_DIR)
    existed = PO_FILE.exists()
    # makemessages runs on a copy of the project, so the real catalog is never written: a
    # translator saving django.po while the check runs loses nothing, and an interrupted
    # check leaves nothing to restore.
    work_dir = Path(tempfile.mkdtemp(prefix="plan_tracker_i18n_"))
    try:
        project = work_dir / "project"
        shutil.copytree(BASE_DIR, project, symlinks=True, ignore=COPY_IGNORE)
        po_file = project / rel
        result = makemessages(project)
        if result.returncode != 0:
            print("check_translations: makemessages failed:", file=sys.stderr)
            print(result.stdout + result.stderr, file=sys.stderr)
            return 2
        # msgattrib prints the header entry (msgid "") beside any other entry, so it is
        # left out here and checked apart: it is only a problem when marked fuzzy.
        untranslated = [e for e in msgattrib(po_file, "--untranslated") if e.msgid != ""]
        fuzzy = [e for e in msgattrib(po_file, "--only-fuzzy") if e.msgid != ""]
        if po_file.exists():
            header = [e for e in parse_po(po_file.read_text("utf-8")) if e.msgid == ""]
            fuzzy[:0] = [e for e in header if "fuzzy" in e.flags]
        formats = run(["msgfmt", "--check-format", "-o", os.devnull, str(po_file)])
        format_errors = formats.stderr.replace(f"{project}{os.sep}", "").rstrip()
        generated = po_file.exists()
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)

    problems = 0
    if untranslated:
        problems += len(untranslated)
        print(f"{rel}: {len(untranslated)} untranslated entries (msgid without a msgstr):")
        for entry in untranslated:
            print(f"  - {entry.label()}")
    if fuzzy:
        # A catalog created from scratch has a header that makemessages marks fuzzy: it
        # counts, because msgfmt then ignores the header (charset, plural forms).
        problems += len(fuzzy)
        print(f"{rel}: {len(fuzzy)} fuzzy entries (check the translation, remove '#, fuzzy'):")
        for entry in fuzzy:
            print(f"  - {entry.label()}")
    if formats.returncode != 0:
        problems += 1
        print(f"{rel}: placeholders differ between msgid and msgstr (msgfmt --check-format):")
        print(format_errors)
    if problems:
        summary = f"{len(untranslated)} untranslated, {len(fuzzy)} fuzzy"
        if formats.returncode != 0:
            summary += ", placeholder errors"
        if not existed:
            summary += f"; {rel} does not exist yet"
        print(
            f"\nVietnamese catalog incomplete: {summary}.\nRun `make messages`, fix the entries "
            f"above in {rel} (translate, drop the fuzzy flags), then `make compilemessages`."
        )
        return 1
    if not generated:
        print(f"{rel}: no translatable strings yet.")
        return 0
    print(f"{rel}: complete, no untranslated or fuzzy entries.")
    return 0


def update() -> int:
    """Refresh the catalog in place from the code (for translators)."""
    PO_FILE.parent.mkdir(parents=True, exist_ok=True)
    result = makemessages(BASE_DIR)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--update",
        action="store_true",
        help="regenerate locale/vi/LC_MESSAGES/django.po from the code and keep it",
    )
    args = parser.parse_args()
    return update() if args.update else check()


if __name__ == "__main__":
    sys.exit(main())
