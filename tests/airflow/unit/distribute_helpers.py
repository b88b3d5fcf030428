"""Shared by the test_distribute_* modules: small real Parquet files and a source
filesystem whose input stream fails after N bytes (a network cut or an
execution_timeout in the middle of a copy)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Self

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq


def parquet_bytes(rows: int, tag: str = "x") -> bytes:
    """A Parquet file of `rows` rows; `tag` changes the content (and the size)."""
    sink = io.BytesIO()
    table = pa.table({"call_id": [f"{tag}-{i}" for i in range(rows)], "duration": list(range(rows))})
    pq.write_table(table, sink)
    return sink.getvalue()


def write(fs: pafs.FileSystem, path: str, data: bytes) -> None:
    fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
    with fs.open_output_stream(path) as out:
        out.write(data)


def read(fs: pafs.FileSystem, path: str) -> bytes:
    with fs.open_input_stream(path) as stream:
        return stream.read()


class CutStream:
    """An input stream that hands out `limit` bytes, calls `midway` (e.g. to look at
    the destination while the copy is open), then raises like a dropped connection."""

    def __init__(self, inner, limit: int, midway: Callable[[], None]) -> None:
        self.inner, self.left, self.midway = inner, limit, midway

    def read(self, n: int = -1) -> bytes:
        if self.left <= 0:
            self.midway()
            raise OSError("connection reset by peer (injected mid-copy)")
        chunk = self.inner.read(min(n, self.left) if n and n > 0 else self.left)
        self.left -= len(chunk)
        return chunk

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.inner.close()


class CutSource:
    """A source filesystem whose streams of files named `cut_name` fail after
    `limit` bytes; everything else is delegated to the real filesystem."""

    def __init__(self, fs: pafs.FileSystem, cut_name: str, limit: int,
                 midway: Callable[[], None] = lambda: None) -> None:
        self.fs, self.cut_name, self.limit, self.midway = fs, cut_name, limit, midway

    def open_input_stream(self, path: str):
        stream = self.fs.open_input_stream(path)
        if path.endswith("/" + self.cut_name):
            return CutStream(stream, self.limit, self.midway)
        return stream

    def __getattr__(self, name: str):
        return getattr(self.fs, name)
