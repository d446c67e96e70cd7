"""Readers say the published snapshot is behind only when dbt built the live warehouse since
(a hand-run `dbt build`), compared by build identity (dbt_project/macros/build_identity.sql), never
by file times: a normal run, and the alert deliveries that write the ledger after it, say nothing."""

from __future__ import annotations

from orchestration.snapshot import build_identity
from orchestration.warehouse import connect
from tests.cli_support import month_end_run
from tests.shared_builds import copy_of
from tests.support import apiwh, query, run_dbt, warehouse_env, warehouse_path

BEHIND = "the live warehouse changed after this snapshot was published"


def test_no_note_after_a_run_and_its_deliveries_one_after_a_hand_run_build(shared, tmp_path) -> None:
    root = copy_of(month_end_run(shared).root, tmp_path / "copy")
    env = warehouse_env(root)
    identity = build_identity(warehouse_path(root))
    assert identity is not None and len(identity) == 36  # dbt's invocation id

    assert BEHIND not in apiwh(env, "top").stderr
    delivered = apiwh(env, "deliver")
    assert delivered.returncode == 0, delivered.stderr
    # A write that is no dbt build (as the alert ledger's after publishing): the live file is
    # newer than the snapshot, which file times would call stale.
    live = warehouse_path(root)
    with connect(live) as con:
        con.execute("create table meta.not_a_build as select 1 as x")
        con.execute("checkpoint")
    snapshot = root / "data" / "published" / "warehouse.duckdb"
    [(recorded,)] = query(snapshot, "select live_mtime_ns from meta.snapshot")
    assert live.stat().st_mtime_ns > recorded
    assert BEHIND not in apiwh(env, "quota").stderr

    run_dbt(warehouse_path(root), "build", "--select", "customer_usage_summary")
    assert build_identity(warehouse_path(root)) != identity
    assert BEHIND in apiwh(env, "top").stderr
    assert "`apiwh publish` updates it" in apiwh(env, "status").stdout

    assert apiwh(env, "publish").returncode == 0
    assert BEHIND not in apiwh(env, "top").stderr
