"""The copy's commit on the real stand-ins, through the filesystems the DAGs build
(callcenter.stores): fake-gcs-server (GCS: Arrow's move is a server-side rewrite then a
delete) and Azurite (Azure Blob without hierarchical namespace: Arrow's move is
NotImplemented there, so the commit is a server-side copy_file from the verified
temporary; opening a stream at the final name would first make it an empty blob).

A source stream cut after N bytes must leave the final object with its previous bytes,
both while the copy runs and after it failed, and no temporary behind."""

from __future__ import annotations

import json
import urllib.request

import pyarrow.fs as pafs
import pytest
from callcenter import stores
from callcenter.distribute import TEMP_FOLDER
from callcenter.tasks import copy_partition
from distribute_helpers import CutSource, parquet_bytes, read, write

from tests.conftest import require

PART = "call_date=2026-11-20"
ACCOUNT = "ccdistributetest"  # Azurite accepts any account named in AZURITE_ACCOUNTS
BUCKET = "cc-distribute-test"


@pytest.fixture(scope="module")
def standins(tmp_path_factory):
    """fake-gcs-server and Azurite only (the copy never touches moto or OpenBao),
    on 127.0.0.1, stopped by their process group ids after the module."""
    from scripts.standins import MissingToolError, Standins

    try:
        servers = Standins(tmp_path_factory.mktemp("standins"), ACCOUNT)
    except MissingToolError as error:
        require(False, str(error))
    try:
        for server in (servers.gcs, servers.azurite):
            server.start()
        for server in (servers.gcs, servers.azurite):
            server.wait_ready()
        yield servers
    finally:
        servers.gcs.stop()
        servers.azurite.stop()


@pytest.fixture(scope="module")
def stores_under_test(standins) -> dict[str, tuple[pafs.FileSystem, str]]:
    """cloud -> (filesystem built like the DAGs build it, root of the copies)."""
    request = urllib.request.Request(f"{standins.gcs.url}/storage/v1/b?project=test",
                                     data=json.dumps({"name": BUCKET}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(request, timeout=10).close()
    gcs = stores.filesystem(stores.Connection("google_cloud_platform",
                                              extra={"endpoint_url": standins.gcs.url, "is_anonymous": True}))
    azure = stores.filesystem(stores.Connection("wasb", standins.azure.name, standins.azure.key,
                                                {"endpoint_url": standins.azurite.url}))
    azure.create_dir("curated")  # a container, as Terraform creates it
    return {"gcs": (gcs, f"{BUCKET}/curated"), "azure": (azure, "curated/gcs-copy")}


@pytest.fixture
def source(tmp_path) -> pafs.FileSystem:
    return pafs.SubTreeFileSystem(str(tmp_path), pafs.LocalFileSystem())


def _files_under(fs: pafs.FileSystem, root: str) -> list[str]:
    infos = fs.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True))
    return sorted(i.path[len(root) + 1:] for i in infos if i.type == pafs.FileType.File)


@pytest.mark.parametrize("cloud", ["gcs", "azure"])
def test_a_copy_cut_mid_stream_leaves_the_previous_object_untouched(stores_under_test, source, cloud) -> None:
    dst_fs, root = stores_under_test[cloud]
    final = f"{root}/{PART}/part-a.parquet"
    old, new = parquet_bytes(5, tag="old"), parquet_bytes(400, tag="new")
    write(dst_fs, final, old)
    write(source, f"s3/{PART}/part-a.parquet", new)
    during = []
    cut = CutSource(source, "part-a.parquet", limit=len(new) // 2,
                    midway=lambda: during.append(read(dst_fs, final)))
    with pytest.raises(OSError, match="injected mid-copy"):
        copy_partition(cut, "s3", PART, dst_fs, root)
    assert during == [old]  # a reader during the copy: the old object, whole (not empty, not partial)
    assert read(dst_fs, final) == old
    assert _files_under(dst_fs, f"{root}/{PART}") == ["part-a.parquet"]  # no temporary left

    result = copy_partition(source, "s3", PART, dst_fs, root)  # the retry commits the new bytes
    assert read(dst_fs, final) == new
    assert (result["files"], result["verified"], result["rows"], result["source_rows"]) == (1, 1, 400, 400)
    assert _files_under(dst_fs, f"{root}/{PART}") == ["part-a.parquet"]


@pytest.mark.parametrize("cloud", ["gcs", "azure"])
def test_an_emptied_source_partition_empties_the_copy_on_the_store(stores_under_test, source, cloud) -> None:
    dst_fs, root = stores_under_test[cloud]
    write(dst_fs, f"{root}/{PART}/part-a.parquet", parquet_bytes(3))
    write(dst_fs, f"{root}/{PART}/part-b.parquet", parquet_bytes(4))
    result = copy_partition(source, "s3", PART, dst_fs, root)
    assert (result["files"], result["pruned"], result["rows"]) == (0, 2, 0)
    assert [f for f in _files_under(dst_fs, f"{root}/{PART}") if not f.startswith(TEMP_FOLDER)] == []
