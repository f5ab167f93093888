"""The report's data, read from the marts (nothing else) for a window of UTC days.

The report window is the ``lookback_days`` UTC calendar days ending with
``report_date`` (inclusive). Every figure is a mart's or a sum of a mart over
those days taken in SQL: P&L, fees, trades, wins and the win rate from
``daily_pnl``, per symbol (with the marts' win rate formula) from ``daily_symbol_pnl``, the equity curve from
``equity_curve`` with its drawdown measured from the window's opening as
``drawdowns`` measures a window. Ratios the marts only define per fixed
window (Sharpe, Sortino, maximum drawdown) come from ``performance_metrics``
and say which window and ``as_of`` they belong to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import psycopg
from psycopg import sql

from trades_warehouse import ratios
from trades_warehouse.database import ConnectionSettings
from trades_warehouse.report import data
from trades_warehouse.values import as_int as _int
from trades_warehouse.values import dec as _dec
from trades_warehouse.values import opt_dec as _opt_dec
from trades_warehouse.values import opt_float as _opt_float

METRIC_WINDOWS: tuple[str, ...] = ("1d", "7d", "30d", "all")
TOP_SYMBOLS = 5
OPEN_LOTS_SHOWN = 15

# Marts the report reads, with the schema they live in ("marts" or "staging").
REQUIRED_RELATIONS: tuple[tuple[str, str], ...] = (
    ("marts", "daily_pnl"),
    ("marts", "daily_symbol_pnl"),
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



def latest_fill_date(connection: ConnectionSettings, marts_schema: str) -> date | None:
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
    connection: ConnectionSettings,
    marts_schema: str,
    staging_schema: str,
    report_date: date,
    lookback_days: int,
) -> data.ReportData:
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


Rows = Callable[..., list[tuple[Any, ...]]]


def _fetch(
    conn: Conn,
    m: sql.Identifier,
    report_date: date,
    start_day: date,
    lookback_days: int,
) -> data.ReportData:
    def rows(query: sql.Composed, params: Sequence[object] | Mapping[str, object] = ()) -> list[tuple[Any, ...]]:
        return conn.execute(query, params).fetchall()

    window = (start_day, report_date)
    metrics = _fetch_metrics(rows, m)
    # Where the marts' fixed windows (and daily_pnl's calendar) end: as_of, else the latest fill.
    as_of_row = rows(
        sql.SQL("select window_end_at from {}.performance_metrics where window_name = 'all'").format(m)
    )
    starting_row = rows(sql.SQL("select equity_start_usd from {}.daily_pnl order by date_day limit 1").format(m))
    starting = _opt_dec(starting_row[0][0]) if starting_row else None
    open_positions, open_lots_total, open_cost_basis_total = _fetch_open_positions(rows, m)
    return data.ReportData(
        report_date=report_date,
        lookback_days=lookback_days,
        as_of=as_of_row[0][0] if as_of_row else None,
        starting_equity_usd=starting,
        headline=_fetch_headline(rows, m, window, _metrics_window(metrics, lookback_days)),
        daily=tuple(
            data.DailyPnl(day, _dec(pnl), _dec(fees), _int(trades))
            for day, pnl, fees, trades in rows(
                sql.SQL(
                    "select date_day, realized_pnl_usd, fees_usd, trades from {}.daily_pnl"
                    " where date_day between %s and %s order by date_day"
                ).format(m),
                window,
            )
        ),
        equity=_fetch_equity(rows, m, start_day, report_date, starting),
        metrics=metrics,
        best_symbols=_fetch_symbols(rows, m, window, best=True),
        worst_symbols=_fetch_symbols(rows, m, window, best=False),
        triggers=tuple(
            data.TriggerResult(
                str(role), "(none)" if trig is None else str(trig), bool(inferred),
                _int(n), _int(w), _int(lo), _int(be), _dec(pnl),
            )
            for role, trig, inferred, n, w, lo, be, pnl in rows(
                sql.SQL(
                    "select trigger_role, trigger_name, is_inferred, orders, wins, losses, breakevens,"
                    " realized_pnl_usd from {}.trigger_performance order by trigger_role, realized_pnl_usd desc"
                ).format(m)
            )
        ),
        sources=tuple(
            data.SourceResult("(none)" if src is None else str(src), _int(b), _int(se), _dec(pnl))
            for src, b, se, pnl in rows(
                sql.SQL(
                    "select source, buys, sells, realized_pnl_usd from {}.source_performance"
                    " order by realized_pnl_usd desc"
                ).format(m)
            )
        ),
        open_positions=open_positions,
        open_lots_total=open_lots_total,
        open_cost_basis_total_usd=open_cost_basis_total,
        health=_fetch_health(rows, m),
        legacy=_fetch_legacy(rows, m),
    )


T = TypeVar("T")


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def _typed(make: Callable[..., T], converters: Sequence[Callable[[Any], object]], row: Sequence[object]) -> T:
    """A dataclass from a row whose columns are its fields in order, each through its converter."""
    return make(*(convert(value) for convert, value in zip(converters, row, strict=True)))


# Column converters, in the order of the dataclass fields and of the select lists below.
_WINDOW_METRICS = (str, _int, _dec, _opt_float, _opt_float, _opt_dec, _opt_float, _opt_float, _opt_float, _opt_dec,
                   _opt_float)
_LEGACY = (str, _int, _int, _int, _dec, _dec, _dec, _opt_str, _opt_dec)


def _fetch_metrics(rows: Rows, m: sql.Identifier) -> tuple[data.WindowMetrics, ...]:
    metrics = tuple(
        _typed(data.WindowMetrics, _WINDOW_METRICS, r)
        for r in rows(
            sql.SQL(
                "select window_name, trades, realized_pnl_usd, win_rate, profit_factor, expectancy_usd,"
                " sharpe_per_trade, sharpe_daily, sortino_daily, max_drawdown_usd, max_drawdown_pct"
                " from {}.performance_metrics"
            ).format(m)
        )
    )
    return tuple(sorted(metrics, key=lambda w: _window_order(w.window_name)))


def _fetch_headline(
    rows: Rows, m: sql.Identifier, window: tuple[date, date], chosen: data.WindowMetrics | None
) -> data.Headline:
    """daily_pnl summed over the window's days (the win rate too: wins over trades of those days)."""
    pnl, fees, trades, wins, losses, win_rate = rows(
        sql.SQL(
            "select coalesce(sum(realized_pnl_usd), 0), coalesce(sum(fees_usd), 0),"
            " coalesce(sum(trades), 0), coalesce(sum(wins), 0), coalesce(sum(losses), 0),"
            " sum(wins)::numeric / nullif(sum(trades), 0)"
            " from {}.daily_pnl where date_day between %s and %s"
        ).format(m),
        window,
    )[0]
    return data.Headline(
        realized_pnl_usd=_dec(pnl),
        fees_usd=_dec(fees),
        trades=_int(trades),
        wins=_int(wins),
        losses=_int(losses),
        win_rate=_opt_float(win_rate),
        metrics_window=chosen.window_name if chosen else "-",
        sharpe_daily=chosen.sharpe_daily if chosen else None,
        sharpe_per_trade=chosen.sharpe_per_trade if chosen else None,
        sortino_daily=chosen.sortino_daily if chosen else None,
        max_drawdown_usd=chosen.max_drawdown_usd if chosen else None,
        max_drawdown_pct=chosen.max_drawdown_pct if chosen else None,
    )


# The window's equity points: its opening (the account's equity when the
# window starts: the curve's last point before it, else the starting equity)
# and every trade in it, with the running peak and drawdown measured from that
# opening, as the drawdowns mart measures a window; equity_curve's own peak is
# all-time and can stand far above the window.
_EQUITY_IN_WINDOW = """
with curve as (
    select trade_seq, sell_time, equity_usd from {m}.equity_curve where sell_time < %(end)s
),
opening as (
    select
        0::bigint as trade_seq,
        %(start)s::timestamptz as point_at,
        coalesce(
            (select equity_usd from curve where sell_time < %(start)s order by trade_seq desc limit 1),
            %(starting)s::numeric
        ) as equity_usd
),
points as (
    select * from opening where equity_usd is not null
    union all
    select trade_seq, sell_time, equity_usd from curve where sell_time >= %(start)s
),
with_peak as (
    select *, max(equity_usd) over (order by trade_seq rows between unbounded preceding and current row) as peak_usd
    from points
)
select
    point_at, equity_usd, peak_usd, equity_usd - peak_usd,
    case when peak_usd > 0 then (equity_usd - peak_usd) / peak_usd end
from with_peak
order by trade_seq
"""


def _fetch_equity(
    rows: Rows, m: sql.Identifier, start_day: date, report_date: date, starting: Decimal | None
) -> tuple[data.EquityPoint, ...]:
    start_time = datetime.combine(start_day, datetime.min.time(), tzinfo=UTC)
    end_time = datetime.combine(report_date + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    return tuple(
        data.EquityPoint(at, _dec(eq), _dec(peak), _dec(dd), _opt_float(ddp))
        for at, eq, peak, dd, ddp in rows(
            sql.SQL(_EQUITY_IN_WINDOW).format(m=m),
            {"start": start_time, "end": end_time, "starting": starting},
        )
    )


def _fetch_symbols(rows: Rows, m: sql.Identifier, window: tuple[date, date], *, best: bool) -> tuple[data.SymbolResult, ...]:
    """The TOP_SYMBOLS best (P&L above zero, highest first) or worst (below zero, lowest first) symbols
    of the window, from daily_symbol_pnl summed over its days, with the marts' win rate over those days."""
    query = sql.SQL(
        "select symbol, sum(trades), sum(wins), sum(realized_pnl_usd), {win_rate} from {m}.daily_symbol_pnl"
        " where date_day between %s and %s group by symbol"
        " having sum(trades) > 0 and sum(realized_pnl_usd) {sign} 0"
        " order by sum(realized_pnl_usd) {direction}, symbol {tie_break} limit {top}"
    ).format(
        m=m,
        win_rate=ratios.win_rate("sum(wins)", "sum(trades)"),
        sign=sql.SQL(">" if best else "<"),
        direction=sql.SQL("desc" if best else "asc"),
        tie_break=sql.SQL("asc" if best else "desc"),
        top=sql.Literal(TOP_SYMBOLS),
    )
    return tuple(
        data.SymbolResult(str(sym), _int(n), _int(w), _dec(pnl), _opt_float(rate))
        for sym, n, w, pnl, rate in rows(query, window)
    )


def _fetch_open_positions(rows: Rows, m: sql.Identifier) -> tuple[tuple[data.OpenPosition, ...], int, Decimal]:
    """The OPEN_LOTS_SHOWN largest open positions, with the count and cost basis of every open lot."""
    found = rows(
        sql.SQL(
            "select symbol, count(*), sum(remaining_size), sum(open_cost_basis_usd), min(buy_time),"
            " sum(count(*)) over (), sum(sum(open_cost_basis_usd)) over ()"
            " from {}.fct_buy_lots where is_open group by symbol"
            " order by sum(open_cost_basis_usd) desc, symbol limit {}"
        ).format(m, sql.Literal(OPEN_LOTS_SHOWN))
    )
    positions = tuple(
        data.OpenPosition(str(sym), _int(n), _dec(size), _dec(cost), oldest) for sym, n, size, cost, oldest, _, _ in found
    )
    if not found:
        return positions, 0, Decimal(0)
    return positions, _int(found[0][5]), _dec(found[0][6])


def _fetch_legacy(rows: Rows, m: sql.Identifier) -> tuple[data.LegacyDiscrepancy, ...]:
    """Symbols whose legacy columns still hold data (the section disappears once they are gone),
    largest net difference first: the order of the Difference column the report shows."""
    return tuple(
        _typed(data.LegacyDiscrepancy, _LEGACY, r)
        for r in rows(
            sql.SQL(
                "select symbol, sells_with_legacy_pnl, sells_with_discrepancy, sells_with_exhausted_parent,"
                " legacy_result_usd, fifo_pnl_usd, difference_usd, worst_sell_order_id, worst_difference_usd"
                " from {}.legacy_pnl_discrepancy_by_symbol where sells_with_legacy_pnl > 0"
                " order by abs(difference_usd) desc nulls last, symbol"
            ).format(m)
        )
    )


HEALTH_CHECKS = ("unmatched_sells", "old_lot_sells", "open_lots_by_age", "quarantined_rows")
AGE_BUCKET_ORDER = {"0-1d": 0, "1-7d": 1, "7-30d": 2, "30d+": 3}


def _fetch_health(rows: Rows, m: sql.Identifier) -> data.AllocationHealth:
    """allocation_health's rows by check, and each check's totals as the mart computes them
    (check_items, check_amount_usd: the same on every row of a check; zero for a check without rows)."""
    checks: dict[str, list[data.CountAmount]] = {name: [] for name in HEALTH_CHECKS}
    items_total: dict[str, int] = dict.fromkeys(HEALTH_CHECKS, 0)
    amount_total: dict[str, Decimal] = dict.fromkeys(HEALTH_CHECKS, Decimal(0))
    for check, category, items, size, amount, check_items, check_amount in rows(
        sql.SQL(
            "select check_name, category, items, size, amount_usd, check_items, check_amount_usd"
            " from {}.allocation_health order by check_name, items desc, category"
        ).format(m)
    ):
        if check in checks:
            label = "(none)" if category is None else str(category)
            checks[check].append(data.CountAmount(label, _int(items), _opt_dec(amount), _opt_dec(size)))
            items_total[check] = _int(check_items)
            amount_total[check] = _dec(check_amount)
    ages = sorted(checks["open_lots_by_age"], key=lambda item: AGE_BUCKET_ORDER.get(item.label, len(AGE_BUCKET_ORDER)))
    return data.AllocationHealth(
        unmatched_by_symbol=tuple(checks["unmatched_sells"]),
        old_lot_by_symbol=tuple(checks["old_lot_sells"]),
        open_lots_by_age=tuple(ages),
        quarantine_by_reason=tuple(checks["quarantined_rows"]),
        unmatched_sells=items_total["unmatched_sells"],
        unmatched_proceeds_usd=amount_total["unmatched_sells"],
        old_lot_sells=items_total["old_lot_sells"],
        quarantined_rows=items_total["quarantined_rows"],
    )


def _window_order(name: str) -> int:
    return METRIC_WINDOWS.index(name) if name in METRIC_WINDOWS else len(METRIC_WINDOWS)


def _metrics_window(metrics: Sequence[data.WindowMetrics], lookback_days: int) -> data.WindowMetrics | None:
    """The performance_metrics row for the look-back (``30d`` for 30 days), else ``all``."""
    by_name = {w.window_name: w for w in metrics}
    return by_name.get(f"{lookback_days}d") or by_name.get("all")

