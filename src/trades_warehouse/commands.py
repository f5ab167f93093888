"""The ``report`` and ``verify`` commands behind the CLI: parse the arguments, read the marts,
render or check, write. Each returns its exit code (``ExitCode``) and prints one line per error.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
from rich.console import Console
from rich.markup import escape

from trades_warehouse.database import ConnectionSettings, ServerError
from trades_warehouse.exit_codes import ExitCode
from trades_warehouse.report import ReportData, ReportError, fetch_report_data, latest_fill_date, render
from trades_warehouse.verify import verify_report_data


class BadInput(ValueError):
    """An argument of `report` or `verify` that cannot be used (exit code 2)."""


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


def load_report_data(
    connection: ConnectionSettings, target_schema: str, report_date: str | None, days: int
) -> ReportData:
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


# What a command cannot get past, and the exit code each gives.
_STOPS = (BadInput, ReportError, ServerError, psycopg.Error)


def _stopped(exc: Exception) -> ExitCode:
    Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
    return ExitCode.BAD_INPUT if isinstance(exc, BadInput) else ExitCode.DATABASE


def report_command(
    connection: ConnectionSettings,
    target_schema: str,
    report_date: str | None = None,
    days: int = 30,
    out_dir: Path = Path("reports"),
) -> ExitCode:
    """Write daily_report_<date>.html and .txt to ``out_dir``.

    ``report_date`` None means the UTC day of the latest fill. Exit codes: 0 ok,
    2 bad input (date, days, output folder), 3 database (unreachable, marts missing).
    """
    try:
        data = load_report_data(connection, target_schema, report_date, days)
    except _STOPS as exc:
        return _stopped(exc)
    html, text = render(data)
    html_path, text_path = report_paths(out_dir, data.report_date)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        html_path.write_text(html, encoding="utf-8")
        text_path.write_text(text, encoding="utf-8")
    except OSError as exc:
        return _stopped(BadInput(f"cannot write the report to {out_dir}: {exc}"))
    Console(soft_wrap=True).print(escape(f"wrote {html_path} and {text_path}"))
    return ExitCode.OK


def verify_command(
    connection: ConnectionSettings,
    target_schema: str,
    report_date: str | None = None,
    days: int = 30,
) -> ExitCode:
    """Recompute the report's headline for the date and window and compare.

    0 agree, 1 differences (each printed), 2 bad input, 3 database.
    """
    try:
        data = load_report_data(connection, target_schema, report_date, days)
        differences = verify_report_data(connection, f"{target_schema}_marts", data)
    except _STOPS as exc:
        return _stopped(exc)
    window = f"{data.window_start.isoformat()} to {data.report_date.isoformat()}"
    if differences:
        errors = Console(stderr=True, soft_wrap=True)
        errors.print(f"[bold red]verification failed[/] for {window}: {len(differences)} difference(s)")
        for difference in differences:
            errors.print(f"  [red]differs:[/] {escape(str(difference))}", highlight=False)
        return ExitCode.FAILED
    h = data.headline
    Console(soft_wrap=True).print(
        f"[green]verified[/] {window}: realized P&L {h.realized_pnl_usd:,.2f} USD, fees {h.fees_usd:,.2f} USD, "
        f"{h.trades} trades, {h.wins} wins; the report agrees with the allocations"
    )
    return ExitCode.OK
