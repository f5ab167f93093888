"""The DAG reads one way: staging (base models first), then intermediate, then marts, then the compatibility views."""

from __future__ import annotations

from pathlib import Path

from trades_warehouse import dbt_invoke

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
