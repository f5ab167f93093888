"""Run dbt in-process with dbtRunner against a resolved connection.

dbt reads the connection from the PG* variables through profiles.example.yml,
copied unchanged into the state folder, which serves as DBT_PROFILES_DIR.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from trades_warehouse.database import ConnectionSettings
from trades_warehouse.paths import project_dir, state_dir

if TYPE_CHECKING:
    from dbt.contracts.graph.manifest import Manifest
    from dbt_common.events.base_types import EventMsg


@dataclass(frozen=True)
class DbtOutcome:
    success: bool
    failures: list[str]
    exception: str | None
    results: object


def profiles_dir() -> Path:
    """DBT_PROFILES_DIR when set, else the state folder with a copy of the example profile."""
    configured = os.environ.get("DBT_PROFILES_DIR")
    if configured and (Path(configured) / "profiles.yml").exists():
        return Path(configured)
    target = state_dir() / "profiles.yml"
    wanted = (project_dir() / "profiles.example.yml").read_bytes()
    if not target.exists() or target.read_bytes() != wanted:
        # Written aside and renamed: a concurrent dbt (a test worker) never
        # reads a half-written profile.
        partial = target.with_name(f".profiles.{os.getpid()}.yml")
        partial.write_bytes(wanted)
        os.replace(partial, target)
    return target.parent


def apply_environment(
    connection: ConnectionSettings, *, source_schema: str | None = None, target_schema: str | None = None
) -> None:
    """dbt resolves env_var() from this process's environment."""
    os.environ.update(connection.env())
    if source_schema:
        os.environ["TRADES_SOURCE_SCHEMA"] = source_schema
    if target_schema:
        os.environ["TRADES_TARGET_SCHEMA"] = target_schema


class DbtError(RuntimeError):
    """dbt could not even parse the project."""


def _argv(
    args: Sequence[str],
    target_path: Path | None,
    dbt_vars: Mapping[str, object] | None,
    log_path: Path | None = None,
    quiet: bool = False,
) -> list[str]:
    argv = [*args, "--project-dir", str(project_dir()), "--profiles-dir", str(profiles_dir())]
    if target_path is not None:
        # A separate target folder keeps concurrent or test builds from sharing
        # partial-parse state and compiled SQL. Partial parsing stays on: dbt
        # re-parses in full when the profile (schemas), vars or files change,
        # and a repeated build of one warehouse then skips a 3-5 s parse.
        argv += ["--target-path", str(target_path)]
        if log_path is None:
            argv += ["--log-path", str(target_path / "logs")]
    if log_path is not None:
        # The file gets everything (debug level, SQL included), without the
        # terminal's colour codes so it reads in any editor.
        argv += ["--log-path", str(log_path), "--log-level-file", "debug", "--no-use-colors-file"]
    if quiet:
        # Nothing on stdout, errors included: the caller reports from the
        # events and results, and the log file keeps every line. dbt colours
        # result words ("PASS") inside the message text by the stdout setting,
        # so colours go too, or the file would carry escape codes.
        argv += ["--log-level", "none", "--no-use-colors"]
    if dbt_vars:
        argv += ["--vars", json.dumps(dict(dbt_vars))]
    return argv


def parse_manifest(*, target_path: Path | None = None) -> Manifest:
    """Parse the project as the environment configures it (schemas resolved), for inspection and reuse.

    The manifest is returned, not written as manifest.json: a build on it writes
    the same file at its end, and each write cost a scheduled run 0.4 s."""
    from dbt.cli.main import dbtRunner
    from dbt.contracts.graph.manifest import Manifest

    result = dbtRunner().invoke(_argv(["parse", "--quiet", "--no-write-json"], target_path, None))
    if not isinstance(result.result, Manifest):
        raise DbtError(f"dbt parse failed: {result.exception}")
    return result.result


def run_dbt(
    args: Sequence[str],
    *,
    dbt_vars: Mapping[str, object] | None = None,
    target_path: Path | None = None,
    manifest: Manifest | None = None,
    callbacks: Sequence[Callable[[EventMsg], None]] = (),
    log_path: Path | None = None,
    quiet: bool = False,
) -> DbtOutcome:
    """Invoke dbt with ``args`` (on ``manifest`` when given, without parsing again);
    failures lists every node that errored or failed.

    ``callbacks`` receive every dbt event (from dbt's worker threads too);
    ``log_path`` is the folder of dbt.log; ``quiet`` keeps dbt off stdout."""
    from dbt.cli.main import dbtRunner

    result = dbtRunner(manifest=manifest, callbacks=list(callbacks)).invoke(
        _argv(args, target_path, dbt_vars, log_path, quiet)
    )
    failures: list[str] = []
    for node_result in getattr(result.result, "results", None) or []:
        status = str(getattr(node_result, "status", ""))
        if status in ("error", "fail", "runtime error"):
            node = getattr(node_result, "node", None)
            name = getattr(node, "unique_id", None) or getattr(node_result, "unique_id", "?")
            failures.append(f"{name}: {status}: {getattr(node_result, 'message', '')}")
    exception = str(result.exception) if result.exception is not None else None
    return DbtOutcome(result.success, failures, exception, result.result)
