"""`make demo`: the whole flow on this machine, for every domain of environments/local.yaml
(call_analytics and agent_performance), against local stand-ins.

    make demo                      # a generated day of call records
    make demo CALLS=calls.jsonl    # your own JSON-lines export
    make demo RECORDS=200000       # a bigger generated day

Starts moto, Azurite, fake-gcs-server and OpenBao on 127.0.0.1; applies the local
AWS stacks with Terraform against moto; creates the GCS buckets and the Azure
containers the same config names; stores each domain's Airflow connection, layout
and masking key in OpenBao; uploads the calls (JSON lines) and the agent events
(CSV, generated from agent_performance's contract) to their raw zones; runs each
domain's <dataset>_ingest and <dataset>_distribute, and customer_360, through real
Airflow; prints per-domain figures; reads everything back into .demo/out/, scans it
for raw PII; and stops every server it started, also on failure or Ctrl-C.
Re-runnable with no cleanup.
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
#: The call records' domain (its own generator, the Azure call-quality source, customer_360); every
#: other domain's export is generated from its contract (callcenter.synthetic.records_for).
CALLS_DOMAIN = "call_analytics"
OTHER_RECORDS = 5_000  # per other domain, about 1% malformed


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


def _domain_rows(domain: str, names: Any, by_dag: dict[str, dict], checks: dict[str, str]) -> list[tuple[str, str]]:
    """One domain's figures: records in, curated, quarantined by reason, reconciled, copies."""
    ingest = by_dag[names.ingest_dag_id]["returns"]["reconcile"][0]
    copied = by_dag[names.distribute_dag_id]["returns"]["verify"][0]
    rows = [(f"{domain}", f"{names.ingest_dag_id} + {names.distribute_dag_id}"),
            ("  records in", f"{ingest['records_in']:,}"),
            ("  curated (S3, Parquet)", f"{ingest['curated']:,} in {len(ingest['partitions'])} partition(s)"),
            ("  quarantined", f"{ingest['quarantined']:,}")]
    for reason, n in sorted(ingest["reasons"].items(), key=lambda kv: (-kv[1], kv[0]))[:8]:
        rows.append((f"    reason {reason}", f"{n:,}"))
    rows.append(("  reconciled", "yes" if ingest["records_in"] == ingest["curated"] + ingest["quarantined"] else "NO"))
    for cloud in ("gcs", "azure"):
        c = copied.get(cloud, {})
        rows.append((f"  copied to {cloud.upper() if cloud == 'gcs' else 'Azure'}",
                     f"{c.get('partitions', 0)} partition(s), {c.get('files', 0)} file(s), {c.get('bytes', 0):,} B"))
        verified = f"{c.get('verified', 0)}/{c.get('files', 0)} verified by the DAG"
        rows.append((f"    checksums {cloud}", f"{verified}; read-back {checks.get(cloud, '?')}"))
    return rows


def summary_table(results: list[dict], domains: dict[str, tuple[Any, dict[str, str]]], leaks: list[str],
                  readback: dict[str, int]) -> str:
    """`domains`: {domain: (its Names, its independent checksums)}."""
    by_dag = {r["dag_id"]: r for r in results}
    rows = [("DAG runs", ", ".join(f"{r['dag_id']} {r['state']} ({r['seconds']:.0f} s)" for r in results))]
    for domain, (names, checks) in domains.items():
        rows += _domain_rows(domain, names, by_dag, checks)
    if "customer_360" in by_dag:
        c360 = by_dag["customer_360"]["returns"]["summarize"][0]
        rows.append(("customer_360 (GCS)", f"{c360['rows']:,} customers over {c360['days']} day(s)"))
    rows.append(("read back to .demo/out", ", ".join(f"{k} {v} files" for k, v in readback.items())))
    rows.append(("raw phone/e-mail found", "none" if not leaks else f"IN {len(leaks)} FILE(S): {leaks[:3]}"))
    width = max(len(k) for k, _ in rows)
    line = "-" * (width + 60)
    return "\n".join([line, *(f"{k.ljust(width)}  {v}" for k, v in rows), line])


def other_export(contract: Any, out: Path, n: int, day: Any) -> tuple[Path, set[str], set[str]]:
    """A generated export of a domain other than the calls, in its contract's format (CSV where accepted);
    returns the file and the raw phones (digits) and e-mails of its pii fields, for the leak scan."""
    import re

    from callcenter import synthetic

    fmt = "csv" if "csv" in contract.formats else "jsonl"
    records = synthetic.records_for(contract, n, seed=17, malformed_rate=0.01, day=day)
    path = out / f"{contract.dataset}-{day.isoformat()}.{'csv' if fmt == 'csv' else 'jsonl'}"
    path.parent.mkdir(parents=True, exist_ok=True)
    synthetic.write_export(contract, records, str(path), fmt)
    values = {f.type: {str(r[f.name]) for r in records if r.get(f.name)} for f in contract.pii_fields}
    phones = {re.sub(r"\D", "", v) for v in values.get("phone", set())}
    return path, phones, {v.lower() for v in values.get("email", set())}


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
    from callcenter import domain as contracts
    from callcenter.layout import Names

    domains = [d.name for d in env.active_domains]
    names = {d: Names(d, contracts.load(d).dataset) for d in domains}
    layouts = {d: airflow_secrets.layout_for(env, d) for d in domains}
    layout = layouts[CALLS_DOMAIN]

    progress.begin("starting stand-ins: moto, Azurite, fake-gcs-server, OpenBao")
    try:
        standins = Standins(run_dir, naming_account(env))
    except MissingToolError as error:
        raise DemoError(f"{error}; run `make setup`") from None
    with standins:
        progress(standins.describe())
        progress.begin("applying the local AWS stacks with Terraform against moto (airflow db migrate meanwhile)")
        backend = demo_platform.vault_backend_kwargs(env, standins, run_dir / "vault-token")
        from stacks.mwaa_options import domains_option

        af_env = demo_airflow.airflow_env(airflow_home, backend, domains=domains_option(env))  # as MWAA gets it
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

        progress.begin("creating each domain's GCS buckets and Azure container named by environments/local.yaml")
        conns = demo_platform.connections(env, standins)
        for d, lay in layouts.items():
            demo_platform.create_gcs_and_azure(lay, env, standins, conns)
            progress(f"{d}: gs://{lay.gcs_curated_bucket}, gs://{lay.gcs_exports_bucket}, "
                     f"azure {standins.azure.name}/{lay.azure_container}")

        progress.begin("storing each domain's connections, layout and masking key in OpenBao")
        for d, lay in layouts.items():
            demo_platform.store_in_vault(env, standins, conns, lay, demo_platform.new_masking_key(), d)
        progress(f"{env.vault.kv_mount}/domains/<domain>/{{connections/<cloud>, masking_key}} (not shown), "
                 "read by each domain's tasks via callcenter.credentials with a token for its subtree only")

        progress.begin("preparing each domain's exports")
        messy_exports: list[Path] = []
        day = (datetime.now(UTC) - timedelta(days=1)).date()
        if args.calls:
            calls = args.calls
            progress(f"using {calls}")
        else:
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
        extra_phones: set[str] = set()
        extra_emails: set[str] = set()
        for d in domains:
            if d == CALLS_DOMAIN:
                continue
            export, phones, emails = other_export(contracts.load(d), run_dir / "input", OTHER_RECORDS, day)
            extra_phones, extra_emails = extra_phones | phones, extra_emails | emails
            demo_platform.upload(fss["s3"], export, f"{layouts[d].incoming}/{export.name}")
            progress(f"{d}: generated {OTHER_RECORDS:,} records from its contract, uploaded "
                     f"s3://{layouts[d].incoming}/{export.name}")

        plan = []
        for d in domains:
            plan += [{"dag_id": names[d].ingest_dag_id, "conf": {}},
                     {"dag_id": names[d].distribute_dag_id, "conf": {"full_resync": True}}]
        if CALLS_DOMAIN in domains:
            plan.append({"dag_id": "customer_360", "conf": {"days": sorted(customers_by_day)}})
        progress.begin(f"running {', '.join(p['dag_id'] for p in plan)} through Airflow")
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

        progress.begin("reading back what landed in each cloud into .demo/out/, leak scan over every domain")
        readback: Counter = Counter()
        for lay in layouts.values():
            readback.update(demo_platform.read_back(fss, lay, out_dir))
        phones, emails = demo_platform.raw_pii(calls)
        for export in messy_exports:
            more = demo_platform.raw_pii(export)
            phones, emails = phones | more[0], emails | more[1]
        leaks = demo_platform.pii_leaks(out_dir, phones | extra_phones, emails | extra_emails)
        checks = {d: (names[d], independent_checksums(out_dir, lay)) for d, lay in layouts.items()}

        progress.begin("summary")
        table = (summary_table(results, checks, leaks, dict(readback))
                 + f"\n\nOpenTelemetry metrics of this run ({metrics.requests} OTLP exports received):\n"
                 + metrics.table())
        print(table, flush=True)
        (out_dir / "summary.txt").write_text(table + "\n")
        (out_dir / "runs.json").write_text(json.dumps(results, indent=2, default=str))

        progress.begin("stopping stand-ins")
    elapsed = time.monotonic() - started
    print(f"demo finished in {elapsed:.0f} s; inspect .demo/out/ (summary.txt, runs.json, s3/, gcs/, azure/)")
    problems = [*leaks, *(c for _, cs in checks.values() for c in cs.values() if not c.startswith("match"))]
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
