"""The report's two charts, drawn with matplotlib's Agg canvas (no display, no pyplot state) as PNG data URIs.

They draw what the data says: the equity points and their drawdown band come
from ``report.marts`` already measured over the window.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any, Literal

from trades_warehouse.report.data import ReportData


def _png_data_uri(figure: Any) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _chart(
    height: float, title: str, draw: Callable[[Any], None] | None, empty: str, grid_axis: Literal["both", "y"]
) -> str:
    """One 8-inch-wide chart: ``draw`` fills the axes (dates on x), or the ``empty`` note stands alone."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, height))
    axes = figure.add_subplot()
    if draw is not None:
        draw(axes)
        figure.autofmt_xdate()
    else:
        axes.text(0.5, 0.5, empty, ha="center", va="center", transform=axes.transAxes)
    axes.set_title(title, fontsize=10)
    axes.grid(True, axis=grid_axis, alpha=0.3)
    figure.tight_layout()
    return _png_data_uri(figure)


def equity_chart(data: ReportData) -> str:
    """Equity curve with the drawdown from the window's running peak shaded, as a PNG data URI."""

    def draw(axes: Any) -> None:
        # matplotlib plots datetimes through its unit converters; its stubs only name arrays.
        times: Any = [p.at for p in data.equity]
        equity = [float(p.equity_usd) for p in data.equity]
        peak = [float(p.peak_usd) for p in data.equity]
        axes.fill_between(times, equity, peak, step="post", color="#d9534f", alpha=0.35, label="drawdown")
        axes.step(times, peak, where="post", color="#999999", linewidth=0.8, label="running peak")
        axes.step(times, equity, where="post", color="#1f5fa8", linewidth=1.5, label="equity")
        axes.legend(loc="upper left", fontsize=8, frameon=False)

    return _chart(3.2, "Equity (USD) and drawdown", draw if data.equity else None, "no sells in the window", "both")


def daily_pnl_chart(data: ReportData) -> str:
    """Daily realized P&L bars, green up and red down, as a PNG data URI."""

    def draw(axes: Any) -> None:
        days: Any = [d.day for d in data.daily]
        values = [float(d.realized_pnl_usd) for d in data.daily]
        axes.bar(days, values, color=["#2e8b57" if v >= 0 else "#d9534f" for v in values], width=0.8)
        axes.axhline(0, color="#666666", linewidth=0.8)

    return _chart(2.8, "Daily realized P&L (USD)", draw if data.daily else None, "no days in the window", "y")
