"""What the demo shows instead of dbt's own output: a progress bar fed by dbt's events, the log in a file.

dbt's terminal log is ~400 lines for the demo (two per node, plus a dozen
warnings about numeric precision) above the summary a newcomer came for. The
demo runs dbt quiet, writes dbt's full log (debug level) to a file under the
state folder, and follows the build through dbtRunner callbacks, which see
every event as a typed message, so nothing parses dbt's text.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import sysconfig
import threading
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from trades_warehouse.paths import state_dir

if TYPE_CHECKING:
    from dbt_common.events.base_types import EventMsg

# Each demo log is ~1.6 MB at debug level; older ones are removed.
KEEP_LOGS = 10


def phases(console: Console) -> Progress:
    """One line per phase; on a terminal they move, in a pipe only their final state is printed."""
    return Progress(
        SpinnerColumn(finished_text="[green]✓[/]"),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
    )


class NodeProgress:
    """A dbtRunner callback: one step of ``task`` per finished node (seed, model, test, unit test,
    exposure), and a count of their statuses.

    dbt calls it from its worker threads; rich's Progress takes its own lock,
    the counter takes this one.
    """

    def __init__(self, progress: Progress, task: TaskID, label: str = "dbt build") -> None:
        self.progress = progress
        self.task = task
        self.label = label
        self.statuses: Counter[str] = Counter()
        self.total: int | None = None
        self._lock = threading.Lock()

    def __call__(self, event: EventMsg) -> None:
        name = event.info.name
        if name == "NodeFinished":
            status = str(getattr(getattr(event.data, "node_info", None), "node_status", "") or "done")
            with self._lock:
                self.statuses[status] += 1
                done = sum(self.statuses.values())
            self.progress.update(self.task, advance=1, detail=self._detail(done))
        elif self.total is None:
            # The "N of TOTAL" result lines carry the node count; ConcurrencyLine's
            # node_count leaves unit tests out.
            total = getattr(event.data, "total", 0)
            if isinstance(total, int) and total > 0:
                self.total = total
                # Parsing is over: the nodes start.
                self.progress.update(self.task, description=self.label, total=total, detail=self._detail(0))

    def _detail(self, done: int) -> str:
        bad = sum(self.statuses[s] for s in ("error", "fail", "runtime error"))
        text = f"{done}/{self.total}" if self.total else str(done)
        return text + (f" [red]{bad} failed[/]" if bad else "")

    def summary(self) -> str:
        """E.g. "178 passed, 6 no-op, 1 warned (185 nodes)"."""
        counts = Counter(self.statuses)
        passed = counts.pop("success", 0) + counts.pop("pass", 0)
        words = {"warn": "warned", "fail": "failed", "error": "errored", "skipped": "skipped"}
        parts = [f"{passed} passed"] + [f"{n} {words.get(s, s)}" for s, n in sorted(counts.items())]
        return f"{', '.join(parts)} ({sum(self.statuses.values())} nodes)"


def new_log_dir(kind: str = "demo") -> Path:
    """A fresh folder for one run's dbt.log under <state>/<kind>-logs; only the newest KEEP_LOGS stay."""
    root = state_dir() / f"{kind}-logs"
    root.mkdir(parents=True, exist_ok=True)
    path = root / datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    path.mkdir()
    for old in sorted(p for p in root.iterdir() if p.is_dir())[:-KEEP_LOGS]:
        shutil.rmtree(old, ignore_errors=True)
    return path


def shown_path(path: Path) -> str:
    """``path`` as the user's shell reaches it: relative when under the current folder, else absolute."""
    path = path.absolute()
    try:
        relative = path.relative_to(Path.cwd())
    except ValueError:
        return str(path)
    text = str(relative)
    # A bare name would be looked up on PATH, not in this folder.
    return text if os.sep in text else f".{os.sep}{text}"


def cli_command(*args: str) -> str:
    """This command line as a shell command that works without the venv on PATH
    (after scripts/demo the user's shell has not activated it)."""
    script = Path(sysconfig.get_path("scripts")) / "trades-warehouse"
    if script.is_file() and os.access(script, os.X_OK):
        words = [shown_path(script)]
    else:
        words = [sys.executable, "-m", "trades_warehouse"]
    return shlex.join([*words, *args])
