"""The live dashboard over the marts (``trades-warehouse dashboard``): a Streamlit app.

* ``data``: typed reads of the contracted marts (and the ops table
  run_history), no Streamlit;
* ``formatting`` and ``charts``: pure functions from those rows to text and
  Vega-Altair charts;
* ``pages``: the four pages (Overview, Symbols, Triggers and sources, Data
  health) drawn with Streamlit;
* ``app``: the script Streamlit runs;
* here: the command that starts it, with usage statistics off, headless, on
  localhost, and the connection settings of every other command.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from trades_warehouse.database import ConnectionSettings
from trades_warehouse.exit_codes import ExitCode
from trades_warehouse.paths import project_dir

APP_PATH = Path(__file__).with_name("app.py")
DEFAULT_PORT = 8501
DEFAULT_ADDRESS = "127.0.0.1"

# Streamlit settings of the command (the project's .streamlit/config.toml says
# the same for a plain `streamlit run`): nothing leaves the machine, no browser
# is opened, and an unexpected error shows no traceback to the reader.
STREAMLIT_FLAGS: tuple[str, ...] = (
    "--browser.gatherUsageStats", "false",
    "--server.headless", "true",
    "--server.fileWatcherType", "none",
    "--server.runOnSave", "false",
    "--client.toolbarMode", "minimal",
    "--client.showErrorDetails", "none",
    "--global.developmentMode", "false",
)


def streamlit_command(port: int = DEFAULT_PORT, address: str = DEFAULT_ADDRESS) -> list[str]:
    return [
        # `streamlit run`, with the app's heavy imports done before the server starts (__main__.py).
        sys.executable, "-m", "trades_warehouse.dashboard", "run", str(APP_PATH),
        "--server.port", str(port),
        "--server.address", address,
        *STREAMLIT_FLAGS,
    ]


def streamlit_environment(
    connection: ConnectionSettings, target_schema: str, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of the Streamlit process: the resolved connection as PG* variables, the target schema.

    For the user's own server these are the PG* variables already set; the
    embedded server's socket is passed the same way, so the app connects
    exactly where the command did. Nothing is written to a file.
    """
    env = dict(os.environ if base is None else base)
    if connection.embedded:
        env.update(connection.env())
        env.pop("PGPASSWORD", None)  # the embedded server has none
    env["TRADES_TARGET_SCHEMA"] = target_schema
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    return env


def serve(
    connection: ConnectionSettings,
    target_schema: str,
    *,
    port: int = DEFAULT_PORT,
    address: str = DEFAULT_ADDRESS,
    say: Callable[[str], None] = print,
) -> int:
    """Run the dashboard in the foreground until Ctrl-C; returns Streamlit's exit code."""
    host = "localhost" if address in ("127.0.0.1", "localhost", "::1") else address
    say(f"Dashboard: http://{host}:{port}/  (marts of {target_schema}_marts on {connection.describe()}; Ctrl-C stops it)")
    process = subprocess.Popen(
        streamlit_command(port, address), env=streamlit_environment(connection, target_schema), cwd=project_dir()
    )
    try:
        return process.wait()
    except KeyboardInterrupt:
        # The terminal sent the interrupt to Streamlit too; let it finish its shutdown.
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.terminate()
            process.wait()
        return ExitCode.OK
