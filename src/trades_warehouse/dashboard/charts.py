"""The dashboard's charts (Vega-Altair), built from the typed rows of ``data``.

Pure functions: rows in, chart out, no database and no Streamlit. Values
become floats only here, for drawing; every figure printed as text on a page
comes from the Decimal rows through ``formatting``. Raw strings (symbols,
triggers, sources) are data of the chart, drawn by Vega as text and escaped
in its tooltips, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import altair as alt
import pandas as pd

from trades_warehouse.dashboard.data import DailyRow, EquityPoint

GAIN = "#2E8B57"
LOSS = "#D9534F"
EQUITY = "#1F4E79"
PEAK = "#8A8A8A"


def _f(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _sign_colour() -> alt.Color:
    return alt.Color(
        "outcome:N",
        scale=alt.Scale(domain=["gain", "loss"], range=[GAIN, LOSS]),
        legend=None,
    )


def equity(points: Sequence[EquityPoint]) -> alt.LayerChart | alt.FacetChart:
    """Equity after each trade, its running peak, and the drawdown between them shaded."""
    frame = pd.DataFrame(
        {
            "at": [p.at for p in points],
            "equity": [_f(p.equity_usd) for p in points],
            "peak": [_f(p.peak_usd) for p in points],
            "drawdown": [_f(p.drawdown_usd) for p in points],
            "drawdown_pct": [_f(p.drawdown_pct) for p in points],
            "symbol": [p.symbol or "" for p in points],
        }
    )
    # Times on the axis and in tooltips in UTC, as everywhere else, whatever the browser's zone.
    x = alt.X("at:T", title="UTC", scale=alt.Scale(type="utc"), axis=alt.Axis(format="%b %d %H:%M"))
    base = alt.Chart(frame)
    shading = base.mark_area(color=LOSS, opacity=0.3, interpolate="step-after").encode(
        x=x, y=alt.Y("equity:Q", title="Equity (USD)", scale=alt.Scale(zero=False)), y2="peak:Q"
    )
    peak = base.mark_line(color=PEAK, strokeDash=[4, 3], strokeWidth=1, interpolate="step-after").encode(
        x=x, y="peak:Q"
    )
    line = base.mark_line(color=EQUITY, strokeWidth=1.6, interpolate="step-after").encode(
        x=x,
        y="equity:Q",
        tooltip=[
            alt.Tooltip("at:T", title="time (UTC)", format="%Y-%m-%d %H:%M:%S", formatType="utc"),
            alt.Tooltip("symbol:N", title="symbol"),
            alt.Tooltip("equity:Q", title="equity", format=",.2f"),
            alt.Tooltip("drawdown:Q", title="drawdown", format=",.2f"),
            alt.Tooltip("drawdown_pct:Q", title="drawdown %", format=".2%"),
        ],
    )
    return alt.layer(shading, peak, line).properties(height=320)


def daily_bars(rows: Sequence[DailyRow], title: str = "Realized P&L (USD)") -> alt.Chart:
    """Realized P&L per UTC day, green for gains and red for losses."""
    frame = pd.DataFrame(
        {
            "day": [pd.Timestamp(r.day) for r in rows],
            "pnl": [_f(r.realized_pnl_usd) for r in rows],
            "fees": [_f(r.fees_usd) for r in rows],
            "trades": [r.trades for r in rows],
            "outcome": ["loss" if r.realized_pnl_usd < 0 else "gain" for r in rows],
        }
    )
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("day:T", title=None, axis=alt.Axis(format="%b %d")),
            y=alt.Y("pnl:Q", title=title),
            color=_sign_colour(),
            tooltip=[
                alt.Tooltip("day:T", title="day (UTC)", format="%Y-%m-%d"),
                alt.Tooltip("pnl:Q", title="realized P&L", format=",.2f"),
                alt.Tooltip("fees:Q", title="fees", format=",.2f"),
                alt.Tooltip("trades:Q", title="trades"),
            ],
        )
        .properties(height=260)
    )
    return chart


def cumulative(rows: Sequence[DailyRow]) -> alt.Chart:
    """Realized P&L accumulated over all history, drawn over the period's days."""
    frame = pd.DataFrame(
        {
            "day": [pd.Timestamp(r.day) for r in rows],
            "cumulative": [_f(r.cumulative_pnl_usd) for r in rows],
        }
    )
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_line(color=EQUITY, point=True, interpolate="step-after")
        .encode(
            x=alt.X("day:T", title=None, axis=alt.Axis(format="%b %d")),
            y=alt.Y("cumulative:Q", title="Cumulative realized P&L (USD)"),
            tooltip=[
                alt.Tooltip("day:T", title="day (UTC)", format="%Y-%m-%d"),
                alt.Tooltip("cumulative:Q", title="cumulative P&L", format=",.2f"),
            ],
        )
        .properties(height=260)
    )
    return chart


def pnl_by_label(labels: Sequence[str], values: Sequence[Decimal], title: str) -> alt.Chart:
    """Horizontal bars of realized P&L per label (trigger, source), best first."""
    frame = pd.DataFrame(
        {
            "label": list(labels),
            "pnl": [_f(v) for v in values],
            "outcome": ["loss" if v < 0 else "gain" for v in values],
        }
    )
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("label:N", title=None, sort="-x", axis=alt.Axis(labelLimit=320, labelOverlap=False)),
            x=alt.X("pnl:Q", title=title),
            color=_sign_colour(),
            tooltip=[alt.Tooltip("label:N", title="name"), alt.Tooltip("pnl:Q", title="realized P&L", format=",.2f")],
        )
        .properties(height=max(120, 32 * len(frame)))
    )
    return chart
