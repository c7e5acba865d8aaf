"""Plan files: read, validate and load a plan with its agencies, levels and tasks.

A plan file (YAML, or JSON when its name ends in .json; `data/plan_2022.yaml` is the one
kept in the repository) holds the reference data a plan needs and the plan's tasks:

    meta, plan (with basis_documents), priority_areas, dti_indices_<edition>,
    agency_levels, agencies, reorganizations, tasks

Guarantees of `plan_load`:

- the whole file is validated before anything is written, and every problem is reported
  at once, each naming its record (`tasks[12] (CDS22-13): unknown agency code "SXX" in
  coordinators`); a file with any problem writes nothing;
- everything is written in one transaction;
- loading is idempotent: rows are matched by their natural keys (codes) and saved only when
  a value differs, so loading the same file twice writes nothing the second time;
- existing tasks get only their plan-defined fields updated (title, dates, agencies, KPI
  target…); their state, progress and history are never touched, and nothing is deleted.

Records may carry `provenance` and `source` for the reader, and agencies a `note`; the
loader ignores those (a reorganisation's `note` is stored with it).
"""

import datetime
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tasks_app.choices import AgencyKind, ChangeSource, ExtensionKind, SuccessionKind
from tasks_app.models import (
    AdministrativeLevel,
    Agency,
    AgencySuccession,
    DeadlineExtension,
    DtiIndex,
    Plan,
    PlanDocument,
    PriorityArea,
    Task,
    TaskChange,
)
from tasks_app.services import (
    COORDINATING_AGENCIES,
    ChangeContext,
    task_changes_record,
    task_create,
    tasks_flag_orphaned,
)
from tasks_app.signals import task_changed, task_reassigned

SCHEMA_VERSION = 1


class PlanFileError(Exception):
    """The plan file cannot be loaded. `errors` lists every problem found, each naming
    its record; nothing was written."""

    def __init__(self, errors: Sequence[str]):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


# --- Reading ----------------------------------------------------------------------------------

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _PlanYamlLoader(_BaseLoader):
    """A safe YAML loader that leaves dates as text.

    PyYAML turns 2022-13-01 into an exception for the whole file; kept as text, a bad date
    becomes one error that names its record, like every other problem.
    """


_PlanYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


def plan_file_read(*, path: str | Path) -> dict:
    """Read a plan file into plain data (dates stay text until validation).

    Raises PlanFileError with one clear message when the file is missing or unreadable,
    is not valid YAML/JSON, or does not hold a mapping at the top.
    """
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as stream:
            if path.suffix.lower() == ".json":
                data = json.load(stream)
            else:
                # The loader reads the stream's name, so its errors name the file.
                loader = _PlanYamlLoader(stream)
                try:
                    data = loader.get_single_data()
                finally:
                    loader.dispose()
    except FileNotFoundError:
        raise PlanFileError([_('File not found: "{path}".').format(path=path)]) from None
    except json.JSONDecodeError as exc:
        raise PlanFileError(
            [_('"{path}" is not valid JSON: {error}').format(path=path, error=exc)]
        ) from None
    except yaml.YAMLError as exc:
        raise PlanFileError(
            [_('"{path}" is not valid YAML: {error}').format(path=path, error=exc)]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanFileError(
            [_('Cannot read "{path}": {error}').format(path=path, error=exc)]
        ) from None
    if not isinstance(data, dict):
        raise PlanFileError(
            [
                _(
                    '"{path}" does not hold a plan: expected a mapping with the sections '
                    "plan, agency_levels, agencies, priority_areas and tasks."
                ).format(path=path)
            ]
        )
    return data


# --- The validated content of a plan file -----------------------------------------------------


@dataclass(frozen=True)
class LevelSpec:
    code: str
    name: str
    order: int
    valid_from: datetime.date | None
    valid_to: datetime.date | None


@dataclass(frozen=True)
class DtiSpec:
    edition: int
    code: str
    name: str
    points: int


@dataclass(frozen=True)
class AgencySpec:
    code: str
    name: str
    short_name: str
    doc_code: str
    level: str
    parent: str | None
    kind: str
    place_name: str
    gso_code: str
    valid_from: datetime.date | None
    valid_to: datetime.date | None


@dataclass(frozen=True)
class SuccessionSpec:
    predecessor: str
    successor: str | None
    date: datetime.date
    kind: str
    legal_basis: str
    note: str


@dataclass(frozen=True)
class DocumentSpec:
    number: str
    issued_on: datetime.date | None
    issuer: str
    title: str


@dataclass(frozen=True)
class PlanSpec:
    code: str
    title: str
    number: str
    issuing_agency: str
    monitor_agency: str | None
    issued_on: datetime.date | None
    period_start: datetime.date
    period_end: datetime.date
    leader_in_charge: str
    documents: tuple[DocumentSpec, ...]


@dataclass(frozen=True)
class AreaSpec:
    code: str
    name: str
    name_en: str
    order: int
    dti: tuple[int, str] | None


@dataclass(frozen=True)
class TaskSpec:
    code: str
    title: str
    area: str
    lead: str
    coordinators: tuple[str, ...]
    assigned_on: datetime.date
    due: datetime.date | None
    expected_output: str
    kpi_target: Decimal | None
    kpi_unit: str
    dti: tuple[int, str] | None
    weight: Decimal | None


@dataclass(frozen=True)
class PlanFile:
    """A plan file that passed validation; agencies are in parent-before-child order."""

    levels: tuple[LevelSpec, ...]
    dti_indices: tuple[DtiSpec, ...]
    agencies: tuple[AgencySpec, ...]
    successions: tuple[SuccessionSpec, ...]
    plan: PlanSpec
    areas: tuple[AreaSpec, ...]
    tasks: tuple[TaskSpec, ...]


# --- Validation -------------------------------------------------------------------------------

_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
_DTI_SECTION = re.compile(r"^dti_indices_(\d{4})$")
_SECTIONS = {
    "meta",
    "sources",
    "plan",
    "priority_areas",
    "agency_levels",
    "agencies",
    "reorganizations",
    "tasks",
}
_IGNORED_FIELDS = {"provenance", "source", "note"}
_MISSING = object()


def _limit(model: type[models.Model], name: str) -> int | None:
    return model._meta.get_field(name).max_length


class _Checker:
    """Collects the problems of a file; each reading method returns a usable value (or
    None) even when the input is wrong, so validation goes on and reports everything."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def add(self, message: str) -> None:
        self.errors.append(message)

    # A record is named by its section, position and code: agencies[3] (SNV).
    @staticmethod
    def where(section: str, index: int, raw: Any, key: str = "code") -> str:
        if isinstance(raw, Mapping) and isinstance(raw.get(key), str | int):
            return f"{section}[{index}] ({raw[key]})"
        return f"{section}[{index}]"

    def records(self, data: Mapping, section: str, *, required: bool) -> list:
        value = data.get(section, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.add(_('missing section "{section}"').format(section=section))
            return []
        if not isinstance(value, list):
            self.add(_('section "{section}" must be a list').format(section=section))
            return []
        return value

    def mapping(self, where: str, raw: Any, allowed: set[str]) -> Mapping | None:
        if not isinstance(raw, Mapping):
            self.add(_("{record}: expected a mapping of fields").format(record=where))
            return None
        for key in raw:
            if key not in allowed and key not in _IGNORED_FIELDS:
                self.add(_('{record}: unknown field "{field}"').format(record=where, field=key))
        return raw

    def text(
        self,
        where: str,
        raw: Mapping,
        name: str,
        *,
        required: bool = False,
        max_length: int | None = None,
    ) -> str:
        value = raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.add(
                    _('{record}: missing required field "{field}"').format(record=where, field=name)
                )
            return ""
        # Numbers are accepted as text: YAML reads an unquoted 14218 as a number.
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.add(_('{record}: "{field}" must be text').format(record=where, field=name))
            return ""
        text = str(value).strip()
        if max_length is not None and len(text) > max_length:
            self.add(
                _('{record}: "{field}" is longer than {limit} characters').format(
                    record=where, field=name, limit=max_length
                )
            )
        return text

    def code(
        self, where: str, raw: Mapping, name: str, *, required: bool = True, slug: bool = False
    ) -> str | None:
        value = self.text(where, raw, name, required=required)
        if value and slug and not _SLUG.match(value):
            self.add(
                _(
                    '{record}: "{field}" may only hold letters, digits, "-" and "_", not "{value}"'
                ).format(record=where, field=name, value=value)
            )
        return value or None

    def date(
        self, where: str, raw: Mapping, name: str, *, required: bool = False, label: str = ""
    ) -> datetime.date | None:
        value = raw.get(name)
        label = label or name
        if value is None or value == "":
            if required:
                self.add(
                    _('{record}: missing required field "{field}"').format(
                        record=where, field=label
                    )
                )
            return None
        # Callers may pass data parsed by another YAML loader, with dates already built.
        if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            return value
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            try:
                return datetime.date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.add(
            _('{record}: bad date "{value}" in {field} (expected YYYY-MM-DD)').format(
                record=where, value=value, field=label
            )
        )
        return None

    def number(self, where: str, raw: Any, name: str, *, positive: bool = False) -> Decimal | None:
        value = raw.get(name) if isinstance(raw, Mapping) else None
        if value is None:
            return None
        try:
            if isinstance(value, bool):
                raise InvalidOperation
            number = Decimal(str(value).strip())
            if not number.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            self.add(
                _('{record}: "{field}" must be a number, not "{value}"').format(
                    record=where, field=name, value=value
                )
            )
            return None
        # Task numbers are stored with two decimals and at most twelve digits before them.
        if number < 0 or (positive and number == 0):
            self.add(
                _('{record}: "{field}" must be greater than zero').format(record=where, field=name)
                if positive
                else _('{record}: "{field}" cannot be negative').format(record=where, field=name)
            )
            return None
        if number >= Decimal(10) ** 12 or number != number.quantize(Decimal("0.01")):
            self.add(
                _(
                    '{record}: "{field}" must be below 10^12 with at most two decimals, '
                    'not "{value}"'
                ).format(record=where, field=name, value=value)
            )
            return None
        return number

    def codes(self, where: str, raw: Mapping, name: str) -> tuple[str, ...]:
        value = raw.get(name)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.add(
                _('{record}: "{field}" must be a list of codes').format(record=where, field=name)
            )
            return ()
        # Keep the file's order but drop repeats: an agency coordinates a task once.
        return tuple(dict.fromkeys(v.strip() for v in value))

    def choice(
        self, where: str, raw: Mapping, name: str, choices: type[models.TextChoices]
    ) -> str | None:
        value = self.code(where, raw, name)
        if value and value not in choices.values:
            self.add(
                _('{record}: unknown {field} "{value}" (expected one of: {choices})').format(
                    record=where, field=name, value=value, choices=", ".join(choices.values)
                )
            )
            return None
        return value

    def duplicates(self, message: str, keyed: Sequence[tuple[Any, str]]) -> None:
        """Report each key given by more than one record, naming both records. `message`
        is a whole translated sentence with {key}, {first} and {second}."""
        first: dict[Any, str] = {}
        for key, where in keyed:
            if key is None:
                continue
            label = where.split(" ", 1)[0]
            if key in first:
                self.add(message.format(key=key, first=first[key], second=label))
            else:
                first[key] = label


def _check_sections(chk: _Checker, data: Mapping) -> dict[int, list]:
    """Check the top-level keys; return the DTI sections by edition."""
    dti_sections: dict[int, list] = {}
    for key in data:
        match = _DTI_SECTION.match(str(key))
        if match:
            dti_sections[int(match.group(1))] = chk.records(data, key, required=False)
        elif key not in _SECTIONS:
            chk.add(_('unknown section "{section}"').format(section=key))
    meta = data.get("meta")
    if meta is not None:
        if not isinstance(meta, Mapping):
            chk.add(_('section "meta" must be a mapping'))
        elif meta.get("schema_version", SCHEMA_VERSION) != SCHEMA_VERSION:
            chk.add(
                _(
                    'meta: unsupported schema_version "{found}" (this version reads {supported})'
                ).format(found=meta.get("schema_version"), supported=SCHEMA_VERSION)
            )
    return dti_sections


def _check_levels(chk: _Checker, data: Mapping) -> list[LevelSpec]:
    specs, keyed = [], []
    max_code = _limit(AdministrativeLevel, "code")
    for index, raw in enumerate(chk.records(data, "agency_levels", required=True)):
        where = chk.where("agency_levels", index, raw)
        if chk.mapping(where, raw, {"code", "name", "valid_from", "valid_to"}) is None:
            continue
        code = chk.code(where, raw, "code", slug=True)
        if code and len(code) > max_code:
            chk.add(
                _('{record}: "{field}" is longer than {limit} characters').format(
                    record=where, field="code", limit=max_code
                )
            )
        name = chk.text(where, raw, "name", required=True, max_length=100)
        valid_from = chk.date(where, raw, "valid_from")
        valid_to = chk.date(where, raw, "valid_to")
        _check_validity(chk, where, valid_from, valid_to)
        keyed.append((code, where))
        if code:
            specs.append(LevelSpec(code, name, index + 1, valid_from, valid_to))
    chk.duplicates(_("duplicate level code {key} ({first} and {second})"), keyed)
    return specs


def _check_validity(
    chk: _Checker, where: str, valid_from: datetime.date | None, valid_to: datetime.date | None
) -> None:
    if valid_from and valid_to and valid_to < valid_from:
        chk.add(
            _("{record}: valid_to {valid_to} is before valid_from {valid_from}").format(
                record=where, valid_to=valid_to, valid_from=valid_from
            )
        )


def _check_dti(chk: _Checker, sections: dict[int, list]) -> list[DtiSpec]:
    specs = []
    for edition, records in sorted(sections.items()):
        section = f"dti_indices_{edition}"
        keyed = []
        for index, raw in enumerate(records):
            where = chk.where(section, index, raw)
            if chk.mapping(where, raw, {"code", "name", "points"}) is None:
                continue
            code = chk.code(where, raw, "code", slug=True)
            name = chk.text(where, raw, "name", required=True, max_length=150)
            points = chk.number(where, raw, "points")
            if points is not None and points != int(points):
                chk.add(
                    _('{record}: "{field}" must be a whole number').format(
                        record=where, field="points"
                    )
                )
            keyed.append((code, where))
            if code:
                specs.append(DtiSpec(edition, code, name, int(points or 0)))
        chk.duplicates(_("duplicate DTI index code {key} ({first} and {second})"), keyed)
    return specs


def _check_agencies(
    chk: _Checker, data: Mapping, levels: set[str]
) -> tuple[list[AgencySpec], dict[str, tuple]]:
    """Validate the agencies; return them and the validity of every agency code known
    (in the file or already in the database)."""
    specs, keyed = [], []
    allowed = {
        "code", "name", "short", "doc_code", "level", "parent", "kind", "place_name",
        "gso_code", "valid_from", "valid_to",
    }  # fmt: skip
    raws = chk.records(data, "agencies", required=True)
    for index, raw in enumerate(raws):
        where = chk.where("agencies", index, raw)
        if chk.mapping(where, raw, allowed) is None:
            continue
        spec = AgencySpec(
            code=chk.text(where, raw, "code", required=True, max_length=_limit(Agency, "code")),
            name=chk.text(where, raw, "name", required=True, max_length=_limit(Agency, "name")),
            short_name=chk.text(where, raw, "short", max_length=_limit(Agency, "short_name")),
            doc_code=chk.text(where, raw, "doc_code", max_length=_limit(Agency, "doc_code")),
            level=chk.code(where, raw, "level") or "",
            parent=chk.code(where, raw, "parent", required=False),
            kind=chk.choice(where, raw, "kind", AgencyKind) or "",
            place_name=chk.text(where, raw, "place_name", max_length=_limit(Agency, "place_name")),
            gso_code=chk.text(where, raw, "gso_code", max_length=_limit(Agency, "gso_code")),
            valid_from=chk.date(where, raw, "valid_from"),
            valid_to=chk.date(where, raw, "valid_to"),
        )
        _check_validity(chk, where, spec.valid_from, spec.valid_to)
        if spec.level and spec.level not in levels:
            chk.add(_('{record}: unknown level "{code}"').format(record=where, code=spec.level))
        keyed.append((spec.code or None, where))
        if spec.code:
            specs.append((where, spec))
    chk.duplicates(_("duplicate agency code {key} ({first} and {second})"), keyed)

    known = {spec.code: (spec.valid_from, spec.valid_to) for _where, spec in specs}
    # Later plan files may refer to agencies loaded before; the database knows those.
    wanted = {spec.parent for _where, spec in specs if spec.parent} - known.keys()
    known.update(_agencies_in_database(wanted))
    for where, spec in specs:
        if spec.parent and spec.parent not in known:
            chk.add(
                _('{record}: unknown agency code "{code}" in parent').format(
                    record=where, code=spec.parent
                )
            )
        elif spec.parent == spec.code:
            chk.add(_("{record}: an agency cannot be its own parent").format(record=where))
    return _parents_first(chk, specs), known


def _agencies_in_database(codes: set[str]) -> dict[str, tuple]:
    if not codes:
        return {}
    rows = Agency.objects.filter(code__in=codes).values_list("code", "valid_from", "valid_to")
    return {code: (valid_from, valid_to) for code, valid_from, valid_to in rows}


def _parents_first(chk: _Checker, specs: list[tuple[str, AgencySpec]]) -> list[AgencySpec]:
    """Order the agencies so that a parent comes before its children (a parent may come
    later in the file); report a cycle of parents."""
    in_file = {spec.code for _where, spec in specs}
    placed: set[str] = set()
    ordered: list[AgencySpec] = []
    remaining = [spec for _where, spec in specs]
    while remaining:
        ready = [
            spec
            for spec in remaining
            # A self-parent was reported already; do not report it as a cycle too.
            if not spec.parent
            or spec.parent not in in_file
            or spec.parent in placed
            or spec.parent == spec.code
        ]
        if not ready:
            for cycle in _cycles(remaining):
                chk.add(
                    _("agencies: the parents of {codes} form a cycle").format(
                        codes=", ".join(cycle)
                    )
                )
            break
        ordered.extend(ready)
        placed.update(spec.code for spec in ready)
        ready_codes = {spec.code for spec in ready}
        remaining = [spec for spec in remaining if spec.code not in ready_codes]
    return ordered


def _cycles(specs: list[AgencySpec]) -> list[list[str]]:
    """The cycles of parents among agencies that could not be ordered (their descendants
    are stuck too, but only the agencies in a cycle need fixing)."""
    parent_of = {spec.code: spec.parent for spec in specs}
    cycles, seen = [], set()
    for spec in specs:
        chain, code = [], spec.code
        while code in parent_of and code not in chain:
            chain.append(code)
            code = parent_of[code]
        if code in chain:
            cycle = chain[chain.index(code) :]
            if frozenset(cycle) not in seen:
                seen.add(frozenset(cycle))
                cycles.append(cycle)
    return cycles


def _check_successions(
    chk: _Checker, data: Mapping, agencies: Mapping[str, tuple]
) -> list[SuccessionSpec]:
    specs, keyed = [], []
    allowed = {"date", "kind", "predecessors", "successor", "legal_basis"}
    legal_limit = _limit(AgencySuccession, "legal_basis")
    for index, raw in enumerate(chk.records(data, "reorganizations", required=False)):
        where = f"reorganizations[{index}]"
        if chk.mapping(where, raw, allowed) is None:
            continue
        date = chk.date(where, raw, "date", required=True)
        kind = chk.choice(where, raw, "kind", SuccessionKind)
        predecessors = chk.codes(where, raw, "predecessors")
        if not predecessors:
            chk.add(
                _('{record}: missing required field "{field}"').format(
                    record=where, field="predecessors"
                )
            )
        successor = chk.code(where, raw, "successor", required=False)
        legal_basis = chk.text(where, raw, "legal_basis", max_length=legal_limit)
        note = chk.text(where, raw, "note")
        for code in [*predecessors, *([successor] if successor else [])]:
            if code not in agencies:
                field_name = "successor" if code == successor else "predecessors"
                chk.add(
                    _('{record}: unknown agency code "{code}" in {field}').format(
                        record=where, code=code, field=field_name
                    )
                )
        if successor and successor in predecessors:
            # An agency that absorbs others continues; making it its own successor would
            # send anyone following the chain of successors round in a loop.
            chk.add(
                _("{record}: {code} is both a predecessor and the successor").format(
                    record=where, code=successor
                )
            )
        if kind == SuccessionKind.RENAME and not successor:
            chk.add(_("{record}: a rename needs a successor").format(record=where))
        for code in predecessors:
            keyed.append((f"{code} on {date} ({kind})", where))
            if date and kind:
                specs.append(SuccessionSpec(code, successor, date, kind, legal_basis, note))
    chk.duplicates(_("duplicate reorganisation of {key} ({first} and {second})"), keyed)
    return specs


def _check_plan(chk: _Checker, data: Mapping, agencies: Mapping[str, tuple]) -> PlanSpec | None:
    raw = data.get("plan")
    if raw is None:
        chk.add(_('missing section "{section}"').format(section="plan"))
        return None
    allowed = {
        "code", "title", "number", "issuing_agency", "monitor_agency", "issued_on", "period",
        "leader_in_charge", "basis_documents",
    }  # fmt: skip
    where = "plan"
    if chk.mapping(where, raw, allowed) is None:
        return None
    code = chk.text(where, raw, "code", required=True, max_length=_limit(Plan, "code"))
    title = chk.text(where, raw, "title", required=True, max_length=_limit(Plan, "title"))
    number = chk.text(where, raw, "number", max_length=_limit(Plan, "number"))
    leader = chk.text(where, raw, "leader_in_charge", max_length=_limit(Plan, "leader_in_charge"))
    issuing = chk.code(where, raw, "issuing_agency")
    monitor = chk.code(where, raw, "monitor_agency", required=False)
    for name, agency_code in (("issuing_agency", issuing), ("monitor_agency", monitor)):
        if agency_code and agency_code not in agencies:
            chk.add(
                _('{record}: unknown agency code "{code}" in {field}').format(
                    record=where, code=agency_code, field=name
                )
            )
    issued_on = chk.date(where, raw, "issued_on")
    period = raw.get("period")
    start = end = None
    if not isinstance(period, Mapping):
        chk.add(
            _('{record}: missing required field "{field}"').format(record=where, field="period")
            if period is None
            else _('{record}: "{field}" must be a mapping with start and end').format(
                record=where, field="period"
            )
        )
    else:
        start = chk.date(where, period, "start", required=True, label="period.start")
        end = chk.date(where, period, "end", required=True, label="period.end")
        if start and end and end < start:
            chk.add(
                _("{record}: the period ends ({end}) before it starts ({start})").format(
                    record=where, end=end, start=start
                )
            )
    documents = _check_documents(chk, raw)
    if not (code and title and issuing and start and end):
        return None
    return PlanSpec(code, title, number, issuing, monitor, issued_on, start, end, leader, documents)


def _check_documents(chk: _Checker, plan_raw: Mapping) -> tuple[DocumentSpec, ...]:
    records = plan_raw.get("basis_documents") or []
    if not isinstance(records, list):
        chk.add(_('section "{section}" must be a list').format(section="plan.basis_documents"))
        return ()
    specs, keyed = [], []
    for index, raw in enumerate(records):
        where = chk.where("plan.basis_documents", index, raw, key="number")
        if chk.mapping(where, raw, {"number", "date", "issuer", "title"}) is None:
            continue
        spec = DocumentSpec(
            number=chk.text(
                where, raw, "number", required=True, max_length=_limit(PlanDocument, "number")
            ),
            issued_on=chk.date(where, raw, "date"),
            issuer=chk.text(where, raw, "issuer", max_length=_limit(PlanDocument, "issuer")),
            title=chk.text(
                where, raw, "title", required=True, max_length=_limit(PlanDocument, "title")
            ),
        )
        keyed.append((spec.number or None, where))
        if spec.number:
            specs.append(spec)
    chk.duplicates(_("duplicate basis document number {key} ({first} and {second})"), keyed)
    return tuple(specs)


def _dti_resolver(
    chk: _Checker, indices: list[DtiSpec], plan: PlanSpec | None
) -> Callable[[str, Mapping], tuple[int, str] | None]:
    """A DTI code names an index of the newest edition in the file that is not newer than
    the plan's period (a 2022 plan is judged by the 2022 index set)."""
    editions: dict[str, list[int]] = {}
    for spec in indices:
        editions.setdefault(spec.code, []).append(spec.edition)
    last_year = plan.period_end.year if plan else None

    def resolve(where: str, raw: Mapping) -> tuple[int, str] | None:
        code = chk.code(where, raw, "dti", required=False)
        if not code:
            return None
        if code not in editions:
            chk.add(_('{record}: unknown DTI index "{code}"').format(record=where, code=code))
            return None
        fitting = [e for e in editions[code] if last_year is None or e <= last_year]
        return (max(fitting or editions[code]), code)

    return resolve


def _check_areas(chk: _Checker, data: Mapping, resolve_dti: Callable) -> list[AreaSpec]:
    specs, keyed = [], []
    for index, raw in enumerate(chk.records(data, "priority_areas", required=True)):
        where = chk.where("priority_areas", index, raw)
        if chk.mapping(where, raw, {"code", "name", "name_en", "dti"}) is None:
            continue
        spec = AreaSpec(
            code=chk.text(
                where, raw, "code", required=True, max_length=_limit(PriorityArea, "code")
            ),
            name=chk.text(
                where, raw, "name", required=True, max_length=_limit(PriorityArea, "name")
            ),
            name_en=chk.text(where, raw, "name_en", max_length=_limit(PriorityArea, "name_en")),
            order=index + 1,
            dti=resolve_dti(where, raw),
        )
        keyed.append((spec.code or None, where))
        if spec.code:
            specs.append(spec)
    chk.duplicates(_("duplicate priority area code {key} ({first} and {second})"), keyed)
    return specs


def _check_tasks(
    chk: _Checker,
    data: Mapping,
    *,
    areas: set[str],
    agencies: Mapping[str, tuple],
    resolve_dti: Callable,
) -> list[TaskSpec]:
    specs, keyed = [], []
    allowed = {
        "code", "title", "area", "lead", "coordinators", "start", "due", "output", "kpi",
        "dti", "weight",
    }  # fmt: skip
    for index, raw in enumerate(chk.records(data, "tasks", required=True)):
        where = chk.where("tasks", index, raw)
        if chk.mapping(where, raw, allowed) is None:
            continue
        code = chk.text(where, raw, "code", required=True, max_length=_limit(Task, "code"))
        title = chk.text(where, raw, "title", required=True, max_length=_limit(Task, "title"))
        area = chk.code(where, raw, "area")
        if area and area not in areas:
            chk.add(_('{record}: unknown priority area "{code}"').format(record=where, code=area))
        lead = chk.code(where, raw, "lead")
        coordinators = chk.codes(where, raw, "coordinators")
        for name, codes in (("lead", [lead] if lead else []), ("coordinators", coordinators)):
            for agency_code in codes:
                if agency_code not in agencies:
                    chk.add(
                        _('{record}: unknown agency code "{code}" in {field}').format(
                            record=where, code=agency_code, field=name
                        )
                    )
        if lead and lead in coordinators:
            chk.add(
                _("{record}: the lead agency {code} is also listed in coordinators").format(
                    record=where, code=lead
                )
            )
        start = chk.date(where, raw, "start", required=True)
        # `due: null` makes a regular task; a forgotten `due` must not do so silently.
        if "due" not in raw:
            chk.add(
                _(
                    '{record}: missing required field "due" (write "due: null" for a regular task)'
                ).format(record=where)
            )
        due = chk.date(where, raw, "due")
        if start and due and due < start:
            chk.add(
                _("{record}: due {due} is before start {start}").format(
                    record=where, due=due, start=start
                )
            )
        if start and lead in agencies:
            valid_from, valid_to = agencies[lead]
            if (valid_from and start < valid_from) or (valid_to and start > valid_to):
                chk.add(
                    _("{record}: the lead agency {code} did not exist on {start}").format(
                        record=where, code=lead, start=start
                    )
                )
        kpi = raw.get("kpi")
        kpi_target, kpi_unit = None, ""
        if kpi is not None:
            kpi_where = f"{where} kpi"
            if chk.mapping(kpi_where, kpi, {"target", "unit"}) is not None:
                kpi_target = chk.number(kpi_where, kpi, "target")
                kpi_unit = chk.text(kpi_where, kpi, "unit", max_length=_limit(Task, "kpi_unit"))
        keyed.append((code or None, where))
        spec = TaskSpec(
            code=code,
            title=title,
            area=area or "",
            lead=lead or "",
            coordinators=coordinators,
            assigned_on=start,
            due=due,
            expected_output=chk.text(where, raw, "output"),
            kpi_target=kpi_target,
            kpi_unit=kpi_unit,
            dti=resolve_dti(where, raw),
            weight=chk.number(where, raw, "weight", positive=True),
        )
        if code:
            specs.append(spec)
    chk.duplicates(_("duplicate task code {key} ({first} and {second})"), keyed)
    return specs


def plan_file_parse(*, data: Mapping) -> PlanFile:
    """Validate a plan file's data (as read by plan_file_read) as a whole.

    Returns the validated content, or raises PlanFileError listing every problem, each
    naming its record. Reads the database only to resolve references to agencies and
    levels that earlier files loaded; writes nothing.
    """
    chk = _Checker()
    if not isinstance(data, Mapping):
        raise PlanFileError([_("A plan file must hold a mapping of sections.")])
    dti_sections = _check_sections(chk, data)
    levels = _check_levels(chk, data)
    level_codes = {spec.code for spec in levels}
    wanted_levels = {
        raw.get("level")
        for raw in data.get("agencies") or []
        if isinstance(raw, Mapping) and isinstance(raw.get("level"), str)
    } - level_codes
    if wanted_levels:
        level_codes |= set(
            AdministrativeLevel.objects.filter(code__in=wanted_levels).values_list(
                "code", flat=True
            )
        )
    dti = _check_dti(chk, dti_sections)
    agencies, known_agencies = _check_agencies(chk, data, level_codes)
    # References from reorganisations, the plan and tasks may also name stored agencies.
    referenced = _referenced_agency_codes(data) - known_agencies.keys()
    known_agencies = {**known_agencies, **_agencies_in_database(referenced)}
    successions = _check_successions(chk, data, known_agencies)
    plan = _check_plan(chk, data, known_agencies)
    resolve_dti = _dti_resolver(chk, dti, plan)
    areas = _check_areas(chk, data, resolve_dti)
    tasks = _check_tasks(
        chk,
        data,
        areas={spec.code for spec in areas},
        agencies=known_agencies,
        resolve_dti=resolve_dti,
    )
    if chk.errors or plan is None:
        raise PlanFileError(chk.errors or [_("The plan file is incomplete.")])
    return PlanFile(
        levels=tuple(levels),
        dti_indices=tuple(dti),
        agencies=tuple(agencies),
        successions=tuple(successions),
        plan=plan,
        areas=tuple(areas),
        tasks=tuple(tasks),
    )


def _referenced_agency_codes(data: Mapping) -> set[str]:
    codes: set[str] = set()

    def add(value: Any) -> None:
        if isinstance(value, str):
            codes.add(value)
        elif isinstance(value, list):
            codes.update(v for v in value if isinstance(v, str))

    for raw in data.get("reorganizations") or []:
        if isinstance(raw, Mapping):
            add(raw.get("predecessors"))
            add(raw.get("successor"))
    plan = data.get("plan")
    if isinstance(plan, Mapping):
        add(plan.get("issuing_agency"))
        add(plan.get("monitor_agency"))
    for raw in data.get("tasks") or []:
        if isinstance(raw, Mapping):
            add(raw.get("lead"))
            add(raw.get("coordinators"))
    return codes


# --- Loading ----------------------------------------------------------------------------------

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


@dataclass
class SectionCount:
    """How many rows of one kind the load created, updated or left as they were."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def add(self, status: str) -> None:
        setattr(self, status, getattr(self, status) + 1)


@dataclass
class PlanLoadResult:
    plan: Plan
    counts: dict[str, SectionCount] = field(default_factory=dict)
    # Tasks of the plan that the file no longer lists: kept, never deleted (history).
    tasks_not_in_file: list[str] = field(default_factory=list)
    # Open tasks flagged "cần giao lại" by this load: their lead agency ceased to exist.
    flagged_for_reassignment: int = 0


def _section_messages() -> dict[str, str]:
    # Whole sentences per section, so that translators see complete messages.
    return {
        "levels": _("Administrative levels: {total} ({created} new, {updated} updated)"),
        "agencies": _("Agencies: {total} ({created} new, {updated} updated)"),
        "successions": _("Agency successions: {total} ({created} new, {updated} updated)"),
        "dti_indices": _("DTI indices: {total} ({created} new, {updated} updated)"),
        "plan": _("Plan: {total} ({created} new, {updated} updated)"),
        "documents": _("Basis documents: {total} ({created} new, {updated} updated)"),
        "areas": _("Priority areas: {total} ({created} new, {updated} updated)"),
        "tasks": _("Tasks: {total} ({created} new, {updated} updated)"),
    }


def _upsert(
    model: type[models.Model], *, lookup: dict[str, Any], values: dict[str, Any]
) -> tuple[models.Model, str]:
    """Create or update the row with the natural key `lookup`. The row is saved only when a
    value differs, so that loading the same file again writes nothing.

    No full_clean() here: plan_file_parse has checked every value (lengths, choices, dates,
    references) and the database enforces the constraints, while full_clean's query per
    constraint and foreign key would make loading a plan several times slower.
    """
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values)
        obj.save()
        return obj, CREATED
    changed = {name: value for name, value in values.items() if getattr(obj, name) != value}
    if not changed:
        return obj, UNCHANGED
    for name, value in changed.items():
        setattr(obj, name, value)
    obj.save()
    return obj, UPDATED


def plan_load(*, data: Mapping, log: Callable[[str], None] | None = None) -> PlanLoadResult:
    """Validate a plan file's data and load it, in one transaction.

    Raises PlanFileError (nothing written) when the file has problems. Reference data is
    created or updated by natural key; tasks missing from the database are created through
    `task_create`, and tasks already there get only their plan-defined fields updated
    (their version grows only when something changed). `log` receives a line per section.
    """
    spec = plan_file_parse(data=data)
    try:
        return _load(spec, log)
    except IntegrityError as exc:
        # Validation should have prevented this; the transaction was rolled back.
        raise PlanFileError(
            [_("The database refused the plan: {error}").format(error=exc)]
        ) from exc


def _load(spec: PlanFile, log: Callable[[str], None] | None) -> PlanLoadResult:
    messages = _section_messages()

    counts: dict[str, SectionCount] = {}

    def done(section: str, count: SectionCount) -> None:
        counts[section] = count
        if log:
            log(
                messages[section].format(
                    total=count.total, created=count.created, updated=count.updated
                )
            )

    with transaction.atomic():
        levels, count = {}, SectionCount()
        for level in spec.levels:
            levels[level.code], status = _upsert(
                AdministrativeLevel,
                lookup={"code": level.code},
                values={
                    "name": level.name,
                    "order": level.order,
                    "valid_from": level.valid_from,
                    "valid_to": level.valid_to,
                },
            )
            count.add(status)
        done("levels", count)
        levels.update(
            (level.code, level)
            for level in AdministrativeLevel.objects.exclude(code__in=list(levels))
        )

        agencies, count = {}, SectionCount()
        stored = {a.code: a for a in Agency.objects.filter(code__in=_referenced_codes(spec))}
        for agency in spec.agencies:  # parents first
            parent = agencies.get(agency.parent) or stored.get(agency.parent)
            agencies[agency.code], status = _upsert(
                Agency,
                lookup={"code": agency.code},
                values={
                    "name": agency.name,
                    "short_name": agency.short_name,
                    "doc_code": agency.doc_code,
                    "level_id": levels[agency.level].pk,
                    "parent_id": parent.pk if parent else None,
                    "kind": agency.kind,
                    "place_name": agency.place_name,
                    "gso_code": agency.gso_code,
                    "valid_from": agency.valid_from,
                    "valid_to": agency.valid_to,
                },
            )
            count.add(status)
        done("agencies", count)
        agencies = {**stored, **agencies}

        count = SectionCount()
        for succession in spec.successions:
            successor = agencies.get(succession.successor) if succession.successor else None
            _obj, status = _upsert(
                AgencySuccession,
                lookup={
                    "predecessor_id": agencies[succession.predecessor].pk,
                    "date": succession.date,
                    "kind": succession.kind,
                },
                values={
                    "successor_id": successor.pk if successor else None,
                    "legal_basis": succession.legal_basis,
                    "note": succession.note,
                },
            )
            count.add(status)
        done("successions", count)

        dti, count = {}, SectionCount()
        for index in spec.dti_indices:
            dti[(index.edition, index.code)], status = _upsert(
                DtiIndex,
                lookup={"edition": index.edition, "code": index.code},
                values={"name": index.name, "points": index.points},
            )
            count.add(status)
        done("dti_indices", count)

        plan_spec = spec.plan
        count = SectionCount()
        monitor = agencies.get(plan_spec.monitor_agency) if plan_spec.monitor_agency else None
        plan, status = _upsert(
            Plan,
            lookup={"code": plan_spec.code},
            values={
                "title": plan_spec.title,
                "number": plan_spec.number,
                "issuing_agency_id": agencies[plan_spec.issuing_agency].pk,
                "monitor_agency_id": monitor.pk if monitor else None,
                "issued_on": plan_spec.issued_on,
                "period_start": plan_spec.period_start,
                "period_end": plan_spec.period_end,
                "leader_in_charge": plan_spec.leader_in_charge,
            },
        )
        count.add(status)
        done("plan", count)

        count = SectionCount()
        for document in plan_spec.documents:
            _obj, status = _upsert(
                PlanDocument,
                lookup={"plan_id": plan.pk, "number": document.number},
                values={
                    "issued_on": document.issued_on,
                    "issuer": document.issuer,
                    "title": document.title,
                },
            )
            count.add(status)
        done("documents", count)

        areas, count = {}, SectionCount()
        for area in spec.areas:
            areas[area.code], status = _upsert(
                PriorityArea,
                lookup={"plan_id": plan.pk, "code": area.code},
                values={
                    "name": area.name,
                    "name_en": area.name_en,
                    "order": area.order,
                    "dti_index_id": dti[area.dti].pk if area.dti else None,
                },
            )
            count.add(status)
        done("areas", count)

        count = SectionCount()
        existing = {
            task.code: task
            for task in Task.objects.filter(
                plan=plan, code__in=[t.code for t in spec.tasks]
            ).prefetch_related("coordinating_agencies")
        }
        corrected = _corrected_in_product(plan)
        for task_spec in spec.tasks:
            fields = {
                "priority_area": areas[task_spec.area],
                "title": task_spec.title,
                "expected_output": task_spec.expected_output,
                "lead_agency": agencies[task_spec.lead],
                "coordinating_agencies": [agencies[c] for c in task_spec.coordinators],
                "assigned_on": task_spec.assigned_on,
                "due": task_spec.due,
                "kpi_target": task_spec.kpi_target,
                "kpi_unit": task_spec.kpi_unit,
                "weight": task_spec.weight,
                "dti_index": dti[task_spec.dti] if task_spec.dti else None,
            }
            task = existing.get(task_spec.code)
            if task is None:
                try:
                    task_create(plan=plan, code=task_spec.code, **fields)
                except ValidationError as exc:
                    raise PlanFileError(
                        [
                            _("task {code}: {errors}").format(
                                code=task_spec.code, errors="; ".join(exc.messages)
                            )
                        ]
                    ) from exc
                count.add(CREATED)
            else:
                count.add(_task_sync(task=task, keep=corrected.get(task.pk, set()), **fields))
        done("tasks", count)

        not_in_file = list(
            Task.objects.filter(plan=plan, parent__isnull=True)
            .exclude(code__in=[t.code for t in spec.tasks])
            .values_list("code", flat=True)
        )
        if not_in_file and log:
            log(
                _("Tasks of the plan not in the file, left as they are: {codes}").format(
                    codes=", ".join(not_in_file)
                )
            )
        # Agencies and successions with past dates may end the lead agency of open tasks:
        # flag them now rather than at the next daily run (issue 14).
        flagged = tasks_flag_orphaned(on=timezone.localdate())
        if log:
            log(
                _("Tasks flagged for reassignment (lead agency ceased to exist): {count}").format(
                    count=flagged
                )
            )
    return PlanLoadResult(
        plan=plan,
        counts=counts,
        tasks_not_in_file=not_in_file,
        flagged_for_reassignment=flagged,
    )


def _referenced_codes(spec: PlanFile) -> set[str]:
    """Agency codes the file refers to without defining them (loaded by an earlier file)."""
    codes = {a.parent for a in spec.agencies if a.parent}
    codes |= {s.predecessor for s in spec.successions}
    codes |= {s.successor for s in spec.successions if s.successor}
    codes |= {spec.plan.issuing_agency, spec.plan.monitor_agency or ""}
    for task in spec.tasks:
        codes.add(task.lead)
        codes.update(task.coordinators)
    return codes - {a.code for a in spec.agencies} - {""}


def _task_sync(
    *,
    task: Task,
    priority_area: PriorityArea,
    title: str,
    expected_output: str,
    lead_agency: Agency,
    coordinating_agencies: list[Agency],
    assigned_on: datetime.date,
    due: datetime.date | None,
    kpi_target: Decimal | None,
    kpi_unit: str,
    weight: Decimal | None,
    dti_index: DtiIndex | None,
    keep: set[str] = frozenset(),  # type: ignore[assignment]
) -> str:
    """Bring an existing task's plan-defined fields in line with the file.

    State, progress, completion and history are left alone. An approved extension stays
    in force: when the task was extended, the file's due date replaces the original due
    date, and the due date in force moves only if the file's date is later still. The
    fields in `keep` (corrected in the product since: `_corrected_in_product`) are left as
    they are. Every change is recorded in the change history (source: the plan file).
    Returns UNCHANGED (nothing written, version kept) or UPDATED (version + 1).
    """
    if due is None:
        due_in_force = None
    elif task.due is None or task.due == task.original_due:
        due_in_force = due
    else:
        due_in_force = max(task.due, due)
    values = {
        "priority_area_id": priority_area.pk,
        "title": title,
        "expected_output": expected_output,
        "lead_agency_id": lead_agency.pk,
        "assigned_on": assigned_on,
        "original_due": due,
        "due": due_in_force,
        "kpi_target": kpi_target,
        "kpi_unit": kpi_unit,
        "weight": weight,
        "dti_index_id": dti_index.pk if dti_index else None,
    }
    for name in keep:
        for attname in _ATTNAMES.get(name, (name,)):
            values.pop(attname, None)
    changed = [name for name, value in values.items() if getattr(task, name) != value]
    wanted_coordinators = {agency.pk for agency in coordinating_agencies}
    old_coordinators = list(task.coordinating_agencies.all())
    coordinators_changed = COORDINATING_AGENCIES not in keep and wanted_coordinators != {
        agency.pk for agency in old_coordinators
    }
    if not changed and not coordinators_changed:
        return UNCHANGED
    with transaction.atomic():
        locked = Task.objects.select_for_update().get(pk=task.pk)
        for name in changed:
            setattr(locked, name, values[name])
        locked.version += 1
        try:
            locked.full_clean()
        except ValidationError as exc:
            raise PlanFileError(
                [_("task {code}: {errors}").format(code=task.code, errors="; ".join(exc.messages))]
            ) from exc
        before = {_FIELD_OF.get(name, name): getattr(task, name) for name in changed}
        locked.save(update_fields=[*changed, "version", "updated_at"])
        after = {_FIELD_OF.get(name, name): getattr(locked, name) for name in changed}
        if coordinators_changed:
            locked.coordinating_agencies.set(coordinating_agencies)
            before[COORDINATING_AGENCIES] = old_coordinators
            after[COORDINATING_AGENCIES] = coordinating_agencies
        # Foreign keys by instance, so that the history shows names.
        for name in ("priority_area", "lead_agency", "dti_index"):
            if name in before:
                before[name] = getattr(task, name)
                after[name] = getattr(locked, name)
        task_changes_record(
            task=locked,
            before=before,
            after=after,
            context=ChangeContext(
                reason=_("Loaded from the plan file"), source=ChangeSource.PLAN_FILE
            ),
            at=locked.updated_at,
        )
        if "lead_agency_id" in changed:
            task_reassigned.send(
                sender=Task, task=locked, previous_lead_agency_id=task.lead_agency_id
            )
        else:
            task_changed.send(sender=Task, task=locked)
    return UPDATED


# The task row's columns behind a field of the change history, and back.
_ATTNAMES = {
    "priority_area": ("priority_area_id",),
    "lead_agency": ("lead_agency_id",),
    "dti_index": ("dti_index_id",),
    "due": ("original_due", "due"),
}
_FIELD_OF = {
    "priority_area_id": "priority_area",
    "lead_agency_id": "lead_agency",
    "dti_index_id": "dti_index",
}


def _corrected_in_product(plan: Plan) -> dict[int, set[str]]:
    """The fields of the plan's tasks that were corrected in the product (pages, API,
    Excel import, admin), by task id: the plan file no longer overwrites them, so a
    correction survives loading the file again. The due date counts as corrected once the
    monitoring agency adjusted it (an agency's approved extension is already kept in force
    by `_task_sync`)."""
    corrected: dict[int, set[str]] = {}
    changes = (
        TaskChange.objects.filter(task__plan=plan)
        .exclude(source=ChangeSource.PLAN_FILE)
        .exclude(field="due")
        .values_list("task_id", "field")
        .distinct()
    )
    for task_id, name in changes:
        corrected.setdefault(task_id, set()).add(name)
    adjusted = DeadlineExtension.objects.filter(
        task__plan=plan, kind=ExtensionKind.ADJUSTMENT
    ).values_list("task_id", flat=True)
    for task_id in adjusted:
        corrected.setdefault(task_id, set()).add("due")
    return corrected
