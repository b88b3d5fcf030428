"""A second domain's generated DAGs end to end, through real Airflow, on the session's stand-ins:
agent_performance (internal, CSV exports) is provisioned exactly as `make demo` does it (its own
buckets, Vault subtree, layout Variable and masking key), fed a CSV generated from its contract,
and run through agent_events_ingest and agent_events_distribute. Nothing here names a field:
what is asserted follows the contract."""

from __future__ import annotations

import hashlib
from datetime import date

import pyarrow.parquet as pq
import pytest

DOMAIN = "agent_performance"
DAY = date(2026, 11, 23)
N = 600


@pytest.fixture(scope="module")
def second(platform):
    from callcenter import domain, synthetic
    from callcenter.layout import Names

    from scripts import airflow_secrets, demo_platform

    contract = domain.load(DOMAIN)
    names = Names(DOMAIN, contract.dataset)
    layout = airflow_secrets.layout_for(platform.env, DOMAIN)
    demo_platform.create_aws_directly(layout, platform.env, platform.conns, DOMAIN)
    demo_platform.create_gcs_and_azure(layout, platform.env, platform.standins, platform.conns)
    demo_platform.store_in_vault(platform.env, platform.standins, platform.conns, layout,
                                 demo_platform.new_masking_key(), DOMAIN)
    export = platform.tmp / f"{contract.dataset}-{DAY.isoformat()}.csv"
    records = synthetic.records_for(contract, N, seed=5, malformed_rate=0.03, day=DAY)
    synthetic.write_export(contract, records, str(export), "csv")
    demo_platform.upload(platform.fss["s3"], export, f"{layout.incoming}/{export.name}")
    results = platform.run((names.ingest_dag_id, {}), (names.distribute_dag_id, {"full_resync": True}))
    out = platform.tmp / "out-second-domain"
    demo_platform.read_back(platform.fss, layout, out)
    return {"contract": contract, "names": names, "layout": layout, "results": results, "out": out}


def _sha(root) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.parquet"))}


def test_its_dags_run_and_reconcile(second):
    names, results = second["names"], second["results"]
    for dag_id in (names.ingest_dag_id, names.distribute_dag_id):
        assert results[dag_id]["state"] == "success", [t for t in results[dag_id]["tasks"] if t["state"] != "success"]
    totals = results[names.ingest_dag_id]["returns"]["reconcile"][0]
    assert totals["records_in"] == N == totals["curated"] + totals["quarantined"]
    assert 0 < totals["quarantined"] < N // 10  # the generated malformed ones
    assert totals["partitions"] == [f"{second['contract'].partition_column}={DAY.isoformat()}"]
    assert results[names.ingest_dag_id]["returns"]["start_crawler"] == ["started"]  # its own crawler


def test_its_curated_data_has_the_contracts_columns_and_identical_copies(second):
    layout, contract, out = second["layout"], second["contract"], second["out"]
    roots = {"s3": out / "s3" / layout.curated, "gcs": out / "gcs" / layout.gcs_curated,
             "azure": out / "azure" / layout.azure_curated}
    assert _sha(roots["s3"]) and _sha(roots["s3"]) == _sha(roots["gcs"]) == _sha(roots["azure"])
    table = pq.read_table(next(roots["s3"].rglob("*.parquet")))
    expected = [n for n in contract.curated_schema.names if n != contract.partition_column]
    assert table.column_names == expected  # the partition column is the folder name (hive layout)
    # Landed in its own buckets only: nothing of it under call_analytics's.
    assert "agent-performance" in layout.curated_bucket and "call-analytics" not in layout.curated_bucket
