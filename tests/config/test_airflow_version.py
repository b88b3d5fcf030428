"""MWAA runs the Airflow release that the bundled requirements pin, in every environment."""

from __future__ import annotations

import re

from environments.schema import MWAA_AIRFLOW_VERSIONS, load_environments
from tests.conftest import REPO


def pinned_airflow() -> str:
    text = (REPO / "airflow" / "requirements.txt").read_text()
    match = re.search(r"^apache-airflow==(\S+)$", text, re.MULTILINE)
    assert match, "airflow/requirements.txt must pin apache-airflow=="
    return match.group(1)


def test_requirements_pin_a_release_mwaa_offers():
    assert pinned_airflow() in MWAA_AIRFLOW_VERSIONS


def test_every_environment_runs_the_pinned_release():
    versions = {env.name: env.orchestration.airflow_version for env in load_environments()}
    assert set(versions.values()) == {pinned_airflow()}, versions


# --------------------------------------------------------------------------- the lock against the MWAA image
# airflow/mwaa-image-packages.txt is the image's bill of materials and airflow/mwaa-airflow-constraints.txt the
# official constraints it installs with (both copied from aws/amazon-mwaa-docker-images images/airflow/3.3.1).

AIRFLOW = REPO / "airflow"
#: Providers no DAG or plugin imports; each dragged a large tree (ray, litellm, openai, aiplatform) into every
#: MWAA container start, which must finish within 9 minutes (review M8).
UNUSED_PROVIDERS = ("apache-airflow-providers-google", "apache-airflow-providers-microsoft-azure")


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9_.\-]*)(?:\[[^\]]*\])?==([^\s;#]+)", line.strip())
        if match:
            out[normalised(match.group(1))] = match.group(2)
    return out


def test_image_snapshots_are_of_the_pinned_release():
    image = pins(AIRFLOW / "mwaa-image-packages.txt")
    assert len(image) > 150, "the image's bill of materials looks truncated"
    assert image["apache-airflow"] == pinned_airflow()
    assert "constraints-" + pinned_airflow() + "/" in (AIRFLOW / "mwaa-airflow-constraints.txt").read_text()


def test_lock_keeps_every_preinstalled_image_package_at_the_image_version():
    lock, image = pins(AIRFLOW / "constraints.txt"), pins(AIRFLOW / "mwaa-image-packages.txt")
    moved = {name: f"image {image[name]}, lock {v}" for name, v in lock.items() if name in image and image[name] != v}
    assert not moved, f"the lock would change preinstalled MWAA packages: {moved}"


def test_lock_follows_the_official_constraints_except_the_reasoned_overrides():
    lock = pins(AIRFLOW / "constraints.txt")
    official = pins(AIRFLOW / "mwaa-airflow-constraints.txt")
    overrides = pins(AIRFLOW / "constraint-overrides.txt")
    departures = {n: (official[n], v) for n, v in lock.items() if n in official and official[n] != v}
    assert departures == {n: (official[n], v) for n, v in overrides.items()}, departures


def test_overrides_never_name_a_preinstalled_package():
    image = pins(AIRFLOW / "mwaa-image-packages.txt")
    overrides = pins(AIRFLOW / "constraint-overrides.txt")
    assert overrides, "constraint-overrides.txt lost its pins"
    assert not set(overrides) & set(image), "an override would move a package the MWAA image runs"


def test_unused_providers_are_neither_required_nor_locked_nor_imported():
    for name in ("requirements.txt", "constraints.txt"):
        present = set(UNUSED_PROVIDERS) & set(pins(AIRFLOW / name))
        assert not present, f"airflow/{name} still pins {present}"
    code = [p for p in (AIRFLOW / "dags").rglob("*.py")] + list((AIRFLOW / "plugins").rglob("*.py"))
    assert code
    users = [str(p) for p in code if re.search(r"airflow\.providers\.(google|microsoft\.azure)\b", p.read_text())]
    assert not users, f"a DAG imports a dropped provider: {users}"


def test_lock_adds_only_a_few_packages_to_the_image():
    """Packages the lock holds beyond the image: what the DAGs import and their small closure, plus the local
    dev tools (requirements-dev.txt: never uploaded). The old lock added ~170 (review M7)."""
    lock, image = pins(AIRFLOW / "constraints.txt"), pins(AIRFLOW / "mwaa-image-packages.txt")
    added = sorted(set(lock) - set(image))
    assert len(added) <= 20, added
    for name in ("pyarrow", "duckdb", "hvac", "google-auth", "apache-airflow-providers-hashicorp"):
        assert name in added or name in image, f"{name} (imported by the DAGs) is not in the lock"
