"""The dashboard's pages: Streamlit rendering of the rows that ``data`` reads.

Raw strings (symbols, triggers, sources, order ids, quarantine values) only
ever reach the page through ``st.dataframe`` cells, ``st.text``, widget
options and chart data, all of which show text as text. Markdown-rendering
calls (titles, captions, alerts) get fixed wording, and the few values they
carry (times, schema names) go through ``md_escape``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import pandas as pd
import psycopg
import streamlit as st

from trades_warehouse.dashboard import charts, data
from trades_warehouse.dashboard import formatting as fmt

CACHE_SECONDS = 60
ALL_SYMBOLS = ""  # the symbol filter's "no filter" option (no symbol is empty)
# The window box shows these names as they are: a bound widget writes its shown label to the URL (?window=7d).
WINDOWS = ("1d", "7d", "30d", "all", "custom")
DEFAULT_WINDOW = "30d"

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$&\"'=/])")


def md_escape(text: str) -> str:
    """Make a value inert inside Streamlit Markdown: every punctuation mark is backslash-escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text).replace("\n", " ")


# --------------------------------------------------------------------------- cached reads


def target() -> data.Target:
    """Read on every run (it is only the environment): the cached reads below are keyed on it."""
    return data.target_from_environment()


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def status(where: data.Target) -> data.WarehouseStatus:
    return data.warehouse_status(where)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _headline(where: data.Target, period: data.Period, symbol: str | None) -> data.Headline:
    return data.headline(where, period, symbol)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _daily(where: data.Target, period: data.Period, symbol: str | None) -> tuple[data.DailyRow, ...]:
    return data.daily(where, period, symbol)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _equity(where: data.Target, period: data.Period) -> tuple[data.EquityPoint, ...]:
    return data.equity_curve(where, period)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _leaderboard(where: data.Target, period: data.Period) -> tuple[data.LeaderRow, ...]:
    return data.leaderboard(where, period)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _fills(where: data.Target, symbol: str, period: data.Period) -> tuple[data.Fill, ...]:
    return data.fills(where, symbol, period)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _allocations(where: data.Target, symbol: str, period: data.Period) -> tuple[data.Allocation, ...]:
    return data.allocations(where, symbol, period)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _open_lots(where: data.Target, symbol: str) -> tuple[data.OpenLot, ...]:
    return data.open_lots(where, symbol)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _open_position(where: data.Target, symbol: str) -> data.OpenPosition:
    return data.open_position(where, symbol)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _triggers(where: data.Target) -> tuple[data.TriggerRow, ...]:
    return data.triggers(where)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _sources(where: data.Target) -> tuple[data.SourceRow, ...]:
    return data.sources(where)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _checks(where: data.Target) -> tuple[data.Check, ...]:
    return data.health_checks(where)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _unmatched(where: data.Target, as_of: Any, symbol: str | None) -> tuple[data.UnmatchedSell, ...]:
    return data.unmatched_sells(where, as_of, symbol)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _quarantine(where: data.Target) -> tuple[data.QuarantineSample, ...]:
    return data.quarantine_samples(where)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _legacy_by_symbol(where: data.Target) -> tuple[data.LegacySymbol, ...]:
    return data.legacy_by_symbol(where)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _legacy_sells(where: data.Target, symbol: str | None, only_exhausted: bool) -> tuple[data.LegacySell, ...]:
    return data.legacy_sells(where, symbol, only_exhausted=only_exhausted)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _run_history(where: data.Target) -> data.RunHistory:
    return data.run_history(where)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _freshness(where: data.Target, history: data.RunHistory) -> data.Freshness:
    return data.freshness(where, history)


# --------------------------------------------------------------------------- shared pieces


@dataclass(frozen=True)
class Context:
    """What every page is drawn for: the warehouse, its state and the sidebar's filters."""

    target: data.Target
    status: data.WarehouseStatus
    period: data.Period
    symbol: str | None

    @property
    def as_of(self) -> str:
        return fmt.timestamp(self.status.as_of)


def show_problem(problem: data.DashboardError) -> None:
    """A message that says what is wrong and which command fixes it, never a traceback."""
    if isinstance(problem, data.MissingMartsError):
        st.warning(
            f"**Marts this dashboard reads are not built** in {md_escape(problem.schema)}: "
            f"{md_escape(', '.join(problem.missing))}.\n\n"
            f"Run `{problem.command}` (or `{data.DEMO_COMMAND}` for the demo data), then reload this page.",
        )
    else:
        st.error(
            f"**The warehouse cannot be read:** {md_escape(str(problem))}.\n\n"
            f"Run `{problem.command}`, or check the PG* settings, then reload this page.",
        )


def show_empty(where: data.Target) -> None:
    st.info(
        f"**The warehouse has no fills yet** ({md_escape(where.describe())}).\n\n"
        f"Load the bot's orders with `{data.LOAD_COMMAND}` and build with `{data.BUILD_COMMAND}`, "
        f"or try `{data.DEMO_COMMAND}`; then reload this page.",
    )


def show_query_error(exc: psycopg.Error) -> None:
    st.error(
        "**A mart does not have the shape this dashboard expects** "
        f"({md_escape(type(exc).__name__)}). Rebuild with `{data.BUILD_COMMAND}`, then reload this page.",
    )


def _caption(ctx: Context, scope: str) -> None:
    st.caption(
        f"{md_escape(ctx.period.label)} · {scope} · figures as of **{md_escape(ctx.as_of)}** "
        "(the latest fill, or the `as_of` variable of the build)"
    )


ROW_PIXELS = 35


def _height(rows: int, max_rows: int) -> int:
    """Room for the header and up to ``max_rows`` rows, so that short tables show whole."""
    return (min(max(rows, 1), max_rows) + 1) * ROW_PIXELS + 3


def _table(rows: Sequence[dict[str, object]], columns: Sequence[str], *, max_rows: int = 12) -> None:
    """A read-only table of pre-formatted text (numbers keep their exact digits); raw strings stay text."""
    frame = pd.DataFrame(list(rows), columns=list(columns))
    height = _height(len(rows), max_rows)
    config: dict[str, Any] = {
        name: st.column_config.TextColumn(name, alignment="right")
        for name in columns
        if rows and isinstance(rows[0].get(name), str) and _looks_numeric(str(rows[0].get(name)))
    }
    st.dataframe(frame, hide_index=True, column_config=config, height=height)


def _looks_numeric(text: str) -> bool:
    return bool(re.fullmatch(r"[+\-]?[\d,]*\.?\d*%?( s)?|—", text)) and text != ""


def _metric(label: str, value: str, help_text: str | None = None) -> None:
    st.metric(label, value, help=help_text)


class _Matched(Protocol):
    @property
    def rows_matching(self) -> int: ...


def _period_rows_label(rows: Sequence[_Matched]) -> str:
    """How many rows matched (counted in SQL, before the limit), and how many are shown when fewer."""
    matching = rows[0].rows_matching if rows else 0
    return f"{matching:,} rows" + (f" (the newest {len(rows):,})" if matching > len(rows) else "")


# --------------------------------------------------------------------------- overview


def overview(ctx: Context) -> None:
    st.title("Overview")
    scope = "all symbols" if ctx.symbol is None else "one symbol (see the Symbols page)"
    _caption(ctx, scope)
    if ctx.symbol is not None:
        st.text(f"Symbol: {ctx.symbol}")
    head = _headline(ctx.target, ctx.period, ctx.symbol)
    first_row = st.columns(4)
    with first_row[0]:
        _metric("Realized P&L (USD)", fmt.usd(head.realized_pnl_usd), "Realized FIFO P&L after the fees of both legs.")
    with first_row[1]:
        _metric("Trades", fmt.count(head.trades), "Sells that closed inventory.")
    with first_row[2]:
        _metric("Win rate", fmt.percent(head.win_rate), "Winning trades over trades.")
    with first_row[3]:
        _metric("Profit factor", fmt.ratio(head.profit_factor), "Gross profit over gross loss; blank without losses.")
    second_row = st.columns(4)
    with second_row[0]:
        _metric("Sharpe (daily)", fmt.ratio(head.sharpe_daily),
                "Mean daily excess return over its sample deviation, × √365; blank when undefined.")
    with second_row[1]:
        _metric("Sortino (daily)", fmt.ratio(head.sortino_daily),
                "Mean daily excess return over the downside deviation, × √365; blank without a losing day.")
    with second_row[2]:
        _metric("Max drawdown (USD)", fmt.usd(head.max_drawdown_usd),
                "Deepest fall of equity from its running peak in the window.")
    with second_row[3]:
        _metric("Max drawdown (%)", fmt.percent(head.max_drawdown_pct),
                "Deepest fall from the running peak as a share of that peak.")
    if ctx.symbol is not None:
        st.caption("Sharpe, Sortino and maximum drawdown are account figures: the marts define them for all symbols.")
    elif ctx.period.window_name is None:
        st.caption("Sharpe, Sortino and maximum drawdown are defined by the marts for the fixed windows (1d, 7d, 30d, all).")

    st.subheader("Equity curve")
    st.caption("Account equity (starting equity plus realized P&L) after each trade; dashed: running peak; red: drawdown.")
    st.altair_chart(charts.equity(_equity(ctx.target, ctx.period)), width="stretch")

    st.subheader("Realized P&L by day")
    days = _daily(ctx.target, ctx.period, ctx.symbol)
    st.altair_chart(charts.daily_bars(days), width="stretch")


# --------------------------------------------------------------------------- symbols


def _select_symbol_from_leaderboard(symbols: Sequence[str]) -> Callable[[], None]:
    def select() -> None:
        state = st.session_state.get("leaderboard")
        rows = list(getattr(getattr(state, "selection", None), "rows", None) or [])
        if rows and 0 <= rows[0] < len(symbols):
            st.session_state["symbol"] = symbols[rows[0]]

    return select


def symbols(ctx: Context) -> None:
    st.title("Symbols")
    _caption(ctx, "per symbol")
    board = _leaderboard(ctx.target, ctx.period)
    st.subheader("Leaderboard")
    st.caption("Ranked by realized P&L over the period; the line is the P&L accumulated day by day. Click a row to drill down.")
    frame = pd.DataFrame(
        {
            "Rank": [r.rank for r in board],
            "Symbol": [r.symbol for r in board],
            "Realized P&L (USD)": [fmt.usd(r.realized_pnl_usd) for r in board],
            "P&L over the period": [[float(v) for v in r.sparkline] for r in board],
            "Trades": [r.trades for r in board],
            "Win rate": [fmt.percent(r.win_rate) for r in board],
            "Profit factor": [fmt.ratio(r.profit_factor) for r in board],
            "Fees (USD)": [fmt.usd(r.fees_usd, signed=False) for r in board],
            "Open lots": [r.open_lots for r in board],
            "Open cost basis (USD)": [fmt.usd(r.open_cost_basis_usd, signed=False) for r in board],
        }
    )
    right = st.column_config.TextColumn(alignment="right")
    st.dataframe(
        frame,
        hide_index=True,
        key="leaderboard",
        on_select=_select_symbol_from_leaderboard([r.symbol for r in board]),
        selection_mode="single-row",
        height=_height(len(board), 25),
        column_config={
            "Realized P&L (USD)": right,
            "P&L over the period": st.column_config.LineChartColumn("P&L over the period", color="auto"),
            "Win rate": right,
            "Profit factor": right,
            "Fees (USD)": right,
            "Open cost basis (USD)": right,
        },
    )

    st.subheader("Drill-down")
    if ctx.symbol is None:
        st.info("Choose a symbol in the sidebar, or click a row of the leaderboard, to see its fills, FIFO "
                "allocations, open lots and realized P&L over time.")
        return
    st.text(ctx.symbol)
    head = _headline(ctx.target, ctx.period, ctx.symbol)
    position = _open_position(ctx.target, ctx.symbol)
    columns = st.columns(5)
    with columns[0]:
        _metric("Realized P&L (USD)", fmt.usd(head.realized_pnl_usd))
    with columns[1]:
        _metric("Trades", fmt.count(head.trades))
    with columns[2]:
        _metric("Win rate", fmt.percent(head.win_rate))
    with columns[3]:
        _metric("Open lots", fmt.count(position.lots))
    with columns[4]:
        _metric("Open cost basis (USD)", fmt.usd(position.cost_basis_usd, signed=False))

    days = _daily(ctx.target, ctx.period, ctx.symbol)
    left, right_column = st.columns(2)
    with left:
        st.caption("Realized P&L accumulated since the first fill")
        st.altair_chart(charts.cumulative(days), width="stretch")
    with right_column:
        st.caption("Realized P&L by day")
        st.altair_chart(charts.daily_bars(days), width="stretch")

    fills_tab, allocations_tab, lots_tab = st.tabs(["Fills", "FIFO allocations", "Open lots"])
    with fills_tab:
        rows = _fills(ctx.target, ctx.symbol, ctx.period)
        st.caption(f"Fills of the period, newest first: {_period_rows_label(rows)}.")
        _table(
            [
                {
                    "Time (UTC)": fmt.timestamp(f.order_time),
                    "Side": f.side,
                    "Size": fmt.quantity(f.size),
                    "Price": fmt.quantity(f.price),
                    "Fees (USD)": fmt.usd(f.fees_usd, signed=False),
                    "Notional (USD)": fmt.usd(f.notional_usd, signed=False),
                    "Matched": fmt.quantity(f.matched_size) if f.side == "sell" else "",
                    "Unmatched": fmt.quantity(f.unmatched_size) if f.side == "sell" else "",
                    "Realized P&L (USD)": fmt.usd(f.realized_pnl_usd) if f.side == "sell" else "",
                    "Remaining": fmt.quantity(f.remaining_size) if f.side == "buy" else "",
                    "Trigger": f.trigger_name or "",
                    "Source": f.source or "",
                    "Order": f.order_id,
                }
                for f in rows
            ],
            ["Time (UTC)", "Side", "Size", "Price", "Fees (USD)", "Notional (USD)", "Matched", "Unmatched",
             "Realized P&L (USD)", "Remaining", "Trigger", "Source", "Order"],
        )
    with allocations_tab:
        pieces = _allocations(ctx.target, ctx.symbol, ctx.period)
        st.caption(
            "Which buy lots each sell of the period drew on, in FIFO order; a sell without a lot is the part "
            f"no inventory covered: {_period_rows_label(pieces)}."
        )
        _table(
            [
                {
                    "Sell time (UTC)": fmt.timestamp(a.sell_time),
                    "Sell": a.sell_order_id,
                    "Buy lot": a.buy_order_id or "(unmatched)",
                    "Buy time (UTC)": fmt.timestamp(a.buy_time),
                    "Size": fmt.quantity(a.allocated_size),
                    "Buy price": fmt.quantity(a.buy_price),
                    "Sell price": fmt.quantity(a.sell_price),
                    "Cost basis (USD)": fmt.usd(a.cost_basis_usd, signed=False),
                    "Net proceeds (USD)": fmt.usd(a.net_proceeds_usd, signed=False),
                    "P&L (USD)": fmt.usd(a.pnl_usd),
                    "Held": fmt.age(a.holding_time),
                }
                for a in pieces
            ],
            ["Sell time (UTC)", "Sell", "Buy lot", "Buy time (UTC)", "Size", "Buy price", "Sell price",
             "Cost basis (USD)", "Net proceeds (USD)", "P&L (USD)", "Held"],
        )
    with lots_tab:
        lots = _open_lots(ctx.target, ctx.symbol)
        st.caption(f"Lots still open at {md_escape(ctx.as_of)}, oldest first, with their age then.")
        _table(
            [
                {
                    "Bought (UTC)": fmt.timestamp(lot.buy_time),
                    "Age": fmt.age(lot.age),
                    "Size": fmt.quantity(lot.size),
                    "Remaining": fmt.quantity(lot.remaining_size),
                    "Price": fmt.quantity(lot.price),
                    "Open cost basis (USD)": fmt.usd(lot.open_cost_basis_usd, signed=False),
                    "Trigger": lot.trigger_name or "",
                    "Source": lot.source or "",
                    "Order": lot.buy_order_id,
                }
                for lot in lots
            ],
            ["Bought (UTC)", "Age", "Size", "Remaining", "Price", "Open cost basis (USD)", "Trigger", "Source", "Order"],
        )


# --------------------------------------------------------------------------- triggers and sources


def _trigger_label(row: data.TriggerRow) -> str:
    return f"{row.trigger_name} (inferred)" if row.is_inferred else row.trigger_name


def triggers_and_sources(ctx: Context) -> None:
    st.title("Triggers and sources")
    st.caption(
        f"All history up to **{md_escape(ctx.as_of)}**: these marts are not windowed, so the window and symbol "
        "filters do not apply here. Entry results are per buy lot from the sells that drew on it; exit results "
        "per sell. Buys without a trigger get one inferred from their notional, marked *inferred*."
    )
    rows = _triggers(ctx.target)
    for role, heading in (("entry", "Entry triggers (the buy's)"), ("exit", "Exit triggers (the sell's)")):
        chosen = [r for r in rows if r.role == role]
        st.subheader(heading)
        if not chosen:
            st.caption("None.")
            continue
        st.altair_chart(
            charts.pnl_by_label([_trigger_label(r) for r in chosen], [r.realized_pnl_usd for r in chosen],
                                "Realized P&L (USD)"),
            width="stretch",
        )
        _table(
            [
                {
                    "Trigger": r.trigger_name,
                    "Inferred": "inferred" if r.is_inferred else "",
                    "Orders": fmt.count(r.orders),
                    "With a result": fmt.count(r.orders_with_result),
                    "Wins": fmt.count(r.wins),
                    "Losses": fmt.count(r.losses),
                    "Win rate": fmt.percent(r.win_rate),
                    "Realized P&L (USD)": fmt.usd(r.realized_pnl_usd),
                    "Notional (USD)": fmt.usd(r.notional_usd, signed=False),
                }
                for r in chosen
            ],
            ["Trigger", "Inferred", "Orders", "With a result", "Wins", "Losses", "Win rate", "Realized P&L (USD)",
             "Notional (USD)"],
        )

    st.subheader("Sources")
    placed = _sources(ctx.target)
    if placed:
        st.altair_chart(
            charts.pnl_by_label([s.source for s in placed], [s.realized_pnl_usd for s in placed], "Realized P&L (USD)"),
            width="stretch",
        )
    _table(
        [
            {
                "Source": s.source,
                "Buys": fmt.count(s.buys),
                "Sells": fmt.count(s.sells),
                "Trades": fmt.count(s.trades),
                "Wins": fmt.count(s.wins),
                "Losses": fmt.count(s.losses),
                "Win rate": fmt.percent(s.win_rate),
                "Realized P&L (USD)": fmt.usd(s.realized_pnl_usd),
                "Fees (USD)": fmt.usd(s.fees_usd, signed=False),
            }
            for s in placed
        ],
        ["Source", "Buys", "Sells", "Trades", "Wins", "Losses", "Win rate", "Realized P&L (USD)", "Fees (USD)"],
    )


# --------------------------------------------------------------------------- data health


def _checks_of(checks: Sequence[data.Check], name: str, symbol: str | None = None) -> list[data.Check]:
    return [c for c in checks if c.check_name == name and (symbol is None or c.category == symbol)]


def _check_total(rows: Sequence[data.Check], symbol: str | None = None) -> int:
    """The mart's figure for a tile: the check's total (check_items), or the one row of the chosen
    symbol (categories are unique within a check); zero without rows."""
    if not rows:
        return 0
    return rows[0].items if symbol is not None else rows[0].check_items


def _per_symbol_table(rows: Sequence[data.Check], amount: str) -> None:
    _table(
        [
            {"Symbol": c.category or "", "Sells": fmt.count(c.items), "Size": fmt.quantity(c.size),
             amount: fmt.usd(c.amount_usd, signed=False)}
            for c in rows
        ],
        ["Symbol", "Sells", "Size", amount],
    )


def data_health(ctx: Context) -> None:
    st.title("Data health")
    scope = "all symbols" if ctx.symbol is None else "symbol rows filtered to the sidebar's symbol"
    st.caption(
        f"Checks of the FIFO results and of the data behind them, measured at **{md_escape(ctx.as_of)}**; "
        f"{scope}. The window filter does not apply."
    )
    if ctx.symbol is not None:
        st.text(f"Symbol: {ctx.symbol}")
    checks = _checks(ctx.target)
    unmatched = _checks_of(checks, "unmatched_sells", ctx.symbol)
    old_lots = _checks_of(checks, "old_lot_sells", ctx.symbol)
    quarantined = _checks_of(checks, "quarantined_rows")
    open_by_age = _checks_of(checks, "open_lots_by_age")
    columns = st.columns(4)
    with columns[0]:
        _metric("Unmatched sells", fmt.count(_check_total(unmatched, ctx.symbol)),
                "Sells that inventory could not (fully) cover.")
    with columns[1]:
        _metric("Sells from old lots", fmt.count(_check_total(old_lots, ctx.symbol)),
                "Sells drawing on lots older than the `old_lot_gap_hours` variable.")
    with columns[2]:
        _metric("Quarantined rows", fmt.count(_check_total(quarantined)),
                "Raw rows that cannot be trusted, kept aside with a reason.")
    with columns[3]:
        _metric("Open lots", fmt.count(_check_total(open_by_age)))

    st.subheader("Unmatched sells")
    if unmatched:
        _per_symbol_table(unmatched, "Unmatched proceeds (USD)")
        assert ctx.status.as_of is not None
        detail = _unmatched(ctx.target, ctx.status.as_of, ctx.symbol)
        st.caption(f"The sells: {_period_rows_label(detail)}.")
        _table(
            [
                {"Time (UTC)": fmt.timestamp(s.order_time), "Symbol": s.symbol, "Size": fmt.quantity(s.size),
                 "Unmatched": fmt.quantity(s.unmatched_size), "Price": fmt.quantity(s.price),
                 "Source": s.source or "", "Order": s.order_id}
                for s in detail
            ],
            ["Time (UTC)", "Symbol", "Size", "Unmatched", "Price", "Source", "Order"],
        )
    else:
        st.caption("None: inventory covered every sell.")

    st.subheader("Sells from old lots")
    if old_lots:
        _per_symbol_table(old_lots, "Cost basis drawn (USD)")
    else:
        st.caption("None.")

    st.subheader("Open lots by age")
    _table(
        [{"Age": c.category or "", "Lots": fmt.count(c.items), "Open cost basis (USD)": fmt.usd(c.amount_usd, signed=False)}
         for c in open_by_age],
        ["Age", "Lots", "Open cost basis (USD)"],
    )

    st.subheader("Quarantine")
    if quarantined:
        _table(
            [{"Reason": c.category or "", "Rows": fmt.count(c.items)} for c in quarantined],
            ["Reason", "Rows"],
        )
        samples = _quarantine(ctx.target)
        st.caption("Sample rows, newest first (up to five per reason), raw values as the bot wrote them.")
        _table(
            [
                {"Reason": q.reason, "#": f"{q.sample_rank} of {q.reason_rows:,}", "Order": q.order_id or "",
                 "Symbol": q.symbol or "", "Side": q.side or "", "Time (UTC)": fmt.timestamp(q.order_time),
                 "Status": q.status or "", "Size": fmt.raw_float(q.raw_size), "Price": fmt.raw_float(q.raw_price),
                 "Fees (USD)": fmt.raw_float(q.raw_fees_usd)}
                for q in samples
            ],
            ["Reason", "#", "Order", "Symbol", "Side", "Time (UTC)", "Status", "Size", "Price", "Fees (USD)"],
        )
    else:
        st.caption("No quarantined rows.")

    st.subheader("Legacy P&L discrepancy")
    st.caption(
        "The bot's own P&L columns beside FIFO. The incident's signature: the legacy matcher priced a sell "
        "against a lot that earlier sells had already used up."
    )
    by_symbol = [s for s in _legacy_by_symbol(ctx.target) if ctx.symbol is None or s.symbol == ctx.symbol]
    _table(
        [
            {"Symbol": s.symbol or "", "Sells that disagree": fmt.count(s.sells_with_discrepancy),
             "Of which on a used-up lot": fmt.count(s.sells_with_exhausted_parent),
             "Legacy P&L (USD)": fmt.usd(s.legacy_result_usd), "FIFO P&L (USD)": fmt.usd(s.fifo_pnl_usd),
             "Difference (USD)": fmt.usd(s.difference_usd)}
            for s in by_symbol
        ],
        ["Symbol", "Sells that disagree", "Of which on a used-up lot", "Legacy P&L (USD)", "FIFO P&L (USD)",
         "Difference (USD)"],
    )
    only_exhausted = st.toggle("Only sells priced against a used-up lot", value=False, key="only_exhausted")
    sells = _legacy_sells(ctx.target, ctx.symbol, only_exhausted)
    st.caption(f"The sells, largest difference first: {_period_rows_label(sells)}.")
    _table(
        [
            {"Sell time (UTC)": fmt.timestamp(s.sell_time), "Symbol": s.symbol or "",
             "Legacy P&L (USD)": fmt.usd(s.legacy_result_usd), "FIFO P&L (USD)": fmt.usd(s.fifo_pnl_usd),
             "Difference (USD)": fmt.usd(s.difference_usd),
             "Legacy lot (UTC)": fmt.timestamp(s.legacy_parent_time),
             "Oldest FIFO lot (UTC)": fmt.timestamp(s.oldest_fifo_lot_time),
             "Legacy lot used up": "yes" if s.legacy_parent_exhausted else "",
             "Sell": s.sell_order_id, "Legacy lot": s.legacy_parent_id or ""}
            for s in sells
        ],
        ["Sell time (UTC)", "Symbol", "Legacy P&L (USD)", "FIFO P&L (USD)", "Difference (USD)", "Legacy lot (UTC)",
         "Oldest FIFO lot (UTC)", "Legacy lot used up", "Sell", "Legacy lot"],
    )

    st.subheader("Scheduled runs")
    history = _run_history(ctx.target)
    if not history.recorded:
        st.info(
            f"No scheduled run is recorded in {md_escape(ctx.target.ops_schema)}.run\\_history: "
            f"builds by `{data.RUN_COMMAND}` (from cron) are recorded there.",
        )
    else:
        st.caption("The last scheduled builds (`trades-warehouse run`), newest first.")
        _table(
            [
                {"Run": str(r.run_id), "Started (UTC)": fmt.timestamp(r.started_at),
                 "Finished (UTC)": fmt.timestamp(r.finished_at), "Status": r.status,
                 "Duration": fmt.seconds(r.elapsed_seconds),
                 "Passed": fmt.count(r.nodes_passed), "Warned": fmt.count(r.nodes_warned),
                 "Failed": fmt.count(r.nodes_failed), "Source freshness": r.freshness_status or "",
                 "First failure": r.failures[0] if r.failures else ""}
                for r in history.runs
            ],
            ["Run", "Started (UTC)", "Finished (UTC)", "Status", "Duration", "Passed", "Warned", "Failed",
             "Source freshness", "First failure"],
        )

    st.subheader("Source freshness")
    fresh = _freshness(ctx.target, history)
    fresh_columns = st.columns(3)
    with fresh_columns[0]:
        _metric("Latest fill (UTC)", fmt.minute(fresh.latest_fill_at),
                f"The newest fill in the marts: {md_escape(fmt.timestamp(fresh.latest_fill_at))}.")
    with fresh_columns[1]:
        _metric("Age of the latest fill", fmt.age(fresh.latest_fill_age), "Now, by the database's clock, minus the latest fill.")
    with fresh_columns[2]:
        _metric("dbt source freshness", fresh.last_run_freshness or fmt.DASH,
                "dbt's source freshness verdict at the last scheduled run (its thresholds: warn after 6 h, error "
                "after 48 h without a new order).")
    if fresh.last_run_at is not None:
        st.caption(f"Freshness checked by the run of {md_escape(fmt.timestamp(fresh.last_run_at))}.")


# --------------------------------------------------------------------------- filters


def sidebar_filters(status_now: data.WarehouseStatus) -> tuple[data.Period, str | None]:
    """The window (or custom days) and the symbol, kept in the URL so that a view can be bookmarked."""
    with st.sidebar:
        window = st.selectbox(
            "Window",
            WINDOWS,
            index=WINDOWS.index(DEFAULT_WINDOW),
            key="window",
            bind="query-params",
            help="1d, 7d and 30d are UTC calendar days ending on the day of as_of; all is the whole history; "
            "custom picks days.",
        )
        first, last = status_now.first_day, status_now.last_day
        assert first is not None and last is not None
        if window == "custom":
            chosen = st.date_input("Days (UTC)", value=(max(first, last.replace(day=1)), last), min_value=first,
                                   max_value=last, key="days")
            days: tuple[date, ...]
            if isinstance(chosen, tuple):
                days = tuple(day for day in chosen if isinstance(day, date))
            else:
                days = (chosen,) if isinstance(chosen, date) else ()
            start = days[0] if days else first
            end = days[1] if len(days) > 1 else start
            period = data.custom_period(status_now, start, end)
        else:
            period = data.fixed_period(status_now, str(window))
        symbol = st.selectbox(
            "Symbol",
            [ALL_SYMBOLS, *status_now.symbols],
            format_func=lambda s: "All symbols" if s == ALL_SYMBOLS else str(s),
            key="symbol",
            bind="query-params",
        )
        st.caption(f"Figures as of {md_escape(fmt.timestamp(status_now.as_of))}.")
    return period, (None if not symbol else str(symbol))
