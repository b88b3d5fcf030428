"""<env>-bootstrap: GitHub Actions' OIDC trust per cloud, scoped to the repository and environment (issue 14)."""

from __future__ import annotations

import json

import pytest

from environments.schema import ConfigError, load_environment, load_environments
from modules.aws.policy_document import Statement
from modules.gcp.workload_identity_federation import attribute_condition

ENVIRONMENTS = {env.name: env for env in load_environments()}
CLOUD = ["dev", "staging", "prod"]


def _document(stack, prefix: str) -> dict:
    docs = stack.doc["data"]["aws_iam_policy_document"]
    return next(v for k, v in docs.items() if k.startswith(prefix))


@pytest.mark.parametrize("env_name", CLOUD)
def test_aws_roles_trust_only_this_repository_environment_and_pull_requests(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], stacks[f"{env_name}-bootstrap"]
    provider = stack.only("aws_iam_openid_connect_provider")
    assert provider["url"] == "https://token.actions.githubusercontent.com"
    assert provider["client_id_list"] == ["sts.amazonaws.com"]
    subjects = {}
    for kind in ("deploy", "plan"):
        (trust,) = _document(stack, f"github-aws_{kind}-trust")["statement"]
        assert trust["actions"] == ["sts:AssumeRoleWithWebIdentity"]
        assert trust["principals"][0]["type"] == "Federated"
        conditions = {c["variable"]: (c["test"], c["values"]) for c in trust["condition"]}
        assert conditions["token.actions.githubusercontent.com:aud"] == ("StringEquals", ["sts.amazonaws.com"])
        subjects[kind] = conditions["token.actions.githubusercontent.com:sub"]
    repo = env.ci.repository
    assert subjects == {
        "deploy": ("StringEquals", [f"repo:{repo}:environment:{env.ci.environment}"]),
        "plan": ("StringEquals", [f"repo:{repo}:pull_request", f"repo:{repo}:ref:refs/heads/{env.ci.branch}"]),
    }


@pytest.mark.parametrize("env_name", CLOUD)
def test_aws_deploy_role_writes_only_named_resources_and_never_its_own_trust(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], stacks[f"{env_name}-bootstrap"]
    base = f"{env.prefix}-{env.name}"
    statements = {s["sid"]: s for s in _document(stack, "github-aws_deploy-permissions")["statement"]}
    for sid, s in statements.items():
        if s.get("effect", "Allow") == "Allow":
            assert not any("*" in a for a in s["actions"]), sid
            if s["resources"] == ["*"]:  # no resource-level permissions: held to the region
                assert s["condition"][0]["variable"] in ("aws:RequestedRegion", "iam:AWSServiceName"), sid
    assert statements["WriteS3"]["resources"] == [f"arn:aws:s3:::{base}-*", f"arn:aws:s3:::{base}-*/*"]
    assert statements["WriteIam"]["resources"] == [f"arn:aws:iam::{env.aws.account_id}:role/{base}-*"]
    # make pools after a deploy: the Airflow REST API as Op on this environment only
    assert (statements["WriteAirflowApi"]["actions"], statements["WriteAirflowApi"]["resources"]) == (
        ["airflow:InvokeRestApi"], [f"arn:aws:airflow:{env.aws.region}:{env.aws.account_id}:role/{base}-*/Op"])
    deny = statements["NeverItsOwnTrust"]
    assert (deny["effect"], deny["actions"], deny["resources"]) == (
        "Deny", ["iam:*"], [f"arn:aws:iam::{env.aws.account_id}:role/{base}-github-*"])
    assert statements["NoLakeObjectReads"]["effect"] == "Deny"
    assert statements["StateObjects"]["resources"] == [f"arn:aws:s3:::{env.state.bucket}/*"]
    plan = {s["sid"]: s for s in _document(stack, "github-aws_plan-permissions")["statement"]}
    assert plan["StateObjects"]["actions"] == ["s3:GetObject"]
    assert plan["StateLocks"]["resources"] == [f"arn:aws:s3:::{env.state.bucket}/*.tflock"]
    assert plan["StateKeyThroughS3"]["condition"][0]["values"] == [f"s3.{env.state.region}.amazonaws.com"]
    writes = {a for s in plan.values() if s.get("effect", "Allow") == "Allow" for a in s["actions"]
              if not a.startswith(("s3:Get", "s3:List", "kms:Decrypt"))}
    assert writes == {"s3:PutObject", "s3:DeleteObject", "kms:GenerateDataKey"}  # the lock file only


def test_wildcard_actions_are_refused_at_synth():
    with pytest.raises(ValueError, match="wildcard action"):
        Statement("x", ("s3:*",), ("*",))


@pytest.mark.parametrize("env_name", CLOUD)
def test_gcp_pool_admits_the_repository_and_binds_each_account_to_its_principal_set(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], stacks[f"{env_name}-bootstrap"]
    provider = stack.only("google_iam_workload_identity_pool_provider")
    assert provider["oidc"]["issuer_uri"] == "https://token.actions.githubusercontent.com"
    assert provider["attribute_mapping"]["google.subject"] == "assertion.sub"
    repo = env.ci.repository
    assert provider["attribute_condition"] == (
        f"(assertion.sub == 'repo:{repo}:environment:{env.ci.environment}' && assertion.ref == "
        f"'refs/heads/{env.ci.branch}') || assertion.sub == 'repo:{repo}:pull_request'"
        f" || assertion.sub == 'repo:{repo}:ref:refs/heads/{env.ci.branch}'")
    bindings = {b["role"]: b for b in stack.resources("google_service_account_iam_member").values()}
    members = sorted(b["member"].split("}/", 1)[1] for b in stack.resources("google_service_account_iam_member").values())
    assert set(bindings) == {"roles/iam.workloadIdentityUser"}
    assert members == [f"attribute.environment/{env.ci.environment}", f"attribute.repository/{repo}"]
    roles = {b["role"] for b in stack.resources("google_project_iam_member").values()}
    assert not roles & {"roles/owner", "roles/editor", "roles/viewer"}
    billing = stack.only("google_billing_account_iam_member")
    assert (billing["billing_account_id"], billing["role"]) == (env.gcp.billing_account, "roles/billing.costsManager")


@pytest.mark.parametrize("env_name", CLOUD)
def test_azure_identities_federate_the_environment_and_pull_requests(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], stacks[f"{env_name}-bootstrap"]
    creds = stack.resources("azurerm_federated_identity_credential").values()
    repo = env.ci.repository
    assert sorted(c["subject"] for c in creds) == sorted(
        [f"repo:{repo}:environment:{env.ci.environment}", f"repo:{repo}:pull_request",
         f"repo:{repo}:ref:refs/heads/{env.ci.branch}"])
    assert {c["issuer"] for c in creds} == {"https://token.actions.githubusercontent.com"}
    assert all(c["audience"] == ["api://AzureADTokenExchange"] for c in creds)
    roles = {a["role_definition_name"] for a in stack.resources("azurerm_role_assignment").values()}
    assert "Owner" not in roles and "Reader" in roles


@pytest.mark.parametrize("env_name", CLOUD)
def test_outputs_are_what_the_workflows_read(stacks, env_name):
    outputs = set(stacks[f"{env_name}-bootstrap"].doc["output"])
    assert outputs == {"aws_deploy_role_arn", "aws_plan_role_arn", "gcp_workload_identity_provider",
                       "gcp_deployer_service_account", "gcp_planner_service_account", "azure_deploy_client_id",
                       "azure_plan_client_id"}


def test_local_has_no_bootstrap_stack(stacks):
    assert ENVIRONMENTS["local"].ci is None and "local-bootstrap" not in stacks


def test_condition_keeps_other_repositories_out():
    condition = attribute_condition("acme/platform", "prod", "main")
    assert "repo:acme/platform:environment:prod" in condition and "refs/heads/main" in condition
    assert "repo:acme/platform:pull_request" in condition


def test_bad_ci_repository_is_one_clear_line(tmp_path):
    from environments.schema import ENVIRONMENTS_DIR

    text = (ENVIRONMENTS_DIR / "dev.yaml").read_text().replace(
        "repository: cloudconductor/cloud-conductor", "repository: not a repo")
    path = tmp_path / "dev.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_environment(path)
    lines = str(err.value).strip().splitlines()
    assert len(lines) == 1 and "ci.repository" in lines[0] and "owner/name" in lines[0]


def test_make_deploy_selects_every_stack_but_bootstrap(stacks):
    """`make deploy` hands cdktf a glob; cdktf matches it with minimatch (extglob), as checked here."""
    import re
    import subprocess

    from tests.conftest import REPO, require, require_tool

    node = require_tool("node")
    cli = REPO / "node_modules" / "cdktf-cli"
    require(cli.is_dir(), "the cdktf CLI is missing: run make setup")
    makefile = (REPO / "Makefile").read_text()
    (deploy_glob,) = re.findall(r"^deploy:.*\n\t\$\(CDKTF\) deploy '\$\(ENV\)(-[^']+)'", makefile, re.MULTILINE)
    names = sorted(n for n in stacks if n.startswith("dev-"))
    script = ("const m = require(require.resolve('minimatch', {paths: [process.argv[1]]}));"
              "const f = m.minimatch || m; const [, , pattern, ...names] = process.argv;"
              "console.log(JSON.stringify(names.filter(n => f(n, pattern))));")
    result = subprocess.run([node, "-e", script, str(cli), f"dev{deploy_glob}", *names],
                            capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == [n for n in names if n != "dev-bootstrap"]
    assert "dev-bootstrap" in names
