"""The daily report: typed data read from the marts, rendered to e-mail HTML and plain text.

Three layers, each usable alone:

* ``fetch_report_data`` reads the marts (nothing else) into a
  ``ReportData`` of plain dataclasses; nothing is computed here that a mart
  already defines.
* ``render`` turns a ``ReportData`` into ``(html, text)``: a pure function
  (no database, no clock), HTML with inline CSS only, no scripts, charts as
  base64 PNG ``<img>`` drawn with matplotlib's Agg canvas. Templates are
  Jinja2 with autoescape on for HTML, so every string that came from raw data
  (symbols, triggers, sources, reasons) is escaped.
* ``report_command`` is what the CLI calls: parse, fetch, render, write.

The report window is the ``lookback_days`` UTC calendar days ending with
``report_date`` (inclusive). Sums (P&L, fees, trades, wins, per symbol) are
taken over exactly those days from ``daily_pnl``; ratios that the marts only
define per fixed window (Sharpe, Sortino, drawdown) come from
``performance_metrics`` and say which window and ``as_of`` they belong to.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import psycopg
from psycopg import sql

from trades_warehouse.database import Connection, ServerError

METRIC_WINDOWS: tuple[str, ...] = ("1d", "7d", "30d", "all")
TOP_SYMBOLS = 5
OPEN_LOTS_SHOWN = 15

# Marts the report reads, with the schema they live in ("marts" or "staging").
REQUIRED_RELATIONS: tuple[tuple[str, str], ...] = (
    ("marts", "daily_pnl"),
    ("marts", "equity_curve"),
    ("marts", "drawdowns"),
    ("marts", "performance_metrics"),
    ("marts", "trigger_performance"),
    ("marts", "source_performance"),
    ("marts", "legacy_pnl_discrepancy_by_symbol"),
    ("marts", "allocation_health"),
    ("marts", "fct_buy_lots"),
)


class ReportError(RuntimeError):
    """The report's data cannot be read (missing marts, unexpected columns)."""


class MissingMartError(ReportError):
    """A mart the report needs is not built."""


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Headline:
    """The figures at the top of the report, over the report window."""

    realized_pnl_usd: Decimal
    fees_usd: Decimal
    trades: int  # sells closed in the window
    wins: int
    losses: int
    win_rate: float | None  # wins / trades, None without trades
    # From performance_metrics, window ``metrics_window`` ending at as_of.
    metrics_window: str
    sharpe_daily: float | None
    sharpe_per_trade: float | None
    sortino_daily: float | None
    max_drawdown_usd: Decimal | None
    max_drawdown_pct: float | None


@dataclass(frozen=True)
class DailyPnl:
    day: date
    realized_pnl_usd: Decimal
    fees_usd: Decimal
    trades: int


@dataclass(frozen=True)
class EquityPoint:
    """One point of the equity curve (one sell) with its running peak and drawdown."""

    at: datetime
    equity_usd: Decimal
    peak_usd: Decimal
    drawdown_usd: Decimal  # zero or negative
    drawdown_pct: float | None  # zero or negative, fraction of the peak


@dataclass(frozen=True)
class WindowMetrics:
    """One row of performance_metrics."""

    window_name: str
    trades: int
    realized_pnl_usd: Decimal
    win_rate: float | None
    profit_factor: float | None
    expectancy_usd: Decimal | None
    sharpe_per_trade: float | None
    sharpe_daily: float | None
    sortino_daily: float | None
    max_drawdown_usd: Decimal | None
    max_drawdown_pct: float | None


@dataclass(frozen=True)
class SymbolResult:
    symbol: str
    trades: int
    wins: int
    realized_pnl_usd: Decimal

    @property
    def win_rate(self) -> float | None:
        return self.wins / self.trades if self.trades else None


@dataclass(frozen=True)
class TriggerResult:
    """Realized P&L by the entry (buy) or exit (sell) trigger."""

    role: str  # "entry" or "exit"
    trigger: str
    is_inferred: bool
    orders: int
    wins: int
    losses: int
    breakevens: int
    realized_pnl_usd: Decimal


@dataclass(frozen=True)
class SourceResult:
    source: str
    buys: int
    sells: int
    realized_pnl_usd: Decimal


@dataclass(frozen=True)
class OpenPosition:
    """Open lots of one symbol."""

    symbol: str
    lots: int
    remaining_size: Decimal
    cost_basis_usd: Decimal
    oldest_buy_time: datetime


@dataclass(frozen=True)
class CountAmount:
    """One line of allocation_health: a labelled count with its size and amount when they apply."""

    label: str
    count: int
    amount_usd: Decimal | None = None
    size: Decimal | None = None


@dataclass(frozen=True)
class AllocationHealth:
    """allocation_health, check by check; sizes are per symbol (base units do not add up)."""

    unmatched_by_symbol: tuple[CountAmount, ...]  # amount: proceeds of the unmatched size
    old_lot_by_symbol: tuple[CountAmount, ...]  # amount: cost basis drawn from old lots
    open_lots_by_age: tuple[CountAmount, ...]  # amount: open cost basis
    quarantine_by_reason: tuple[CountAmount, ...]

    @property
    def unmatched_sells(self) -> int:
        return sum(item.count for item in self.unmatched_by_symbol)

    @property
    def unmatched_proceeds_usd(self) -> Decimal:
        return sum((item.amount_usd or Decimal(0) for item in self.unmatched_by_symbol), Decimal(0))

    @property
    def old_lot_sells(self) -> int:
        return sum(item.count for item in self.old_lot_by_symbol)

    @property
    def quarantined_rows(self) -> int:
        return sum(item.count for item in self.quarantine_by_reason)


@dataclass(frozen=True)
class LegacyDiscrepancy:
    """legacy_pnl_discrepancy_by_symbol: the bot's own P&L beside FIFO's, per symbol."""

    symbol: str
    sells_with_legacy_pnl: int
    sells_with_discrepancy: int
    sells_with_exhausted_parent: int
    legacy_pnl_usd: Decimal
    fifo_pnl_usd: Decimal
    difference_usd: Decimal
    worst_sell_order_id: str | None
    worst_difference_usd: Decimal | None


@dataclass(frozen=True)
class ReportData:
    report_date: date
    lookback_days: int
    as_of: datetime | None  # where the marts' fixed windows end (latest fill unless set)
    starting_equity_usd: Decimal | None
    headline: Headline
    daily: tuple[DailyPnl, ...]
    equity: tuple[EquityPoint, ...]
    metrics: tuple[WindowMetrics, ...]
    best_symbols: tuple[SymbolResult, ...]
    worst_symbols: tuple[SymbolResult, ...]
    triggers: tuple[TriggerResult, ...]
    sources: tuple[SourceResult, ...]
    open_positions: tuple[OpenPosition, ...]
    open_lots_total: int
    open_cost_basis_total_usd: Decimal
    health: AllocationHealth
    legacy: tuple[LegacyDiscrepancy, ...] = field(default_factory=tuple)

    @property
    def window_start(self) -> date:
        return self.report_date - timedelta(days=self.lookback_days - 1)

    @property
    def window_start_time(self) -> datetime:
        return datetime.combine(self.window_start, datetime.min.time(), tzinfo=UTC)

    @property
    def window_end_time(self) -> datetime:
        """Exclusive: midnight UTC after the report date."""
        return datetime.combine(self.report_date + timedelta(days=1), datetime.min.time(), tzinfo=UTC)


# --------------------------------------------------------------------------- fetch


Conn = psycopg.Connection[tuple[Any, ...]]


def _missing_relations(conn: Conn, marts_schema: str, staging_schema: str) -> list[str]:
    schemas = {"marts": marts_schema, "staging": staging_schema}
    missing = []
    for kind, name in REQUIRED_RELATIONS:
        found = conn.execute(
            "select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = %s and c.relname = %s",
            (schemas[kind], name),
        ).fetchone()
        if found is None:
            missing.append(f"{schemas[kind]}.{name}")
    return missing


def _dec(value: object) -> Decimal:
    if value is None:
        return Decimal(0)
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def _opt_dec(value: object) -> Decimal | None:
    return None if value is None else _dec(value)


def _opt_float(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if number != number else number  # NaN -> None


def _int(value: object) -> int:
    return 0 if value is None else int(value)  # type: ignore[call-overload]


def latest_fill_date(connection: Connection, marts_schema: str) -> date | None:
    """The default report date: the UTC day where the marts end (``as_of``), else of the latest fill."""
    with connection.connect() as conn:
        conn.read_only = True
        conn.execute("set time zone 'UTC'")
        metrics = sql.Identifier(marts_schema, "performance_metrics")
        exists = conn.execute("select to_regclass(%s)", (metrics.as_string(conn),)).fetchone()
        if exists is not None and exists[0] is not None:
            query = sql.SQL("select max(end_date) from {} where window_name = 'all'").format(metrics)
        else:
            query = sql.SQL("select max(order_time)::date from {}.fct_fills").format(sql.Identifier(marts_schema))
        row = conn.execute(query).fetchone()
    if row is None or not isinstance(row[0], date):
        return None
    return row[0]


def fetch_report_data(
    connection: Connection,
    marts_schema: str,
    staging_schema: str,
    report_date: date,
    lookback_days: int,
) -> ReportData:
    """Everything the report shows, read from the marts for the window ending on ``report_date``.

    ``staging_schema`` is only checked for relations listed as staging in
    REQUIRED_RELATIONS (none today: quarantine counts come from allocation_health).
    Raises MissingMartError when a mart is not built, ReportError when a mart
    lacks an expected column, ServerError when the database cannot be reached.
    """
    if lookback_days < 1:
        raise ValueError("lookback_days must be at least 1")
    start_day = report_date - timedelta(days=lookback_days - 1)
    m = sql.Identifier(marts_schema)
    with connection.connect() as conn:
        conn.read_only = True
        conn.execute("set time zone 'UTC'")
        missing = _missing_relations(conn, marts_schema, staging_schema)
        if missing:
            raise MissingMartError(
                "the report needs marts that are not built: " + ", ".join(missing)
                + " (run `trades-warehouse build`)"
            )
        try:
            return _fetch(conn, m, report_date, start_day, lookback_days)
        except (psycopg.errors.UndefinedColumn, psycopg.errors.UndefinedTable) as exc:
            raise ReportError(f"a mart does not have the shape the report expects: {exc}".strip()) from exc


def _fetch(
    conn: Conn,
    m: sql.Identifier,
    report_date: date,
    start_day: date,
    lookback_days: int,
) -> ReportData:
    def rows(query: sql.Composed, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        return conn.execute(query, params).fetchall()

    window = (start_day, report_date)

    daily = tuple(
        DailyPnl(day, _dec(pnl), _dec(fees), _int(trades))
        for day, pnl, fees, trades in rows(
            sql.SQL(
                "select date_day, realized_pnl_usd, fees_usd, trades from {}.daily_pnl"
                " where date_day between %s and %s order by date_day"
            ).format(m),
            window,
        )
    )
    totals = rows(
        sql.SQL(
            "select coalesce(sum(realized_pnl_usd), 0), coalesce(sum(fees_usd), 0),"
            " coalesce(sum(trades), 0), coalesce(sum(wins), 0), coalesce(sum(losses), 0)"
            " from {}.daily_pnl where date_day between %s and %s"
        ).format(m),
        window,
    )[0]

    metrics = tuple(
        WindowMetrics(
            window_name=str(r[0]),
            trades=_int(r[1]),
            realized_pnl_usd=_dec(r[2]),
            win_rate=_opt_float(r[3]),
            profit_factor=_opt_float(r[4]),
            expectancy_usd=_opt_dec(r[5]),
            sharpe_per_trade=_opt_float(r[6]),
            sharpe_daily=_opt_float(r[7]),
            sortino_daily=_opt_float(r[8]),
            max_drawdown_usd=_opt_dec(r[9]),
            max_drawdown_pct=_opt_float(r[10]),
        )
        for r in rows(
            sql.SQL(
                "select window_name, trades, realized_pnl_usd, win_rate, profit_factor, expectancy_usd,"
                " sharpe_per_trade, sharpe_daily, sortino_daily, max_drawdown_usd, max_drawdown_pct"
                " from {}.performance_metrics"
            ).format(m)
        )
    )
    metrics = tuple(sorted(metrics, key=lambda w: _window_order(w.window_name)))
    chosen = _metrics_window(metrics, lookback_days)
    trades = _int(totals[2])
    wins = _int(totals[3])
    headline = Headline(
        realized_pnl_usd=_dec(totals[0]),
        fees_usd=_dec(totals[1]),
        trades=trades,
        wins=wins,
        losses=_int(totals[4]),
        win_rate=wins / trades if trades else None,
        metrics_window=chosen.window_name if chosen else "-",
        sharpe_daily=chosen.sharpe_daily if chosen else None,
        sharpe_per_trade=chosen.sharpe_per_trade if chosen else None,
        sortino_daily=chosen.sortino_daily if chosen else None,
        max_drawdown_usd=chosen.max_drawdown_usd if chosen else None,
        max_drawdown_pct=chosen.max_drawdown_pct if chosen else None,
    )

    # Where the marts' fixed windows (and daily_pnl's calendar) end: as_of, else the latest fill.
    as_of_row = rows(
        sql.SQL("select window_end_at from {}.performance_metrics where window_name = 'all'").format(m)
    )
    as_of = as_of_row[0][0] if as_of_row else None

    start_time = datetime.combine(start_day, datetime.min.time(), tzinfo=UTC)
    end_time = datetime.combine(report_date + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    curve_columns = sql.SQL("sell_time, equity_usd, peak_equity_usd, drawdown_usd, drawdown_pct")
    # The account before the window: its last point, else the starting equity (no peak above it).
    before = rows(
        sql.SQL("select {} from {}.equity_curve where sell_time < %s order by trade_seq desc limit 1").format(
            curve_columns, m
        ),
        (start_time,),
    )
    starting_row = rows(
        sql.SQL("select equity_start_usd from {}.daily_pnl order by date_day limit 1").format(m)
    )
    starting = _opt_dec(starting_row[0][0]) if starting_row else None
    anchor: list[tuple[Any, ...]] = []
    if before:
        anchor = [(start_time, *before[0][1:])]
    elif starting is not None:
        anchor = [(start_time, starting, starting, Decimal(0), 0.0)]
    inside = rows(
        sql.SQL("select {} from {}.equity_curve where sell_time >= %s and sell_time < %s order by trade_seq").format(
            curve_columns, m
        ),
        (start_time, end_time),
    )
    equity = tuple(
        EquityPoint(at, _dec(eq), _dec(peak), _dec(dd), _opt_float(ddp)) for at, eq, peak, dd, ddp in anchor + inside
    )

    # Per symbol over exactly the report window: the trades of the equity curve.
    by_symbol = [
        SymbolResult(str(sym), _int(n), _int(w), _dec(pnl))
        for sym, n, w, pnl in rows(
            sql.SQL(
                "select symbol, count(*), count(*) filter (where is_win), sum(realized_pnl_usd)"
                " from {}.equity_curve where sell_time >= %s and sell_time < %s"
                " group by symbol order by sum(realized_pnl_usd) desc, symbol"
            ).format(m),
            (start_time, end_time),
        )
    ]
    best = tuple(r for r in by_symbol[:TOP_SYMBOLS] if r.realized_pnl_usd > 0)
    worst = tuple(r for r in reversed(by_symbol[-TOP_SYMBOLS:]) if r.realized_pnl_usd < 0)

    triggers = tuple(
        TriggerResult(
            str(role), "(none)" if trig is None else str(trig), bool(inferred), _int(n), _int(w), _int(lo), _int(be),
            _dec(pnl),
        )
        for role, trig, inferred, n, w, lo, be, pnl in rows(
            sql.SQL(
                "select trigger_role, trigger_name, is_inferred, orders, wins, losses, breakevens,"
                " realized_pnl_usd from {}.trigger_performance order by trigger_role, realized_pnl_usd desc"
            ).format(m)
        )
    )
    sources = tuple(
        SourceResult("(none)" if src is None else str(src), _int(b), _int(se), _dec(pnl))
        for src, b, se, pnl in rows(
            sql.SQL(
                "select source, buys, sells, realized_pnl_usd from {}.source_performance"
                " order by realized_pnl_usd desc"
            ).format(m)
        )
    )

    open_rows = rows(
        sql.SQL(
            "select symbol, count(*), sum(remaining_size), sum(open_cost_basis_usd), min(buy_time)"
            " from {}.fct_buy_lots where is_open group by symbol order by sum(open_cost_basis_usd) desc, symbol"
        ).format(m)
    )
    open_positions = tuple(
        OpenPosition(str(sym), _int(n), _dec(size), _dec(cost), oldest) for sym, n, size, cost, oldest in open_rows
    )

    health = _fetch_health(rows, m)

    # Only symbols whose legacy columns still hold data: the section disappears once they are gone.
    legacy = tuple(
        LegacyDiscrepancy(
            symbol=str(r[0]),
            sells_with_legacy_pnl=_int(r[1]),
            sells_with_discrepancy=_int(r[2]),
            sells_with_exhausted_parent=_int(r[3]),
            legacy_pnl_usd=_dec(r[4]),
            fifo_pnl_usd=_dec(r[5]),
            difference_usd=_dec(r[6]),
            worst_sell_order_id=None if r[7] is None else str(r[7]),
            worst_difference_usd=_opt_dec(r[8]),
        )
        for r in rows(
            sql.SQL(
                "select symbol, sells_with_legacy_pnl, sells_with_discrepancy, sells_with_exhausted_parent,"
                " legacy_pnl_usd, fifo_pnl_usd, difference_usd, worst_sell_order_id, worst_difference_usd"
                " from {}.legacy_pnl_discrepancy_by_symbol where sells_with_legacy_pnl > 0"
                " order by abs_difference_usd desc nulls last, symbol"
            ).format(m)
        )
    )

    return ReportData(
        report_date=report_date,
        lookback_days=lookback_days,
        as_of=as_of,
        starting_equity_usd=starting,
        headline=headline,
        daily=daily,
        equity=equity,
        metrics=metrics,
        best_symbols=best,
        worst_symbols=worst,
        triggers=triggers,
        sources=sources,
        open_positions=open_positions[:OPEN_LOTS_SHOWN],
        open_lots_total=sum(p.lots for p in open_positions),
        open_cost_basis_total_usd=sum((p.cost_basis_usd for p in open_positions), Decimal(0)),
        health=health,
        legacy=legacy,
    )


HEALTH_CHECKS = ("unmatched_sells", "old_lot_sells", "open_lots_by_age", "quarantined_rows")
AGE_BUCKET_ORDER = {"0-1d": 0, "1-7d": 1, "7-30d": 2, "30d+": 3}


def _fetch_health(rows: Any, m: sql.Identifier) -> AllocationHealth:
    checks: dict[str, list[CountAmount]] = {name: [] for name in HEALTH_CHECKS}
    for check, category, items, size, amount in rows(
        sql.SQL(
            "select check_name, category, items, size, amount_usd from {}.allocation_health"
            " order by check_name, items desc, category"
        ).format(m)
    ):
        if check in checks:
            label = "(none)" if category is None else str(category)
            checks[check].append(CountAmount(label, _int(items), _opt_dec(amount), _opt_dec(size)))
    ages = sorted(checks["open_lots_by_age"], key=lambda item: AGE_BUCKET_ORDER.get(item.label, len(AGE_BUCKET_ORDER)))
    return AllocationHealth(
        unmatched_by_symbol=tuple(checks["unmatched_sells"]),
        old_lot_by_symbol=tuple(checks["old_lot_sells"]),
        open_lots_by_age=tuple(ages),
        quarantine_by_reason=tuple(checks["quarantined_rows"]),
    )


def _window_order(name: str) -> int:
    return METRIC_WINDOWS.index(name) if name in METRIC_WINDOWS else len(METRIC_WINDOWS)


def _metrics_window(metrics: Sequence[WindowMetrics], lookback_days: int) -> WindowMetrics | None:
    """The performance_metrics row for the look-back (``30d`` for 30 days), else ``all``."""
    by_name = {w.window_name: w for w in metrics}
    return by_name.get(f"{lookback_days}d") or by_name.get("all")


# --------------------------------------------------------------------------- charts


def _png_data_uri(figure: Any) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def equity_chart(data: ReportData) -> str:
    """Equity curve with the drawdown from the running peak shaded, as a PNG data URI."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 3.2))
    axes = figure.add_subplot()
    if data.equity:
        # matplotlib plots datetimes through its unit converters; its stubs only name arrays.
        times: Any = [p.at for p in data.equity]
        equity = [float(p.equity_usd) for p in data.equity]
        peak = [float(p.peak_usd) for p in data.equity]
        axes.fill_between(times, equity, peak, step="post", color="#d9534f", alpha=0.35, label="drawdown")
        axes.step(times, peak, where="post", color="#999999", linewidth=0.8, label="running peak")
        axes.step(times, equity, where="post", color="#1f5fa8", linewidth=1.5, label="equity")
        axes.legend(loc="upper left", fontsize=8, frameon=False)
        figure.autofmt_xdate()
    else:
        axes.text(0.5, 0.5, "no sells in the window", ha="center", va="center", transform=axes.transAxes)
    axes.set_title("Equity (USD) and drawdown", fontsize=10)
    axes.grid(True, alpha=0.3)
    figure.tight_layout()
    return _png_data_uri(figure)


def daily_pnl_chart(data: ReportData) -> str:
    """Daily realized P&L bars, green up and red down, as a PNG data URI."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 2.8))
    axes = figure.add_subplot()
    if data.daily:
        days: Any = [d.day for d in data.daily]
        values = [float(d.realized_pnl_usd) for d in data.daily]
        colours = ["#2e8b57" if v >= 0 else "#d9534f" for v in values]
        axes.bar(days, values, color=colours, width=0.8)
        axes.axhline(0, color="#666666", linewidth=0.8)
        figure.autofmt_xdate()
    else:
        axes.text(0.5, 0.5, "no days in the window", ha="center", va="center", transform=axes.transAxes)
    axes.set_title("Daily realized P&L (USD)", fontsize=10)
    axes.grid(True, axis="y", alpha=0.3)
    figure.tight_layout()
    return _png_data_uri(figure)


# --------------------------------------------------------------------------- render

# Line breaks, control and bidi-override characters: a raw string must not
# start a line of its own or reorder the text around it in the plain-text twin.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _money(value: Decimal | float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    amount = Decimal(str(value))
    return f"{amount:+,.2f}" if signed and amount.quantize(Decimal("0.01")) != 0 else f"{amount:,.2f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _size(value: Decimal | None) -> str:
    """A base-unit quantity: at most 8 decimals, no trailing zeros."""
    if value is None:
        return "-"
    rounded = value.quantize(Decimal("1e-8")).normalize()
    return f"{rounded:f}"


def _sign_colour(value: Decimal | float | None) -> str:
    if value is None or value == 0:
        return "#333333"
    return "#1e7b45" if value > 0 else "#b52b27"


def _plain(value: object) -> str:
    """Raw-data text for the plain-text twin: one line, no control characters."""
    return _CONTROL.sub("?", str(value))


def _template_loader(name: str) -> str | None:
    resource = resources.files("trades_warehouse").joinpath("templates", name)
    if not resource.is_file():
        return None
    return resource.read_text(encoding="utf-8")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_template_loader),
        # HTML templates escape everything; the text twin is not HTML, so
        # `<script>` stays `<script>` there (control characters are masked).
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(money=_money, pct=_pct, ratio=_ratio, size=_size, colour=_sign_colour, plain=_plain)
    return env


def render(data: ReportData) -> tuple[str, str]:
    """(html, text) of the report; pure: the same data gives the same output."""
    env = _environment()
    context = {
        "data": data,
        "h": data.headline,
        "entry_triggers": [t for t in data.triggers if t.role == "entry"],
        "exit_triggers": [t for t in data.triggers if t.role == "exit"],
    }
    html = env.get_template("daily_report.html").render(
        **context, equity_chart=equity_chart(data), daily_chart=daily_pnl_chart(data)
    )
    text = env.get_template("daily_report.txt").render(**context)
    return html, text


# --------------------------------------------------------------------------- command


def parse_report_date(value: str | None) -> date | None:
    """``YYYY-MM-DD``, ``today``, ``yesterday`` (UTC), or None; ValueError otherwise."""
    if value is None or value == "":
        return None
    today = datetime.now(UTC).date()
    if value == "today":
        return today
    if value == "yesterday":
        return today - timedelta(days=1)
    return date.fromisoformat(value)


def report_paths(out_dir: Path, report_date: date) -> tuple[Path, Path]:
    stem = f"daily_report_{report_date.isoformat()}"
    return out_dir / f"{stem}.html", out_dir / f"{stem}.txt"


class BadInput(ValueError):
    """An argument of `report` or `verify` that cannot be used (exit code 2)."""


def load_report_data(connection: Connection, target_schema: str, report_date: str | None, days: int) -> ReportData:
    """The report's data for the command-line arguments, shared by `report` and `verify`.

    BadInput for an unusable date or window (or no fills and no date);
    ReportError, ServerError or psycopg.Error when the database cannot answer.
    """
    try:
        day = parse_report_date(report_date)
    except ValueError as exc:
        raise BadInput(f"--date must be YYYY-MM-DD, today or yesterday, not {report_date!r}") from exc
    if days < 1:
        raise BadInput("--days must be at least 1")
    marts, staging = f"{target_schema}_marts", f"{target_schema}_staging"
    if day is None:
        day = latest_fill_date(connection, marts)
        if day is None:
            raise BadInput("no fills in the warehouse: give --date")
    return fetch_report_data(connection, marts, staging, day, days)


def report_command(
    connection: Connection,
    target_schema: str,
    report_date: str | None = None,
    days: int = 30,
    out_dir: Path = Path("reports"),
) -> int:
    """Write daily_report_<date>.html and .txt to ``out_dir``; the CLI's exit code.

    ``report_date`` None means the UTC day of the latest fill. Exit codes: 0 ok,
    2 bad input (date, days, output folder), 3 database (unreachable, marts missing).
    """
    from rich.console import Console

    console, errors = Console(), Console(stderr=True)
    try:
        data = load_report_data(connection, target_schema, report_date, days)
    except BadInput as exc:
        errors.print(f"[bold red]error:[/] {exc}")
        return 2
    except (ReportError, ServerError, psycopg.Error) as exc:
        errors.print(f"[bold red]error:[/] {exc}")
        return 3
    day = data.report_date
    html, text = render(data)
    html_path, text_path = report_paths(out_dir, day)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        html_path.write_text(html, encoding="utf-8")
        text_path.write_text(text, encoding="utf-8")
    except OSError as exc:
        errors.print(f"[bold red]error:[/] cannot write the report to {out_dir}: {exc}")
        return 2
    console.print(f"wrote {html_path} and {text_path}")
    return 0
