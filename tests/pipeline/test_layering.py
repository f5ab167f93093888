"""The DAG reads one way: staging (base models first), then intermediate, then marts, then the compatibility views."""

from __future__ import annotations

import re
from pathlib import Path

from trades_warehouse import dbt_invoke
from trades_warehouse.paths import project_dir

LAYERS = {"staging": 0, "intermediate": 1, "marts": 2, "compat": 3}


def layer(original_file_path: str) -> int:
    top = Path(original_file_path).parts[1]  # models/<layer>/...
    return LAYERS[top]


def test_no_model_reads_a_later_layer(tmp_path: Path) -> None:
    manifest = dbt_invoke.parse_manifest(target_path=tmp_path)
    models = {uid: node for uid, node in manifest.nodes.items() if node.resource_type == "model"}
    assert len(models) > 20
    backwards = []
    for uid, node in models.items():
        for parent in node.depends_on.nodes:
            if parent in models and layer(models[parent].original_file_path) > layer(node.original_file_path):
                backwards.append(f"{node.name} reads {models[parent].name}")
        in_staging = layer(node.original_file_path) == 0
        if in_staging and node.name.startswith("stg_"):
            # Staging models read the source or a base model, never each other.
            backwards += [f"{node.name} reads {models[p].name}" for p in node.depends_on.nodes
                          if p in models and models[p].name.startswith("stg_")]
    assert backwards == []


# What the per-symbol incremental models call besides the macros their rows
# are computed with: hooks, the strategy's filters and grants.
INCREMENTAL_MACHINERY = {
    "analyze_if_table", "relax_retired_columns", "symbol_state_ddl", "ensure_symbol_state", "upstream_models", "record_symbol_state", "symbol_incremental_config",
    "where_symbol_changed", "changed_symbols", "legacy_sells_to_recompute", "grant_bi_read", "fifo_order_by", "fifo_order_keys",
    "equity_curve_cut", "record_equity_curve_cut", "equity_curve_cut_relation", "current_build_state",
    "symbol_state_strategies", "symbol_changed_filter", "ensure_index",
    "mark_appended_symbols", "appended_symbols", "symbol_appended_filter", "symbol_recomputed_filter",
    "where_symbol_recomputed", "state_columns_added_later", "parents_built_from", "rows_to_compute_from", "kept_open_from", "symbol_rows_from",
    "legacy_kept_sells_to_recompute", "legacy_kept_rows_usable", "legacy_parent_elsewhere", "one_statement",
}
# Macros that only render a variable: fingerprinted when a model lists the variable.
VAR_MACROS = {"starting_equity_usd": {"starting_equity"}}
# The incremental strategies that keep rows a build did not recompute.
KEEPING_STRATEGIES = {"replace_changed_symbols", "replace_from_cut"}


def test_symbol_models_fingerprint_every_macro_they_compute_with(tmp_path: Path) -> None:
    """A per-symbol incremental model keeps the rows of unchanged symbols: a macro it computes rows with
    must be in its build fingerprint, or a release changing that macro leaves old rows standing."""
    text = (project_dir() / "macros" / "incremental_by_symbol.sql").read_text()
    body = text.split("macro row_macros_of_symbol_models()", 1)[1].split("endmacro", 1)[0]
    fingerprinted = set(re.findall(r"(\w+)\(", body))
    manifest = dbt_invoke.parse_manifest(target_path=tmp_path)
    unfingerprinted = {}
    for node in manifest.nodes.values():
        if node.resource_type == "model" and node.config.get("incremental_strategy") in KEEPING_STRATEGIES:
            called = {m.split(".")[-1] for m in node.depends_on.macros if m.startswith("macro.trades_warehouse.")}
            # The variables a model lists in meta.build_fingerprint_vars fingerprint the macros rendering them.
            listed = (node.config.meta or {}).get("build_fingerprint_vars", [])
            covered = set().union(*(VAR_MACROS.get(name, set()) for name in listed))
            missing = called - fingerprinted - INCREMENTAL_MACHINERY - covered
            if missing:
                unfingerprinted[node.name] = sorted(missing)
    assert len(fingerprinted) >= 7 and unfingerprinted == {}
