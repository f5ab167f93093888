"""What the dashboard reads: typed rows from the contracted marts, and the scheduler's run_history.

Nothing here imports Streamlit, and nothing reads staging or the raw table:
every query names a relation of ``<target>_marts`` (listed per page in
``PAGE_MARTS``, which the dbt exposures mirror) except ``run_history``, the
ops table that ``trades-warehouse run`` writes in ``<target>_ops``. Numbers
stay ``Decimal`` as PostgreSQL returns them; formatting is the pages' job.

Periods: the marts define four fixed windows (``report_windows``: 1d, 7d,
30d, all, each ending at ``as_of``). A custom period is a range of UTC days
inside the history; sums over it come from ``daily_pnl`` and
``daily_symbol_pnl``, and the figures the marts define only per fixed window
(Sharpe, Sortino, maximum drawdown) are left undefined for it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql

from trades_warehouse import database, ratios
from trades_warehouse.database import ConnectionSettings
from trades_warehouse.values import as_int as _int
from trades_warehouse.values import dec as _dec
from trades_warehouse.values import opt_dec as _opt_dec

# The marts each page reads (the dbt exposures in
# models/marts/reporting/_reporting__exposures.yml list the same).
PAGE_MARTS: dict[str, tuple[str, ...]] = {
    "overview": (
        "report_windows",
        "performance_metrics",
        "daily_pnl",
        "equity_curve",
        "symbol_performance",
        "daily_symbol_pnl",
    ),
    "symbols": (
        "symbol_performance",
        "daily_symbol_pnl",
        "fct_fills",
        "fct_fifo_allocations",
        "fct_buy_lots",
    ),
    "triggers_sources": ("trigger_performance", "source_performance"),
    "data_health": (
        "allocation_health",
        "fct_fills",
        "quarantine_samples",
        "legacy_pnl_discrepancy",
        "legacy_pnl_discrepancy_by_symbol",
    ),
}
ALL_MARTS: tuple[str, ...] = tuple(sorted({name for names in PAGE_MARTS.values() for name in names}))
FIXED_WINDOWS: tuple[str, ...] = ("1d", "7d", "30d", "all")
ROW_LIMIT = 1000  # rows of a detail table (fills, allocations, discrepancies)

BUILD_COMMAND = "trades-warehouse build"
DEMO_COMMAND = "trades-warehouse demo"
LOAD_COMMAND = "trades-warehouse load FILE"
START_COMMAND = "trades-warehouse start"
RUN_COMMAND = "trades-warehouse run"

Conn = psycopg.Connection[tuple[Any, ...]]


class DashboardError(RuntimeError):
    """Something the user fixes with a command; ``command`` names it."""

    def __init__(self, message: str, command: str) -> None:
        super().__init__(message)
        self.command = command


class MissingMartsError(DashboardError):
    def __init__(self, schema: str, missing: Sequence[str]) -> None:
        self.schema = schema
        self.missing = tuple(missing)
        super().__init__(
            f"the marts {', '.join(self.missing)} are not built in schema {schema}", BUILD_COMMAND
        )


@dataclass(frozen=True)
class Target:
    """Where the dashboard reads: a database and the warehouse's target schema."""

    connection: ConnectionSettings
    target_schema: str

    @property
    def marts_schema(self) -> str:
        return f"{self.target_schema}_marts"

    @property
    def ops_schema(self) -> str:
        return f"{self.target_schema}_ops"

    def describe(self) -> str:
        return f"schema {self.marts_schema} on {self.connection.describe()}"


def target_from_environment() -> Target:
    """The same settings as every other command: PG* when PGHOST is set, else the running embedded server."""
    try:
        connection = database.resolve_connection(start=False)
    except database.ServerError as exc:
        raise DashboardError(str(exc), START_COMMAND) from exc
    return Target(connection, os.environ.get("TRADES_TARGET_SCHEMA", "analytics"))


@contextmanager
def _reading(target: Target) -> Iterator[Conn]:
    try:
        conn = target.connection.connect()
    except database.ServerError as exc:
        raise DashboardError(str(exc), START_COMMAND) from exc
    with conn:
        conn.read_only = True
        conn.execute("set time zone 'UTC'")
        yield conn


def _rows(conn: Conn, query: sql.Composed | sql.SQL, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
    return conn.execute(query, params).fetchall()


def _m(target: Target, relation: str) -> sql.Identifier:
    return sql.Identifier(target.marts_schema, relation)


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC)


# --------------------------------------------------------------------------- status and periods


@dataclass(frozen=True)
class Window:
    """One row of report_windows."""

    name: str
    start_date: date | None
    end_date: date | None
    start_at: datetime | None
    end_at: datetime | None  # as_of


@dataclass(frozen=True)
class WarehouseStatus:
    as_of: datetime | None  # None: no fills
    windows: tuple[Window, ...]
    symbols: tuple[str, ...]

    @property
    def first_day(self) -> date | None:
        return next((w.start_date for w in self.windows if w.name == "all"), None)

    @property
    def last_day(self) -> date | None:
        return next((w.end_date for w in self.windows if w.name == "all"), None)


def missing_marts(target: Target, names: Sequence[str] = ALL_MARTS) -> tuple[str, ...]:
    with _reading(target) as conn:
        missing = []
        for name in names:
            found = _rows(conn, sql.SQL("select to_regclass(%s)"), (_m(target, name).as_string(conn),))
            if not found or found[0][0] is None:
                missing.append(name)
    return tuple(missing)


def warehouse_status(target: Target) -> WarehouseStatus:
    """The windows, the symbols and as_of; MissingMartsError when a mart is not built."""
    missing = missing_marts(target)
    if missing:
        raise MissingMartsError(target.marts_schema, missing)
    with _reading(target) as conn:
        windows = tuple(
            Window(str(r[0]), r[1], r[2], r[3], r[4])
            for r in _rows(
                conn,
                sql.SQL(
                    "select window_name, start_date, end_date, window_start_at, window_end_at"
                    " from {} order by window_order"
                ).format(_m(target, "report_windows")),
            )
        )
        symbols = tuple(
            str(r[0])
            for r in _rows(
                conn,
                sql.SQL("select symbol from {} where window_name = 'all' order by symbol").format(
                    _m(target, "symbol_performance")
                ),
            )
        )
    as_of = next((w.end_at for w in windows if w.name == "all"), None)
    return WarehouseStatus(as_of, windows, symbols)


@dataclass(frozen=True)
class Period:
    """The days a page shows: a fixed window of the marts, or a custom range of UTC days."""

    window_name: str | None  # None: custom range
    start_date: date
    end_date: date
    start_at: datetime  # inclusive
    end_before: datetime  # exclusive; never past as_of

    @property
    def label(self) -> str:
        span = f"{self.start_date.isoformat()} to {self.end_date.isoformat()}"
        return f"window {self.window_name} ({span})" if self.window_name else f"custom range {span}"


def fixed_period(status: WarehouseStatus, window_name: str) -> Period:
    window = next((w for w in status.windows if w.name == window_name), None)
    if window is None or window.start_date is None or window.end_date is None or status.as_of is None:
        raise ValueError(f"window {window_name} has no days")
    return Period(
        window_name,
        window.start_date,
        window.end_date,
        _midnight(window.start_date),
        status.as_of + timedelta(microseconds=1),
    )


def custom_period(status: WarehouseStatus, start: date, end: date) -> Period:
    """A range of UTC days, clipped to the history (first fill's day to as_of)."""
    first, last = status.first_day, status.last_day
    if first is None or last is None or status.as_of is None:
        raise ValueError("the warehouse has no fills")
    start, end = max(start, first), min(end, last)
    if end < start:
        start, end = end, start
    end_before = min(_midnight(end + timedelta(days=1)), status.as_of + timedelta(microseconds=1))
    return Period(None, start, end, _midnight(start), end_before)


# --------------------------------------------------------------------------- overview


@dataclass(frozen=True)
class Headline:
    """The headline figures of a period, for the account or one symbol."""

    symbol: str | None
    period: Period
    realized_pnl_usd: Decimal
    fees_usd: Decimal
    trades: int
    wins: int
    losses: int
    win_rate: Decimal | None
    profit_factor: Decimal | None
    # Defined by the marts per fixed window and for the account only.
    sharpe_daily: Decimal | None
    sortino_daily: Decimal | None
    max_drawdown_usd: Decimal | None
    max_drawdown_pct: Decimal | None


def headline(target: Target, period: Period, symbol: str | None = None) -> Headline:
    with _reading(target) as conn:
        if symbol is None and period.window_name is not None:
            row = _rows(
                conn,
                sql.SQL(
                    "select realized_pnl_usd, fees_usd, trades, wins, losses, win_rate, profit_factor,"
                    " sharpe_daily, sortino_daily, max_drawdown_usd, max_drawdown_pct"
                    " from {} where window_name = %s"
                ).format(_m(target, "performance_metrics")),
                (period.window_name,),
            )
            r = row[0] if row else (None,) * 11
            return Headline(
                None, period, _dec(r[0]), _dec(r[1]), _int(r[2]), _int(r[3]), _int(r[4]),
                _opt_dec(r[5]), _opt_dec(r[6]), _opt_dec(r[7]), _opt_dec(r[8]), _opt_dec(r[9]), _opt_dec(r[10]),
            )
        if symbol is not None and period.window_name is not None:
            row = _rows(
                conn,
                sql.SQL(
                    "select realized_pnl_usd, fees_usd, trades, wins, losses, win_rate, profit_factor"
                    " from {} where window_name = %s and symbol = %s"
                ).format(_m(target, "symbol_performance")),
                (period.window_name, symbol),
            )
            r = row[0] if row else (None,) * 7
            return Headline(
                symbol, period, _dec(r[0]), _dec(r[1]), _int(r[2]), _int(r[3]), _int(r[4]),
                _opt_dec(r[5]), _opt_dec(r[6]), None, None, None, None,
            )
        # A custom range: sums of the daily marts over its days, and the ratios with the marts' own
        # formulas (the win_rate and profit_factor macros, rounded as the marts round them).
        if symbol is None:
            query = sql.SQL(
                "select sum(realized_pnl_usd), sum(fees_usd), sum(trades), sum(wins), sum(losses),"
                " {win_rate}, {profit_factor} from {daily} where date_day between %s and %s"
            ).format(
                win_rate=ratios.win_rate("sum(wins)", "sum(trades)"),
                profit_factor=ratios.profit_factor("sum(gross_profit_usd)", "sum(gross_loss_usd)"),
                daily=_m(target, "daily_pnl"),
            )
            params: tuple[object, ...] = (period.start_date, period.end_date)
        else:
            query = sql.SQL(
                "select sum(realized_pnl_usd), sum(fees_usd), sum(trades), sum(wins), sum(losses), {win_rate}, null"
                " from {daily} where date_day between %s and %s and symbol = %s"
            ).format(win_rate=ratios.win_rate("sum(wins)", "sum(trades)"), daily=_m(target, "daily_symbol_pnl"))
            params = (period.start_date, period.end_date, symbol)
        r = _rows(conn, query, params)[0]
    return Headline(
        symbol, period, _dec(r[0]), _dec(r[1]), _int(r[2]), _int(r[3]), _int(r[4]),
        _opt_dec(r[5]), _opt_dec(r[6]), None, None, None, None,
    )


@dataclass(frozen=True)
class DailyRow:
    day: date
    realized_pnl_usd: Decimal
    fees_usd: Decimal
    trades: int
    wins: int
    losses: int
    cumulative_pnl_usd: Decimal  # all realized P&L up to and including the day (of the symbol, or the account)


def daily(target: Target, period: Period, symbol: str | None = None) -> tuple[DailyRow, ...]:
    with _reading(target) as conn:
        if symbol is None:
            rows = _rows(
                conn,
                sql.SQL(
                    "select date_day, realized_pnl_usd, fees_usd, trades, wins, losses,"
                    " equity_end_usd - (select equity_start_usd from {daily} order by date_day limit 1)"
                    " from {daily} where date_day between %s and %s order by date_day"
                ).format(daily=_m(target, "daily_pnl")),
                (period.start_date, period.end_date),
            )
        else:
            rows = _rows(
                conn,
                sql.SQL(
                    "select date_day, realized_pnl_usd, fees_usd, trades, wins, losses, cumulative_pnl_usd"
                    " from {} where symbol = %s and date_day between %s and %s order by date_day"
                ).format(_m(target, "daily_symbol_pnl")),
                (symbol, period.start_date, period.end_date),
            )
    return tuple(
        DailyRow(r[0], _dec(r[1]), _dec(r[2]), _int(r[3]), _int(r[4]), _int(r[5]), _dec(r[6])) for r in rows
    )


@dataclass(frozen=True)
class EquityPoint:
    at: datetime
    equity_usd: Decimal
    peak_usd: Decimal
    drawdown_usd: Decimal
    drawdown_pct: Decimal | None
    symbol: str | None  # the sell's; None for the opening point


def equity_curve(target: Target, period: Period) -> tuple[EquityPoint, ...]:
    """The curve's points in the period, opening with the equity the period started from."""
    columns = sql.SQL("sell_time, equity_usd, peak_equity_usd, drawdown_usd, drawdown_pct, symbol")
    curve = _m(target, "equity_curve")
    with _reading(target) as conn:
        before = _rows(
            conn,
            sql.SQL("select {} from {} where sell_time < %s order by trade_seq desc limit 1").format(columns, curve),
            (period.start_at,),
        )
        points = _rows(
            conn,
            sql.SQL("select {} from {} where sell_time >= %s and sell_time < %s order by trade_seq").format(
                columns, curve
            ),
            (period.start_at, period.end_before),
        )
        starting = _rows(
            conn,
            sql.SQL("select equity_start_usd from {} order by date_day limit 1").format(_m(target, "daily_pnl")),
        )
    opening: list[EquityPoint] = []
    if before:
        b = before[0]
        opening = [EquityPoint(period.start_at, _dec(b[1]), _dec(b[2]), _dec(b[3]), _opt_dec(b[4]), None)]
    elif starting and starting[0][0] is not None:
        equity = _dec(starting[0][0])
        opening = [EquityPoint(period.start_at, equity, equity, Decimal(0), Decimal(0), None)]
    return tuple(opening) + tuple(
        EquityPoint(r[0], _dec(r[1]), _dec(r[2]), _dec(r[3]), _opt_dec(r[4]), _opt_str(r[5])) for r in points
    )


# --------------------------------------------------------------------------- symbols


@dataclass(frozen=True)
class LeaderRow:
    rank: int
    symbol: str
    trades: int
    wins: int
    win_rate: Decimal | None
    profit_factor: Decimal | None
    realized_pnl_usd: Decimal
    fees_usd: Decimal
    open_lots: int
    open_size: Decimal
    open_cost_basis_usd: Decimal
    sparkline: tuple[Decimal, ...]  # the symbol's realized P&L accumulated day by day over the period


def leaderboard(target: Target, period: Period) -> tuple[LeaderRow, ...]:
    """Every symbol ranked by realized P&L over the period (symbol_performance for fixed windows)."""
    performance = _m(target, "symbol_performance")
    with _reading(target) as conn:
        if period.window_name is not None:
            rows = _rows(
                conn,
                sql.SQL(
                    "select symbol, trades, wins, win_rate, profit_factor, realized_pnl_usd, fees_usd,"
                    " open_lots, open_size, open_cost_basis_usd from {} where window_name = %s"
                ).format(performance),
                (period.window_name,),
            )
        else:
            rows = _rows(
                conn,
                sql.SQL(
                    "select d.symbol, sum(d.trades), sum(d.wins), {win_rate}, null::numeric,"
                    " sum(d.realized_pnl_usd), sum(d.fees_usd), max(p.open_lots), max(p.open_size),"
                    " max(p.open_cost_basis_usd)"
                    " from {daily} d join {performance} p on p.symbol = d.symbol and p.window_name = 'all'"
                    " where d.date_day between %s and %s group by d.symbol"
                ).format(
                    win_rate=ratios.win_rate("sum(d.wins)", "sum(d.trades)"),
                    daily=_m(target, "daily_symbol_pnl"),
                    performance=performance,
                ),
                (period.start_date, period.end_date),
            )
        sparks = _rows(
            conn,
            sql.SQL(
                "select symbol, sum(realized_pnl_usd) over (partition by symbol order by date_day)"
                " from {} where date_day between %s and %s order by symbol, date_day"
            ).format(_m(target, "daily_symbol_pnl")),
            (period.start_date, period.end_date),
        )
    lines: dict[str, list[Decimal]] = {}
    for symbol, cumulative in sparks:
        lines.setdefault(str(symbol), []).append(_dec(cumulative))
    ordered = sorted(rows, key=lambda r: (-_dec(r[5]), str(r[0])))
    return tuple(
        LeaderRow(
            rank, str(r[0]), _int(r[1]), _int(r[2]), _opt_dec(r[3]), _opt_dec(r[4]), _dec(r[5]), _dec(r[6]),
            _int(r[7]), _dec(r[8]), _dec(r[9]), tuple(lines.get(str(r[0]), ())),
        )
        for rank, r in enumerate(ordered, start=1)
    )


@dataclass(frozen=True)
class Fill:
    order_id: str
    order_time: datetime
    side: str
    size: Decimal
    price: Decimal
    fees_usd: Decimal
    notional_usd: Decimal
    matched_size: Decimal | None
    unmatched_size: Decimal | None
    realized_pnl_usd: Decimal | None
    lots_drawn: int | None
    remaining_size: Decimal | None
    is_open: bool | None
    trigger_name: str | None
    source: str | None
    rows_matching: int  # the rows of the period, counted in SQL before the limit


def fills(target: Target, symbol: str, period: Period, limit: int = ROW_LIMIT) -> tuple[Fill, ...]:
    """The symbol's fills in the period, newest first."""
    with _reading(target) as conn:
        rows = _rows(
            conn,
            sql.SQL(
                "select order_id, order_time, side, size, price, fees_usd, notional_usd, matched_size,"
                " unmatched_size, realized_pnl_usd, lots_drawn, remaining_size, is_open, trigger_name, source,"
                " count(*) over () from {} where symbol = %s and order_time >= %s and order_time < %s"
                " order by order_time desc, order_id limit %s"
            ).format(_m(target, "fct_fills")),
            (symbol, period.start_at, period.end_before, limit),
        )
    sell = [r[2] == "sell" for r in rows]
    return tuple(
        Fill(
            str(r[0]), r[1], str(r[2]), _dec(r[3]), _dec(r[4]), _dec(r[5]), _dec(r[6]),
            _opt_dec(r[7]) if is_sell else None,
            _opt_dec(r[8]) if is_sell else None,
            _opt_dec(r[9]) if is_sell else None,
            (None if r[10] is None else _int(r[10])) if is_sell else None,
            None if is_sell else _opt_dec(r[11]),
            None if is_sell or r[12] is None else bool(r[12]),
            _opt_str(r[13]), _opt_str(r[14]), _int(r[15]),
        )
        for r, is_sell in zip(rows, sell, strict=True)
    )


@dataclass(frozen=True)
class Allocation:
    sell_order_id: str
    buy_order_id: str | None  # None: the unmatched remainder
    sell_time: datetime
    buy_time: datetime | None
    allocated_size: Decimal
    buy_price: Decimal | None
    sell_price: Decimal
    cost_basis_usd: Decimal | None
    net_proceeds_usd: Decimal
    pnl_usd: Decimal | None
    holding_time: timedelta | None
    rows_matching: int  # the allocations of the period, counted in SQL before the limit


def allocations(target: Target, symbol: str, period: Period, limit: int = ROW_LIMIT) -> tuple[Allocation, ...]:
    """FIFO allocations of the symbol's sells in the period, newest sell first, lots in FIFO order."""
    with _reading(target) as conn:
        rows = _rows(
            conn,
            sql.SQL(
                "select sell_order_id, buy_order_id, sell_time, buy_time, allocated_size, buy_price, sell_price,"
                " cost_basis_usd, net_proceeds_usd, pnl_usd, holding_time, count(*) over ()"
                " from {} where symbol = %s and sell_time >= %s and sell_time < %s"
                " order by sell_time desc, sell_order_id, buy_time nulls last, buy_order_id limit %s"
            ).format(_m(target, "fct_fifo_allocations")),
            (symbol, period.start_at, period.end_before, limit),
        )
    return tuple(
        Allocation(
            str(r[0]), _opt_str(r[1]), r[2], r[3], _dec(r[4]), _opt_dec(r[5]), _dec(r[6]), _opt_dec(r[7]),
            _dec(r[8]), _opt_dec(r[9]), r[10], _int(r[11]),
        )
        for r in rows
    )


@dataclass(frozen=True)
class OpenLot:
    buy_order_id: str
    buy_time: datetime
    size: Decimal
    remaining_size: Decimal
    price: Decimal
    open_cost_basis_usd: Decimal
    age: timedelta | None  # at as_of
    trigger_name: str | None
    source: str | None


def open_lots(target: Target, symbol: str) -> tuple[OpenLot, ...]:
    """The symbol's open lots, oldest first, aged at as_of."""
    with _reading(target) as conn:
        rows = _rows(
            conn,
            sql.SQL(
                "select buy_order_id, buy_time, size, remaining_size, price, open_cost_basis_usd, age,"
                " trigger_name, source from {} where symbol = %s and is_open order by buy_time, buy_order_id"
            ).format(_m(target, "fct_buy_lots")),
            (symbol,),
        )
    return tuple(
        OpenLot(str(r[0]), r[1], _dec(r[2]), _dec(r[3]), _dec(r[4]), _dec(r[5]), r[6], _opt_str(r[7]), _opt_str(r[8]))
        for r in rows
    )


@dataclass(frozen=True)
class OpenPosition:
    """A symbol's open lots at as_of, counted and valued by symbol_performance."""

    lots: int
    cost_basis_usd: Decimal


def open_position(target: Target, symbol: str) -> OpenPosition:
    with _reading(target) as conn:
        rows = _rows(
            conn,
            sql.SQL(
                "select open_lots, open_cost_basis_usd from {} where window_name = 'all' and symbol = %s"
            ).format(_m(target, "symbol_performance")),
            (symbol,),
        )
    r = rows[0] if rows else (None, None)
    return OpenPosition(_int(r[0]), _dec(r[1]))


# --------------------------------------------------------------------------- triggers and sources


@dataclass(frozen=True)
class TriggerRow:
    role: str  # entry or exit
    trigger_name: str
    is_inferred: bool
    orders: int
    orders_with_result: int
    wins: int
    losses: int
    breakevens: int
    win_rate: Decimal | None
    realized_pnl_usd: Decimal
    notional_usd: Decimal


def triggers(target: Target) -> tuple[TriggerRow, ...]:
    with _reading(target) as conn:
        rows = _rows(
            conn,
            sql.SQL(
                "select trigger_role, trigger_name, is_inferred, orders, orders_with_result, wins, losses,"
                " breakevens, win_rate, realized_pnl_usd, notional_usd from {}"
                " order by trigger_role, realized_pnl_usd desc, trigger_name, is_inferred"
            ).format(_m(target, "trigger_performance")),
        )
    return tuple(
        TriggerRow(
            str(r[0]), str(r[1]), bool(r[2]), _int(r[3]), _int(r[4]), _int(r[5]), _int(r[6]), _int(r[7]),
            _opt_dec(r[8]), _dec(r[9]), _dec(r[10]),
        )
        for r in rows
    )


@dataclass(frozen=True)
class SourceRow:
    source: str
    buys: int
    sells: int
    trades: int
    wins: int
    losses: int
    bought_usd: Decimal
    sold_usd: Decimal
    fees_usd: Decimal
    realized_pnl_usd: Decimal
    win_rate: Decimal | None  # source_performance's


def sources(target: Target) -> tuple[SourceRow, ...]:
    with _reading(target) as conn:
        rows = _rows(
            conn,
            sql.SQL(
                "select source, buys, sells, trades, wins, losses, bought_usd, sold_usd, fees_usd, realized_pnl_usd,"
                " win_rate from {} order by realized_pnl_usd desc, source"
            ).format(_m(target, "source_performance")),
        )
    return tuple(
        SourceRow(
            str(r[0]), _int(r[1]), _int(r[2]), _int(r[3]), _int(r[4]), _int(r[5]), _dec(r[6]), _dec(r[7]),
            _dec(r[8]), _dec(r[9]), _opt_dec(r[10]),
        )
        for r in rows
    )


# --------------------------------------------------------------------------- data health


@dataclass(frozen=True)
class Check:
    """One row of allocation_health."""

    check_name: str
    category: str | None
    items: int
    size: Decimal | None
    amount_usd: Decimal | None
    check_items: int  # the check's total over all its rows, as the mart computes it
    check_amount_usd: Decimal | None


def health_checks(target: Target) -> tuple[Check, ...]:
    with _reading(target) as conn:
        rows = _rows(
            conn,
            sql.SQL(
                "select check_name, category, items, size, amount_usd, check_items, check_amount_usd"
                " from {} order by check_name, category"
            ).format(_m(target, "allocation_health")),
        )
    return tuple(
        Check(str(r[0]), _opt_str(r[1]), _int(r[2]), _opt_dec(r[3]), _opt_dec(r[4]), _int(r[5]), _opt_dec(r[6]))
        for r in rows
    )


@dataclass(frozen=True)
class UnmatchedSell:
    order_id: str
    symbol: str
    order_time: datetime
    size: Decimal
    unmatched_size: Decimal
    price: Decimal
    source: str | None
    rows_matching: int  # the unmatched sells, counted in SQL before the limit


def unmatched_sells(
    target: Target, as_of: datetime, symbol: str | None = None, limit: int = ROW_LIMIT
) -> tuple[UnmatchedSell, ...]:
    """Sells that inventory could not (fully) cover, up to as_of, newest first."""
    with _reading(target) as conn:
        rows = _rows(
            conn,
            sql.SQL(
                "select order_id, symbol, order_time, size, unmatched_size, price, source, count(*) over () from {}"
                " where side = 'sell' and unmatched_size > 0 and order_time <= %s"
                " and (%s::text is null or symbol = %s) order by order_time desc, order_id limit %s"
            ).format(_m(target, "fct_fills")),
            (as_of, symbol, symbol, limit),
        )
    return tuple(
        UnmatchedSell(str(r[0]), str(r[1]), r[2], _dec(r[3]), _dec(r[4]), _dec(r[5]), _opt_str(r[6]), _int(r[7]))
        for r in rows
    )


@dataclass(frozen=True)
class QuarantineSample:
    reason: str
    reason_rows: int
    sample_rank: int
    order_id: str | None
    symbol: str | None
    side: str | None
    order_time: datetime | None
    status: str | None
    raw_size: float | None
    raw_price: float | None
    raw_fees_usd: float | None


def quarantine_samples(target: Target) -> tuple[QuarantineSample, ...]:
    with _reading(target) as conn:
        rows = _rows(
            conn,
            sql.SQL(
                "select reason, reason_rows, sample_rank, order_id, symbol, side, order_time, status,"
                " raw_size, raw_price, raw_fees_usd from {} order by reason_rows desc, reason, sample_rank"
            ).format(_m(target, "quarantine_samples")),
        )
    return tuple(
        QuarantineSample(
            str(r[0]), _int(r[1]), _int(r[2]), _opt_str(r[3]), _opt_str(r[4]), _opt_str(r[5]), r[6],
            _opt_str(r[7]), r[8], r[9], r[10],
        )
        for r in rows
    )


@dataclass(frozen=True)
class LegacySymbol:
    """legacy_pnl_discrepancy_by_symbol."""

    symbol: str | None
    sells_with_legacy_pnl: int
    sells_with_discrepancy: int
    sells_with_exhausted_parent: int
    legacy_result_usd: Decimal | None
    fifo_pnl_usd: Decimal | None
    difference_usd: Decimal | None
    worst_sell_order_id: str | None
    worst_difference_usd: Decimal | None


def legacy_by_symbol(target: Target) -> tuple[LegacySymbol, ...]:
    with _reading(target) as conn:
        rows = _rows(
            conn,
            sql.SQL(
                "select symbol, sells_with_legacy_pnl, sells_with_discrepancy, sells_with_exhausted_parent,"
                " legacy_result_usd, fifo_pnl_usd, difference_usd, worst_sell_order_id, worst_difference_usd"
                " from {} where sells_with_discrepancy > 0"
                " order by abs_difference_usd desc nulls last, symbol"
            ).format(_m(target, "legacy_pnl_discrepancy_by_symbol")),
        )
    return tuple(
        LegacySymbol(
            _opt_str(r[0]), _int(r[1]), _int(r[2]), _int(r[3]), _opt_dec(r[4]), _opt_dec(r[5]), _opt_dec(r[6]),
            _opt_str(r[7]), _opt_dec(r[8]),
        )
        for r in rows
    )


@dataclass(frozen=True)
class LegacySell:
    """One sell of legacy_pnl_discrepancy whose legacy P&L disagrees with FIFO."""

    sell_order_id: str
    symbol: str | None
    sell_time: datetime | None
    legacy_result_usd: Decimal | None
    fifo_pnl_usd: Decimal | None
    difference_usd: Decimal | None
    legacy_parent_id: str | None
    legacy_parent_time: datetime | None
    oldest_fifo_lot_time: datetime | None
    legacy_parent_exhausted: bool
    rows_matching: int  # the disagreeing sells, counted in SQL before the limit


def legacy_sells(
    target: Target, symbol: str | None = None, *, only_exhausted: bool = False, limit: int = ROW_LIMIT
) -> tuple[LegacySell, ...]:
    """The disagreeing sells, largest difference first."""
    with _reading(target) as conn:
        rows = _rows(
            conn,
            sql.SQL(
                "select sell_order_id, symbol, sell_time, legacy_result_usd, fifo_pnl_usd, difference_usd,"
                " legacy_parent_id, legacy_parent_time, oldest_fifo_lot_time, coalesce(legacy_parent_exhausted, false),"
                " count(*) over () from {} where has_discrepancy and (%s::text is null or symbol = %s)"
                " and (not %s or legacy_parent_exhausted)"
                " order by abs_difference_usd desc nulls last, sell_order_id limit %s"
            ).format(_m(target, "legacy_pnl_discrepancy")),
            (symbol, symbol, only_exhausted, limit),
        )
    return tuple(
        LegacySell(
            str(r[0]), _opt_str(r[1]), r[2], _opt_dec(r[3]), _opt_dec(r[4]), _opt_dec(r[5]), _opt_str(r[6]), r[7],
            r[8], bool(r[9]), _int(r[10]),
        )
        for r in rows
    )


@dataclass(frozen=True)
class Run:
    """One row of <target>_ops.run_history (written by `trades-warehouse run`)."""

    run_id: int
    started_at: datetime
    finished_at: datetime | None
    status: str
    elapsed_seconds: Decimal | None
    nodes_passed: int | None
    nodes_warned: int | None
    nodes_failed: int | None
    freshness_status: str | None
    failures: tuple[str, ...]


@dataclass(frozen=True)
class RunHistory:
    recorded: bool  # False: no scheduled run ever wrote the table
    runs: tuple[Run, ...]


def run_history(target: Target, limit: int = 20) -> RunHistory:
    table = sql.Identifier(target.ops_schema, "run_history")
    with _reading(target) as conn:
        exists = _rows(conn, sql.SQL("select to_regclass(%s)"), (table.as_string(conn),))
        if not exists or exists[0][0] is None:
            return RunHistory(False, ())
        rows = _rows(
            conn,
            sql.SQL(
                "select run_id, started_at, finished_at, status, elapsed_seconds, nodes_passed, nodes_warned,"
                " nodes_failed, freshness_status, failures from {} order by run_id desc limit %s"
            ).format(table),
            (limit,),
        )
    return RunHistory(
        True,
        tuple(
            Run(
                _int(r[0]), r[1], r[2], str(r[3]), _opt_dec(r[4]),
                None if r[5] is None else _int(r[5]),
                None if r[6] is None else _int(r[6]),
                None if r[7] is None else _int(r[7]),
                _opt_str(r[8]), tuple(str(f) for f in r[9] or ()),
            )
            for r in rows
        ),
    )


@dataclass(frozen=True)
class Freshness:
    latest_fill_at: datetime | None  # the newest fill in the marts
    checked_at: datetime  # the database's clock, now
    last_run_at: datetime | None
    last_run_freshness: str | None  # dbt source freshness verdict of the last scheduled run

    @property
    def latest_fill_age(self) -> timedelta | None:
        return None if self.latest_fill_at is None else self.checked_at - self.latest_fill_at


def freshness(target: Target, history: RunHistory) -> Freshness:
    with _reading(target) as conn:
        row = _rows(conn, sql.SQL("select max(order_time), now() from {}").format(_m(target, "fct_fills")))[0]
    last = next((run for run in history.runs if run.freshness_status is not None), None)
    return Freshness(row[0], row[1], last.started_at if last else None, last.freshness_status if last else None)
