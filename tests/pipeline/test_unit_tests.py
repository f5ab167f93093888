"""Every dbt unit test (YAML `unit_tests:`), run once per test session.

Unit tests feed a model fixtures, never the warehouse's data, so their
outcome is the same in every warehouse: the other tests' builds leave them
out (Warehouse.build), and this one runs each of them.
"""

from __future__ import annotations

from pathlib import Path

from conftest import Warehouse
from trades_warehouse import dbt_invoke


def test_every_unit_test_passes(demo_warehouse: Warehouse, tmp_path: Path) -> None:
    outcome = demo_warehouse.dbt("test", "--select", "test_type:unit")
    assert outcome.exception is None, outcome.exception
    assert outcome.success, outcome.failures
    ran = {
        result.node.unique_id
        for result in getattr(outcome.results, "results", [])
        if result.node.resource_type == "unit_test" and str(result.status) == "pass"
    }
    manifest = dbt_invoke.parse_manifest(target_path=tmp_path)
    assert len(manifest.unit_tests) > 40 and ran == set(manifest.unit_tests)
