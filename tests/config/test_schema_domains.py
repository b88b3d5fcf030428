"""Domain registry (issue 13): a protected environment refuses a silent domain removal, asks for
``retired: true``, and makes every new domain register itself in ``known_domains``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from environments.schema import CONTRACTS_DIR, CONTRACTS_DIR_ENV, ENVIRONMENTS_DIR, ConfigError, load_environment

PROD = yaml.safe_load((ENVIRONMENTS_DIR / "prod.yaml").read_text())


def write(tmp_path: Path, data: dict, name: str = "prod") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def only_problem(path: Path, contracts: Path | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_environment(path, contracts)
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
    names = [d["name"] for d in PROD["domains"]]  # computed: `make domain` may have added one
    assert [d.name for d in env.domains] == names
    assert [d.name for d in env.active_domains] == [n for n in names if n != "agent_performance"]


def contracts_with(tmp_path: Path, **extra: str) -> Path:
    """The shipped contracts plus ``name=yaml text`` ones, in a folder of the test's own."""
    folder = tmp_path / "contracts"
    shutil.copytree(CONTRACTS_DIR, folder)
    for name, text in extra.items():
        (folder / f"{name}.yaml").write_text(text)
    return folder


QUALITY = {"name": "quality", "owner": "qa-team", "classification": "pii", "sources": ["aws_qa_exports"]}
QUALITY_CONTRACT = "domain: quality\nfields:\n  - {name: agent_email, type: email, pii: true, mask: keyed_hash}\n"


def test_unregistered_domain_in_a_protected_environment_is_refused(tmp_path):
    path = write(tmp_path, {**PROD, "domains": [*PROD["domains"], QUALITY]})
    assert only_problem(path, contracts_with(tmp_path, quality=QUALITY_CONTRACT)) == (
        f"{path}: domains[{len(PROD['domains'])}].name: 'quality': not in known_domains: add it there, so that a later removal is "
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


# --------------------------------------------------------------------------- data contracts


def test_shipped_domains_have_contracts_that_match_their_classification():
    for name in ("dev", "staging", "prod", "local"):
        env = load_environment(ENVIRONMENTS_DIR / f"{name}.yaml")
        assert all((CONTRACTS_DIR / f"{d.name}.yaml").is_file() for d in env.active_domains), name


def test_an_active_domain_without_a_contract_is_refused(tmp_path):
    dev = yaml.safe_load((ENVIRONMENTS_DIR / "dev.yaml").read_text())
    path = write(tmp_path, {**dev, "domains": [*dev["domains"], QUALITY]}, "dev")
    contracts = contracts_with(tmp_path)
    assert only_problem(path, contracts) == (
        f"{path}: domains[{len(dev['domains'])}].name: 'quality': no data contract {contracts / 'quality.yaml'}: every active domain "
        "needs one (make domain NAME=quality scaffolds it)"
    )
    # A retired domain runs no pipeline: its contract may be gone, its storage stays.
    path = write(tmp_path, {**dev, "domains": [*dev["domains"], {**QUALITY, "retired": True}]}, "dev")
    assert [d.name for d in load_environment(path, contracts).domains][-1] == "quality"


def test_a_pii_contract_needs_a_pii_domain(tmp_path):
    dev = yaml.safe_load((ENVIRONMENTS_DIR / "dev.yaml").read_text())
    path = write(tmp_path, {**dev, "domains": [*dev["domains"], {**QUALITY, "classification": "internal"}]}, "dev")
    contracts = contracts_with(tmp_path, quality=QUALITY_CONTRACT)
    assert only_problem(path, contracts) == (
        f"{path}: domains[{len(dev['domains'])}].classification: 'internal': data contract {contracts / 'quality.yaml'} marks "
        "agent_email pii: true, so the domain must be classification: pii"
    )
    # The shipped call_analytics contract masks four pii fields: the same rule holds for it.
    data = {**dev, "domains": [{**d, "classification": "public"} if d["name"] == "call_analytics" else d for d in dev["domains"]]}
    line = only_problem(write(tmp_path, data, "dev"))
    assert line.endswith("call_analytics.yaml marks customer_name, customer_phone, customer_email, notes pii: true, "
                         "so the domain must be classification: pii")


def test_an_unreadable_contract_is_one_line(tmp_path):
    dev = yaml.safe_load((ENVIRONMENTS_DIR / "dev.yaml").read_text())
    path = write(tmp_path, {**dev, "domains": [*dev["domains"], QUALITY]}, "dev")
    contracts = contracts_with(tmp_path, quality="fields: [unclosed\n")
    assert only_problem(path, contracts) == (
        f"{path}: domains[{len(dev['domains'])}].name: 'quality': data contract {contracts / 'quality.yaml'} cannot be read: ParserError"
    )


def test_the_contracts_folder_can_come_from_the_environment(tmp_path, monkeypatch):
    """main.py runs as a subprocess in the synth tests: a variable is how a throwaway contract reaches it."""
    dev = yaml.safe_load((ENVIRONMENTS_DIR / "dev.yaml").read_text())
    path = write(tmp_path, {**dev, "domains": [*dev["domains"], QUALITY]}, "dev")
    monkeypatch.setenv(CONTRACTS_DIR_ENV, str(contracts_with(tmp_path, quality=QUALITY_CONTRACT)))
    assert load_environment(path).domain("quality").classification == "pii"
