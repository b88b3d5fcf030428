"""Domain registry (issue 13): a protected environment refuses a silent domain removal, asks for
``retired: true``, and makes every new domain register itself in ``known_domains``."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from environments.schema import ENVIRONMENTS_DIR, ConfigError, load_environment

PROD = yaml.safe_load((ENVIRONMENTS_DIR / "prod.yaml").read_text())


def write(tmp_path: Path, data: dict, name: str = "prod") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def only_problem(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_environment(path)
    lines = str(caught.value).splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_shipped_protected_environments_register_every_domain():
    for name in ("local", "staging", "prod"):
        env = load_environment(ENVIRONMENTS_DIR / f"{name}.yaml")
        assert env.protects_stateful
        assert sorted(env.known_domains) == sorted(d.name for d in env.domains)


def test_silent_removal_in_a_protected_environment_is_refused(tmp_path):
    data = {**PROD, "domains": [d for d in PROD["domains"] if d["name"] != "agent_performance"]}
    path = write(tmp_path, data)
    assert only_problem(path) == (
        f"{path}: domains: 'agent_performance': listed in known_domains but missing: removing a domain would "
        "destroy its storage; keep it with retired: true (README, Data domains)"
    )


def test_retired_domain_is_accepted_and_not_active(tmp_path):
    data = {**PROD, "domains": [{**d, "retired": d["name"] == "agent_performance"} for d in PROD["domains"]]}
    env = load_environment(write(tmp_path, data))
    assert [d.name for d in env.domains] == ["call_analytics", "agent_performance"]
    assert [d.name for d in env.active_domains] == ["call_analytics"]


def test_unregistered_domain_in_a_protected_environment_is_refused(tmp_path):
    new = {"name": "quality", "owner": "qa-team", "classification": "pii", "sources": ["aws_qa_exports"]}
    path = write(tmp_path, {**PROD, "domains": [*PROD["domains"], new]})
    assert only_problem(path) == (
        f"{path}: domains[2].name: 'quality': not in known_domains: add it there, so that a later removal is "
        "refused while stateful resources are protected"
    )


def test_unprotected_environment_may_drop_a_domain(tmp_path):
    dev = yaml.safe_load((ENVIRONMENTS_DIR / "dev.yaml").read_text())
    data = {**dev, "known_domains": ["call_analytics", "agent_performance"], "domains": dev["domains"][:1]}
    env = load_environment(write(tmp_path, data, "dev"))
    assert not env.protects_stateful and [d.name for d in env.domains] == ["call_analytics"]


def test_a_file_without_a_registry_is_not_checked(tmp_path):
    """Throwaway copies (other tests flip protect_stateful on a copy of dev) have no history to compare."""
    data = {k: v for k, v in PROD.items() if k != "known_domains"}
    env = load_environment(write(tmp_path, {**data, "domains": PROD["domains"][:1]}))
    assert env.known_domains == [] and len(env.domains) == 1


def test_pii_domains_default_to_a_short_raw_retention(tmp_path):
    from environments.schema import PII_RAW_RETENTION_DAYS

    env = load_environment(ENVIRONMENTS_DIR / "prod.yaml")
    assert env.domain("call_analytics").raw_expiry_days == PII_RAW_RETENTION_DAYS
    assert env.domain("agent_performance").raw_expiry_days is None
    data = {**PROD, "domains": [{**d, "raw_retention_days": 30} for d in PROD["domains"]]}
    assert {d.raw_expiry_days for d in load_environment(write(tmp_path, data)).domains} == {30}
