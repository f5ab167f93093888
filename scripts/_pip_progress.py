"""Turn pip's output (read on stdin) into a few moving progress lines; the whole of it goes to a log.

Run by _bootstrap.sh with the system python3 before the venv exists, so it
uses the standard library only. Usage: pip install ... 2>&1 | python3 _pip_progress.py LOG VENV

On a terminal one status line is redrawn in place (the package being
collected, then "N of M installed"); in a pipe or CI log a line is printed
when the phase changes and every 20 seconds, so the output never floods.
pip says nothing while it unpacks wheels, so the install phase counts the
*.dist-info folders appearing in the venv's site-packages instead.
"""

from __future__ import annotations

import queue
import re
import sys
import threading
import time
from pathlib import Path

COLLECTING = re.compile(r"^(?:Collecting|Requirement already satisfied:) +([A-Za-z0-9][A-Za-z0-9._-]*)")
# A wheel found in a local folder (find-links, file:// index) is "Processing" instead.
PROCESSING = re.compile(r"^Processing \S*/([A-Za-z0-9_.]+?)-\d\S*\.whl")
INSTALLING = re.compile(r"^Installing collected packages: (.+)$")
BUILDING = re.compile(r"^\s*Building (?:editable|wheel) for (\S+)")
HEARTBEAT_SECONDS = 20.0


def installed_count(venv: Path) -> int:
    return sum(1 for _ in venv.glob("lib/python*/site-packages/*.dist-info"))


def elapsed(since: float) -> str:
    seconds = int(time.monotonic() - since)
    return f"{seconds // 60}m{seconds % 60:02d}s"


def main(log_path: Path, venv: Path) -> int:
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in sys.stdin:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    tty = sys.stdout.isatty()
    started = time.monotonic()
    collected = 0
    latest = ""
    to_install = 0
    baseline = 0
    phase = "resolving"
    last_time = started
    last_shown = ""

    def status() -> str:
        if phase == "done":
            return f"installed {to_install} packages"
        if phase == "installing":
            done = min(max(installed_count(venv) - baseline, 0), to_install)
            return f"installing: {done} of {to_install} packages unpacked"
        if phase == "building":
            return f"building {latest}"
        if not collected:
            return "starting pip"
        return f"collecting: {collected} packages" + (f" ({latest})" if latest else "")

    def show(changed: bool = False) -> None:
        nonlocal last_time, last_shown
        if changed and status() == last_shown:
            return  # pip says "started" and "finished" for one build
        last_shown = status()
        text = f"{last_shown}, {elapsed(started)}"
        now = time.monotonic()
        if tty:
            # Redrawn at most five times a second: pip can print hundreds of lines at once.
            if changed or now - last_time >= 0.2:
                sys.stdout.write("\r\033[K  " + text)
                sys.stdout.flush()
                last_time = now
        elif changed:
            print("  " + text, flush=True)
            last_time = now
        elif now - last_time >= HEARTBEAT_SECONDS:
            print("  still " + text, flush=True)
            last_time = now

    with log_path.open("a", encoding="utf-8") as log:
        while True:
            try:
                line = lines.get(timeout=1.0)
            except queue.Empty:
                show()
                continue
            if line is None:
                break
            log.write(line)
            log.flush()
            text = line.rstrip()
            if match := COLLECTING.match(text) or PROCESSING.match(text):
                collected += 1
                latest = match.group(1)
            elif match := BUILDING.match(text):
                phase, latest = "building", match.group(1)
                show(changed=True)
            elif match := INSTALLING.match(text):
                to_install = len(match.group(1).split(","))
                baseline = installed_count(venv)
                phase = "installing"
                show(changed=True)
            elif text.startswith("Successfully installed"):
                phase = "done"
            show()
    if tty:
        sys.stdout.write("\r\033[K")
    if phase == "done":
        print(f"  installed {to_install} packages in {elapsed(started)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
