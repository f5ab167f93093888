"""Check the report's headline figures against a computation straight from the allocations.

The report reads its headline from ``daily_pnl``; here the same figures are
recomputed from ``fct_fifo_allocations`` (realized P&L, trades, wins, losses)
and ``fct_fills`` (fees), over the same UTC days and the same ``as_of`` cut,
without going through any reporting mart. Money is numeric on both sides, so
it must agree exactly; the win rate to 1e-12.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from psycopg import sql

from trades_warehouse.database import ConnectionSettings
from trades_warehouse.report.data import ReportData

WIN_RATE_TOLERANCE = 1e-12


@dataclass(frozen=True)
class Recomputed:
    realized_pnl_usd: Decimal
    fees_usd: Decimal
    trades: int
    wins: int
    losses: int

    @property
    def win_rate(self) -> float | None:
        return self.wins / self.trades if self.trades else None


@dataclass(frozen=True)
class Difference:
    figure: str
    report: object
    recomputed: object

    def __str__(self) -> str:
        return f"{self.figure}: report says {self.report}, the allocations say {self.recomputed}"


def recompute(connection: ConnectionSettings, marts_schema: str, data: ReportData) -> Recomputed:
    """Headline figures over ``data``'s window, from the allocations and the fills."""
    start, end = data.window_start_time, data.window_end_time
    # The marts stop at as_of (latest fill unless set): so does the check.
    until = data.as_of if data.as_of is not None else end
    m = sql.Identifier(marts_schema)
    with connection.connect() as conn:
        conn.read_only = True
        per_sell = conn.execute(
            sql.SQL(
                "with sells as ("
                "  select sell_order_id, sum(pnl_usd) as pnl"
                "  from {}.fct_fifo_allocations"
                "  where not is_unmatched and sell_time >= %(start)s and sell_time < %(end)s"
                "    and sell_time <= %(until)s"
                "  group by sell_order_id)"
                " select coalesce(sum(pnl), 0), count(*), count(*) filter (where pnl > 0),"
                "  count(*) filter (where pnl < 0) from sells"
            ).format(m),
            {"start": start, "end": end, "until": until},
        ).fetchone()
        fees = conn.execute(
            sql.SQL(
                "select coalesce(sum(fees_usd), 0) from {}.fct_fills"
                " where order_time >= %(start)s and order_time < %(end)s and order_time <= %(until)s"
            ).format(m),
            {"start": start, "end": end, "until": until},
        ).fetchone()
    assert per_sell is not None and fees is not None
    pnl, trades, wins, losses = per_sell
    return Recomputed(
        realized_pnl_usd=Decimal(str(pnl)),
        fees_usd=Decimal(str(fees[0])),
        trades=int(str(trades)),
        wins=int(str(wins)),
        losses=int(str(losses)),
    )


def compare(data: ReportData, recomputed: Recomputed) -> list[Difference]:
    """Every headline figure where the report and the recomputation differ (empty: they agree)."""
    h = data.headline
    differences: list[Difference] = []
    exact: list[tuple[str, object, object]] = [
        ("realized P&L (USD)", h.realized_pnl_usd, recomputed.realized_pnl_usd),
        ("fees (USD)", h.fees_usd, recomputed.fees_usd),
        ("trades", h.trades, recomputed.trades),
        ("wins", h.wins, recomputed.wins),
        ("losses", h.losses, recomputed.losses),
    ]
    for figure, reported, actual in exact:
        if reported != actual:
            differences.append(Difference(figure, reported, actual))
    if (h.win_rate is None) != (recomputed.win_rate is None) or (
        h.win_rate is not None
        and recomputed.win_rate is not None
        and abs(h.win_rate - recomputed.win_rate) > WIN_RATE_TOLERANCE
    ):
        differences.append(Difference("win rate", h.win_rate, recomputed.win_rate))
    # The report's own parts must add up to its headline.
    daily_pnl = sum((d.realized_pnl_usd for d in data.daily), Decimal(0))
    if daily_pnl != h.realized_pnl_usd:
        differences.append(Difference("sum of the daily P&L bars", daily_pnl, h.realized_pnl_usd))
    daily_trades = sum(d.trades for d in data.daily)
    if daily_trades != h.trades:
        differences.append(Difference("sum of the daily trade counts", daily_trades, h.trades))
    return differences


def verify_report_data(connection: ConnectionSettings, marts_schema: str, data: ReportData) -> list[Difference]:
    """Differences between ``data`` (what the report shows) and the allocations."""
    return compare(data, recompute(connection, marts_schema, data))
