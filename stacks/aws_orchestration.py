"""<env>-aws-orchestration: the DAG bundle and the MWAA environment.

Its own state because it changes on every DAG edit: a deploy of Airflow code
plans against a handful of S3 objects and one MWAA environment, never against
the lake (whose prod resources are guarded by prevent_destroy) or the network.
The durable parts MWAA needs (DAG bucket, execution role, key) live in
<env>-aws-platform; the subnets in <env>-aws-network. Where moto has no MWAA
(local), the bundle is still uploaded, so the upload path is exercised for real.
"""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path

from constructs import Construct

from environments.schema import AIRFLOW_DIR, Environment
from environments.vault_ca import REPO_DIR
from modules.aws.alarms import MwaaAlarms, MwaaAlarmsProps
from modules.aws.dag_bundle import DagBundle, DagBundleProps
from modules.aws.mwaa_environment import MwaaEnvironment, MwaaEnvironmentProps
from stacks import providers
from stacks.aws import AwsNetworkStack, AwsPlatformStack
from stacks.base import PlatformStack
from stacks.mwaa_options import airflow_configuration_options, plugins_extra, vault_port


def spark_job_objects(airflow_dir: Path) -> tuple[tuple[str, Path], ...]:
    """The Spark job's package (pyFiles zip + entry point) under spark/ in the DAG bucket, named by
    its content hash. The DAG computes the same names at run time from its own copy of the code, so
    one definition (callcenter/spark_job.py, stdlib-only at top level) is loaded here by file:
    stacks read airflow/ to bundle it and never import it as a package."""
    source = airflow_dir / "dags" / "callcenter" / "spark_job.py"
    if not source.is_file():
        return ()
    spec = importlib.util.spec_from_file_location("_bundled_spark_job", source)
    job = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(job)  # type: ignore[union-attr]
    target = Path(tempfile.gettempdir()) / f"cloud-conductor-spark-{job.package_digest(source.parent)}"
    return tuple((f"spark/{p.name}", p) for p in job.build_package(target, source.parent))


class AwsOrchestrationStack(PlatformStack):
    def __init__(
        self,
        scope: Construct,
        env: Environment,
        network: AwsNetworkStack,
        platform: AwsPlatformStack,
        airflow_dir: Path = AIRFLOW_DIR,
    ):
        super().__init__(scope, env, "aws-orchestration")
        providers.aws(self)
        orchestration = env.orchestration
        self.bundle = DagBundle(
            self, "dag-bundle",
            DagBundleProps(
                bucket=platform.dag_bucket_name,
                kms_key_arn=platform.lake_key_arn,
                dags_dir=airflow_dir / "dags",
                requirements=airflow_dir / "requirements.txt",
                constraints=airflow_dir / "constraints.txt",
                plugins_dir=airflow_dir / "plugins",
                plugins_extra=plugins_extra(env, REPO_DIR),
                startup_script=airflow_dir / orchestration.startup_script if orchestration.startup_script else None,
                objects=spark_job_objects(airflow_dir),
            ),
        )
        self.mwaa = None
        if orchestration.mwaa.enabled:
            self.mwaa = MwaaEnvironment(
                self, "mwaa",
                MwaaEnvironmentProps(
                    name=platform.mwaa_environment_name,
                    airflow_version=orchestration.airflow_version,
                    environment_class=orchestration.environment_class,
                    execution_role_arn=platform.mwaa_execution_role_arn,
                    kms_key_arn=platform.lake_key_arn,
                    source_bucket_arn=platform.dag_bucket_arn,
                    vpc_id=network.mwaa_vpc_id,
                    subnet_ids=network.mwaa_subnet_ids,
                    min_workers=orchestration.min_workers,
                    max_workers=orchestration.max_workers,
                    schedulers=orchestration.schedulers,
                    webserver_access=orchestration.webserver_access,
                    log_level=orchestration.log_level,
                    requirements=self.bundle.requirements,
                    plugins=self.bundle.plugins,
                    startup_script=self.bundle.startup_script,
                    airflow_configuration_options=airflow_configuration_options(env, platform.alerts_topic_arn),
                    egress_tcp_ports=tuple(sorted({443, vault_port(env)})),
                ),
            )
            MwaaAlarms(self, "mwaa-alarms", MwaaAlarmsProps(
                name=platform.mwaa_environment_name, environment_name=platform.mwaa_environment_name,
                topic_arn=platform.alerts_topic_arn,
            ))
