"""A private Amazon MWAA environment with all five log types on.

Secure defaults: PRIVATE_ONLY web server, the customer-managed key, two private
subnets in different AZs, a security group that admits only itself. Requirements,
plugins and startup script are pinned by S3 object version, so a changed file
updates the environment on the next deploy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.mwaa_environment import MwaaEnvironment as AwsMwaaEnvironment
from cdktf_cdktf_provider_aws.mwaa_environment import (
    MwaaEnvironmentLoggingConfiguration,
    MwaaEnvironmentLoggingConfigurationDagProcessingLogs,
    MwaaEnvironmentLoggingConfigurationSchedulerLogs,
    MwaaEnvironmentLoggingConfigurationTaskLogs,
    MwaaEnvironmentLoggingConfigurationWebserverLogs,
    MwaaEnvironmentLoggingConfigurationWorkerLogs,
    MwaaEnvironmentNetworkConfiguration,
)
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from modules.aws.dag_bundle import BundledObject

#: The five MWAA log types and their binding structs; every one is enabled.
LOG_TYPES = {
    "dag_processing_logs": MwaaEnvironmentLoggingConfigurationDagProcessingLogs,
    "scheduler_logs": MwaaEnvironmentLoggingConfigurationSchedulerLogs,
    "task_logs": MwaaEnvironmentLoggingConfigurationTaskLogs,
    "webserver_logs": MwaaEnvironmentLoggingConfigurationWebserverLogs,
    "worker_logs": MwaaEnvironmentLoggingConfigurationWorkerLogs,
}


@dataclass(frozen=True)
class MwaaEnvironmentProps:
    name: str
    airflow_version: str
    environment_class: str
    execution_role_arn: str
    kms_key_arn: str
    source_bucket_arn: str
    vpc_id: str
    subnet_ids: tuple[str, ...]
    dag_s3_path: str = "dags"
    min_workers: int = 1
    max_workers: int = 2
    schedulers: int = 2
    webserver_access: str = "PRIVATE_ONLY"
    log_level: str = "INFO"
    requirements: BundledObject | None = None
    plugins: BundledObject | None = None
    startup_script: BundledObject | None = None
    #: Airflow config overrides, e.g. the secrets backend (see stacks/mwaa_options.py).
    airflow_configuration_options: dict[str, str] = field(default_factory=dict)
    #: TCP ports the workers may open outside their group (HTTPS; Vault's port).
    egress_tcp_ports: tuple[int, ...] = (443,)


class MwaaEnvironment(Construct):
    def __init__(self, scope: Construct, id_: str, props: MwaaEnvironmentProps):
        super().__init__(scope, id_)
        if len(props.subnet_ids) != 2:
            raise ValueError(f"{props.name}: MWAA takes exactly two private subnets (in different AZs)")
        group = SecurityGroup(
            self, "sg", name=f"{props.name}-mwaa", vpc_id=props.vpc_id,
            description=f"MWAA {props.name}: members talk to each other; HTTPS and Vault out",
            tags={"Name": f"{props.name}-mwaa"},
        )
        VpcSecurityGroupIngressRule(
            self, "from-self", security_group_id=group.id, ip_protocol="-1", referenced_security_group_id=group.id,
            description="MWAA components reach each other (required self-reference)",
        )
        VpcSecurityGroupEgressRule(
            self, "to-self", security_group_id=group.id, ip_protocol="-1", referenced_security_group_id=group.id,
            description="MWAA components reach each other and their service endpoints",
        )
        for port in props.egress_tcp_ports:
            VpcSecurityGroupEgressRule(
                self, f"tcp-{port}-out", security_group_id=group.id, ip_protocol="tcp", from_port=port, to_port=port,
                cidr_ipv4="0.0.0.0/0", description=f"TCP {port} out (through the hub's egress)",
            )
        self.security_group_id = group.id
        optional: dict = {}
        for kind, obj in (("requirements", props.requirements), ("plugins", props.plugins), ("startup_script", props.startup_script)):
            if obj is not None:
                optional[f"{kind}_s3_path"] = obj.key
                optional[f"{kind}_s3_object_version"] = obj.version
        self.environment = AwsMwaaEnvironment(
            self, "environment",
            name=props.name,
            airflow_version=props.airflow_version,
            environment_class=props.environment_class,
            min_workers=props.min_workers,
            max_workers=props.max_workers,
            schedulers=props.schedulers,
            execution_role_arn=props.execution_role_arn,
            kms_key=props.kms_key_arn,
            source_bucket_arn=props.source_bucket_arn,
            dag_s3_path=props.dag_s3_path,
            webserver_access_mode=props.webserver_access,
            network_configuration=MwaaEnvironmentNetworkConfiguration(
                security_group_ids=[group.id], subnet_ids=list(props.subnet_ids)
            ),
            logging_configuration=MwaaEnvironmentLoggingConfiguration(
                **{kind: struct(enabled=True, log_level=props.log_level) for kind, struct in LOG_TYPES.items()}
            ),
            airflow_configuration_options=props.airflow_configuration_options or None,
            **optional,
        )
        self.arn = self.environment.arn
