"""The Spark job (callcenter/spark_job.py) == the worker path, file for file; its
arguments carry no key material; its package is content-addressed. Spark: tiny data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
from callcenter import spark_job, tasks
from callcenter.engine_choice import AwsSpark
from callcenter.layout import Layout
from test_spark_engine import KEY, _write_exports, spark  # noqa: F401 - the session fixture

AWS = AwsSpark(application_id="00f1abc", execution_role_arn="arn:aws:iam::123456789012:role/dev-ca-spark-job",
               code_uri="s3://dev-dags/spark", log_uri="s3://dev-logs/spark/")
CREDENTIALS = json.dumps({"domain": "call_analytics", "masking_key_path": "domains/call-analytics/masking",
                          "vault": {"url": "https://vault.example:8200", "method": "aws_iam", "kv_mount": "secret",
                                    "kv_path": "domains/call-analytics", "role": "call-analytics",
                                    "assume_role_arn": "arn:aws:iam::123456789012:role/dev-ca-pipeline",
                                    "region": "eu-west-1", "server_id": "vault.example"},
                          "clouds": {"aws": {"engine": "aws", "path": "aws/creds/call-analytics"}}})


def _layout(root: Path, side: str) -> Layout:
    return Layout(raw_bucket=str(root / "raw"), curated_bucket=str(root / f"curated-{side}"),
                  quarantine_bucket=str(root / f"quarantine-{side}"), gcs_curated_bucket="g", gcs_exports_bucket="e",
                  azure_container="a", glue_crawler="c")


def _tree(fs: pafs.FileSystem, root: str) -> dict[str, object]:
    """relative path -> content (Parquet as rows, anything else as bytes)."""
    out: dict[str, object] = {}
    for info in fs.get_file_info(pafs.FileSelector(root, recursive=True)):
        if info.type == pafs.FileType.File:
            rel = info.path[len(root) + 1:]
            out[rel] = (pq.read_table(info.path).to_pylist() if rel.endswith(".parquet")
                        else Path(info.path).read_bytes())
    return out


@pytest.fixture(scope="module")
def runs(spark, tmp_path_factory):  # noqa: F811
    root = tmp_path_factory.mktemp("job")
    fs = pafs.LocalFileSystem()
    worker, job = _layout(root, "worker"), _layout(root, "spark")
    incoming = Path(worker.incoming)
    for path in _write_exports(root):
        incoming.mkdir(parents=True, exist_ok=True)
        path.rename(incoming / path.name)
    exports = sorted(str(p) for p in incoming.iterdir())
    worker_summaries = [tasks.ingest_export(fs, worker, p, KEY) for p in exports]
    job_summaries = spark_job.ingest_exports(spark, exports + [f"{worker.incoming}/gone.jsonl"], job,
                                             lambda: (pafs.LocalFileSystem(), KEY))
    return fs, worker, job, worker_summaries, job_summaries


def test_job_publishes_the_same_curated_and_quarantine_files_as_the_worker(runs):
    fs, worker, job, _, _ = runs
    got, want = _tree(fs, job.curated), _tree(fs, worker.curated)
    assert sorted(got) == sorted(want) and len(want) == 2  # one file per (export, call date): same names
    assert got == want  # row for row, masked values included
    assert _tree(fs, job.quarantine) == _tree(fs, worker.quarantine)
    assert not [p for p in got if "_staging" in p]  # published atomically: no staging left behind


def test_job_summaries_reconcile_like_the_worker_tasks(runs):
    _, worker, _, worker_summaries, job_summaries = runs
    ok = [s for s in job_summaries if "error" not in s]
    strip = lambda s: {k: v for k, v in s.items() if k != "seconds"}
    assert [strip(s) for s in ok] == [strip(s) for s in worker_summaries]
    assert tasks.reconcile_totals(ok)["quarantined"] == 10
    # a failing export is reported by class only, never with its message; the others still publish
    assert [s for s in job_summaries if "error" in s] == [{"source": f"{worker.incoming}/gone.jsonl",
                                                           "error": "FileNotFoundError"}]


def test_summary_round_trip(tmp_path):
    fs, path = pafs.LocalFileSystem(), f"{tmp_path}/raw/_processed/_spark/run.json"
    spark_job.write_summary(fs, path, [{"source": "a", "records_in": 1}])
    assert spark_job.read_summary(fs, path) == [{"source": "a", "records_in": 1}]
    assert spark_job.summary_path(_layout(tmp_path, "x"), "manual__2026-12-04T06:00:00+00:00").endswith(
        "/raw/call_records/_processed/_spark/manual__2026-12-04T06_00_00_00_00.json")


def test_job_driver_carries_no_key_material_only_settings_and_paths():
    driver = spark_job.emr_job_driver(AWS, credentials_json=CREDENTIALS, layout_json=_layout(Path("/x"), "a").to_json(),
                                      summary="raw/_processed/_spark/r.json", items=["raw/in/a.jsonl"], digest="ab12")
    submit = driver["sparkSubmit"]
    assert submit["entryPoint"] == "s3://dev-dags/spark/spark_job-ab12.py"
    assert "--py-files s3://dev-dags/spark/callcenter-ab12.zip" in submit["sparkSubmitParameters"]
    text = json.dumps(driver)
    for secret in (KEY.hex(), KEY.hex().upper(), "token", "secret_key", "session_token", "client_secret"):
        assert secret not in text
    assert submit["entryPointArguments"][-1] == "raw/in/a.jsonl"


def test_package_is_content_addressed_and_importable(tmp_path):
    zip_path, entry = spark_job.build_package(tmp_path / "a")
    again, _ = spark_job.build_package(tmp_path / "b")
    assert zip_path.read_bytes() == again.read_bytes()  # deterministic: same sources, same bytes and name
    assert zip_path.name == f"callcenter-{spark_job.package_digest()}.zip" and entry.name.startswith("spark_job-")
    names = zipfile.ZipFile(zip_path).namelist()
    assert {"callcenter/__init__.py", "callcenter/spark_job.py", "callcenter/ingest.py", "vault_aws_login.py"} <= set(names)
    pkg = tmp_path / "dags" / "callcenter"  # the DAG folder's layout: plugins/ beside dags/
    pkg.mkdir(parents=True)
    for name, src in spark_job.package_files():
        target = pkg.parent / name if name.startswith(("callcenter/", "domains/")) else tmp_path / "plugins" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(src.read_bytes())
    assert spark_job.package_digest(pkg) == spark_job.package_digest()
    (tmp_path / "plugins" / "vault_aws_login.py").write_text("# changed\n")
    assert spark_job.package_digest(pkg) != spark_job.package_digest()  # the shipped plugin counts too
    (pkg / "masking.py").write_text((pkg / "masking.py").read_text() + "\n# changed\n")
    assert spark_job.package_digest(pkg) != spark_job.package_digest()  # any edit gives a new name


def test_the_zip_logs_in_to_vault_without_airflow(tmp_path):
    """EMR Serverless has no Airflow: the job's Vault login must import from the zip alone."""
    zip_path, _ = spark_job.build_package(tmp_path)
    probe = ("import sys; sys.path.insert(0, sys.argv[1]); "
             "import builtins; real = builtins.__import__\n"
             "def guard(name, *a, **k):\n"
             "    if name == 'airflow' or name.startswith('airflow.'): raise ImportError('airflow on EMR')\n"
             "    return real(name, *a, **k)\n"
             "builtins.__import__ = guard\n"
             "from vault_aws_login import login_payload, signed_get_caller_identity\n"
             "from botocore.credentials import ReadOnlyCredentials\n"
             "req = signed_get_caller_identity(ReadOnlyCredentials('AKIDEXAMPLE', 's', None), 'eu-west-1', 'vault.example')\n"
             "body = login_payload(req, 'call-analytics')\n"
             "import callcenter.credentials\n"
             "print(body['role'], req.url)")
    done = subprocess.run([sys.executable, "-c", probe, str(zip_path)], capture_output=True, text=True,
                          cwd=tmp_path, env={"PATH": os.environ.get("PATH", "")})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["call-analytics", "https://sts.eu-west-1.amazonaws.com/"]


def test_bad_settings_argument_is_one_line_and_exit_2(capsys):
    code = spark_job.main(["--settings", "{}", "--layout", "{}", "--summary", "s", "raw/a.jsonl"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("spark_job: bad --settings/--layout:") and "\n" not in err


def test_customer_360_days_on_spark_equal_the_worker(runs, spark):  # noqa: F811
    from dataclasses import replace
    from datetime import date

    fs, worker, _, _, _ = runs
    root = Path(worker.raw_bucket).parent
    w, s = replace(worker, gcs_exports_bucket=str(root / "gcs-w")), replace(worker, gcs_exports_bucket=str(root / "gcs-s"))
    expected = tasks.customer_360_day(fs, fs, fs, w, date(2026, 11, 20))
    got = spark_job.build_days(spark, ["2026-11-20", "not-a-day"], s, lambda: (pafs.LocalFileSystem(),) * 3)
    assert got[1] == {"day": "not-a-day", "error": "ValueError"}  # reported by class; the other day still built
    assert {k: v for k, v in got[0].items() if k != "path"} == {k: v for k, v in expected.items() if k != "path"}
    assert expected["rows"] == 3
    assert pq.read_table(got[0]["path"]).equals(pq.read_table(expected["path"]))


def test_job_driver_names_the_mode():
    driver = spark_job.emr_job_driver(AWS, credentials_json=CREDENTIALS, layout_json="{}", summary="s",
                                      items=["2026-11-20"], mode="customer_360", digest="ab12")
    assert driver["sparkSubmit"]["entryPointArguments"][:2] == ["--mode", "customer_360"]
    with pytest.raises(ValueError, match="no aws section"):
        spark_job.emr_plan(None, credentials_json="{}", layout=_layout(Path("/x"), "a"), items=[], run_id="r")


@pytest.mark.parametrize("redact", [False, True], ids=["internal-redacted", "pii-drop"])
def test_a_domains_quarantine_rule_is_the_same_on_spark(spark, tmp_path, redact):  # noqa: F811
    """The worker keeps a rejected record's free text (redacted) for internal/public domains and drops it for
    pii ones (domain_pipelines.ingest_dag); the job gets the same rule as --quarantine-text, so both engines
    write the same quarantine for agent_performance (internal), a CSV export with bad rows and a contact."""
    from callcenter import domain, synthetic

    contract = domain.load("agent_performance")
    recs = synthetic.records_for(contract, 400, seed=11, malformed_rate=0.05)
    recs[7] = {**recs[7], "event_type": "call back jane@example.com"}
    worker, job = (_layout(tmp_path, side) for side in ("worker", "spark"))
    worker, job = (Layout(**{**layout.__dict__, "dataset": contract.dataset}) for layout in (worker, job))
    export = Path(worker.incoming) / "events-1.csv"
    export.parent.mkdir(parents=True)
    synthetic.write_export(contract, recs, str(export), fmt="csv")
    fs = pafs.LocalFileSystem()
    want = tasks.ingest_export(fs, worker, str(export), KEY, domain="agent_performance", redact_quarantine=redact)
    [got] = spark_job.ingest_exports(spark, [str(export)], job, lambda: (pafs.LocalFileSystem(), KEY),
                                     domain="agent_performance", redact_quarantine=redact)
    strip = lambda s: {k: v for k, v in s.items() if k != "seconds"}
    assert strip(got) == strip(want) and want["quarantined"] >= 10
    assert _tree(fs, job.curated) == _tree(fs, worker.curated)
    quarantine = _tree(fs, job.quarantine)
    assert quarantine == _tree(fs, worker.quarantine)
    lines = [json.loads(x) for body in quarantine.values() for x in body.decode().splitlines()]
    [contact] = [q for q in lines if q["reason"].startswith("pii_in:event_type")]
    assert contact["event_type"] == (None if redact else "call back [EMAIL]")


def test_the_job_driver_carries_the_domains_quarantine_rule():
    def arguments(**kwargs) -> list[str]:
        return spark_job.emr_job_driver(AWS, credentials_json="{}", layout_json="{}", summary="s", items=["i"],
                                        digest="ab", **kwargs)["sparkSubmit"]["entryPointArguments"]

    assert arguments()[arguments().index("--quarantine-text") + 1] == "drop"  # strict unless told
    internal = arguments(redact_quarantine=False)
    assert internal[internal.index("--quarantine-text") + 1] == "redacted"
    assert spark_job._parser().parse_args(internal[:-1] + ["x"]).quarantine_text == "redacted"
    with pytest.raises(SystemExit):
        spark_job._parser().parse_args(["--settings", "{}", "--layout", "{}", "--summary", "s",
                                        "--quarantine-text", "raw", "x"])
