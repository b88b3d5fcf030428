"""scripts/ci_affected.py: a PR plans only the environments its files touch."""

from scripts.ci_affected import affected, deployable

ENVS = ["dev", "prod", "staging"]


def test_one_env_file_plans_that_env_only():
    assert affected(["environments/staging.yaml", "README.md"], ENVS) == ["staging"]


def test_shared_code_plans_every_env():
    assert affected(["modules/aws/s3.py"], ENVS) == ENVS
    assert affected(["environments/schema.py"], ENVS) == ENVS


def test_dag_code_and_domain_contracts_plan_every_env():
    # The DAG bundle is an aws_s3_object of every orchestration stack; the schema reads the contracts.
    assert affected(["airflow/dags/callcenter/ingest.py"], ENVS) == ENVS
    assert affected(["airflow/dags/domains/call_analytics.yaml"], ENVS) == ENVS


def test_docs_and_local_plan_nothing():
    assert affected(["README.md", "environments/local.yaml", "dags/x.py"], ENVS) == []


def test_local_is_never_deployable_from_ci():
    envs = deployable()
    assert "local" not in envs and "dev" in envs
