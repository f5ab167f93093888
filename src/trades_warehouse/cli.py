"""The ``trades-warehouse`` command: server, load, build and the demo."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import psycopg
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from trades_warehouse import database, dbt_invoke, loader
from trades_warehouse.exit_codes import ExitCode

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
# soft_wrap: long lines (paths, messages) stay whole in logs and pipes.
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def _print_version(value: bool) -> None:
    if not value:
        return
    # The installed distributions' metadata: no dbt import, so this is instant.
    from importlib.metadata import version

    console.print(f"trades-warehouse {version('trades-warehouse')}\ndbt-core {version('dbt-core')}", highlight=False)
    raise typer.Exit()


@app.callback()
def main(
    _version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the trades-warehouse and dbt-core versions."
        ),
    ] = False,
) -> None:
    # No docstring: the Typer's help (this module's docstring) stays the --help text.
    pass


def _fail(message: str, code: ExitCode) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(int(code))


def _connect() -> database.ConnectionSettings:
    """The configured server, reached once: unreachable or refused is exit 3 with one line, not a traceback."""
    try:
        with console.status("Connecting to PostgreSQL..."):
            connection = database.resolve_connection()
            connection.connect().close()
            return connection
    except database.ServerError as exc:
        raise _fail(str(exc), ExitCode.DATABASE) from exc


def source_schema() -> str:
    return os.environ.get("TRADES_SOURCE_SCHEMA", "public")


def target_schema() -> str:
    return os.environ.get("TRADES_TARGET_SCHEMA", "analytics")


@app.command()
def start() -> None:
    """Start the embedded PostgreSQL (nothing to do when PGHOST names your own server)."""
    if database.external_connection() is not None:
        console.print("PGHOST is set: using your server, nothing to start.")
        return
    connection = _connect()
    console.print(f"[green]running[/]: {connection.describe()}\n  {connection.psql_command()}")


@app.command()
def stop() -> None:
    """Stop the embedded PostgreSQL cleanly (fast shutdown: open sessions are rolled back)."""
    if database.stop_embedded():
        console.print("embedded PostgreSQL stopped")
    else:
        console.print("embedded PostgreSQL was not running")


@app.command()
def status() -> None:
    """Say whether the embedded PostgreSQL runs, and where."""
    external = database.external_connection()
    if external is not None:
        console.print(f"PGHOST is set: {external.describe()}")
        return
    socket_dir = database.embedded_status()
    if socket_dir is None:
        console.print("embedded PostgreSQL: [yellow]stopped[/]")
        raise typer.Exit(int(ExitCode.DATABASE))
    console.print(f"embedded PostgreSQL: [green]running[/] on socket {socket_dir}")


@app.command()
def env() -> None:
    """Print shell exports that point psql and plain `dbt` at the warehouse: eval "$(trades-warehouse env)"."""
    import shlex

    connection = _connect()
    exports = {"DBT_PROFILES_DIR": str(dbt_invoke.profiles_dir())}
    if connection.embedded:
        # Your own server's settings are already in your environment; only the
        # embedded one's are printed (it has no password).
        exports.update({k: v for k, v in connection.env().items() if k != "PGPASSWORD"})
    for name, value in exports.items():
        print(f"export {name}={shlex.quote(value)}")


@app.command()
def load(
    files: Annotated[list[Path], typer.Argument(help="CSV, JSON (array) or JSON-lines files of orders.")],
    schema: Annotated[str | None, typer.Option(help="Source schema (default TRADES_SOURCE_SCHEMA or public).")] = None,
) -> None:
    """Load orders into trade_records, upserting on order_id; a malformed file loads nothing.

    Missing is not null: a column a row leaves out (an absent JSON key, an
    empty CSV cell or JSON string) keeps an existing order's value, and is NULL
    for a new order. To erase a value say so: NULL in a CSV cell, null in JSON.
    A new order must give order_id, symbol and side, and a CSV must end with a
    line break (a file cut short does not).

    Exit 2 when a file is rejected (each with file, line and column; the
    other files still load), 3 when the database cannot be reached or refuses.
    """
    parsed: list[tuple[Path, loader.LoadedFile]] = []
    rejected: list[loader.LoadError] = []
    for path in files:
        try:
            parsed.append((path, loader.read_file(path)))
        except loader.LoadError as exc:
            rejected.append(_reject(exc))
    if not parsed:
        raise typer.Exit(int(ExitCode.BAD_INPUT))
    connection = _connect()
    for path, loaded in parsed:
        try:
            result = loader.load_rows(connection, schema or source_schema(), loaded.rows, where=loaded.where)
        except loader.LoadError as exc:
            rejected.append(_reject(exc))
            continue
        except (database.ServerError, psycopg.Error) as exc:
            # One line, no traceback: the message is the server's or libpq's.
            raise _fail(escape(" ".join(str(exc).split())), ExitCode.DATABASE) from exc
        console.print(
            escape(f"{path}: {result.rows_in_files} rows, {result.inserted} new, {result.updated} updated")
        )
    if rejected:
        raise typer.Exit(int(ExitCode.BAD_INPUT))


def _reject(error: loader.LoadError) -> loader.LoadError:
    # No highlighting: rich's highlighter takes minutes over a long hostile value.
    err_console.print(f"[bold red]rejected:[/] {escape(str(error))}", highlight=False)
    return error


def _build(select: str | None = None, full_refresh: bool = False) -> None:
    args = ["build"]
    if select:
        args += ["--select", select]
    if full_refresh:
        args.append("--full-refresh")
    outcome = dbt_invoke.run_dbt(args)
    if outcome.exception:
        raise _fail(f"dbt stopped: {outcome.exception}", ExitCode.FAILED)
    if not outcome.success:
        for failure in outcome.failures:
            err_console.print(f"[red]failed:[/] {failure}")
        raise _fail("dbt build failed", ExitCode.FAILED)


@app.command()
def build(
    select: Annotated[str | None, typer.Option(help="dbt node selection.")] = None,
    full_refresh: Annotated[bool, typer.Option(help="Rebuild incremental models from scratch.")] = False,
) -> None:
    """Run `dbt build` (models, seeds, tests) against the configured database."""
    connection = _connect()
    dbt_invoke.apply_environment(connection, source_schema=source_schema(), target_schema=target_schema())
    _build(select, full_refresh)
    console.print(f"[green]built[/] into schema {target_schema()}_* on {connection.describe()}")


@app.command()
def run() -> None:
    """The scheduled build for cron: locked, all-or-nothing, recorded in <target>_ops.run_history."""
    from trades_warehouse import scheduler
    from trades_warehouse.paths import state_dir

    connection = _connect()
    try:
        report = scheduler.scheduled_run(
            connection,
            source_schema=source_schema(),
            target_schema=target_schema(),
            target_path=state_dir() / "run-target",
            say=lambda line: err_console.print(f"[yellow]{escape(line)}[/]"),
        )
    except (database.ServerError, psycopg.OperationalError) as exc:
        raise _fail(" ".join(f"lost the database: {exc}".split()), ExitCode.DATABASE) from exc
    if report.exit_code == ExitCode.OK:
        console.print(report.message)
    else:
        for failure in report.failures:
            err_console.print(f"[red]failed:[/] {escape(failure)}")
        err_console.print(escape(report.message))
    raise typer.Exit(report.exit_code)


@app.command()
def report(
    date: Annotated[str | None, typer.Option(help="Report date YYYY-MM-DD, today or yesterday (default: latest fill).")] = None,
    days: Annotated[int, typer.Option(help="Look-back window in days.")] = 30,
    out: Annotated[Path, typer.Option(help="Folder for daily_report_<date>.html and .txt.")] = Path("reports"),
) -> None:
    """Render the daily report (e-mail HTML and plain text) from the marts alone."""
    from trades_warehouse.commands import report_command

    raise typer.Exit(int(report_command(_connect(), target_schema(), report_date=date, days=days, out_dir=out)))


@app.command()
def verify(
    date: Annotated[str | None, typer.Option(help="Report date, as for `report`.")] = None,
    days: Annotated[int, typer.Option(help="Look-back window in days.")] = 30,
) -> None:
    """Recompute the report's headline figures from the allocations; exit 1 on any difference."""
    from trades_warehouse.commands import verify_command

    raise typer.Exit(int(verify_command(_connect(), target_schema(), report_date=date, days=days)))


@app.command()
def dashboard(
    port: Annotated[int, typer.Option(help="Port on localhost.")] = 8501,
    address: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1: this machine only).")] = "127.0.0.1",
    schema: Annotated[str | None, typer.Option(help="Target schema (default TRADES_TARGET_SCHEMA or analytics).")] = None,
) -> None:
    """Serve the live dashboard over the marts (Streamlit) on localhost until Ctrl-C."""
    from trades_warehouse import dashboard as live
    from trades_warehouse.dashboard import data

    connection = _connect()
    chosen = schema or target_schema()
    try:
        missing = data.missing_marts(data.Target(connection, chosen))
    except data.DashboardError as exc:
        raise _fail(str(exc), ExitCode.DATABASE) from exc
    if missing:
        err_console.print(
            f"[yellow]warning:[/] {chosen}_marts lacks {', '.join(missing)}: the dashboard will say so until "
            "`trades-warehouse build` (or `trades-warehouse demo`) has run"
        )
    raise typer.Exit(live.serve(connection, chosen, port=port, address=address, say=console.print))


@app.command()
def demo(
    orders: Annotated[int, typer.Option(help="Orders to generate.")] = 5000,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 20251203,
) -> None:
    """Build the demo warehouse: start PostgreSQL, load generated orders, dbt build, summary.

    dbt's own log goes to a file under .state/demo-logs (its path is printed);
    the terminal shows one progress line per phase, then the summary.
    """
    from trades_warehouse import build_progress, demo_data, summary

    log_dir = build_progress.new_log_dir("demo")
    log_file = build_progress.shown_path(log_dir / "dbt.log")
    progress = build_progress.phases(console)
    try:
        with progress:
            step = progress.add_task("Starting PostgreSQL", total=None, detail="")
            connection = database.resolve_connection()
            connection.connect().close()
            kind = "embedded PostgreSQL" if connection.embedded else "PostgreSQL (PGHOST)"
            progress.update(step, description=f"{kind} running", total=1, completed=1)
            # On a server of your own the demo keeps clear of your tables.
            demo_source = "public" if connection.embedded else "trades_demo"
            demo_target = "analytics" if connection.embedded else "analytics_demo"

            step = progress.add_task(f"Generating {orders} demo orders", total=None, detail="")
            rows = [
                loader.normalise_row(row, f"demo row {n}")
                for n, row in enumerate(demo_data.generate_demo_rows(seed=seed, n_orders=orders))
            ]
            progress.update(step, description=f"Generated {len(rows)} demo orders", total=1, completed=1)
            step = progress.add_task(f"Loading into {demo_source}.trade_records", total=None, detail="")
            result = loader.load_rows(connection, demo_source, rows, replace=True)
            progress.update(
                step, description=f"Loaded {result.rows_in_files} orders into {demo_source}.trade_records",
                total=1, completed=1,
            )

            step = progress.add_task("dbt build: parsing the project", total=None, detail="")
            nodes = build_progress.NodeProgress(progress, step)
            dbt_invoke.apply_environment(connection, source_schema=demo_source, target_schema=demo_target)
            outcome = dbt_invoke.run_dbt(["build"], callbacks=[nodes], log_path=log_dir, quiet=True)
            if outcome.success:
                progress.update(step, total=nodes.total or 1, completed=nodes.total or 1)
            else:
                # Left where it stopped, so the bar shows how far the build got.
                progress.update(step, description="[red]dbt build failed[/]")
    except database.ServerError as exc:
        # No traceback, after the progress lines have stopped moving; a failed
        # start's message ends with the server log's tail, kept on its lines.
        raise _fail(str(exc), ExitCode.DATABASE) from exc
    except psycopg.Error as exc:
        raise _fail(" ".join(str(exc).split()), ExitCode.DATABASE) from exc
    if not outcome.success:
        if outcome.exception:
            err_console.print(f"[red]dbt stopped:[/] {escape(outcome.exception)}")
        for failure in outcome.failures:
            err_console.print(f"[red]failed:[/] {escape(failure)}", highlight=False)
        err_console.print(f"dbt's full log: {escape(log_file)}", highlight=False)
        raise _fail("dbt build failed", ExitCode.FAILED)
    console.print(f"dbt build: {nodes.summary()}; full log: {escape(log_file)}", highlight=False)

    summary.print_summary(console, connection, demo_target)
    summary.print_stories(
        console, connection, demo_target,
        {k: v for k, v in demo_data.STORY_ORDER_IDS.items() if k.endswith("_sell") and "first" not in k},
    )
    console.print(
        f"\nResults: schemas [bold]{demo_target}_marts[/] (facts and reports) and {demo_target}_staging "
        f"on {connection.describe()}.\nQuery them with: {connection.psql_command()}"
    )
    if connection.embedded:
        console.print(
            f"The embedded server keeps running; stop it with: {escape(build_progress.cli_command('stop'))}",
            highlight=False,
        )
