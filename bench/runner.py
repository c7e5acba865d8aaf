"""A small, dependency-free benchmark runner shared by every benchmark in bench/.

Two ways to measure:

1. Over HTTP, as in production: `GunicornServer` starts `gunicorn plan_tracker.wsgi -w 2`
   on 127.0.0.1 with DEBUG off against the bench database and always stops it (even on an
   error or Ctrl-C); `run_scenarios` sends each `Scenario` N times at each concurrency
   (threads + http.client, a new connection per request as a sync gunicorn worker closes
   it anyway) and measures requests per second, p50/p95/p99 latency and errors.
2. In process, without HTTP: `measure_call` times a service or selector call and counts its
   queries with CaptureQueriesContext (for the reminder and dashboard benchmarks).

Both write `bench/results/<name>.json` (the latest run plus a short history) and refresh
`bench/results/<name>.md` (a table of the latest run and the history).

Load only ever goes to 127.0.0.1: `GunicornServer` binds there and `HttpTarget` refuses
any other host.
"""

from __future__ import annotations

import datetime
import http.client
import itertools
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

if __package__ in (None, ""):  # run as a script: make `bench` and the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    RESULTS_DIR,
    ROOT,
    busy_warning,
    django_env,
    git_revision,
    load_average,
    log,
    machine_info,
)

LOOPBACK = "127.0.0.1"
HISTORY_KEPT = 20
# A request slower than this (seconds) ends the warm-up, and at one connection it skips the
# higher concurrencies: ten such requests in parallel would only queue minutes of work.
SLOW_SECONDS = 5.0


# --- The server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def _gunicorn_flags() -> str:
    """The installed gunicorn's --help, to pass only flags it knows."""
    try:
        return subprocess.run(
            [sys.executable, "-m", "gunicorn", "--help"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""


class GunicornServer:
    """gunicorn as in production (Procfile / Dockerfile), on 127.0.0.1, for one benchmark.

    Use it as a context manager: the server is stopped on leaving the block, whatever
    happened inside (the whole process group, so no worker is left behind).

        with GunicornServer(database_url=url) as server:
            run_scenarios(server.target, scenarios)
    """

    def __init__(
        self,
        *,
        database_url: str,
        workers: int = 2,
        port: int | None = None,
        conn_max_age: int = 60,
        extra_env: dict[str, str] | None = None,
        access_log: bool = False,
        startup_timeout: float = 60.0,
        ready_path: str = "/admin/login/",
    ):
        self.database_url = database_url
        self.workers = workers
        self.port = port or free_port()
        self.conn_max_age = conn_max_age
        self.extra_env = extra_env or {}
        self.access_log = access_log
        self.startup_timeout = startup_timeout
        self.ready_path = ready_path
        self.process: subprocess.Popen | None = None
        self.var_dir = Path(tempfile.gettempdir()) / "plan_tracker_bench" / "var"
        self.log_path = self.var_dir.parent / f"gunicorn-{self.port}.log"
        self.command: list[str] = []

    @property
    def target(self) -> HttpTarget:
        return HttpTarget(LOOPBACK, self.port)

    def env(self) -> dict[str, str]:
        # A private var/ (static files, media) so the shared var/ of the tree stays as it is.
        return django_env(
            self.database_url,
            PLAN_TRACKER_VAR_DIR=str(self.var_dir),
            MEDIA_ROOT=str(self.var_dir / "media"),
            DATABASE_CONN_MAX_AGE=str(self.conn_max_age),
            **self.extra_env,
        )

    def collectstatic(self) -> None:
        """The production static storage (whitenoise manifest) needs collected files, or
        every page that links a static file fails with DEBUG off. Collecting with
        compression takes minutes on two cores, so it only reruns when a static source or
        the installed packages changed since the last time."""
        manifest = self.var_dir / "static" / "staticfiles.json"
        if manifest.exists():
            built = manifest.stat().st_mtime
            sources = [ROOT / ".venv" / ".requirements.lock.synced", ROOT / "requirements.lock"]
            for folder in [ROOT / "static", *ROOT.glob("*/static")]:
                sources += [p for p in folder.rglob("*") if p.is_file()]
            if all(not p.exists() or p.stat().st_mtime <= built for p in sources):
                return
        log("bench", "collecting static files for the production storage (once)")
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=self.env(),
            check=True,
        )

    def start(self) -> GunicornServer:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.collectstatic()
        flags = _gunicorn_flags()
        self.command = [
            sys.executable,
            "-m",
            "gunicorn",
            "plan_tracker.wsgi",
            "-w",
            str(self.workers),
            "-b",
            f"{LOOPBACK}:{self.port}",
            "--graceful-timeout",
            "5",
            "--timeout",
            "120",
        ]
        if "--no-control-socket" in flags:
            # gunicorn 27 opens a control socket in the home folder by default.
            self.command.append("--no-control-socket")
        if self.access_log:
            self.command += ["--access-logfile", "-"]
        self.log_file = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=self.env(),
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends the workers too
        )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        last_error = ""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                status, _, _ = self.target.request("GET", self.ready_path, timeout=5)
                if status < 500:
                    return
                last_error = f"HTTP {status}"
            except OSError as exc:
                last_error = str(exc)
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer ({last_error}):\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)  # our own group, started above
                process.wait(timeout=15)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        if getattr(self, "log_file", None) is not None:
            self.log_file.close()
            self.log_file = None

    def restart(self) -> None:
        """Stop and start again (the workers drop whatever they were still computing)."""
        self.stop()
        self.start()

    def __enter__(self) -> GunicornServer:
        # SIGTERM (e.g. a CI timeout) must also stop the server: turn it into SystemExit.
        self._previous_sigterm = signal.signal(signal.SIGTERM, _raise_system_exit)
        return self.start()

    def __exit__(self, *exc) -> None:
        try:
            self.stop()
        finally:
            signal.signal(signal.SIGTERM, self._previous_sigterm)

    def describe(self) -> dict:
        return {
            "command": " ".join(Path(c).name if i == 0 else c for i, c in enumerate(self.command)),
            "workers": self.workers,
            "database_conn_max_age": self.conn_max_age,
            "debug": False,
        }


def _raise_system_exit(signum, frame) -> None:
    raise SystemExit(128 + signum)


# --- HTTP -----------------------------------------------------------------------------------------


@dataclass
class HttpTarget:
    host: str
    port: int

    def __post_init__(self) -> None:
        if self.host not in (LOOPBACK, "localhost", "::1"):
            raise ValueError(f"Load goes to {LOOPBACK} only, not {self.host}.")

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        timeout: float = 60,
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers={"Host": self.host, **(headers or {})})
            response = conn.getresponse()
            data = response.read()
            return response.status, dict(response.getheaders()), data
        finally:
            conn.close()

    def json(self, method: str, path: str, payload: Any = None, **kwargs) -> tuple[int, Any]:
        headers = {"Accept": "application/json", **kwargs.pop("headers", {})}
        body = None
        if payload is not None:
            body = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        status, _, data = self.request(method, path, headers=headers, body=body, **kwargs)
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, data.decode(errors="replace")


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    context: Any = None  # handed back to Scenario.on_response (e.g. the task id)

    @classmethod
    def json(cls, method: str, path: str, payload: Any, headers=None, context=None) -> Request:
        return cls(
            method,
            path,
            {"Content-Type": "application/json", "Accept": "application/json", **(headers or {})},
            json.dumps(payload).encode(),
            context,
        )


@dataclass
class Scenario:
    """One kind of request, measured at each concurrency.

    Either a fixed `method` + `path` (+ `headers`, `body`), or `build(i)` returning the
    `Request` for the i-th request (e.g. a different task each time, or the current version
    of a task). `on_response(request, status, body)` sees every answer (e.g. to track
    versions). A status outside `expect` counts as an error.
    """

    name: str
    path: str = ""
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    build: Callable[[int], Request] | None = None
    on_response: Callable[[Request, int, bytes], None] | None = None
    expect: Sequence[int] = (200,)
    description: str = ""
    # Targets from the issue, checked per concurrency: {1: {"min_rps": 25, "max_p95_ms": 100}}
    targets: dict[int, dict[str, float]] = field(default_factory=dict)

    def request(self, i: int) -> Request:
        if self.build is not None:
            return self.build(i)
        return Request(self.method, self.path, dict(self.headers), self.body)


def query(path: str, **params) -> str:
    """`path` with its query string, dropping parameters that are None."""
    params = {k: v for k, v in params.items() if v is not None}
    return f"{path}?{urlencode(params)}" if params else path


@dataclass
class LoadResult:
    scenario: str
    concurrency: int
    requests: int
    ok: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    mean_ms: float | None
    max_ms: float | None
    statuses: dict[str, int]
    error_samples: list[str]
    description: str = ""
    targets: dict[str, float] = field(default_factory=dict)
    target_met: bool | None = None
    load_average: list[float] = field(default_factory=list)  # when this run ended
    skipped: str = ""  # why this run was not made (e.g. one request already too slow)


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Linear-interpolated percentile of already sorted values (like numpy's default)."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    rank = (len(values) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (rank - low)


def run_load(
    target: HttpTarget,
    scenario: Scenario,
    *,
    concurrency: int,
    requests: int,
    max_seconds: float,
    warmup: int = 0,
    timeout: float = 60.0,
) -> LoadResult:
    """Send up to `requests` requests (or as many as fit in `max_seconds`) with
    `concurrency` threads, each opening a fresh connection per request; a request without
    an answer after `timeout` seconds counts as an error."""
    for i in range(warmup):
        req = scenario.request(-1 - i)
        started = time.perf_counter()
        try:
            status, _, data = target.request(
                req.method, req.path, headers=req.headers, body=req.body, timeout=timeout
            )
            if scenario.on_response:
                scenario.on_response(req, status, data)
        except OSError:
            break
        if time.perf_counter() - started > SLOW_SECONDS:
            break  # warming up on requests this slow would only cost minutes

    counter = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: Counter = Counter()
    samples: list[str] = []
    deadline = time.perf_counter() + max_seconds

    def worker() -> None:
        while True:
            with lock:
                i = next(counter)
            if i >= requests or time.perf_counter() > deadline:
                return
            req = scenario.request(i)
            started = time.perf_counter()
            try:
                status, _, data = target.request(
                    req.method, req.path, headers=req.headers, body=req.body, timeout=timeout
                )
                key = str(status)
            except OSError as exc:
                status, data, key = 0, str(exc).encode(), type(exc).__name__
            elapsed = time.perf_counter() - started
            if scenario.on_response:
                scenario.on_response(req, status, data)
            with lock:
                latencies.append(elapsed)
                statuses[key] += 1
                if status not in scenario.expect and len(samples) < 5:
                    samples.append(f"{req.method} {req.path} -> {key}: {data[:300]!r}")

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started

    done = sum(statuses.values())
    ok = sum(n for key, n in statuses.items() if key.isdigit() and int(key) in scenario.expect)
    ordered = sorted(latencies)
    ms = [v * 1000 for v in ordered]
    result = LoadResult(
        scenario=scenario.name,
        concurrency=concurrency,
        requests=done,
        ok=ok,
        errors=done - ok,
        seconds=round(seconds, 2),
        rps=round(done / seconds, 1) if seconds else 0.0,
        p50_ms=_round(percentile(ms, 50)),
        p95_ms=_round(percentile(ms, 95)),
        p99_ms=_round(percentile(ms, 99)),
        mean_ms=_round(statistics.fmean(ms)) if ms else None,
        max_ms=_round(ms[-1]) if ms else None,
        statuses=dict(statuses),
        error_samples=samples,
        description=scenario.description,
        load_average=load_average(),
    )
    wanted = scenario.targets.get(concurrency)
    if wanted:
        result.targets = dict(wanted)
        result.target_met = _meets(result, wanted)
    return result


def _skipped(scenario: Scenario, concurrency: int, why: str) -> LoadResult:
    return LoadResult(
        scenario=scenario.name,
        concurrency=concurrency,
        requests=0,
        ok=0,
        errors=0,
        seconds=0.0,
        rps=0.0,
        p50_ms=None,
        p95_ms=None,
        p99_ms=None,
        mean_ms=None,
        max_ms=None,
        statuses={},
        error_samples=[],
        description=scenario.description,
        targets=dict(scenario.targets.get(concurrency, {})),
        target_met=False if scenario.targets.get(concurrency) else None,
        skipped=why,
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _meets(result: LoadResult, wanted: dict[str, float]) -> bool:
    checks = {
        "min_rps": lambda v: result.rps >= v,
        "max_p50_ms": lambda v: result.p50_ms is not None and result.p50_ms < v,
        "max_p95_ms": lambda v: result.p95_ms is not None and result.p95_ms < v,
        "max_p99_ms": lambda v: result.p99_ms is not None and result.p99_ms < v,
    }
    return result.errors == 0 and all(checks[k](v) for k, v in wanted.items())


def run_scenarios(
    target: HttpTarget,
    scenarios: Iterable[Scenario],
    *,
    concurrencies: Sequence[int] = (1, 10),
    requests: int = 200,
    max_seconds: float = 30.0,
    warmup: int = 4,
    timeout: float = 60.0,
    server: GunicornServer | None = None,
    quiet: bool = False,
) -> list[LoadResult]:
    """Run every scenario at every concurrency (lowest first).

    A scenario whose median at the lowest concurrency is above SLOW_SECONDS is not run at
    the higher ones (recorded as skipped). When requests timed out, gunicorn may still be
    working on them: with `server`, it is restarted so the next run starts clean.
    """
    results = []
    warning = busy_warning()
    if warning and not quiet:
        log("bench", f"WARNING: {warning}")
    for scenario in scenarios:
        too_slow = ""
        for concurrency in sorted(concurrencies):
            if too_slow:
                results.append(_skipped(scenario, concurrency, too_slow))
                if not quiet:
                    log("bench", f"{scenario.name} c={concurrency}: skipped, {too_slow}")
                continue
            result = run_load(
                target,
                scenario,
                concurrency=concurrency,
                requests=requests,
                max_seconds=max_seconds,
                warmup=warmup,
                timeout=timeout,
            )
            results.append(result)
            if result.p50_ms is None or result.p50_ms > SLOW_SECONDS * 1000:
                too_slow = (
                    f"one request at a time already took {_fmt(result.p50_ms)} ms (median)"
                    if result.p50_ms is not None
                    else "no request succeeded at the lowest concurrency"
                )
            timed_out = any(not key.isdigit() for key in result.statuses)
            if timed_out and server is not None:
                if not quiet:
                    log("bench", "requests timed out: restarting gunicorn for a clean start")
                server.restart()
            if not quiet:
                verdict = {True: " target met", False: " TARGET MISSED", None: ""}[
                    result.target_met
                ]
                log(
                    "bench",
                    f"{scenario.name} c={concurrency}: {result.requests} req in "
                    f"{result.seconds} s, {result.rps} req/s, p50 {result.p50_ms} ms, "
                    f"p95 {result.p95_ms} ms, p99 {result.p99_ms} ms, "
                    f"errors {result.errors}{verdict}",
                )
                for sample in result.error_samples[:2]:
                    log("bench", f"  error: {sample}")
    return results


# --- In-process measurements --------------------------------------------------------------------


@dataclass
class CallResult:
    name: str
    runs: int
    median_ms: float
    p95_ms: float
    min_ms: float
    max_ms: float
    queries: list[int]
    description: str = ""
    slowest_queries: list[dict] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    targets: dict[str, float] = field(default_factory=dict)
    target_met: bool | None = None


def measure_call(
    name: str,
    func: Callable[[], Any],
    *,
    repeat: int = 5,
    warmup: int = 1,
    description: str = "",
    targets: dict[str, float] | None = None,
    keep_slowest: int = 3,
    max_seconds: float = 120.0,
) -> CallResult:
    """Time `func()` (a service or selector call, evaluated fully: wrap querysets in list())
    `repeat` times after `warmup` runs, counting its queries each time; runs after the
    first stop once `max_seconds` have passed.

    Needs Django set up (`bench.common.setup_django`). The query count per run is kept as a
    list, so a count that changes between runs shows.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    budget_end = time.perf_counter() + max_seconds
    for _ in range(warmup):
        func()
    times, counts = [], []
    slowest: list[dict] = []
    for _ in range(repeat):
        if times and time.perf_counter() > budget_end:
            break  # at least one run; more only while they fit in max_seconds
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            func()
            times.append((time.perf_counter() - started) * 1000)
        counts.append(len(ctx.captured_queries))
        for q in ctx.captured_queries:
            slowest.append({"ms": round(float(q["time"]) * 1000, 1), "sql": q["sql"][:500]})
    slowest.sort(key=lambda q: q["ms"], reverse=True)
    ordered = sorted(times)
    result = CallResult(
        name=name,
        runs=len(times),
        median_ms=round(statistics.median(ordered), 1),
        p95_ms=round(percentile(ordered, 95), 1),
        min_ms=round(ordered[0], 1),
        max_ms=round(ordered[-1], 1),
        queries=counts,
        description=description,
        slowest_queries=_distinct(slowest, keep_slowest),
    )
    if targets:
        result.targets = dict(targets)
        checks = {
            "max_median_ms": result.median_ms < targets.get("max_median_ms", float("inf")),
            "max_queries": max(counts) <= targets.get("max_queries", float("inf")),
        }
        result.target_met = all(checks.values())
    return result


def _distinct(queries: list[dict], keep: int) -> list[dict]:
    seen, kept = set(), []
    for q in queries:
        if q["sql"] in seen:
            continue
        seen.add(q["sql"])
        kept.append(q)
        if len(kept) == keep:
            break
    return kept


def explain(queryset, *, analyze: bool = True) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of a queryset, to paste into a report."""
    return queryset.explain(analyze=analyze, buffers=analyze)


def postgres_settings(names: Sequence[str] = ("jit", "shared_buffers", "work_mem")) -> dict:
    """Server settings that change the numbers (JIT above all, see bench/README.md)."""
    from django.db import connection

    values = {}
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        values["server_version"] = cursor.fetchone()[0]
        for name in names:
            cursor.execute(f"SHOW {name}")
            values[name] = cursor.fetchone()[0]
    return values


# --- Results --------------------------------------------------------------------------------------


def write_results(
    name: str,
    *,
    results: Sequence[LoadResult | CallResult],
    title: str,
    meta: dict | None = None,
    notes: Sequence[str] = (),
    results_dir: Path = RESULTS_DIR,
) -> tuple[Path, Path]:
    """Write bench/results/<name>.json (latest run + history) and refresh <name>.md."""
    results_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = results_dir / f"{name}.json", results_dir / f"{name}.md"
    run = {
        "name": name,
        "title": title,
        "finished_at": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "revision": git_revision(),
        "machine": machine_info(),
        **(meta or {}),
        "notes": list(notes),
        "results": [asdict(r) for r in results],
    }
    history = []
    if json_path.exists():
        try:
            previous = json.loads(json_path.read_text())
            history = previous.get("history", [])
            if previous.get("latest"):
                history.append(_summary(previous["latest"]))
        except (ValueError, AttributeError):
            history = []
    document = {"latest": run, "history": history[-HISTORY_KEPT:]}
    tmp = json_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n")
    tmp.replace(json_path)
    md_path.write_text(render_markdown(document))
    return json_path, md_path


def _summary(run: dict) -> dict:
    """One history line per earlier run: the key figures of each result."""
    figures = []
    for r in run.get("results", []):
        if "rps" in r:
            figures.append(
                {
                    "scenario": r["scenario"],
                    "c": r["concurrency"],
                    "rps": r["rps"],
                    "p50_ms": r["p50_ms"],
                    "p95_ms": r["p95_ms"],
                    "errors": r["errors"],
                }
            )
        else:
            figures.append(
                {"name": r["name"], "median_ms": r["median_ms"], "queries": max(r["queries"])}
            )
    return {
        "finished_at": run.get("finished_at"),
        "revision": run.get("revision"),
        "figures": figures,
    }


def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def render_markdown(document: dict) -> str:
    run = document["latest"]
    machine = run["machine"]
    lines = [
        f"# {run['title']}",
        "",
        "Generated by the bench scripts; do not edit by hand (see bench/README.md).",
        "",
        f"- Run: {run['finished_at']}, revision `{run['revision']}`",
        f"- Machine: {machine['cpus']} CPUs ({machine['cpu_model'] or 'unknown'}), "
        f"{machine['memory_gb']} GB RAM, Python {machine['python']}; load average at the "
        f"end {'/'.join(map(str, machine.get('load_average') or [])) or 'unknown'} "
        "(1/5/15 min; above 1 means other work competed with the benchmark)",
    ]
    for key in ("dataset", "server", "postgres", "load"):
        if run.get(key):
            described = ", ".join(f"{k}={v}" for k, v in run[key].items())
            lines.append(f"- {key.capitalize()}: {described}")
    lines.append("")
    http_rows = [r for r in run["results"] if "rps" in r]
    call_rows = [r for r in run["results"] if "median_ms" in r]
    if http_rows:
        lines += [
            "| Scenario | Conc. | Requests | Req/s | p50 ms | p95 ms | p99 ms | Max ms "
            "| Errors | Target |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in http_rows:
            if r.get("skipped"):
                lines.append(
                    f"| {r['scenario']} | {r['concurrency']} | – | – | – | – | – | – | – "
                    f"| skipped: {r['skipped']}{'; ' + _target(r) if _target(r) else ''} |"
                )
                continue
            lines.append(
                f"| {r['scenario']} | {r['concurrency']} | {r['requests']} | {_fmt(r['rps'])} "
                f"| {_fmt(r['p50_ms'])} | {_fmt(r['p95_ms'])} | {_fmt(r['p99_ms'])} "
                f"| {_fmt(r['max_ms'])} | {r['errors']} | {_target(r)} |"
            )
        lines.append("")
    if call_rows:
        lines += [
            "| Measurement | Runs | Median ms | p95 ms | Min ms | Max ms | Queries | Target |",
            "|---|---:|---:|---:|---:|---:|---|---|",
        ]
        for r in call_rows:
            counts = sorted(set(r["queries"]))
            lines.append(
                f"| {r['name']} | {r['runs']} | {_fmt(r['median_ms'])} | {_fmt(r['p95_ms'])} "
                f"| {_fmt(r['min_ms'])} | {_fmt(r['max_ms'])} "
                f"| {'/'.join(map(str, counts))} | {_target(r)} |"
            )
        lines.append("")
    described = [r for r in run["results"] if r.get("description")]
    if described:
        lines.append("What each row measures:")
        lines.append("")
        seen = set()
        for r in described:
            key = r.get("scenario") or r.get("name")
            if key not in seen:
                seen.add(key)
                lines.append(f"- `{key}`: {r['description']}")
        lines.append("")
    errors = [s for r in http_rows for s in r.get("error_samples", [])]
    if errors:
        lines += ["Sample errors:", ""] + [f"- `{s[:200]}`" for s in errors[:6]] + [""]
    if run.get("notes"):
        lines += ["Notes:", ""] + [f"- {n}" for n in run["notes"]] + [""]
    if document["history"]:
        lines += ["## Earlier runs", "", "| Run | Revision | Figures |", "|---|---|---|"]
        for h in reversed(document["history"]):
            figures = "; ".join(_history_figure(f) for f in h["figures"])
            lines.append(f"| {h['finished_at']} | `{h['revision']}` | {figures} |")
        lines.append("")
    return "\n".join(lines)


def _history_figure(f: dict) -> str:
    if "rps" in f:
        return f"{f['scenario']} c{f['c']}: {f['rps']}/s p95 {f['p95_ms']}"
    return f"{f['name']}: {f['median_ms']} ms, {f['queries']} q"


def _target(r: dict) -> str:
    if r.get("target_met") is None:
        return ""
    wanted = ", ".join(f"{k} {v:g}" for k, v in r["targets"].items())
    return f"{'met' if r['target_met'] else '**missed**'} ({wanted})"


# --- Command line: a smoke run of the runner itself -----------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Measure one URL (default: the admin login page) to check the runner on a machine."""
    import argparse

    from bench.common import DEFAULT_DATABASE_URL, database_exists, migrate

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--path", default="/admin/login/")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--name", default="smoke")
    args = parser.parse_args(argv)
    if not database_exists(args.database_url):
        raise SystemExit("No bench database: run bench/generate.py first.")
    migrate(args.database_url)
    with GunicornServer(database_url=args.database_url) as server:
        results = run_scenarios(
            server.target,
            [Scenario(name=f"GET {args.path}", path=args.path)],
            concurrencies=args.concurrency,
            requests=args.requests,
            max_seconds=args.seconds,
        )
        described = server.describe()
    paths = write_results(
        args.name,
        results=results,
        title=f"Runner smoke test: GET {args.path}",
        meta={"server": described},
    )
    log("bench", f"results in {paths[0].relative_to(ROOT)} and {paths[1].relative_to(ROOT)}")
    return 0 if all(r.errors == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
