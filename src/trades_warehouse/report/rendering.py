"""The report as e-mail HTML and its plain-text twin: Jinja2 templates in ``trades_warehouse/templates``.

A pure function of a ``ReportData`` (no database, no clock). HTML has inline
CSS only, no scripts, and the charts as base64 PNG ``<img>``; autoescape is on
for HTML, so every string that came from raw data (symbols, triggers,
sources, reasons) is escaped. The text twin masks control characters instead.
"""

from __future__ import annotations

import re
from decimal import Decimal
from importlib import resources

import jinja2

from trades_warehouse.report.charts import daily_pnl_chart, equity_chart
from trades_warehouse.report.data import ReportData

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
