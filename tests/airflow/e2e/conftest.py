"""One set of stand-ins and one migrated Airflow per session, shared by the e2e tests.

The platform is provisioned with the same code as `make demo` (scripts/), except
that the three AWS buckets and the Glue crawler are created with boto3 instead
of a ~2 min Terraform apply (see demo_platform.create_aws_directly).
In CI (CI=true) a missing stand-in binary fails; locally it skips.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
for _path in (REPO, REPO / "airflow" / "dags"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from tests.conftest import require  # skips locally, fails in CI (CI=true)

#: Short first retry so the outage test takes seconds; production keeps 1 min. Airflow's backoff waits
#: [d, 2d), [2d, 4d), [4d, 8d) before tries 2-4, so the retries span at least 7d = 21 s: longer than the
#: outage test's GCS_DOWN_S, however fast a try against a stopped store fails.
RETRY_DELAY_S = 3
#: The e2e tests run call_analytics's three DAGs (make demo runs agent_performance too).
DOMAIN = "call_analytics"


@dataclass
class Platform:
    tmp: Path
    env: Any
    layout: Any
    standins: Any
    conns: dict
    fss: dict
    airflow_env: dict[str, str]
    log: Path
    runs: int = 0

    def run(self, *plan: tuple[str, dict], on_line=None) -> dict[str, dict]:
        """Run DAGs in order through Airflow; results by dag_id."""
        from scripts import demo_airflow

        self.runs += 1
        workdir = self.tmp / f"run-{self.runs}"
        workdir.mkdir()
        steps = [{"dag_id": d, "conf": c, "stop_on_failure": False} for d, c in plan]
        results = demo_airflow.run_dags(self.airflow_env, steps, workdir, self.log, on_line=on_line)
        (workdir / "results.json").write_text(json.dumps(results, indent=1, default=str))
        return {r["dag_id"]: r for r in results}

    def read_back(self, name: str) -> Path:
        from scripts import demo_platform

        out = self.tmp / name
        demo_platform.read_back(self.fss, self.layout, out)
        return out


@pytest.fixture(scope="session")
def platform(tmp_path_factory):
    from environments import naming
    from scripts import airflow_secrets, demo_airflow, demo_platform
    from scripts.standins import MissingToolError, Standins

    tmp = tmp_path_factory.mktemp("e2e")
    env = demo_platform.local_environment()
    layout = airflow_secrets.layout_for(env, DOMAIN)
    try:
        standins = Standins(tmp / "standins", naming.azure_storage_account(env.prefix, env.name))
    except MissingToolError as error:
        require(False, str(error))
    require((REPO / ".venv-airflow" / "bin" / "airflow").is_file(), ".venv-airflow is missing (make setup)")
    standins.start()
    try:
        conns = demo_platform.connections(env, standins)
        demo_platform.create_aws_directly(layout, env, conns, DOMAIN)
        demo_platform.create_gcs_and_azure(layout, env, standins, conns)
        demo_platform.store_in_vault(env, standins, conns, layout, demo_platform.new_masking_key(), DOMAIN)
        backend = demo_platform.vault_backend_kwargs(env, standins, tmp / "vault-token")
        airflow_env = demo_airflow.airflow_env(tmp / "airflow", backend, retry_delay_s=RETRY_DELAY_S)
        log = tmp / "airflow.log"
        demo_airflow.migrate(airflow_env, log)
        yield Platform(tmp, env, layout, standins, conns, demo_platform.filesystems(conns), airflow_env, log)
    finally:
        standins.stop()
