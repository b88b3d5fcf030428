"""A data domain on AWS: a secure bucket per zone (raw, curated, quarantine) and its
Glue catalog over the curated zone. Everything beneath carries the domain's tags."""

from __future__ import annotations

from dataclasses import dataclass, replace

from constructs import Construct

from modules.aws.glue_catalog import GlueCatalog, GlueCatalogProps
from modules.aws.secure_bucket import SecureBucket, SecureBucketProps, Tiering
from modules.tagging import scope_tags


@dataclass(frozen=True)
class DataDomainProps:
    name: str
    owner: str
    classification: str
    account_id: str
    region: str
    #: zone -> bucket name; must include "curated" (the crawler's target).
    buckets: dict[str, str]
    tiering: Tiering
    kms_key_arn: str
    access_log_bucket: SecureBucket
    glue_database: str
    crawler: str
    crawler_role: str
    crawler_schedule: str
    security_configuration: str
    prevent_destroy: bool = False
    tls_only: bool = True
    events: bool = True
    #: schema Domain.retired: buckets and database stay (buckets read-only), the crawler and its role go.
    retired: bool = False
    #: Expiry of the raw zone's current objects (schema Domain.raw_expiry_days); None keeps them.
    raw_retention_days: int | None = None


class DataDomain(Construct):
    def __init__(self, scope: Construct, id_: str, props: DataDomainProps):
        super().__init__(scope, id_)
        scope_tags(self, {"domain": props.name, "owner": props.owner, "classification": props.classification})
        self.buckets = {
            zone: SecureBucket(
                self, zone,
                SecureBucketProps(
                    name=name,
                    # Only the raw zone holds unmasked data; curated and quarantine keep the usual tiering.
                    tiering=replace(props.tiering, expire_current_days=props.raw_retention_days)
                    if zone == "raw" else props.tiering,
                    account_id=props.account_id, kms_key_arn=props.kms_key_arn,
                    access_log_bucket=props.access_log_bucket, prevent_destroy=props.prevent_destroy,
                    tls_only=props.tls_only, events=props.events, read_only=props.retired,
                ),
            )
            for zone, name in props.buckets.items()
        }
        curated = self.buckets["curated"]
        self.catalog = GlueCatalog(
            self, "catalog",
            GlueCatalogProps(
                database=props.glue_database, crawler=props.crawler, role_name=props.crawler_role,
                account_id=props.account_id, region=props.region,
                curated_bucket_arn=curated.arn, curated_bucket_name=curated.name,
                kms_key_arn=props.kms_key_arn, security_configuration=props.security_configuration,
                schedule=props.crawler_schedule, description=f"{props.name} curated zone",
                prevent_destroy=props.prevent_destroy, crawler_enabled=not props.retired,
            ),
        )
        #: zone -> bucket ARN, for grants elsewhere (MWAA's role, Vault's AWS secrets engine).
        self.bucket_arns = {zone: bucket.arn for zone, bucket in self.buckets.items()}
