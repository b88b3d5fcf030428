"""Create (or resize) the call-center DAGs' Airflow pool in one environment, sized for its MWAA class.

    make pools ENV=dev                     # upsert on the deployed MWAA (aws mwaa invoke-rest-api)
    make pools ENV=local OUT=pools.json    # write the file `airflow pools import pools.json` takes

Pools live in Airflow's metadata DB, which no Terraform resource reaches; on MWAA the
Airflow REST API is called through MWAA's InvokeRestApi (IAM: airflow:InvokeRestApi on
the environment), here as one bulk PATCH /pools with action_on_existence=overwrite
(Airflow 3 api_fastapi/core_api/routes/public/pools.py bulk_pools), so re-running it
after a class change resizes the pool. Run it after every `make deploy` that creates the
environment or changes its class or max_workers.

Sizing: the memory-heavy tasks (one export's ingest, one partition's copy, one
customer_360 day) peak at ~331 MB RSS (README, 5 M records); HEAVY_TASK_MB budgets 512 MB
each. Per worker, after RESERVED_MB for the Celery worker and Airflow's task supervisor,
as many as fit, capped at the class's default task slots; times max_workers (the pool is
environment-wide: Airflow pools count across workers, so this bounds the total and, with
Celery spreading tasks, approximately each worker).
Exit status: 0 done, 2 bad input (one line naming what and why), 1 the API refused.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for _path in (REPO, REPO / "airflow" / "dags"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from callcenter.layout import HEAVY_POOL

from environments import naming
from environments.schema import ConfigError, Environment, load_environment


@dataclass(frozen=True)
class WorkerClass:
    vcpu: int
    memory_mb: int
    default_slots: int  # celery.worker_autoscale's default maximum
    reserved_mb: int  # Airflow's own processes on the container


#: MWAA user guide, "Configuring the Amazon MWAA environment class" (worker size, default concurrent
#: tasks). mw1.micro runs the scheduler on the worker's container: more of its 3 GB is reserved.
MWAA_CLASSES = {
    "mw1.micro": WorkerClass(1, 3072, 3, 2048),
    "mw1.small": WorkerClass(1, 2048, 5, 1024),
    "mw1.medium": WorkerClass(2, 4096, 10, 1024),
    "mw1.large": WorkerClass(4, 8192, 20, 1024),
    "mw1.xlarge": WorkerClass(8, 24576, 40, 1024),
    "mw1.2xlarge": WorkerClass(16, 49152, 80, 1024),
}
HEAVY_TASK_MB = 512


class PoolsError(Exception):
    """Bad input: reported as one line, exit status 2."""


def heavy_slots(environment_class: str, max_workers: int) -> int:
    worker = MWAA_CLASSES[environment_class]
    per_worker = max(1, min(worker.default_slots, (worker.memory_mb - worker.reserved_mb) // HEAVY_TASK_MB))
    return per_worker * max_workers


def pool_spec(env: Environment) -> dict[str, dict]:
    """{pool: {slots, description, include_deferred}}: the format `airflow pools import` reads."""
    orch = env.orchestration
    slots = heavy_slots(orch.environment_class, orch.max_workers)
    return {HEAVY_POOL: {
        "slots": slots,
        "description": f"memory-heavy call-center tasks: {orch.environment_class} x {orch.max_workers} worker(s), "
                       f"{HEAVY_TASK_MB} MB each (scripts/airflow_pools.py)",
        # A deferred task holds no worker memory (deferrable Spark starts), so it takes no slot.
        "include_deferred": False,
    }}


def bulk_body(spec: dict[str, dict]) -> dict:
    """The Airflow 3 REST API's bulk body: create, or overwrite an existing pool of the same name."""
    return {"actions": [{"action": "create", "action_on_existence": "overwrite",
                         "entities": [{"name": name, **fields} for name, fields in spec.items()]}]}


def apply_on_mwaa(env: Environment, spec: dict[str, dict], client=None) -> dict:
    if client is None:
        import boto3

        client = boto3.client("mwaa", region_name=env.aws.region)
    answer = client.invoke_rest_api(Name=naming.mwaa_environment(env.prefix, env.name), Path="/pools",
                                    Method="PATCH", Body=bulk_body(spec))
    status = int(answer.get("RestApiStatusCode", 0))
    if status >= 300:
        raise RuntimeError(f"PATCH /pools answered {status}")
    return answer.get("RestApiResponse") or {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True, help="environment name: environments/<env>.yaml")
    parser.add_argument("--environments", type=Path, default=REPO / "environments",
                        help="folder of environment files (default: environments/)")
    parser.add_argument("--out", type=Path, help="write the `airflow pools import` file instead of calling MWAA")
    args = parser.parse_args(argv)
    path = args.environments / f"{args.env}.yaml"
    try:
        if not path.is_file():
            raise PoolsError(f"{path}: no such environment file")
        env = load_environment(path)
        spec = pool_spec(env)
        if args.out:
            args.out.write_text(json.dumps(spec, indent=2, sort_keys=True) + "\n")
            print(f"wrote {args.out}: {HEAVY_POOL} = {spec[HEAVY_POOL]['slots']} slots")
            return 0
        if not env.orchestration.mwaa.enabled:
            raise PoolsError(f"{path}: orchestration.mwaa.enabled is false: no MWAA to call; "
                              "use OUT=<file> and `airflow pools import <file>`")
    except (PoolsError, ConfigError) as error:
        print(f"pools: {error}", file=sys.stderr)
        return 2
    try:
        apply_on_mwaa(env, spec)
    except Exception as error:  # noqa: BLE001 - one line, no traceback (README: bad input / API refusals)
        print(f"pools: {naming.mwaa_environment(env.prefix, env.name)}: {type(error).__name__}: {error}",
              file=sys.stderr)
        return 1
    print(f"{HEAVY_POOL} = {spec[HEAVY_POOL]['slots']} slots on {naming.mwaa_environment(env.prefix, env.name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
