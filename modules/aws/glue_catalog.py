"""A domain's Glue catalog: one database and one scheduled crawler over the curated
zone, run by a role that can read that zone, use the lake key and write only that
database's tables and its own crawler logs."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.glue_catalog_database import GlueCatalogDatabase
from cdktf_cdktf_provider_aws.glue_crawler import GlueCrawler, GlueCrawlerS3Target, GlueCrawlerSchemaChangePolicy
from constructs import Construct

from modules.aws.policy_document import Statement
from modules.aws.service_role import ServiceRole, ServiceRoleProps

_CATALOG_ACTIONS = (
    "glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:CreateTable", "glue:UpdateTable",
    "glue:GetPartition", "glue:GetPartitions", "glue:CreatePartition", "glue:UpdatePartition",
    "glue:BatchCreatePartition", "glue:BatchGetPartition", "glue:BatchUpdatePartition",
)


@dataclass(frozen=True)
class GlueCatalogProps:
    database: str
    crawler: str
    role_name: str
    account_id: str
    region: str
    #: The curated zone: the crawler's only target and the only data its role reads.
    curated_bucket_arn: str
    curated_bucket_name: str
    kms_key_arn: str
    security_configuration: str
    schedule: str
    description: str = ""
    prevent_destroy: bool = False
    #: False for a retired domain: the database (its table metadata) stays; the crawler and its role go.
    crawler_enabled: bool = True


class GlueCatalog(Construct):
    def __init__(self, scope: Construct, id_: str, props: GlueCatalogProps):
        super().__init__(scope, id_)
        arn = f"arn:aws:glue:{props.region}:{props.account_id}"
        logs = f"arn:aws:logs:{props.region}:{props.account_id}:log-group:/aws-glue/crawlers*"
        self.database = GlueCatalogDatabase(
            self, "database",
            name=props.database, description=props.description or None,
            location_uri=f"s3://{props.curated_bucket_name}/",
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True) if props.prevent_destroy else None,
        )
        self.crawler_name: str | None = None
        self.crawler_arn: str | None = None
        if not props.crawler_enabled:
            return
        self.role = ServiceRole(
            self, "crawler-role",
            ServiceRoleProps(
                name=props.role_name,
                services=("glue.amazonaws.com",),
                account_id=props.account_id,
                description=f"Glue crawler {props.crawler}: reads its curated zone, writes its database",
                statements=(
                    Statement("ListCuratedZone", ("s3:GetBucketLocation", "s3:ListBucket"), (props.curated_bucket_arn,)),
                    Statement("ReadCuratedZone", ("s3:GetObject",), (f"{props.curated_bucket_arn}/*",)),
                    Statement("UseLakeKey", ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"), (props.kms_key_arn,)),
                    Statement(
                        "WriteOwnDatabase",
                        _CATALOG_ACTIONS,
                        (f"{arn}:catalog", f"{arn}:database/{props.database}", f"{arn}:table/{props.database}/*"),
                    ),
                    Statement(
                        "WriteCrawlerLogs",
                        ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"),
                        (logs, f"{logs}:*"),
                    ),
                ),
            ),
        )
        self.crawler = GlueCrawler(
            self, "crawler",
            name=props.crawler,
            database_name=self.database.name,
            role=self.role.arn,
            schedule=props.schedule,
            security_configuration=props.security_configuration,
            s3_target=[GlueCrawlerS3Target(path=f"s3://{props.curated_bucket_name}/")],
            # A vanished prefix is logged, never a silently dropped table.
            schema_change_policy=GlueCrawlerSchemaChangePolicy(delete_behavior="LOG", update_behavior="UPDATE_IN_DATABASE"),
        )
        self.crawler_name = self.crawler.name
        self.crawler_arn = self.crawler.arn
