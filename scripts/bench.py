#!/usr/bin/env python3
"""FIFO speed, measured in one run on one database, with one CSV row per run.

Generates N fills over S symbols (streamed to the loader in chunks), loads
them into <schema>_raw, builds staging, then measures:

  (a) full build of the FIFO models: dbt run --full-refresh of
      int_fill_fingerprints, int_reporting_moment, int_fifo_allocations,
      int_closed_trades, int_lot_balances, fct_fills and the views
      fct_fifo_allocations and fct_buy_lots
      (sum of dbt's node execution times, and wall time of the invocation)
  (b) the floor: one window running sum over the same fills
  (b') the write floor: copying the rows the FIFO models store (each of their
      tables, `create table as select *`), no computation at all: what any
      method that stores these tables pays; (a)/(b') says how much the
      computation adds to it
  (b'') the method's skeleton: the sorts and windows FIFO cannot do without
      (the fills in FIFO order with running sums, the running minimum of the
      balance for the unmatched parts, the axis' interval ends sorted and
      counted), writing each piece's size and buy and sell numbers, nothing
      else: no join back to the fills, no money; (b'')/(b) is a lower bound
      for the allocations alone against the floor
  (f) a row-by-row Python FIFO of the bot's kind: per symbol one query, a
      Decimal loop over a deque of lots, one INSERT per allocation, one commit
  (f') the same loop fed by one COPY out of all fills, writing one COPY in
  (c) incremental build of the FIFO models after 1,000 new fills at the end
      of 10 symbols' histories (staging rebuilt first and timed apart)
  (d) the same after 1,000 late fills (stamped in the past) over 50 symbols
  (e) a whole scheduled run (trades-warehouse run: models, tests, publication)
      after 1,000 new fills, wall time, into <schema>_run; an untimed-for-the-
      ratio first run publishes once before, so (e) is the cron steady state
  (g) PostgreSQL's peak RSS during (a), and this process's peak RSS

Before each timed step the bench settles what the step before it left
(untimed), so that each step pays for its own work only:
  - autovacuum's pending work on the bench's tables is done first: each
    table past autovacuum's own thresholds (the server's settings) is
    vacuumed and analyzed as autovacuum would. A full build leaves a million
    fresh rows in each of its tables; autovacuum wakes once a minute and
    would otherwise start on them at a random moment of a later step, on a
    two-core machine (in cron's steady state it has long finished before the
    next five-minute run);
  - then the server is checkpointed: a full build writes about a gigabyte of
    WAL, and the checkpoint that sets off would otherwise flush those pages
    during whichever step comes next.
A user without the privilege gets a note, and the steps run as they come.

Ratios divide like by like: (a)/(b) and (c)/(a), (d)/(a) use (a)'s sum of
node times; (e)/(a), (f)/(a) and (f')/(a) use (a)'s wall time (all walls).
Targets are printed beside the figures for reference only: nothing here
asserts on a time (the machine may be shared; only same-run ratios mean much).

    scripts/bench.py                       # 1,000,000 fills over 200 symbols
    scripts/bench.py --quick               # 20,000 fills over 20 symbols: a smoke run
    scripts/bench.py --size large          # 10,000,000 fills over 1,000 symbols
    scripts/bench.py --fills 100000 --symbols 50 --row-by-row-limit-symbols 10
"""

from __future__ import annotations

import argparse
import csv
import decimal
import json
import math
import os
import random
import resource
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import Any

import psycopg
from psycopg import sql

from trades_warehouse import database, dbt_invoke, loader, scheduler
from trades_warehouse.paths import project_dir, state_dir
from trades_warehouse.synthetic import NOTIONALS_USD, synthetic_rows

FIFO_MODELS = (
    "int_fill_fingerprints", "int_reporting_moment", "int_fifo_allocations", "int_closed_trades", "int_lot_balances",
    "fct_fifo_allocations", "fct_buy_lots", "fct_fills",
)
SIZES = {"quick": (20_000, 20), "default": (1_000_000, 200), "large": (10_000_000, 1_000)}
LOAD_CHUNK_ROWS = 100_000  # load_rows holds its input in a list: chunks bound the memory
BATCH_FILLS = 1_000  # fills added before each of (c), (d) and (e)
APPENDED_SYMBOLS = 10
LATE_SYMBOLS = 50
# Quantities stay exact: sizes carry 15 significant digits and their sums and
# differences span fewer than 50 digits; divisions (fees per unit) round at 50.
decimal.getcontext().prec = 50

# The FIFO order (macros/fifo_order_by.sql): time, buys before sells, order id byte-wise.
FIFO_ORDER = "order_time, side <> 'buy', order_id collate \"C\""
FILL_COLUMNS = "symbol, order_id, side, order_time, size, price, fees_usd"
ALLOCATION_COLUMNS = (
    "symbol", "sell_order_id", "buy_order_id", "allocated_size", "buy_price", "sell_price",
    "buy_fees_per_unit", "sell_fees_per_unit", "cost_basis_usd", "proceeds_usd", "net_proceeds_usd",
    "pnl_usd", "buy_time", "sell_time", "allocation_version",
)  # the bot's fifo_allocations table, less its key (an identity column here)
ALLOCATION_VERSION = 2

Row = Sequence[Any]  # a database row, as psycopg returns it
PgConnection = psycopg.Connection[tuple[Any, ...]]


# --------------------------------------------------------------------------- timing helpers


@dataclass(frozen=True)
class DbtTiming:
    """One dbt invocation: dbt's execution time per node, and the wall time around the call."""

    nodes: dict[str, float]
    wall: float

    @property
    def total(self) -> float:
        return sum(self.nodes.values())


def timed_dbt(args: Sequence[str]) -> DbtTiming:
    started = time.perf_counter()
    outcome = dbt_invoke.run_dbt(args)
    wall = time.perf_counter() - started
    if not outcome.success:
        raise SystemExit(f"dbt {' '.join(args)} failed: {outcome.failures or outcome.exception}")
    nodes = {r.node.name: float(r.execution_time) for r in getattr(outcome.results, "results", None) or []}
    return DbtTiming(nodes, wall)


def fifo_build(*, full_refresh: bool) -> DbtTiming:
    return timed_dbt(["run", "--quiet", *(["--full-refresh"] if full_refresh else []), "--select", *FIFO_MODELS])


def staging_build() -> DbtTiming:
    return timed_dbt(["run", "--quiet", "--select", "staging"])


# Tables autovacuum would vacuum or analyze now, by its own formulas and the
# server's settings (per-table storage options aside: the bench sets none).
AUTOVACUUM_DUE = """
select
    stats.schemaname,
    stats.relname,
    stats.n_dead_tup > current_setting('autovacuum_vacuum_threshold')::float8
        + current_setting('autovacuum_vacuum_scale_factor')::float8 * greatest(tables.reltuples, 0)
    or stats.n_ins_since_vacuum > current_setting('autovacuum_vacuum_insert_threshold')::float8
        + current_setting('autovacuum_vacuum_insert_scale_factor')::float8 * greatest(tables.reltuples, 0)
        as vacuum_due,
    stats.n_mod_since_analyze > current_setting('autovacuum_analyze_threshold')::float8
        + current_setting('autovacuum_analyze_scale_factor')::float8 * greatest(tables.reltuples, 0)
        as analyze_due
from pg_stat_user_tables as stats
inner join pg_class as tables on stats.relid = tables.oid
where stats.schemaname like %s
order by 1, 2
"""


def settle_writes(connection: database.Connection, schema_prefix: str) -> bool:
    """Autovacuum's pending work on the bench's schemas, then CHECKPOINT (see the module doc).

    False when the server refused either (the steps then run as they come)."""
    try:
        with connection.connect(autocommit=True) as conn:
            due = conn.execute(AUTOVACUUM_DUE, (schema_prefix.replace("_", r"\_") + "%",)).fetchall()
            for schema, table, vacuum_due, analyze_due in due:
                if vacuum_due and analyze_due:
                    verb = "vacuum (analyze)"
                elif vacuum_due:
                    verb = "vacuum"
                elif analyze_due:
                    verb = "analyze"
                else:
                    continue
                conn.execute(sql.SQL(verb + " {}").format(sql.Identifier(str(schema), str(table))))
            conn.execute("checkpoint")
        return True
    except psycopg.errors.InsufficientPrivilege as exc:
        print(f"  note: the steps are not settled ({exc.diag.message_primary}): steps may pay for the last one's writes")
        return False


def timed_create_table(
    connection: database.Connection, schema: str, table: sql.Identifier, select: sql.Composable
) -> tuple[float, int]:
    """Seconds to write `select` into a new `table` (dropped again after), timed once what the steps
    before left is settled; and the rows written."""
    with connection.connect() as conn:
        conn.execute(sql.SQL("drop table if exists {}").format(table))
        conn.commit()
        settle_writes(connection, schema)
        started = time.perf_counter()
        cur = conn.execute(sql.SQL("create table {} as {}").format(table, select))
        conn.commit()
        seconds = time.perf_counter() - started
        conn.execute(sql.SQL("drop table {}").format(table))
        conn.commit()
    return seconds, cur.rowcount


def write_floor(connection: database.Connection, target: str, scratch: str) -> tuple[float, int]:
    """(b'): seconds to copy every table of the FIFO models (`create table as select *`), and their rows."""
    with connection.connect() as conn:
        tables = [(str(schema), str(name)) for schema, name in conn.execute(
            "select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where c.relkind = 'r' and c.relname = any(%s) and n.nspname = any(%s) order by 1, 2",
            (list(FIFO_MODELS), [f"{target}_intermediate", f"{target}_marts"]),
        )]
    seconds, rows = 0.0, 0
    for schema, name in tables:
        copied_s, copied = timed_create_table(
            connection, target, sql.Identifier(scratch, f"copy_of_{name}"),
            sql.SQL("select * from {}").format(sql.Identifier(schema, name)),
        )
        seconds, rows = seconds + copied_s, rows + copied
    return seconds, rows


# The FIFO order of the floor (b) and the skeleton (b'').
FLOOR_ORDER = sql.SQL("order_time, case side when 'buy' then 0 else 1 end, order_id")
FLOOR = (
    "select order_id, sum(case side when 'buy' then size else -size end)"
    " over (partition by symbol order by {order}) as balance from {fills}"
)

# (b''): the same FIFO order as the floor, and nothing but what every
# piece needs to exist: its size and the sequence numbers of its buy and sell
# (with the open inventory's segments after the last matched sell, which the
# model's join to the sells drops).
SKELETON = """
with positions as (
    select
        symbol, order_time, side, order_id,
        sum(case when side = 'buy' then size else 0 end) over fifo as bought_through,
        sum(case when side = 'sell' then size else 0 end) over fifo as sold_through
    from {fills}
    window fifo as (partition by symbol order by {order} rows between unbounded preceding and current row)
),
interval_ends as (
    select
        symbol,
        case when side = 'sell'
            then sold_through - greatest(0, -min(bought_through - sold_through) over fifo)
            else bought_through end as axis_position,
        case side when 'sell' then 1 else 0 end as sell_end
    from positions
    window fifo as (partition by symbol order by {order} rows between unbounded preceding and current row)
),
segments as (
    select
        axis_position - lag(axis_position, 1, 0) over axis as segment_size,
        count(*) filter (where sell_end = 0) over before + 1 as buy_seq,
        count(*) filter (where sell_end = 1) over before + 1 as sell_seq
    from interval_ends
    window axis as (partition by symbol order by axis_position, sell_end),
        before as (axis rows between unbounded preceding and 1 preceding)
)
select * from segments where segment_size > 0
"""


def show(label: str, seconds: float, note: str = "") -> None:
    print(f"  {label:<58} {seconds:9.2f} s{('   ' + note) if note else ''}", flush=True)


def show_slowest_nodes(run_results: Path, count: int = 10) -> None:
    """Where a whole dbt build spent its time (from its run_results.json)."""
    if not run_results.exists():
        return
    results = json.loads(run_results.read_text()).get("results", [])
    total = sum(float(node.get("execution_time") or 0) for node in results)
    print(f"  {len(results)} nodes, {total:.2f} s of node time; the slowest:")
    for node in sorted(results, key=lambda n: -float(n.get("execution_time") or 0))[:count]:
        show(f"  {node['unique_id'].split('.')[-1][:54]}", float(node.get("execution_time") or 0))


def show_nodes(timing: DbtTiming) -> None:
    for name in FIFO_MODELS:
        if name in timing.nodes:
            show(f"  {name}", timing.nodes[name])


# --------------------------------------------------------------------------- memory


def _proc_status_kib(pid: int, key: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _proc_children(parent: int) -> list[int]:
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    # The command name (2nd field) is in parentheses and may hold spaces.
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == parent:
                        children.append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    return children


class ServerMemorySampler:
    """Samples the memory of the postmaster and its children in a thread while a block runs.

    With psutil, each sample reads every process's current RSS and its private
    part (RSS less shared pages); without it, /proc/<pid>/status VmHWM (the
    process's own peak RSS so far, so nothing between samples is missed) and
    RssAnon. Per process it keeps the peak of each. RSS counts every shared
    buffer a process ever touched (so long-lived processes carry earlier work,
    and a sum counts shared_buffers once per process); the private part is what
    each process allocated itself (sorts, hashes, caches), which sums honestly.
    """

    def __init__(self, postmaster_pid: int | None, interval: float = 0.1) -> None:
        self.postmaster_pid = postmaster_pid
        self.interval = interval
        self.rss_peaks: dict[int, int] = {}  # pid -> peak bytes
        self.private_peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        try:
            import psutil

            self.method = "psutil samples every 0.1 s"
            self._psutil: Any = psutil
        except ImportError:
            self.method = "/proc VmHWM and RssAnon samples every 0.1 s"
            self._psutil = None
        if postmaster_pid is None:
            self.method = "not measured (server process not visible from here)"

    def _sample(self) -> None:
        assert self.postmaster_pid is not None
        found: dict[int, tuple[int, int]] = {}  # pid -> (rss, private)
        if self._psutil is not None:
            psutil = self._psutil
            try:
                postmaster = psutil.Process(self.postmaster_pid)
                processes = [postmaster, *postmaster.children()]
            except psutil.Error:
                return
            for process in processes:
                try:
                    info = process.memory_info()
                except psutil.Error:
                    continue
                found[process.pid] = (int(info.rss), int(info.rss - getattr(info, "shared", 0)))
        else:
            for pid in [self.postmaster_pid, *_proc_children(self.postmaster_pid)]:
                hwm, anon = _proc_status_kib(pid, "VmHWM"), _proc_status_kib(pid, "RssAnon")
                if hwm is not None:
                    found[pid] = (hwm * 1024, (anon or 0) * 1024)
        for pid, (rss, private) in found.items():
            self.rss_peaks[pid] = max(self.rss_peaks.get(pid, 0), rss)
            self.private_peaks[pid] = max(self.private_peaks.get(pid, 0), private)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> ServerMemorySampler:
        if self.postmaster_pid is not None:
            self._thread.start()
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self.postmaster_pid is not None:
            self._stop.set()
            self._thread.join()
            self._sample()

    def _mb(self, total: int) -> float:
        return total / 2**20 if self.postmaster_pid else float("nan")

    @property
    def rss_max_mb(self) -> float:
        """The largest single process's peak RSS."""
        return self._mb(max(self.rss_peaks.values(), default=0))

    @property
    def rss_sum_mb(self) -> float:
        """Sum of per-process peak RSS: over-counts shared buffers."""
        return self._mb(sum(self.rss_peaks.values()))

    @property
    def private_sum_mb(self) -> float:
        """Sum of per-process peak private memory."""
        return self._mb(sum(self.private_peaks.values()))


def postmaster_pid(connection: database.Connection) -> int | None:
    """The server's main process (the parent of our backend), when it runs on this machine."""
    with connection.connect() as conn:  # read while our backend is alive: it exits with the connection
        row = conn.execute("select pg_backend_pid()").fetchone()
        try:
            with open(f"/proc/{int(str(row[0])) if row else 0}/stat") as stat:
                return int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return None


def megabytes(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.0f} MB"


def own_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --------------------------------------------------------------------------- fills


def load_streamed(connection: database.Connection, source: str, rows: Iterable[loader.Row]) -> int:
    """Load rows chunk by chunk (the first chunk replaces the table); returns the rows loaded."""
    iterator, loaded, first = iter(rows), 0, True
    while chunk := list(islice(iterator, LOAD_CHUNK_ROWS)):
        loader.load_rows(connection, source, chunk, replace=first)
        loaded, first = loaded + len(chunk), False
    return loaded


def fill_row(order_id: str, symbol: str, side: str, at: datetime, price: float, rng: random.Random) -> loader.Row:
    """A filled order as the bot writes it, in the loader's shape (like synthetic_rows)."""
    size = rng.choice(NOTIONALS_USD) * rng.uniform(0.9, 1.1) / price
    row: loader.Row = dict.fromkeys(loader.COLUMNS)
    row.update(
        order_id=order_id, symbol=symbol, side=side, order_time=at, price=price, size=size,
        total_fees_usd=price * size * 0.004, status="filled", source="synthetic",
    )
    return row


def spread(symbols: Sequence[str], count: int, offset: int = 0) -> list[str]:
    """``count`` symbols spread evenly over the sorted list, starting ``offset`` places in."""
    count = min(count, len(symbols))
    return [symbols[(offset + i * len(symbols) // count) % len(symbols)] for i in range(count)]


def appended_fills(
    conn: PgConnection, fills: sql.Composable, symbols: Sequence[str],
    rng: random.Random, tag: str,
) -> list[loader.Row]:
    """BATCH_FILLS new fills after the last fill of each of ``symbols``, round robin."""
    last = conn.execute(
        sql.SQL("select distinct on (symbol) symbol, order_time, price from {} where symbol = any(%s)"
                " order by symbol, order_time desc").format(fills),
        (list(symbols),),
    ).fetchall()
    state: dict[str, tuple[datetime, float]] = {str(s): (t, float(p)) for s, t, p in last}
    rows = []
    for n in range(BATCH_FILLS):
        symbol = symbols[n % len(symbols)]
        at, price = state[symbol]
        at, price = at + timedelta(seconds=rng.randint(1, 600)), price * rng.uniform(0.99, 1.01)
        state[symbol] = (at, price)
        rows.append(fill_row(f"{symbol}-{tag}-{n:06d}", symbol, rng.choice(("buy", "sell")), at, price, rng))
    return rows


def late_fills(
    conn: PgConnection, fills: sql.Composable, symbols: Sequence[str],
    rng: random.Random, tag: str,
) -> list[loader.Row]:
    """BATCH_FILLS fills stamped in the past: each a little before a random existing fill of its symbol."""
    history: dict[str, list[tuple[datetime, float]]] = {}
    for symbol, at, price in conn.execute(
        sql.SQL("select symbol, order_time, price from {} where symbol = any(%s)").format(fills), (list(symbols),)
    ):
        history.setdefault(str(symbol), []).append((at, float(price)))
    rows = []
    for n in range(BATCH_FILLS):
        symbol = symbols[n % len(symbols)]
        at, price = rng.choice(history[symbol])
        at -= timedelta(seconds=rng.randint(1, 600))
        rows.append(fill_row(f"{symbol}-{tag}-{n:06d}", symbol, rng.choice(("buy", "sell")), at, price, rng))
    return rows


# --------------------------------------------------------------------------- the Python FIFO


@dataclass(slots=True)
class Lot:
    order_id: str
    time: datetime
    size: Decimal
    price: Decimal
    fees: Decimal
    remaining: Decimal


def fifo_allocations(fills: Iterable[Row]) -> Iterator[tuple[object, ...]]:
    """The bot's kind of FIFO: fills (FILL_COLUMNS) in FIFO order, grouped by symbol;
    per symbol a deque of open lots, each sell takes from the front; an oversold
    remainder is an unmatched piece. Yields rows of ALLOCATION_COLUMNS."""
    lots: deque[Lot] = deque()
    current = None
    for symbol, order_id, side, at, size, price, fees in fills:
        if symbol != current:
            lots.clear()
            current = symbol
        if side == "buy":
            lots.append(Lot(order_id, at, size, price, fees, size))
            continue
        need = size
        sell_fees_per_unit = fees / size
        while need > 0 and lots:
            lot = lots[0]
            take = min(need, lot.remaining)
            cost = lot.price * take + lot.fees * take / lot.size
            proceeds = price * take
            net = proceeds - fees * take / size
            yield (
                symbol, order_id, lot.order_id, take, lot.price, price, lot.fees / lot.size, sell_fees_per_unit,
                cost, proceeds, net, net - cost, lot.time, at, ALLOCATION_VERSION,
            )
            need -= take
            lot.remaining -= take
            if lot.remaining == 0:
                lots.popleft()
        if need > 0:
            proceeds = price * need
            net = proceeds - fees * need / size
            yield (
                symbol, order_id, None, need, None, price, None, sell_fees_per_unit,
                None, proceeds, net, None, None, at, ALLOCATION_VERSION,
            )


@dataclass
class PythonFifo:
    seconds: float
    allocations: int
    fills: int
    symbols: list[str] = field(default_factory=list)


def row_by_row_fifo(
    connection: database.Connection, fills: sql.Composable, out: sql.Composable, symbols: Sequence[str]
) -> PythonFifo:
    """(f): per symbol one query, the Decimal loop, one INSERT per allocation, one commit at the end."""
    insert = sql.SQL("insert into {} ({}) values ({})").format(
        out, sql.SQL(", ").join(map(sql.Identifier, ALLOCATION_COLUMNS)),
        sql.SQL(", ").join(sql.Placeholder() * len(ALLOCATION_COLUMNS)),
    )
    select = sql.SQL("select {} from {} where symbol = %s order by {}").format(
        sql.SQL(FILL_COLUMNS), fills, sql.SQL(FIFO_ORDER)
    )
    allocations = n_fills = 0
    with connection.connect() as conn:
        conn.execute(sql.SQL("truncate {}").format(out))
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur:
            for symbol in symbols:
                rows = cur.execute(select, (symbol,)).fetchall()
                n_fills += len(rows)
                for allocation in fifo_allocations(rows):
                    cur.execute(insert, allocation)
                    allocations += 1
        conn.commit()
        seconds = time.perf_counter() - started
    return PythonFifo(seconds, allocations, n_fills, list(symbols))


def bulk_fifo(connection: database.Connection, fills: sql.Composable, out: sql.Composable) -> PythonFifo:
    """(f'): one COPY out of all fills in FIFO order, the same loop, one COPY in of all
    allocations (on a second connection, streaming: memory stays one symbol's lots)."""
    copy_out = sql.SQL("copy (select {} from {} order by symbol, {}) to stdout").format(
        sql.SQL(FILL_COLUMNS), fills, sql.SQL(FIFO_ORDER)
    )
    copy_in = sql.SQL("copy {} ({}) from stdin").format(
        out, sql.SQL(", ").join(map(sql.Identifier, ALLOCATION_COLUMNS))
    )
    allocations = n_fills = 0
    with connection.connect() as reader, connection.connect() as writer:
        writer.execute(sql.SQL("truncate {}").format(out))
        writer.commit()
        started = time.perf_counter()
        with reader.cursor() as rcur, writer.cursor() as wcur:
            with rcur.copy(copy_out) as source, wcur.copy(copy_in) as sink:
                source.set_types(["text", "text", "text", "timestamptz", "numeric", "numeric", "numeric"])

                def counted() -> Iterator[Row]:
                    nonlocal n_fills
                    for row in source.rows():
                        n_fills += 1
                        yield row

                for allocation in fifo_allocations(counted()):
                    sink.write_row(allocation)
                    allocations += 1
        writer.commit()
        reader.commit()
        seconds = time.perf_counter() - started
    return PythonFifo(seconds, allocations, n_fills)


# --------------------------------------------------------------------------- main


@dataclass
class Results:
    """Every figure of a run, in CSV column order (seconds unless named otherwise)."""

    values: dict[str, object] = field(default_factory=dict)

    def __setitem__(self, key: str, value: object) -> None:
        self.values[key] = value

    def __getitem__(self, key: str) -> float:
        value = self.values[key]
        assert isinstance(value, (int, float))
        return float(value)


def write_csv(path: Path, values: dict[str, object]) -> Path:
    """Append one row; a file with other columns (an older bench) is left alone for a dated sibling."""
    header = list(values)
    if path.exists() and path.stat().st_size > 0:
        with path.open(newline="") as existing:
            if next(csv.reader(existing), None) != header:
                path = path.with_name(f"{path.stem}-{datetime.now(UTC):%Y%m%dT%H%M%S}{path.suffix}")
    new = not path.exists() or path.stat().st_size == 0
    with path.open("a", newline="") as out:
        writer = csv.writer(out)
        if new:
            writer.writerow(header)
        writer.writerow([f"{v:.3f}" if isinstance(v, float) else v for v in values.values()])
    return path


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--size", choices=sorted(SIZES), default="default",
        help="default: 1,000,000 fills over 200 symbols; large: 10,000,000 over 1,000; quick: 20,000 over 20",
    )
    parser.add_argument("--quick", action="store_true", help="same as --size quick (a smoke run)")
    parser.add_argument("--fills", type=int, help="number of fills (overrides --size)")
    parser.add_argument("--symbols", type=int, help="number of symbols (overrides --size)")
    parser.add_argument("--row-by-row-limit-symbols", type=int, metavar="K",
                        help="run (f) on K symbols only and extrapolate linearly by fill count")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-run", action="store_true",
                        help="skip (e), the scheduled runs (three whole runs: long at 10M fills)")
    parser.add_argument(
        "--schema", default="bench",
        help="target schema; the source is <schema>_raw, scratch tables <schema>_scratch, (e) <schema>_run",
    )
    parser.add_argument("--csv", type=Path, default=project_dir() / "bench_results.csv", help="CSV to append a row to")
    args = parser.parse_args()
    if args.quick:
        args.size = "quick"
    default_fills, default_symbols = SIZES[args.size]
    args.fills = args.fills or default_fills
    args.symbols = args.symbols or default_symbols
    return args


def main() -> None:
    args = parse_args()
    connection = database.resolve_connection()
    source, target = f"{args.schema}_raw", args.schema
    staging_fills = sql.Identifier(f"{target}_staging", "stg_trading_bot__fills")
    allocations_table = sql.Identifier(f"{target}_intermediate", "int_fifo_allocations")
    scratch = f"{args.schema}_scratch"
    scratch_fills = sql.Identifier(scratch, "fifo_fills")
    scratch_allocations = sql.Identifier(scratch, "python_fifo_allocations")
    rng = random.Random(args.seed)
    r = Results()
    r["timestamp"] = datetime.now(UTC).isoformat(timespec="seconds")
    r["fills"], r["symbols"] = args.fills, args.symbols
    print(f"database: {connection.describe()}; {os.cpu_count()} CPUs")
    print(f"{args.fills:,} fills over {args.symbols:,} symbols, seed {args.seed}", flush=True)

    # ---- setup: generate (streamed), load, staging
    started = time.perf_counter()
    load_streamed(connection, source, synthetic_rows(args.fills, args.symbols, seed=args.seed))
    r["load_s"] = time.perf_counter() - started
    show("generate + load (COPY + upsert, chunks of 100,000)", r["load_s"])
    dbt_invoke.apply_environment(connection, source_schema=source, target_schema=target)
    staging = staging_build()
    r["staging_s"] = staging.total
    show("staging build (sum of node times)", staging.total, f"wall {staging.wall:.2f} s")

    # ---- (a) full build, with (g) the server's memory
    print("(a) full build of the FIFO models (--full-refresh)", flush=True)
    r["settled"] = settle_writes(connection, args.schema)
    with ServerMemorySampler(postmaster_pid(connection)) as memory:
        full = fifo_build(full_refresh=True)
    show_nodes(full)
    r["a_s"], r["a_wall_s"] = full.total, full.wall
    for name in FIFO_MODELS:
        r[f"a_{name}_s"] = full.nodes.get(name, float("nan"))
    show("(a) sum of node times", full.total, f"wall {full.wall:.2f} s")

    with connection.connect() as conn:
        conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(scratch)))
        conn.commit()
        # ---- (b) the floor
        r["b_s"], _ = timed_create_table(
            connection, args.schema, sql.Identifier(scratch, "window_floor"),
            sql.SQL(FLOOR).format(order=FLOOR_ORDER, fills=staging_fills),
        )
        # Scratch tables for the Python FIFO (untimed): the fills as the bot's
        # table holds them, indexed by symbol, and an allocation table like the bot's.
        conn.execute(sql.SQL("drop table if exists {}, {}").format(scratch_fills, scratch_allocations))
        conn.execute(sql.SQL("create table {} as select {} from {}").format(
            scratch_fills, sql.SQL(FILL_COLUMNS), staging_fills))
        conn.execute(sql.SQL("create index on {} (symbol, order_time)").format(scratch_fills))
        conn.execute(sql.SQL("analyze {}").format(scratch_fills))
        conn.execute(sql.SQL(
            "create table {} (allocation_id bigint generated always as identity primary key, symbol text,"
            " sell_order_id text, buy_order_id text, allocated_size numeric, buy_price numeric, sell_price numeric,"
            " buy_fees_per_unit numeric, sell_fees_per_unit numeric, cost_basis_usd numeric, proceeds_usd numeric,"
            " net_proceeds_usd numeric, pnl_usd numeric, buy_time timestamptz, sell_time timestamptz,"
            " allocation_version integer)").format(scratch_allocations))
        fills_per_symbol = {str(s): int(str(n)) for s, n in conn.execute(
            sql.SQL("select symbol, count(*) from {} group by symbol order by symbol").format(scratch_fills))}
        symbols = list(fills_per_symbol)
        sql_counts = {str(s): int(str(n)) for s, n in conn.execute(
            sql.SQL("select symbol, count(*) from {} group by symbol").format(allocations_table))}
        conn.commit()
    r["allocations"] = sum(sql_counts.values())
    show("(b) floor: one window running sum over the fills", r["b_s"])
    r["b_write_s"], written_rows = write_floor(connection, target, scratch)
    show(f"(b') write floor: copying the FIFO models' {written_rows:,} stored rows", r["b_write_s"])
    r["b_skeleton_s"], _ = timed_create_table(
        connection, args.schema, sql.Identifier(scratch, "method_skeleton"),
        sql.SQL(SKELETON).format(order=FLOOR_ORDER, fills=staging_fills),
    )
    show("(b'') the method's skeleton: sorts and windows, pieces' keys only", r["b_skeleton_s"])
    print(f"  allocations (fct_fifo_allocations): {r['allocations']:,.0f}", flush=True)

    # ---- (f) row by row, maybe on K symbols and extrapolated
    measured = symbols[: args.row_by_row_limit_symbols] if args.row_by_row_limit_symbols else symbols
    print(f"(f) row-by-row Python FIFO on {len(measured)} of {len(symbols)} symbols", flush=True)
    settle_writes(connection, args.schema)
    rows_fifo = row_by_row_fifo(connection, scratch_fills, scratch_allocations, measured)
    extrapolated = len(measured) < len(symbols)
    total_fills = sum(fills_per_symbol.values())
    r["f_s"] = rows_fifo.seconds * total_fills / rows_fifo.fills if extrapolated else rows_fifo.seconds
    r["f_extrapolated"] = extrapolated
    r["f_measured_symbols"], r["f_measured_fills"] = len(measured), rows_fifo.fills
    r["f_measured_s"] = rows_fifo.seconds
    expected = sum(sql_counts.get(s, 0) for s in measured)
    if rows_fifo.allocations != expected:
        print(f"  WARNING: (f) made {rows_fifo.allocations:,} allocations, the SQL model {expected:,}")
    if extrapolated:
        show(f"measured on {len(measured)} symbols ({rows_fifo.fills:,} fills)", rows_fifo.seconds)
        show(f"(f) EXTRAPOLATED linearly to {total_fills:,} fills", r["f_s"], "(extrapolated, not measured)")
    else:
        show("(f) row-by-row Python FIFO (query per symbol, INSERT per row)", r["f_s"])

    # ---- (f') bulk
    settle_writes(connection, args.schema)
    bulk = bulk_fifo(connection, scratch_fills, scratch_allocations)
    r["f_bulk_s"] = bulk.seconds
    if bulk.allocations != r["allocations"]:
        print(f"  WARNING: (f') made {bulk.allocations:,} allocations, the SQL model {r['allocations']:,.0f}")
    show("(f') Python FIFO with one COPY out and one COPY in", bulk.seconds)

    # ---- (c) new fills at the end of 10 symbols, (d) late fills over 50
    for key, label, make, chosen in (
        ("c", f"{BATCH_FILLS:,} new fills at the end of", appended_fills, spread(symbols, APPENDED_SYMBOLS)),
        ("d", f"{BATCH_FILLS:,} late fills over", late_fills, spread(symbols, LATE_SYMBOLS, offset=1)),
    ):
        print(f"({key}) incremental build after {label} {len(chosen)} symbols", flush=True)
        with connection.connect() as conn:
            batch = make(conn, staging_fills, chosen, rng, key)
        started = time.perf_counter()
        loader.load_rows(connection, source, batch, replace=False)
        show("load (replace=False)", time.perf_counter() - started)
        staging = staging_build()
        r[f"{key}_staging_s"] = staging.total
        show("staging rebuild (sum of node times)", staging.total, f"wall {staging.wall:.2f} s")
        settle_writes(connection, args.schema)
        incremental = fifo_build(full_refresh=False)
        show_nodes(incremental)
        r[f"{key}_s"], r[f"{key}_wall_s"] = incremental.total, incremental.wall
        show(f"({key}) FIFO models, sum of node times", incremental.total, f"wall {incremental.wall:.2f} s")

    # ---- (e) the scheduled run, after a first publication
    run_target, run_path = f"{args.schema}_run", state_dir() / "bench-run-target"

    def scheduled() -> tuple[float, scheduler.RunReport]:
        quiet = os.environ.get("DBT_QUIET")
        os.environ["DBT_QUIET"] = "true"  # the run's `dbt build` logs every node otherwise (as cron sees it)
        try:
            started = time.perf_counter()
            report = scheduler.scheduled_run(
                connection, source_schema=source, target_schema=run_target, target_path=run_path,
                say=lambda line: print(f"  scheduler: {line}"),
            )
            seconds = time.perf_counter() - started
        finally:
            if quiet is None:
                del os.environ["DBT_QUIET"]
            else:
                os.environ["DBT_QUIET"] = quiet
        if report.exit_code != scheduler.EXIT_OK:
            print(f"  WARNING: scheduled run exited {report.exit_code}: {report.message}; {report.failures}")
        return seconds, report

    if args.skip_run:
        print("(e) skipped (--skip-run)", flush=True)
        r["e_first_s"] = r["e_second_s"] = r["e_s"] = float("nan")
        r["e_ok"] = False
    else:
        print(f"(e) scheduled run into {run_target}_* (two runs publish, then {BATCH_FILLS:,} new fills)", flush=True)
        # The first run builds from nothing; the second too, but its swap keeps
        # the first copy as the spare every later run builds on (cron's steady state).
        r["e_first_s"], _ = scheduled()
        show("first scheduled run (nothing live yet; not in the ratios)", r["e_first_s"])
        r["e_second_s"], _ = scheduled()
        show("second scheduled run (no spare copy yet; not in the ratios)", r["e_second_s"])
        with connection.connect() as conn:
            batch = appended_fills(conn, staging_fills, spread(symbols, APPENDED_SYMBOLS, offset=2), rng, "e")
        loader.load_rows(connection, source, batch, replace=False)
        settle_writes(connection, args.schema)
        r["e_s"], report = scheduled()
        r["e_ok"] = report.exit_code == scheduler.EXIT_OK
        show("(e) scheduled run after new fills (wall)", r["e_s"], report.message)
        show_slowest_nodes(run_path / "run_results.json")
    dbt_invoke.apply_environment(connection, source_schema=source, target_schema=target)

    # ---- (g) memory
    r["g_pg_peak_rss_max_mb"], r["g_pg_peak_rss_sum_mb"] = memory.rss_max_mb, memory.rss_sum_mb
    r["g_pg_peak_private_sum_mb"] = memory.private_sum_mb
    r["g_pg_method"] = memory.method
    r["g_bench_peak_rss_mb"] = own_peak_mb()

    # ---- ratios and summary
    r["a_over_b"] = r["a_s"] / r["b_s"]
    r["b_write_over_b"] = r["b_write_s"] / r["b_s"]
    r["a_over_b_write"] = r["a_s"] / r["b_write_s"]
    r["b_skeleton_over_b"] = r["b_skeleton_s"] / r["b_s"]
    r["c_over_a"] = r["c_s"] / r["a_s"]
    r["d_over_a"] = r["d_s"] / r["a_s"]
    r["e_over_a"] = r["e_s"] / r["a_wall_s"]
    r["f_over_a"] = r["f_s"] / r["a_wall_s"]
    r["f_bulk_over_a"] = r["f_bulk_s"] / r["a_wall_s"]
    # Like for like: the Python loops compute and write the allocations alone.
    r["f_bulk_over_allocations"] = r["f_bulk_s"] / r["a_int_fifo_allocations_s"]
    r["cpu_count"] = os.cpu_count() or 0

    f_note = f"EXTRAPOLATED from {len(measured)} symbols" if extrapolated else "measured"
    print()
    print(f"Summary: {args.fills:,} fills over {args.symbols:,} symbols, {r['allocations']:,.0f} allocations, "
          f"{os.cpu_count()} CPUs (targets are for reference only)")
    appended, late = min(APPENDED_SYMBOLS, len(symbols)), min(LATE_SYMBOLS, len(symbols))
    lines: list[tuple[str, str, str]] = [
        ("(a) full build, sum of node times", f"{r['a_s']:.2f} s", ""),
        ("(a) full build, wall", f"{r['a_wall_s']:.2f} s", ""),
        ("(b) floor", f"{r['b_s']:.2f} s", ""),
        ("(b') write floor: copying the stored rows of the FIFO models", f"{r['b_write_s']:.2f} s", ""),
        ("(b'') the method's skeleton (sorts and windows, pieces' keys only)", f"{r['b_skeleton_s']:.2f} s", ""),
        (f"(c) incremental, {BATCH_FILLS:,} new fills / {appended} symbols", f"{r['c_s']:.2f} s",
         f"<= {0.05 * r['a_s']:.2f} s (5% of a)"),
        ("    staging rebuild before (c)", f"{r['c_staging_s']:.2f} s", ""),
        (f"(d) incremental, {BATCH_FILLS:,} late fills / {late} symbols", f"{r['d_s']:.2f} s", ""),
        ("    staging rebuild before (d)", f"{r['d_staging_s']:.2f} s", ""),
        ("(e) scheduled run, wall", f"{r['e_s']:.2f} s", "< 15 s at 1M fills"),
        ("(f) row-by-row Python FIFO", f"{r['f_s']:.2f} s", f_note),
        ("(f') Python FIFO, COPY out/in", f"{r['f_bulk_s']:.2f} s", ""),
        ("(g) PostgreSQL peak RSS during (a), largest process", megabytes(r['g_pg_peak_rss_max_mb']), memory.method),
        ("(g) PostgreSQL peak RSS during (a), sum of per-process peaks", megabytes(r['g_pg_peak_rss_sum_mb']),
         "over-counts shared buffers"),
        ("(g) PostgreSQL peak private memory during (a), sum of per-process peaks",
         megabytes(r['g_pg_peak_private_sum_mb']), "RSS less shared pages"),
        ("(g) bench process peak RSS", f"{r['g_bench_peak_rss_mb']:.0f} MB", "getrusage ru_maxrss"),
        ("(a)/(b)   [node times]", f"{r['a_over_b']:.2f}", "target <= 2.5"),
        ("(b')/(b)  writing alone, against the floor", f"{r['b_write_over_b']:.2f}", ""),
        ("(a)/(b')  [node times] the computation's cost over writing alone", f"{r['a_over_b_write']:.2f}", ""),
        ("(b'')/(b) the skeleton alone, against the floor", f"{r['b_skeleton_over_b']:.2f}", ""),
        ("(c)/(a)   [node times]", f"{r['c_over_a']:.3f}", "target <= 0.05"),
        ("(d)/(a)   [node times]", f"{r['d_over_a']:.3f}", ""),
        ("(e)/(a)   [walls]", f"{r['e_over_a']:.2f}", ""),
        ("(f)/(a)   [walls]", f"{r['f_over_a']:.2f}", "target >= 10" + (" (f extrapolated)" if extrapolated else "")),
        ("(f')/(a)  [walls]", f"{r['f_bulk_over_a']:.2f}", "target >= 2"),
        ("(f')/int_fifo_allocations alone (what the loop computes and writes)",
         f"{r['f_bulk_over_allocations']:.2f}", ""),
    ]
    for label, value, target_note in lines:
        print(f"  {label:<72} {value:>10}   {target_note}")
    written = write_csv(args.csv, r.values)
    print(f"appended a row to {written}")


if __name__ == "__main__":
    main()
