"""The Spark images' requirements are a complete closure (issue 12): what `pip check` would say inside either
image, answered without docker from the package metadata this venv installed from the same lock.

spark/image/*.Dockerfile install the derived pins with ``--no-deps`` and fail the build on ``pip check``;
no docker daemon runs here, so this test is the earliest place a missing dependency shows up. It runs in the
Airflow venv because that venv holds the lock's versions of every pin (and ``packaging``)."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from modules.spark_image import image_module

#: Both services run x86_64 Linux; the images run CPython 3.12 (the workers' minor).
IMAGE_MARKERS = {
    "sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix",
    "python_version": f"{sys.version_info.major}.{sys.version_info.minor}", "python_full_version": sys.version.split()[0],
    "implementation_name": "cpython", "platform_python_implementation": "CPython", "extra": "",
}


def closure_problems(pins: dict[str, str]) -> list[str]:
    """Every unmet requirement of the pinned distributions, as pip check would name it."""
    problems = []
    for name, version in sorted(pins.items()):
        dist = metadata.distribution(name)
        if dist.version != version:
            problems.append(f"{name}: this venv has {dist.version}, the image pins {version}")
        for text in dist.requires or ():
            requirement = Requirement(text)
            if requirement.marker and not requirement.marker.evaluate(IMAGE_MARKERS):
                continue
            needed = canonicalize_name(requirement.name)
            if needed not in pins:
                problems.append(f"{name} {version} requires {requirement}, which is not installed")
            elif not requirement.specifier.contains(pins[needed], prereleases=True):
                problems.append(f"{name} {version} has requirement {requirement}, but you have {needed} {pins[needed]}")
    return problems


def _pins(requirements: str) -> dict[str, str]:
    return {canonicalize_name(line.split("==")[0]): line.split("==")[1] for line in requirements.splitlines()}


def test_the_images_pins_satisfy_every_requirement_of_every_pin() -> None:
    pins = _pins(image_module().requirements())
    assert {"pyarrow", "hvac", "pandas", "boto3", "google-auth"} <= pins.keys()
    assert closure_problems(pins) == []


def test_a_pin_missing_from_the_closure_is_reported() -> None:
    pins = _pins(image_module().requirements())
    del pins["s3transfer"]  # boto3's own dependency
    assert any(p.startswith("boto3 ") and "s3transfer" in p for p in closure_problems(pins))
