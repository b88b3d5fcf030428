"""The Airflow code MWAA runs, as S3 objects in the DAG bucket.

- Every file under ``dags_dir`` becomes one object ``<dags_prefix>/<relative path>``
  whose ``source_hash`` is the file's SHA-256, computed at synth. Editing one
  file changes exactly one object; nothing else in the plan moves.
- ``requirements.txt`` goes to the bucket root. The constraints lock is
  content-addressed: it ships as ``<dags_prefix>/constraints-<sha256[:16]>.txt`` and
  the uploaded requirements.txt's ``--constraint`` line is rewritten to that exact
  name. A new lock is therefore a new key plus a new requirements *version* (MWAA
  is pinned to object versions, so it reinstalls), and every requirements version
  keeps naming the constraints it was resolved with instead of one mutable
  ``constraints.txt`` that an older pinned requirements version would silently
  re-resolve against on the next worker start.
- ``plugins.zip`` is built from ``plugins_dir`` (if it has files) with fixed
  timestamps, so the same sources always give the same bytes.
- An optional startup script is uploaded the same way, also pinned by version.

Files reach Terraform as cdktf assets (copied into the stack's folder at synth),
so the synthesized stack is self-contained and relocatable.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from cdktf import AssetType, TerraformAsset
from cdktf_cdktf_provider_aws.s3_object import S3Object
from constructs import Construct

_SKIPPED_DIRS = {"__pycache__"}
_SKIPPED_SUFFIXES = {".pyc", ".pyo"}
#: Any fixed date: zip entries carry timestamps, which would otherwise change every build.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class DagBundleProps:
    bucket: str
    kms_key_arn: str
    dags_dir: Path
    dags_prefix: str = "dags"
    requirements: Path | None = None
    #: The file requirements.txt's ``--constraint`` line names, shipped in the DAG folder.
    constraints: Path | None = None
    plugins_dir: Path | None = None
    #: Extra files put at the root of plugins.zip (name -> source), e.g. Vault's CA as ``vault-ca.pem``:
    #: they then share the plugins object version MWAA is pinned to.
    plugins_extra: tuple[tuple[str, Path], ...] = ()
    startup_script: Path | None = None


@dataclass(frozen=True)
class BundledObject:
    """An uploaded object's key and its version (a Terraform reference) for MWAA."""

    key: str
    version: str


def bundle_files(directory: Path) -> list[Path]:
    """The files that ship from ``directory``: everything but bytecode caches, in a stable order."""
    if not directory.is_dir():
        return []
    return sorted(
        p for p in directory.rglob("*")
        if p.is_file()
        and not _SKIPPED_DIRS.intersection(p.relative_to(directory).parts)
        and p.suffix not in _SKIPPED_SUFFIXES
    )


def sha256(*files: Path) -> str:
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.read_bytes())
    return digest.hexdigest()


def deterministic_zip(directory: Path, target: Path, extra: tuple[tuple[str, Path], ...] = ()) -> Path:
    entries = [(f.relative_to(directory).as_posix(), f) for f in bundle_files(directory)] + sorted(extra)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, file in entries:
            info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, file.read_bytes())
    return target


#: Where MWAA puts the DAG folder on its workers; pip reads the constraint from there.
MWAA_DAGS_PATH = "/usr/local/airflow"
_CONSTRAINT_PREFIX = "--constraint "


def constraints_key(dags_prefix: str, digest: str) -> str:
    """The object key of a constraints lock: named by its content, so versions never collide."""
    return f"{dags_prefix}/constraints-{digest[:16]}.txt"


def pin_constraint(requirements: str, key: str) -> str:
    """``requirements`` with its ``--constraint`` line pointing at ``key`` in MWAA's DAG folder.

    MWAA only skips its default constraints for a line starting "-c " or "--constraint "
    (with a space), so the rewritten line keeps that form.
    """
    lines = requirements.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.startswith(_CONSTRAINT_PREFIX):
            lines[index] = f'{_CONSTRAINT_PREFIX}"{MWAA_DAGS_PATH}/{key}"\n'
            return "".join(lines)
    raise ValueError(f'requirements.txt: no line starting with {_CONSTRAINT_PREFIX!r}; MWAA would apply its own constraints')


def _cached(name: str, build) -> Path:
    """A generated file in the temp folder, named by its inputs; built once, renamed atomically for parallel synths."""
    target = Path(tempfile.gettempdir()) / f"cloud-conductor-{name}"
    if not target.is_file():
        partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
        build(partial)
        os.replace(partial, target)
    return target


def _construct_id(key: str) -> str:
    # Construct ids cannot hold "/"; the key stays readable in the logical id.
    return "object-" + key.replace("/", "__")


class DagBundle(Construct):
    def __init__(self, scope: Construct, id_: str, props: DagBundleProps):
        super().__init__(scope, id_)
        self._props = props
        #: key -> S3Object, one per uploaded file.
        self.objects: dict[str, S3Object] = {}
        for file in bundle_files(props.dags_dir):
            self._upload(f"{props.dags_prefix}/{file.relative_to(props.dags_dir).as_posix()}", file, sha256(file))

        self.requirements: BundledObject | None = None
        if props.requirements is not None and props.requirements.is_file():
            requirements = props.requirements
            if props.constraints is not None and props.constraints.is_file():
                digest = sha256(props.constraints)
                name = constraints_key(props.dags_prefix, digest)
                self._upload(name, props.constraints, digest)
                requirements = _cached(
                    f"requirements-{hashlib.sha256(props.requirements.read_bytes() + name.encode()).hexdigest()[:16]}.txt",
                    lambda target: target.write_text(pin_constraint(props.requirements.read_text(), name)),
                )
            self.requirements = self._versioned("requirements.txt", requirements, sha256(requirements))

        self.plugins: BundledObject | None = None
        if props.plugins_dir is not None and bundle_files(props.plugins_dir):
            # Content-addressed, so repeated synths reuse one file instead of leaving a new one each time.
            sources = bundle_files(props.plugins_dir)
            extra = tuple(sorted(props.plugins_extra))
            names = "\n".join([f.relative_to(props.plugins_dir).as_posix() for f in sources] + [n for n, _ in extra])
            inputs = [*sources, *(f for _, f in extra)]
            key = hashlib.sha256(names.encode() + sha256(*inputs).encode()).hexdigest()[:16]
            archive = _cached(f"plugins-{key}.zip", lambda target: deterministic_zip(props.plugins_dir, target, extra))
            self.plugins = self._versioned("plugins.zip", archive, sha256(archive))

        self.startup_script: BundledObject | None = None
        if props.startup_script is not None:
            if not props.startup_script.is_file():
                raise FileNotFoundError(f"MWAA startup script {props.startup_script} does not exist")
            self.startup_script = self._versioned("startup.sh", props.startup_script, sha256(props.startup_script))

    def _upload(self, key: str, file: Path, digest: str) -> S3Object:
        asset = TerraformAsset(self, f"asset-{_construct_id(key)}", path=str(file.resolve()), type=AssetType.FILE)
        obj = S3Object(
            self, _construct_id(key),
            bucket=self._props.bucket, key=key, source=asset.path, source_hash=digest,
            server_side_encryption="aws:kms", kms_key_id=self._props.kms_key_arn,
        )
        self.objects[key] = obj
        return obj

    def _versioned(self, key: str, file: Path, digest: str) -> BundledObject:
        return BundledObject(key=key, version=self._upload(key, file, digest).version_id)
