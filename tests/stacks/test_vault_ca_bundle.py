"""Vault's CA reaches MWAA inside plugins.zip, so it is versioned with the pinned plugins object.

dev is synthesized through the real stacks twice, with its shipped CA and with another
generated CA; only the plugins object may differ between the two.
"""

from __future__ import annotations

import json

import pytest

from stacks.mwaa_options import MWAA_PLUGINS_PATH, VAULT_CA_NAME
from tests.certs import generate_ca
from tests.conftest import REPO
from tests.stacks.test_dag_bundle import (
    make_airflow,
    mwaa,
    objects,
    plugins_entries,
    synth_variants,
)


@pytest.fixture(scope="module")
def synths(tmp_path_factory) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp("vault-ca")
    airflow = make_airflow(tmp / "airflow")
    other = generate_ca(tmp / "other-ca.pem", "other test CA")
    cas = {"shipped": "environments/certs/dev-vault-ca.pem", "other": str(other)}
    specs = [{"outdir": str(tmp / name), "airflow_dir": str(airflow), "update": {"vault": {"ca_file": ca}}}
             for name, ca in cas.items()]
    return {name: {**synthesized, "ca": REPO / ca} for (name, ca), synthesized in zip(cas.items(), synth_variants(specs))}


def test_plugins_zip_carries_the_configured_ca_byte_for_byte(synths):
    shipped = synths["shipped"]
    assert plugins_entries(shipped)[VAULT_CA_NAME] == (REPO / "environments/certs/dev-vault-ca.pem").read_bytes()
    assert plugins_entries(synths["other"])[VAULT_CA_NAME] == synths["other"]["ca"].read_bytes()


def test_backend_verify_points_where_plugins_zip_puts_the_ca(synths):
    options = mwaa(synths["shipped"])["airflow_configuration_options"]
    kwargs = json.loads(options["secrets.backend_kwargs"])
    assert kwargs["verify"] == "/usr/local/airflow/plugins/vault-ca.pem"
    assert kwargs["verify"] == f"{MWAA_PLUGINS_PATH}/{VAULT_CA_NAME}" and VAULT_CA_NAME in plugins_entries(synths["shipped"])


def test_a_ca_change_moves_exactly_the_plugins_object(synths):
    before, after = objects(synths["shipped"]), objects(synths["other"])
    assert before.keys() == after.keys()
    changed = {key for key in before if before[key] != after[key]}
    assert changed == {"plugins.zip"}
    assert before["plugins.zip"]["source_hash"] != after["plugins.zip"]["source_hash"]
    assert mwaa(synths["shipped"]) == mwaa(synths["other"])  # same object, MWAA follows its new version


def test_no_ca_configured_means_no_verify_kwarg_and_no_pem():
    from environments.schema import load_environment
    from stacks.mwaa_options import plugins_extra, vault_backend_kwargs

    local = load_environment(REPO / "environments/local.yaml")
    assert local.vault.ca_file is None
    assert "verify" not in vault_backend_kwargs(local) and plugins_extra(local, REPO) == ()
