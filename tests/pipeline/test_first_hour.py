"""A newcomer's first commands: `--version`, and `demo` on a fresh embedded server.

The demo runs as from a fresh clone: no PG* variables, a state folder of its
own (so its own embedded server, beside the tests' one), from the project root
as scripts/demo leaves it when called there.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from trades_warehouse.paths import project_dir


def test_version_names_the_package_and_dbt_core() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "trades_warehouse", "--version"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"trades-warehouse {version('trades-warehouse')}",
        f"dbt-core {version('dbt-core')}",
    ]


def test_demo_is_short_logs_dbt_to_a_file_and_says_how_to_stop(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update({"TRADES_STATE_DIR": str(tmp_path / "state"), "COLUMNS": "120"})
    stop = [sys.executable, "-m", "trades_warehouse", "stop"]
    try:
        demo = subprocess.run(
            [sys.executable, "-m", "trades_warehouse", "demo", "--orders", "300"],
            cwd=project_dir(), env=env, capture_output=True, text=True, timeout=600,
        )
        shown = demo.stdout + demo.stderr
        assert demo.returncode == 0, shown

        # dbt's own lines ("06:48:47  Running with dbt=...", "12 of 185 START ...")
        # and its numeric-precision warnings stay off the terminal.
        assert not re.search(r"\d\d:\d\d:\d\d  ", shown), shown
        assert "numeric type and unspecified precision" not in shown
        assert len(demo.stdout.splitlines()) < 80, shown  # was ~440
        assert "dbt build" in demo.stdout and "passed" in demo.stdout

        logged = re.search(r"full log: (\S+)", demo.stdout)
        assert logged, shown
        log = Path(project_dir(), logged.group(1))
        assert log.is_file() and log.resolve().is_relative_to((tmp_path / "state" / "demo-logs").resolve())
        text = log.read_text()
        assert "Running with dbt=" in text and "numeric type and unspecified precision" in text
        assert "\x1b[" not in text, "the log file has no terminal colour codes"

        # The hint is the last line and works from the user's shell (no venv on PATH).
        last = demo.stdout.strip().splitlines()[-1]
        hint = re.fullmatch(r"The embedded server keeps running; stop it with: (.+)", last)
        assert hint, last
        no_venv = {**env, "PATH": "/usr/bin:/bin"}
        stopped = subprocess.run(
            hint.group(1), shell=True, cwd=project_dir(), env=no_venv, capture_output=True, text=True, timeout=120
        )
        assert stopped.returncode == 0 and "embedded PostgreSQL stopped" in stopped.stdout, stopped
    finally:
        subprocess.run(stop, env=env, capture_output=True, timeout=120)


def test_build_progress_counts_nodes_from_dbt_events() -> None:
    """The callback reads typed events (no dbt text): total from a result line, one step per finished node."""
    from types import SimpleNamespace

    from rich.console import Console
    from rich.progress import Progress

    from trades_warehouse.build_progress import NodeProgress

    def event(name: str, **data: object) -> SimpleNamespace:
        return SimpleNamespace(info=SimpleNamespace(name=name), data=SimpleNamespace(**data))

    def finished(status: str) -> SimpleNamespace:
        return event("NodeFinished", node_info=SimpleNamespace(node_status=status))

    progress = Progress(console=Console(quiet=True))
    task = progress.add_task("dbt build: parsing the project", total=None, detail="")
    nodes = NodeProgress(progress, task)
    nodes(event("ConcurrencyLine", num_threads=2, node_count=3))  # leaves unit tests out: not the total
    nodes(event("LogStartLine", index=1, total=4))
    for status in ("success", "pass", "warn", "error"):
        nodes(finished(status))
    (state,) = progress.tasks
    assert (state.total, state.completed, state.description) == (4, 4, "dbt build")
    assert "1 failed" in state.fields["detail"]
    assert nodes.summary() == "2 passed, 1 errored, 1 warned (4 nodes)"
