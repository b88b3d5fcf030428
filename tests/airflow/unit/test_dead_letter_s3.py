"""tasks.record_failure on S3 itself (a real moto server through pyarrow's S3FileSystem,
the filesystem the DAGs use), not only on local disk: S3 has no rename, so the "move" is a
copy and a delete, and folders are only key prefixes. After MAX_EXPORT_FAILURES runs in
a row the export's bytes sit under dead_letter/ next to a reason file, nothing is left
under incoming/ or _failed/, and the next run no longer finds it."""

from __future__ import annotations

import json

import boto3
import pyarrow.fs as pafs
import pytest
from airflow_probe import moto  # noqa: F401 (a fixture)
from callcenter import tasks
from callcenter.layout import MAX_EXPORT_FAILURES, Layout

REGION = "eu-west-1"
EXPORT_BYTES = b'{"call_id": "c1", "customer_phone": "+1 (555) 123-4567"}\n'


@pytest.fixture
def s3(moto):  # noqa: F811 (the imported fixture)
    """(pyarrow S3 filesystem, layout) over fresh buckets on the moto server."""
    client = boto3.client("s3", endpoint_url=moto.url, region_name=REGION,
                          aws_access_key_id="moto", aws_secret_access_key="moto")
    names = {"raw_bucket": "dl-raw", "curated_bucket": "dl-curated", "quarantine_bucket": "dl-quarantine"}
    for bucket in names.values():
        client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    layout = Layout(**names, gcs_curated_bucket="g", gcs_exports_bucket="g", azure_container="a", glue_crawler="c")
    fs = pafs.S3FileSystem(endpoint_override=moto.url, scheme="http", region=REGION,
                           access_key="moto", secret_key="moto")
    yield fs, layout
    for bucket in names.values():
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                client.delete_object(Bucket=bucket, Key=obj["Key"])
        client.delete_bucket(Bucket=bucket)


def _files(fs: pafs.FileSystem, root: str) -> list[str]:
    infos = fs.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True))
    return sorted(i.path for i in infos if i.type == pafs.FileType.File)


def test_an_export_failing_every_run_moves_to_dead_letter_on_s3(s3):
    fs, layout = s3
    export = f"{layout.incoming}/2026/11/calls-0001.jsonl"
    with fs.open_output_stream(export) as out:
        out.write(EXPORT_BYTES)
    error = ValueError("line 1: +1 (555) 123-4567 is not a call")

    for run in range(1, MAX_EXPORT_FAILURES):
        assert tasks.record_failure(fs, layout, export, error) is None
        assert tasks.pending_exports(fs, layout) == [export]  # still retried by the next run
        with fs.open_input_stream(_files(fs, layout.failed)[0]) as f:
            assert json.loads(f.read()) == {"error": "ValueError", "failures": run}

    moved = tasks.record_failure(fs, layout, export, error)
    assert moved == f"{layout.dead_letter}/2026/11/calls-0001.jsonl"
    assert _files(fs, layout.dead_letter) == [moved, f"{moved}.reason.json"]
    with fs.open_input_stream(moved) as f:
        assert f.read() == EXPORT_BYTES  # the export itself, byte for byte
    with fs.open_input_stream(f"{moved}.reason.json") as f:
        reason = f.read().decode()
    assert json.loads(reason) == {"error": "ValueError", "failures": MAX_EXPORT_FAILURES}
    assert "555" not in reason  # the class only, never the message
    assert _files(fs, layout.incoming) == [] and _files(fs, layout.failed) == []
    assert tasks.pending_exports(fs, layout) == []  # no run retries it


def test_a_success_between_failures_ends_the_streak_on_s3(s3):
    fs, layout = s3
    export = f"{layout.incoming}/calls-0002.jsonl"
    with fs.open_output_stream(export) as out:
        out.write(EXPORT_BYTES)
    for _ in range(MAX_EXPORT_FAILURES - 1):
        tasks.record_failure(fs, layout, export, OSError("store down"))
    tasks.clear_failures(fs, layout, export)
    assert _files(fs, layout.failed) == []
    assert tasks.record_failure(fs, layout, export, OSError("store down")) is None  # counting from 1 again
    assert _files(fs, layout.incoming) == [export]
