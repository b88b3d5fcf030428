"""The Spark job's images as the stacks name them (spark/image/image.py, loaded by file: the spark/ tree
is not a package and its script stays stdlib-only so it runs before any venv exists).

The stacks compute an image's URI from its content tag before the image is pushed: the EMR repository's
policy names the application, and the Dataproc batch names the image per run, so neither can wait for a push.
"""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

IMAGE_SCRIPT = Path(__file__).resolve().parents[1] / "spark" / "image" / "image.py"


@cache
def image_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_spark_image", IMAGE_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses resolve their annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def emr_image_uri(account_id: str, region: str, repository: str, release_label: str) -> str:
    """<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<content tag>: the EMR application's image."""
    return image_module().image_uri(account_id, region, repository, release_label)


def dataproc_image_uri(project: str, region: str, repository: str, runtime_version: str) -> str:
    """<region>-docker.pkg.dev/<project>/<repository>/spark-job:<content tag>: every Dataproc batch's image."""
    return image_module().dataproc_image_uri(project, region, repository, runtime_version)
