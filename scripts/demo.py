"""`make demo`: the whole call-center flow on this machine, against local stand-ins.

    make demo                      # a generated day of call records
    make demo CALLS=calls.jsonl    # your own JSON-lines export
    make demo RECORDS=200000       # a bigger generated day

Starts moto, Azurite, fake-gcs-server and OpenBao on 127.0.0.1; applies the local
AWS stacks with Terraform against moto; creates the GCS buckets and the Azure
container the same config names; stores the Airflow connections, the layout and
the masking key in OpenBao; uploads the calls to the raw zone; runs
call_records_ingest, distribute_curated and customer_360 through real Airflow;
prints a summary; reads everything back into .demo/out/; and stops every server
it started, also on failure or Ctrl-C. Re-runnable with no cleanup.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import signal
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DEMO = REPO / ".demo"
DEFAULT_RECORDS = 50_000
MESSY_RECORDS = 200  # the second, messy export (callcenter.synthetic.messy_records)


class DemoError(Exception):
    """A problem the user can fix; printed as one line, no traceback."""


class Progress:
    def __init__(self, steps: int) -> None:
        self.steps, self.step, self.started = steps, 0, time.monotonic()

    def __call__(self, text: str) -> None:
        print(f"  {text}", flush=True)

    def begin(self, text: str) -> None:
        self.step += 1
        print(f"[{self.step}/{self.steps} {time.monotonic() - self.started:5.0f} s] {text}", flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", default="", help="a JSON-lines file of call records (default: generate)")
    parser.add_argument("--records", default=str(DEFAULT_RECORDS), help="records to generate when --calls is not given")
    args = parser.parse_args(argv)
    if args.calls:
        path = Path(args.calls).expanduser()
        if not path.is_file():
            raise DemoError(f"CALLS={args.calls}: no such file")
        if path.stat().st_size == 0:
            raise DemoError(f"CALLS={args.calls}: the file is empty")
        args.calls = path.resolve()
    try:
        args.records = int(args.records)
    except ValueError:
        raise DemoError(f"RECORDS={args.records}: not a whole number") from None
    if not 1 <= args.records <= 20_000_000:
        raise DemoError(f"RECORDS={args.records}: must be between 1 and 20000000")
    return args


def scan_input(path: Path) -> tuple[dict[str, set[str]], int]:
    """customer ids per UTC call date, and the number of lines (for the call-quality seed)."""
    by_day: dict[str, set[str]] = {}
    lines = 0
    with path.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.strip():
                continue
            lines += 1
            try:
                rec = json.loads(line)
                ts = datetime.fromisoformat(str(rec["call_start_time"]))
                if ts.tzinfo is None:
                    continue
                by_day.setdefault(ts.astimezone(UTC).date().isoformat(), set()).add(str(rec["customer_id"]))
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
    return by_day, lines


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def independent_checksums(out: Path, layout: Any) -> dict[str, str]:
    """Compare what was read back from GCS and Azure with the S3 originals, byte for byte."""
    s3_root = out / "s3" / layout.curated
    originals = {p.relative_to(s3_root): _sha(p) for p in s3_root.rglob("*.parquet") if "_staging" not in p.parts}
    status = {}
    for cloud, root in (("gcs", out / "gcs" / layout.gcs_curated), ("azure", out / "azure" / layout.azure_curated)):
        copies = {p.relative_to(root): _sha(p) for p in root.rglob("*.parquet")}
        ok = copies == originals
        status[cloud] = f"{'match' if ok else 'MISMATCH'} ({len(copies)}/{len(originals)} files)"
    return status


def summary_table(results: list[dict], checks: dict[str, str], leaks: list[str], readback: dict[str, int]) -> str:
    by_dag = {r["dag_id"]: r for r in results}
    ingest = by_dag["call_records_ingest"]["returns"]["reconcile"][0]
    copied = by_dag["distribute_curated"]["returns"]["verify"][0]
    c360 = by_dag["customer_360"]["returns"]["summarize"][0]
    rows = [("DAG runs", ", ".join(f"{r['dag_id']} {r['state']} ({r['seconds']:.0f} s)" for r in results)),
            ("records in", f"{ingest['records_in']:,}"),
            ("curated (S3, Parquet)", f"{ingest['curated']:,} in {len(ingest['partitions'])} partition(s)"),
            ("quarantined", f"{ingest['quarantined']:,}")]
    for reason, n in sorted(ingest["reasons"].items(), key=lambda kv: (-kv[1], kv[0])):
        rows.append((f"  reason {reason}", f"{n:,}"))
    rows.append(("reconciled", "yes" if ingest["records_in"] == ingest["curated"] + ingest["quarantined"] else "NO"))
    for cloud in ("gcs", "azure"):
        c = copied.get(cloud, {})
        rows.append((f"copied to {cloud.upper() if cloud == 'gcs' else 'Azure'}",
                     f"{c.get('partitions', 0)} partition(s), {c.get('files', 0)} file(s), {c.get('bytes', 0):,} B"))
        verified = f"{c.get('verified', 0)}/{c.get('files', 0)} verified by the DAG"
        rows.append((f"  checksums {cloud}", f"{verified}; read-back {checks.get(cloud, '?')}"))
    rows.append(("customer_360 (GCS)", f"{c360['rows']:,} customers over {c360['days']} day(s)"))
    rows.append(("read back to .demo/out", ", ".join(f"{k} {v} files" for k, v in readback.items())))
    rows.append(("raw phone/e-mail found", "none" if not leaks else f"IN {len(leaks)} FILE(S): {leaks[:3]}"))
    width = max(len(k) for k, _ in rows)
    line = "-" * (width + 60)
    return "\n".join([line, *(f"{k.ljust(width)}  {v}" for k, v in rows), line])


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    # Imported after argument checks: bad input answers instantly.
    from scripts import airflow_secrets, demo_airflow, demo_platform
    from scripts.demo_telemetry import OtlpSink
    from scripts.standins import MissingToolError, Standins

    started = time.monotonic()
    progress = Progress(9)
    run_dir, out_dir, airflow_home = DEMO / "run", DEMO / "out", DEMO / "airflow"
    # The previous run's stand-in data, Terraform state and output go; the Airflow
    # database stays (migrating again is a quick no-op).
    for stale in (run_dir, out_dir):
        shutil.rmtree(stale, ignore_errors=True)
    run_dir.mkdir(parents=True)
    logs = run_dir / "logs"
    env = demo_platform.local_environment()
    layout = airflow_secrets.layout_for(env)

    progress.begin("starting stand-ins: moto, Azurite, fake-gcs-server, OpenBao")
    try:
        standins = Standins(run_dir, naming_account(env))
    except MissingToolError as error:
        raise DemoError(f"{error}; run `make setup`") from None
    with standins:
        progress(standins.describe())
        progress.begin("applying the local AWS stacks with Terraform against moto (airflow db migrate meanwhile)")
        backend = demo_platform.vault_backend_kwargs(env, standins, run_dir / "vault-token")
        af_env = demo_airflow.airflow_env(airflow_home, backend)
        migrated: dict[str, Any] = {}

        def migrate() -> None:
            try:
                migrated["seconds"] = demo_airflow.migrate(af_env, logs / "airflow.log")
            except Exception as error:  # noqa: BLE001 - re-raised in the main thread after the join
                migrated["error"] = error

        migrator = threading.Thread(target=migrate)
        migrator.start()
        stacks = demo_platform.synth_local(run_dir / "cdktf.out")
        demo_platform.apply_local_aws(stacks, standins.moto.url, run_dir, progress)
        migrator.join()
        if "error" in migrated:
            raise migrated["error"]
        progress(f"airflow db migrate took {migrated['seconds']:.0f} s")

        progress.begin("creating the GCS buckets and the Azure container named by environments/local.yaml")
        conns = demo_platform.connections(env, standins)
        demo_platform.create_gcs_and_azure(layout, env, standins, conns)
        progress(f"gs://{layout.gcs_curated_bucket}, gs://{layout.gcs_exports_bucket}, "
                 f"azure {standins.azure.name}/{layout.azure_container}")

        progress.begin("storing connections, layout and masking key in OpenBao")
        demo_platform.store_in_vault(env, standins, conns, layout, demo_platform.new_masking_key())
        progress(f"{env.vault.kv_mount}/domains/<domain>/{{connections/<cloud>, masking_key}} (not shown), "
                 "read by tasks via callcenter.credentials")

        progress.begin("preparing call records")
        messy_exports: list[Path] = []
        if args.calls:
            calls = args.calls
            progress(f"using {calls}")
        else:
            day = (datetime.now(UTC) - timedelta(days=1)).date()
            calls = run_dir / "input" / f"calls-{day.isoformat()}.jsonl"
            demo_platform.generate_day(calls, args.records, day)
            progress(f"generated {args.records:,} records for {day} (about 1% malformed, PII in notes)")
            # A second export as real producers send it (BOM, CRLF, PII in ids, every phone form,
            # impossible dates, duplicates, a 2 MB line): the leak scan below covers it too.
            from callcenter import synthetic

            messy = run_dir / "input" / f"calls-{day.isoformat()}-messy.jsonl"
            messy.write_bytes(synthetic.messy_export(
                [*synthetic.messy_records(MESSY_RECORDS, day), synthetic.huge_record(day)]))
            messy_exports.append(messy)
            progress(f"generated {messy.name}: {MESSY_RECORDS + 1} messy records")
        customers_by_day, lines = scan_input(calls)
        fss = demo_platform.filesystems(conns)
        for export in (calls, *messy_exports):
            demo_platform.upload(fss["s3"], export, f"{layout.incoming}/{export.name}")
        quality = seed_quality(fss["azure"], layout, customers_by_day)
        progress(f"uploaded s3://{layout.incoming}/{calls.name} ({lines:,} lines); "
                 f"call-quality rows in Azure: {sum(quality.values()):,}")

        progress.begin("running call_records_ingest, distribute_curated, customer_360 through Airflow")
        plan = [{"dag_id": "call_records_ingest", "conf": {}},
                {"dag_id": "distribute_curated", "conf": {"full_resync": True}},
                {"dag_id": "customer_360", "conf": {"days": sorted(customers_by_day)}}]
        # The tasks export their OpenTelemetry metrics over OTLP/HTTP, as on a cloud, to a local receiver
        # standing in for the collector of ops/otel/ (callcenter/telemetry.py is off without an endpoint).
        with OtlpSink() as metrics:
            results = demo_airflow.run_dags({**af_env, "OTEL_EXPORTER_OTLP_ENDPOINT": metrics.url}, plan, run_dir,
                                            logs / "airflow.log", on_line=progress)
        failed = [r for r in results if r["state"] != "success"]
        if failed or len(results) != len(plan):
            bad = failed[0] if failed else {"dag_id": plan[len(results)]["dag_id"], "tasks": []}
            tasks = [f"{t['task_id']}[{t['map_index']}]={t['state']}" for t in bad["tasks"] if t["state"] != "success"]
            raise DemoError(f"{bad['dag_id']} did not succeed ({', '.join(tasks) or 'no tasks ran'}); "
                            f"see {logs / 'airflow.log'}")

        progress.begin("reading back what landed in each cloud into .demo/out/")
        readback = demo_platform.read_back(fss, layout, out_dir)
        phones, emails = demo_platform.raw_pii(calls)
        for export in messy_exports:
            more = demo_platform.raw_pii(export)
            phones, emails = phones | more[0], emails | more[1]
        leaks = demo_platform.pii_leaks(out_dir, phones, emails)
        checks = independent_checksums(out_dir, layout)

        progress.begin("summary")
        table = (summary_table(results, checks, leaks, readback)
                 + f"\n\nOpenTelemetry metrics of this run ({metrics.requests} OTLP exports received):\n"
                 + metrics.table())
        print(table, flush=True)
        (out_dir / "summary.txt").write_text(table + "\n")
        (out_dir / "runs.json").write_text(json.dumps(results, indent=2, default=str))

        progress.begin("stopping stand-ins")
    elapsed = time.monotonic() - started
    print(f"demo finished in {elapsed:.0f} s; inspect .demo/out/ (summary.txt, runs.json, s3/, gcs/, azure/)")
    problems = [*leaks, *(c for c in checks.values() if not c.startswith("match"))]
    return 1 if problems else 0


def naming_account(env: Any) -> str:
    from environments import naming

    return naming.azure_storage_account(env.prefix, env.name)


def seed_quality(fs_azure: Any, layout: Any, customers_by_day: dict[str, set[str]], seed: int = 11) -> Counter:
    """The Azure call-quality source for the days the calls cover (see demo_platform)."""
    from scripts.demo_platform import write_call_quality

    return Counter({day: write_call_quality(fs_azure, layout, day, sorted(ids), seed=seed)
                    for day, ids in customers_by_day.items()})


def _unwind(signum: int, frame: object) -> None:
    """SIGTERM (e.g. a CI timeout) unwinds like Ctrl-C, so the stand-ins are stopped."""
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _unwind)
    try:
        sys.exit(main(sys.argv[1:]))
    except DemoError as error:
        print(f"demo: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("demo: interrupted; stand-ins stopped", file=sys.stderr)
        sys.exit(130)
    except Exception as error:  # noqa: BLE001 - one line for the user, details in the logs
        import traceback

        (DEMO / "run" / "logs").mkdir(parents=True, exist_ok=True)
        (DEMO / "run" / "logs" / "demo-error.log").write_text(traceback.format_exc())
        print(f"demo: failed: {type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
              f" (logs in {DEMO / 'run' / 'logs'})", file=sys.stderr)
        sys.exit(1)
