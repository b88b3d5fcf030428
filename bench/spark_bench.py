"""In-worker vs Spark local[1] / local[2] on the same generated exports (issue 12).

Each engine runs in its own child process (so the JVM and Python workers are
its own process tree); the parent samples that tree's RSS. Prints rows/s, peak
RSS, Spark's fixed start-up cost, 1->2 core scaling, output parity (row counts
and a checksum of the masked columns) and the crossover input size where
local[2] beats the worker. Usage: bench/spark_bench.py [--files 4] [--rows 2000,20000,80000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil

DAGS = Path(__file__).resolve().parents[1] / "airflow" / "dags"
sys.path.insert(0, str(DAGS))
KEY = bytes(range(32))  # bench only; real keys come from Vault
MASKED = ["call_id", "customer_name_hash", "customer_phone_last4", "customer_email_hash", "notes_redacted"]


def checksum(table) -> str:
    rows = sorted(zip(*(table.column(c).to_pylist() for c in MASKED), strict=True), key=lambda r: r[0])
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]


def child(engine: str, files: list[str], out: str) -> dict[str, object]:
    import pyarrow.dataset as ds

    t0 = time.perf_counter()
    startup = 0.0
    if engine == "worker":
        from callcenter.ingest import ingest

        for i, f in enumerate(files):
            ingest(f, out_dir=f"{out}/c", quarantine_dir=f"{out}/q", key=KEY, source_id=f"f{i}")
        table = ds.dataset(f"{out}/c", format="parquet").to_table(columns=MASKED)
    else:
        from callcenter import spark_engine as se
        from pyspark.sql import SparkSession

        cores = engine.split("[")[1].rstrip("]")
        os.environ["PYSPARK_PYTHON"] = sys.executable  # workers run this venv's interpreter
        spark = (SparkSession.builder.master(engine).config("spark.sql.session.timeZone", "UTC")
                 .config("spark.ui.enabled", "false").config("spark.driver.bindAddress", "127.0.0.1")
                 .config("spark.sql.shuffle.partitions", cores)
                 .config("spark.executorEnv.PYTHONPATH", str(DAGS)).getOrCreate())
        spark.range(1).count()  # JVM + first Python worker up
        startup = time.perf_counter() - t0
        t0 = time.perf_counter()
        bkey = spark.sparkContext.broadcast(KEY)
        files_df = se.read_exports(spark, files).repartition(len(files))
        se.curated(se.process(spark, files_df, lambda: bkey.value)).write.mode("overwrite").parquet(f"{out}/c")
        table = ds.dataset(f"{out}/c", format="parquet").to_table(columns=MASKED)
        spark.stop()
    elapsed = time.perf_counter() - t0
    return {"seconds": elapsed, "startup": startup, "rows": table.num_rows, "checksum": checksum(table)}


def measure(engine: str, files: list[str], out: Path) -> dict[str, object]:
    proc = subprocess.Popen([sys.executable, __file__, "--child", engine, "--out", str(out), *files],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak, ps = 0, psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            tree = [ps, *ps.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.05)
    stdout = proc.stdout.read() if proc.stdout else ""
    if proc.returncode:
        raise SystemExit(f"spark_bench: {engine} failed with exit code {proc.returncode}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_rss_mb"] = peak / 2**20
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=4)
    ap.add_argument("--rows", default="2000,20000,80000", help="records per file, comma separated")
    ap.add_argument("--workdir", default=".bench/spark")
    ap.add_argument("--child")
    ap.add_argument("--out")
    ap.add_argument("inputs", nargs="*")
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.inputs, args.out)))
        return 0
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise SystemExit("spark_bench: pyspark is not installed in this venv "
                         "(airflow/requirements-dev.txt pins pyspark==3.5.9)") from None
    from callcenter.synthetic import write_jsonl

    work = Path(args.workdir)
    crossover = None
    print(f"{'rows':>9} {'MB':>7} {'engine':>9} {'rows/s':>9} {'s':>7} {'startup s':>9} {'peak RSS MB':>11}  parity")
    for n in (int(x) for x in args.rows.split(",")):
        files = []
        for i in range(args.files):
            p = work / f"in-{n}" / f"export-{i}.jsonl"
            if not p.exists():
                p.parent.mkdir(parents=True, exist_ok=True)
                with p.open("wb") as fh:
                    write_jsonl(fh, n, seed=i)
            files.append(str(p.resolve()))
        mb = sum(Path(f).stat().st_size for f in files) / 1e6
        results = {e: measure(e, files, work / f"out-{n}-{e.replace('[', '').replace(']', '')}")
                   for e in ("worker", "local[1]", "local[2]")}
        base = results["worker"]
        for e, r in results.items():
            ok = r["rows"] == base["rows"] and r["checksum"] == base["checksum"]
            print(f"{n * args.files:>9} {mb:>7.1f} {e:>9} {r['rows'] / r['seconds']:>9.0f} {r['seconds']:>7.2f} "
                  f"{r['startup']:>9.2f} {r['peak_rss_mb']:>11.0f}  {'ok' if ok else 'MISMATCH'} {r['checksum']}")
            if not ok:
                raise SystemExit(f"spark_bench: {e} output differs from the worker at {n} rows/file")
        s1, s2 = results["local[1]"], results["local[2]"]
        print(f"{'':>9} scaling local[1]->local[2]: {s1['seconds'] / s2['seconds']:.2f}x")
        if crossover is None and s2["seconds"] + s2["startup"] < base["seconds"]:
            crossover = mb
    print(f"crossover (local[2] incl. start-up beats the worker): "
          f"{f'{crossover:.1f} MB' if crossover else 'not reached at these sizes'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
