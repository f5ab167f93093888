"""The daily report: typed data read from the marts, rendered to e-mail HTML and plain text.

Three modules, each usable alone:

* ``report.data``: the plain dataclasses a report is made of (``ReportData``);
* ``report.marts``: ``fetch_report_data`` reads the marts (nothing else) into
  a ``ReportData``; every sum over the window is taken in SQL;
* ``report.charts`` and ``report.rendering``: ``render`` turns a
  ``ReportData`` into ``(html, text)``, a pure function (no database, no
  clock) with matplotlib charts embedded as PNG.

The ``report`` and ``verify`` commands (parse, fetch, render, write) live in
``trades_warehouse.commands``, which the CLI calls.
"""

from trades_warehouse.report import data
from trades_warehouse.report.data import *  # noqa: F403 (the dataclasses, listed in data.__all__)
from trades_warehouse.report.marts import (
    REQUIRED_RELATIONS,
    MissingMartError,
    ReportError,
    fetch_report_data,
    latest_fill_date,
)
from trades_warehouse.report.rendering import render

__all__ = [
    *data.__all__,
    "REQUIRED_RELATIONS",
    "MissingMartError",
    "ReportError",
    "fetch_report_data",
    "latest_fill_date",
    "render",
]
