"""Where the project and its (git-ignored) state live."""

from __future__ import annotations

import os
from pathlib import Path


def project_dir() -> Path:
    """The dbt project root: TRADES_PROJECT_DIR, else the checkout this package sits in."""
    configured = os.environ.get("TRADES_PROJECT_DIR")
    if configured:
        return Path(configured).resolve()
    return Path(__file__).resolve().parents[2]


def state_dir() -> Path:
    """Ignored folder for the embedded server's data and the generated profile."""
    configured = os.environ.get("TRADES_STATE_DIR")
    path = Path(configured) if configured else project_dir() / ".state"
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()
