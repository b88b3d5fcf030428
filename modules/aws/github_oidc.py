"""GitHub Actions' OIDC trust in one AWS account: the identity provider, a deploy role and a plan role.

- Deploy role: assumable only by a job of ``<owner>/<repo>`` running in the GitHub environment
  (token ``sub`` = ``repo:<owner>/<repo>:environment:<env>``; ``aud`` = ``sts.amazonaws.com``;
  GitHub docs, "Configuring OpenID Connect in Amazon Web Services"). It reads everything Terraform
  refreshes (AWS-managed ``ReadOnlyAccess``), and writes only what the platform's stacks create:
  per-service action lists (:data:`DEPLOY_ACTIONS`), each on the ARNs named ``<prefix>-<env>-*``
  where the service has resource-level permissions, and on ``*`` limited to the environment's
  region where it has not (EC2 networking, Route 53 Resolver). It may never change its own trust
  or the plan role's, nor read the lake's objects.
- Plan role: pull-request jobs of the same repository (``sub`` = ``repo:<owner>/<repo>:pull_request``)
  and the scheduled drift check on the deploy branch (``repo:<owner>/<repo>:ref:refs/heads/<branch>``);
  read-only, minus lake object and secret reads, plus the state objects Terraform plans against.

The account-wide provider ``token.actions.githubusercontent.com`` exists once per account; AWS
validates GitHub's certificate itself, so no thumbprint is pinned (IAM user guide, "Create an
OpenID Connect (OIDC) identity provider").
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from environments import naming
from modules.aws.policy_document import Condition, Statement, policy_document

GITHUB_ISSUER = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"
READ_ONLY_POLICY = "arn:aws:iam::aws:policy/ReadOnlyAccess"

#: service -> (ARN patterns under ``{base}``, actions). ``{p}`` = partition-free ARN prefix of the
#: service in this account and region; None = the service has no resource-level permissions for
#: these actions, so they apply to ``*`` in the environment's region only.
DEPLOY_ACTIONS: dict[str, tuple[tuple[str, ...] | None, tuple[str, ...]]] = {
    "s3": (("arn:aws:s3:::{base}-*", "arn:aws:s3:::{base}-*/*"), (
        "s3:CreateBucket", "s3:DeleteBucket", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketVersioning",
        "s3:PutEncryptionConfiguration", "s3:PutBucketPublicAccessBlock", "s3:PutLifecycleConfiguration",
        "s3:PutBucketLogging", "s3:PutBucketTagging", "s3:PutBucketNotification", "s3:PutBucketOwnershipControls",
        "s3:PutObject", "s3:PutObjectTagging", "s3:DeleteObject", "s3:DeleteObjectVersion",
    )),
    "iam": (("arn:aws:iam::{account}:role/{base}-*",), (
        "iam:CreateRole", "iam:DeleteRole", "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy",
        "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:PassRole",
    )),
    "kms": (("arn:aws:kms:{region}:{account}:key/*", "arn:aws:kms:{region}:{account}:alias/{base}-*"), (
        "kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias", "kms:PutKeyPolicy", "kms:EnableKeyRotation",
        "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:UpdateKeyDescription",
        "kms:CreateGrant", "kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt",
    )),
    "kms-create": (None, ("kms:CreateKey",)),
    "logs": (("arn:aws:logs:{region}:{account}:log-group:*",), (
        "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:AssociateKmsKey",
        "logs:TagResource", "logs:UntagResource", "logs:TagLogGroup",
    )),
    "glue": (("arn:aws:glue:{region}:{account}:*",), (
        "glue:CreateDatabase", "glue:UpdateDatabase", "glue:DeleteDatabase", "glue:CreateCrawler",
        "glue:UpdateCrawler", "glue:DeleteCrawler", "glue:CreateSecurityConfiguration",
        "glue:DeleteSecurityConfiguration", "glue:TagResource", "glue:UntagResource",
    )),
    "airflow": (("arn:aws:airflow:{region}:{account}:environment/{base}-*",), (
        "airflow:CreateEnvironment", "airflow:UpdateEnvironment", "airflow:DeleteEnvironment",
        "airflow:TagResource", "airflow:UntagResource",
    )),
    # `make pools` (scripts/airflow_pools.py) resizes the memory-heavy pool through MWAA's
    # invoke-rest-api after a deploy; the pools endpoints need Airflow's Op role, whose
    # resource type is rbac-role (Service Authorization Reference, Amazon MWAA).
    "airflow-api": (("arn:aws:airflow:{region}:{account}:role/{base}-*/Op",), ("airflow:InvokeRestApi",)),
    # Application ARNs carry an AWS-generated id, so the environment's own are not nameable in advance.
    "emr-serverless": (("arn:aws:emr-serverless:{region}:{account}:/applications/*",), (
        "emr-serverless:CreateApplication", "emr-serverless:UpdateApplication", "emr-serverless:DeleteApplication",
        "emr-serverless:StopApplication", "emr-serverless:TagResource", "emr-serverless:UntagResource",
    )),
    # The Spark job's image repository (modules/aws/ecr_repository.py); `make spark-image` pushes to it.
    "ecr": (("arn:aws:ecr:{region}:{account}:repository/{base}-*",), (
        "ecr:CreateRepository", "ecr:DeleteRepository", "ecr:PutImageTagMutability", "ecr:PutImageScanningConfiguration",
        "ecr:PutLifecyclePolicy", "ecr:DeleteLifecyclePolicy",
        "ecr:SetRepositoryPolicy", "ecr:DeleteRepositoryPolicy", "ecr:TagResource", "ecr:UntagResource",
        "ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload", "ecr:PutImage",
    )),
    # docker login to ECR: an account-level token with no resource-level permissions.
    "ecr-login": (None, ("ecr:GetAuthorizationToken",)),
    "sns": (("arn:aws:sns:{region}:{account}:{base}-*",), (
        "sns:CreateTopic", "sns:DeleteTopic", "sns:SetTopicAttributes", "sns:Subscribe", "sns:Unsubscribe",
        "sns:TagResource", "sns:UntagResource",
    )),
    "cloudwatch": (("arn:aws:cloudwatch:{region}:{account}:alarm:{base}-*",), (
        "cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:TagResource", "cloudwatch:UntagResource",
    )),
    "budgets": (("arn:aws:budgets::{account}:budget/{base}-*",), ("budgets:ModifyBudget",)),
    "events": (("arn:aws:events:{region}:{account}:rule/{base}-*",), (
        "events:PutRule", "events:DeleteRule", "events:PutTargets", "events:RemoveTargets", "events:TagResource",
        "events:UntagResource",
    )),
    "ec2": (None, (
        "ec2:CreateVpc", "ec2:DeleteVpc", "ec2:ModifyVpcAttribute", "ec2:CreateSubnet", "ec2:DeleteSubnet",
        "ec2:ModifySubnetAttribute", "ec2:CreateRouteTable", "ec2:DeleteRouteTable", "ec2:CreateRoute",
        "ec2:DeleteRoute", "ec2:ReplaceRoute", "ec2:AssociateRouteTable", "ec2:DisassociateRouteTable",
        "ec2:CreateInternetGateway", "ec2:AttachInternetGateway", "ec2:DetachInternetGateway",
        "ec2:DeleteInternetGateway", "ec2:AllocateAddress", "ec2:ReleaseAddress", "ec2:CreateNatGateway",
        "ec2:DeleteNatGateway", "ec2:CreateSecurityGroup", "ec2:DeleteSecurityGroup",
        "ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupEgress", "ec2:CreateVpcEndpoint", "ec2:ModifyVpcEndpoint", "ec2:DeleteVpcEndpoints",
        "ec2:CreateFlowLogs", "ec2:DeleteFlowLogs", "ec2:CreateTags", "ec2:DeleteTags", "ec2:CreateTransitGateway",
        "ec2:DeleteTransitGateway", "ec2:CreateTransitGatewayVpcAttachment", "ec2:DeleteTransitGatewayVpcAttachment",
        "ec2:CreateTransitGatewayRouteTable", "ec2:DeleteTransitGatewayRouteTable", "ec2:CreateTransitGatewayRoute",
        "ec2:DeleteTransitGatewayRoute", "ec2:AssociateTransitGatewayRouteTable",
        "ec2:DisassociateTransitGatewayRouteTable", "ec2:CreateCustomerGateway", "ec2:DeleteCustomerGateway",
        "ec2:CreateVpnConnection", "ec2:DeleteVpnConnection", "ec2:CreateNetworkInterface",
        "ec2:DeleteNetworkInterface",
    )),
    "route53resolver": (None, (
        "route53resolver:CreateResolverEndpoint", "route53resolver:UpdateResolverEndpoint",
        "route53resolver:DeleteResolverEndpoint", "route53resolver:CreateResolverRule",
        "route53resolver:DeleteResolverRule", "route53resolver:AssociateResolverRule",
        "route53resolver:DisassociateResolverRule", "route53resolver:TagResource",
    )),
}

#: Secret values neither role may read, although ReadOnlyAccess would let them.
DENIED_READS = ("secretsmanager:GetSecretValue", "ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath")


@dataclass(frozen=True)
class GithubOidcProps:
    #: ``<prefix>-<env>``: roles are ``<base>-github-deploy`` / ``-plan``; the deploy role manages ``<base>-*``.
    base: str
    account_id: str
    region: str
    repository: str
    environment: str
    branch: str = "main"
    #: The S3 state bucket and its region (None: local state, nothing to grant).
    state_bucket: str | None = None
    state_region: str | None = None


def _trust(provider_arn: str, subjects: tuple[str, ...]) -> Statement:
    return Statement(
        "GithubActionsOfThisRepository", ("sts:AssumeRoleWithWebIdentity",),
        principals=(("Federated", (provider_arn,)),),
        conditions=(
            Condition("StringEquals", f"{GITHUB_ISSUER}:aud", (AUDIENCE,)),
            Condition("StringEquals", f"{GITHUB_ISSUER}:sub", subjects),
        ),
    )


def deploy_statements(props: GithubOidcProps) -> list[Statement]:
    fill = {"base": props.base, "account": props.account_id, "region": props.region}
    statements = []
    for service, (arns, actions) in DEPLOY_ACTIONS.items():
        sid = "Write" + "".join(part.capitalize() for part in service.split("-"))
        if arns is None:
            statements.append(Statement(sid, actions, ("*",), conditions=(
                Condition("StringEquals", "aws:RequestedRegion", (props.region,)),)))
        else:
            statements.append(Statement(sid, actions, tuple(a.format(**fill) for a in arns)))
    statements.append(Statement(
        "ServiceLinkedRolesOfMwaaAndResolver", ("iam:CreateServiceLinkedRole",),
        (f"arn:aws:iam::{props.account_id}:role/aws-service-role/*",),
        conditions=(Condition("StringEquals", "iam:AWSServiceName", (
            "airflow.amazonaws.com", "route53resolver.amazonaws.com", "transitgateway.amazonaws.com")),),
    ))
    statements.append(Statement(
        "NeverItsOwnTrust", ("iam:*",), (f"arn:aws:iam::{props.account_id}:role/{props.base}-github-*",),
        effect="Deny",
    ))
    return statements


def state_statements(props: GithubOidcProps, write: bool) -> list[Statement]:
    """The state objects: read (plan) or read-write (deploy). Both take S3-native locks (``use_lockfile``:
    a ``<key>.tflock`` object beside the state), and both use the bucket's KMS key through S3 only."""
    if props.state_bucket is None:
        return []
    bucket = f"arn:aws:s3:::{props.state_bucket}"
    actions = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject") if write else ("s3:GetObject",)
    region = props.state_region or props.region
    return [
        Statement("StateBucket", ("s3:ListBucket",), (bucket,)),
        Statement("StateObjects", actions, (f"{bucket}/*",)),
        Statement("StateLocks", ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"), (f"{bucket}/*.tflock",)),
        Statement("StateKeyThroughS3", ("kms:Decrypt", "kms:GenerateDataKey"),
                  (f"arn:aws:kms:{region}:{props.account_id}:key/*",),
                  conditions=(Condition("StringEquals", "kms:ViaService", (f"s3.{region}.amazonaws.com",)),)),
    ]


def no_data_reads(props: GithubOidcProps) -> list[Statement]:
    """ReadOnlyAccess includes object and secret reads: deny the lake zones' objects (PII) and secret values.

    The DAG bucket stays readable: Terraform refreshes the bundle's objects with HeadObject (s3:GetObject).
    """
    zones = tuple(f"arn:aws:s3:::{props.base}-*-{zone}/*" for zone in naming.ZONES)
    return [
        Statement("NoLakeObjectReads", ("s3:GetObject", "s3:GetObjectVersion"), zones, effect="Deny"),
        Statement("NoSecretValues", DENIED_READS, ("*",), effect="Deny"),
    ]


class GithubOidc(Construct):
    def __init__(self, scope: Construct, id_: str, props: GithubOidcProps):
        super().__init__(scope, id_)
        self.provider = IamOpenidConnectProvider(
            self, "provider", url=f"https://{GITHUB_ISSUER}", client_id_list=[AUDIENCE],
        )
        repo = f"repo:{props.repository}"
        self.deploy_role = self._role(
            "deploy", props, (f"{repo}:environment:{props.environment}",),
            deploy_statements(props) + state_statements(props, write=True) + no_data_reads(props),
        )
        self.plan_role = self._role(
            "plan", props, (f"{repo}:pull_request", f"{repo}:ref:refs/heads/{props.branch}"),
            state_statements(props, write=False) + no_data_reads(props),
        )

    def _role(self, kind: str, props: GithubOidcProps, subjects: tuple[str, ...], statements: list[Statement]) -> IamRole:
        name = f"{props.base}-github-{kind}"
        role = IamRole(
            self, f"{kind}-role", name=name,
            description=f"GitHub Actions of {props.repository} {kind} {props.base}",
            assume_role_policy=policy_document(self, f"{kind}-trust", [_trust(self.provider.arn, subjects)]),
            max_session_duration=3600,
        )
        IamRolePolicyAttachment(self, f"{kind}-read-only", role=role.name, policy_arn=READ_ONLY_POLICY)
        IamRolePolicy(self, f"{kind}-policy", name=f"{name}-scoped", role=role.id,
                      policy=policy_document(self, f"{kind}-permissions", statements))
        return role
