"""Fixtures: a real PostgreSQL (embedded, or yours through PG*) and warehouses built on it.

Each warehouse gets its own source and target schemas, so tests never share
state and a user's server only gains schemas named tw_test_*, dropped at the end.

Under pytest-xdist (scripts/test), the controlling process starts the one
embedded server before the workers exist and stops it after they are gone;
read-only warehouses (the demo) are built once under a file lock and shared.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest
from filelock import FileLock
from psycopg import sql

from trades_warehouse import database, dbt_invoke, loader
from trades_warehouse.paths import project_dir


RUN_ID = "TW_TEST_RUN"  # one id per pytest invocation, shared by its workers
SHARED_PREFIX = "tw_test_shared"
started_server = pytest.StashKey[bool]()


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    """In the controlling process only: the run id and the tests' own server, for every worker."""
    if is_worker(config):
        return
    os.environ[RUN_ID] = uuid.uuid4().hex[:8]
    config.stash[started_server] = False
    if database.external_connection() is not None:
        return
    # A server of the tests' own, beside (never instead of) the demo's.
    base = Path(os.environ.get("TRADES_STATE_DIR") or project_dir() / ".state")
    os.environ["TRADES_STATE_DIR"] = str(base / "pytest")
    config.stash[started_server] = database.embedded_status() is None
    database.start_embedded()


def pytest_unconfigure(config: pytest.Config) -> None:
    if is_worker(config) or RUN_ID not in os.environ:
        return
    connection = database.external_connection() or database.start_embedded()
    drop_schemas(connection, f"{SHARED_PREFIX}_{os.environ[RUN_ID]}")
    if config.stash.get(started_server, False):
        database.stop_embedded()


@pytest.fixture(scope="session")
def server() -> database.Connection:
    # Started by pytest_configure; this only connects (start_embedded reuses a running server).
    return database.external_connection() or database.start_embedded()


def drop_schemas(connection: database.Connection, name: str) -> None:
    """Drop the schema ``name`` and every schema named ``name_*``."""
    with connection.connect(autocommit=True) as conn:
        names = conn.execute(
            "select nspname from pg_namespace where nspname = %s or left(nspname, length(%s) + 1) = %s || '_'",
            (name, name, name),
        ).fetchall()
        for (schema,) in names:
            conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(str(schema))))


@dataclass
class Warehouse:
    """One source schema, one target schema, one dbt target folder."""

    connection: database.Connection
    name: str
    target_path: Path
    last_outcome: dbt_invoke.DbtOutcome | None = field(default=None)
    project_dirs: set[Path] = field(default_factory=set)  # every project it was built from
    # Whether dbt writes manifest.json and run_results.json (and the semantic
    # manifest) into the target folder: 0.5 s of every invocation, read only
    # by the tests of the shared warehouses (MetricFlow, docs).
    artifacts: bool = False

    @property
    def source_schema(self) -> str:
        return f"{self.name}_raw"

    @property
    def target_schema(self) -> str:
        return self.name

    @property
    def marts(self) -> str:
        return f"{self.name}_marts"

    @property
    def staging(self) -> str:
        return f"{self.name}_staging"

    @property
    def intermediate(self) -> str:
        return f"{self.name}_intermediate"

    def load(self, rows: Sequence[Mapping[str, object]], *, replace: bool = True) -> loader.LoadResult:
        typed = [loader.normalise_row(row, f"row {i}") for i, row in enumerate(rows)]
        return loader.load_rows(self.connection, self.source_schema, typed, replace=replace)

    def dbt(self, *args: str, dbt_vars: Mapping[str, object] | None = None) -> dbt_invoke.DbtOutcome:
        dbt_invoke.apply_environment(
            self.connection, source_schema=self.source_schema, target_schema=self.target_schema
        )
        self.project_dirs.add(project_dir())
        # dbt's debug log file costs a tenth of a small build's time and is
        # lost with the test's temporary folder: only warnings and errors.
        artifacts = [] if self.artifacts or args[0] == "docs" else ["--no-write-json"]
        self.last_outcome = dbt_invoke.run_dbt(
            [*args, "--log-level-file", "warn", *artifacts], dbt_vars=dbt_vars, target_path=self.target_path
        )
        return self.last_outcome

    def build(self, *args: str, dbt_vars: Mapping[str, object] | None = None) -> dbt_invoke.DbtOutcome:
        """`dbt build` without the dbt unit tests: they read fixtures, never this warehouse's data, and
        took 60% of a small build; test_every_unit_test_passes runs each of them once."""
        outcome = self.dbt("build", *args, "--exclude", "test_type:unit", dbt_vars=dbt_vars)
        assert outcome.exception is None, outcome.exception
        return outcome

    def query(self, statement: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run SQL where {raw}, {staging}, {intermediate} and {marts} name this warehouse's schemas."""
        text = statement.format(
            raw=sql.Identifier(self.source_schema).as_string(None),
            staging=sql.Identifier(self.staging).as_string(None),
            marts=sql.Identifier(self.marts).as_string(None),
            intermediate=sql.Identifier(self.intermediate).as_string(None),
        )
        with self.connection.connect() as conn:
            rows = conn.execute(text, params or None).fetchall()  # type: ignore[arg-type]
            conn.commit()
        return rows

    def execute(self, statement: str, params: Sequence[object] = ()) -> None:
        text = statement.format(
            raw=sql.Identifier(self.source_schema).as_string(None),
            staging=sql.Identifier(self.staging).as_string(None),
            marts=sql.Identifier(self.marts).as_string(None),
            intermediate=sql.Identifier(self.intermediate).as_string(None),
        )
        with self.connection.connect() as conn:
            conn.execute(text, params or None)  # type: ignore[arg-type]
            conn.commit()

    def drop(self) -> None:
        """Drop every schema named after this warehouse (`run` adds _ops, _intermediate, shadows...)."""
        drop_schemas(self.connection, self.name)


DEFAULT_PROJECT = project_dir()
PARSE_STATE = "partial_parse.msgpack"


@dataclass
class Slot:
    """A warehouse name that tests of one worker take in turn, with dbt's partial-parse state for it.

    dbt parses the whole project again (2-4 s here) whenever the profile's
    target schema differs from the one its saved state was made for, which a
    new warehouse name always does. A name freed by a finished test, with
    the state its builds left, lets the next warehouse parse only what
    changed. dbt itself decides whether that state still holds (project
    files, profile, variables); a slot used with a copy of the project never
    passes its state on.
    """

    name: str
    parse_states: dict[str, bytes] = field(default_factory=dict)  # relative path -> partial_parse.msgpack


class WarehousePool:
    """The slots of this worker process: leased by make_warehouse, freed after the test (or module) that made them."""

    def __init__(self) -> None:
        self.free: list[Slot] = []
        self.count = 0
        self.leased: dict[str, tuple[Slot, Warehouse]] = {}
        self.in_call = False
        self.made_in_call: list[str] = []
        self.made_in_setup: list[str] = []

    def lease(self, connection: database.Connection, target_path: Path) -> Warehouse:
        if self.free:
            slot = self.free.pop()
        else:
            self.count += 1
            worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
            # Fixed width: no slot's name is the prefix of another's.
            slot = Slot(f"tw_test_{os.environ[RUN_ID]}_{worker}_s{self.count:03d}")
        for relative, state in slot.parse_states.items():
            (target_path / relative).parent.mkdir(parents=True, exist_ok=True)
            (target_path / relative).write_bytes(state)
        warehouse = Warehouse(connection, slot.name, target_path)
        self.leased[slot.name] = (slot, warehouse)
        (self.made_in_call if self.in_call else self.made_in_setup).append(slot.name)
        return warehouse

    def release(self, names: list[str]) -> None:
        for name in names:
            if name not in self.leased:  # released with the session's fixtures already
                continue
            slot, warehouse = self.leased.pop(name)
            warehouse.drop()
            if warehouse.project_dirs - {DEFAULT_PROJECT}:
                slot.parse_states = {}
            else:
                slot.parse_states = {
                    str(path.relative_to(warehouse.target_path)): path.read_bytes()
                    for path in warehouse.target_path.rglob(PARSE_STATE)
                }
            self.free.append(slot)
        names.clear()


POOL = WarehousePool()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    POOL.in_call = True
    yield
    POOL.in_call = False
    # Before monkeypatch undoes it: a test that pointed dbt (in this process
    # or a `trades-warehouse` it started) at a copy of the project.
    for _, warehouse in POOL.leased.values():
        warehouse.project_dirs.add(project_dir())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    yield
    # Warehouses a test body made are its own; those fixtures made may serve the
    # whole module, whose fixtures are torn down by now when the next test is elsewhere.
    POOL.release(POOL.made_in_call)
    if nextitem is None or nextitem.module is not getattr(item, "module", None):
        POOL.release(POOL.made_in_setup)


@pytest.fixture(scope="session")
def make_warehouse(
    server: database.Connection, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], Warehouse]]:
    """A new, empty warehouse for a test (or a module-scoped fixture; never a session-scoped one).

    Its schemas are dropped after the test whose body made it, or after the
    module whose fixture made it, and its name is then given to the next one.
    """

    def make(label: str) -> Warehouse:
        return POOL.lease(server, tmp_path_factory.mktemp(label))

    yield make
    POOL.release(list(POOL.leased))


@pytest.fixture(scope="session")
def build_warehouse(make_warehouse: Callable[[str], Warehouse]) -> Callable[..., Warehouse]:
    """A warehouse loaded with ``rows`` and built; the build must pass every test."""

    def build(label: str, rows: Sequence[Mapping[str, object]], dbt_vars: Mapping[str, object] | None = None) -> Warehouse:
        warehouse = make_warehouse(label)
        warehouse.load(rows)
        outcome = warehouse.build(dbt_vars=dbt_vars)
        assert outcome.success, outcome.failures
        return warehouse

    return build


@pytest.fixture(scope="session")
def shared_warehouse(
    server: database.Connection, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., Warehouse]:
    """A read-only warehouse built once per pytest run, whichever worker asks first.

    Every worker gets its own copy of the build's dbt target folder for what
    it runs afterwards; the schemas are dropped by the controlling process at the end.
    """

    def shared(label: str, rows: Callable[[], Sequence[Mapping[str, object]]]) -> Warehouse:
        run = os.environ[RUN_ID]
        folder = tmp_path_factory.getbasetemp().parent / f"tw-shared-{run}"
        folder.mkdir(exist_ok=True)
        name = f"{SHARED_PREFIX}_{run}_{label}"
        with FileLock(folder / f"{label}.lock"):
            built = folder / f"{label}.built"
            if not built.exists():
                builder = Warehouse(server, name, folder / label, artifacts=True)
                builder.load(rows())
                outcome = builder.build()
                assert outcome.success, outcome.failures
                built.touch()
        # The build's artifacts (manifest, semantic manifest, partial-parse
        # state) in a target folder of this worker's own.
        own = tmp_path_factory.mktemp(label)
        shutil.copytree(folder / label, own, dirs_exist_ok=True, ignore=shutil.ignore_patterns("logs"))
        return Warehouse(server, name, own, artifacts=True)

    return shared


@pytest.fixture(scope="session")
def demo_warehouse(shared_warehouse: Callable[..., Warehouse]) -> Warehouse:
    """The demo data, built once for every module that reads it (none may change it)."""
    from trades_warehouse.demo_data import generate_demo_rows

    return shared_warehouse("demo", generate_demo_rows)


def failed_test_names(outcome: dbt_invoke.DbtOutcome) -> set[str]:
    """The names of the nodes (tests) that failed or errored in an invocation."""
    return {failure.split(":")[0].split(".")[2] for failure in outcome.failures}


def order(order_id: str, side: str, when: str, size: float, price: float, **extra: object) -> dict[str, object]:
    """A raw trade_records row with sensible defaults for the rest."""
    row: dict[str, object] = {
        "order_id": order_id,
        "symbol": extra.pop("symbol", "AVAX-USD"),
        "side": side,
        "order_time": when,
        "size": size,
        "price": price,
        "total_fees_usd": extra.pop("fees", 0.0),
        "status": extra.pop("status", "filled"),
        "source": extra.pop("source", "webhook"),
    }
    row.update(extra)
    return row


# Test files by how long they took, longest first (worker seconds of one
# run of scripts/test with `--durations=0`, on the two-core machine):
# pytest-xdist hands whole files to workers in collection order when
# scripts/test passes --no-loadscope-reorder (its default orders files by
# their number of tests), so starting with the longest keeps one of them
# from running alone at the end.
SLOWEST_FILES_FIRST = (
    "test_incremental_rules.py",  # 320 s
    "test_incremental.py",  # 235 s
    "test_run_safety.py",  # 200 s
    "test_staging.py",  # 165 s
    "test_cli.py",  # 155 s
    "test_fifo.py",  # 150 s
    "test_appending.py",  # 100 s
    "test_metrics.py",  # 70 s
    "test_hostile_rows.py",  # 55 s
    "test_report.py",  # 50 s
    "test_dashboard.py",  # 30 s
    "test_first_hour.py",  # 30 s
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return SLOWEST_FILES_FIRST.index(name) if name in SLOWEST_FILES_FIRST else len(SLOWEST_FILES_FIRST)

    items.sort(key=rank)  # stable: tests keep their order within a file
