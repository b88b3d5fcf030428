"""The Airflow code MWAA runs, as S3 objects in the DAG bucket.

- Every file under ``dags_dir`` becomes one object ``<dags_prefix>/<relative path>``
  whose ``source_hash`` is the file's SHA-256, computed at synth. Editing one
  file changes exactly one object; nothing else in the plan moves.
- ``requirements.txt`` goes to the bucket root. The constraints lock is
  content-addressed and travels INSIDE ``plugins.zip`` as ``constraints-<sha256[:16]>.txt``;
  the uploaded requirements.txt's ``--constraint`` line is rewritten to
  ``/usr/local/airflow/plugins/<that name>``. MWAA pins both objects by version and
  extracts plugins.zip before it installs requirements (the MWAA guide's wheels-in-
  plugins.zip pattern relies on that), so every container starts from a matching
  (requirements, constraints) pair, including during an environment update and after a
  rollback. A lock shipped as its own S3 object would be destroyed, with all its versions,
  by the deploy that replaces it, while a pinned older requirements version still names it.
- ``plugins.zip`` is built from ``plugins_dir`` plus ``plugins_extra`` and the lock, with
  fixed timestamps, so the same sources always give the same bytes.
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
    #: The lock requirements.txt's ``--constraint`` line names; shipped inside plugins.zip.
    constraints: Path | None = None
    plugins_dir: Path | None = None
    #: Extra files put at the root of plugins.zip (name -> source), e.g. Vault's CA as ``vault-ca.pem``:
    #: they then share the plugins object version MWAA is pinned to.
    plugins_extra: tuple[tuple[str, Path], ...] = ()
    startup_script: Path | None = None
    #: Further objects (key -> file) uploaded as they are, e.g. the Spark job's package under spark/;
    #: the caller names them by content, so a new version is a new key and old ones stay for running jobs.
    objects: tuple[tuple[str, Path], ...] = ()


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


#: Where MWAA extracts plugins.zip on every container (MWAA guide, "Installing custom plugins").
MWAA_PLUGINS_PATH = "/usr/local/airflow/plugins"
_CONSTRAINT_PREFIX = "--constraint "


def constraints_name(digest: str) -> str:
    """The lock's name inside plugins.zip: named by its content, so a requirements version names exactly one lock."""
    return f"constraints-{digest[:16]}.txt"


def pin_constraint(requirements: str, name: str) -> str:
    """``requirements`` with its ``--constraint`` line pointing at ``name`` in MWAA's plugins folder.

    MWAA only skips its default constraints for a line starting "-c " or "--constraint "
    (with a space), so the rewritten line keeps that form.
    """
    lines = requirements.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.startswith(_CONSTRAINT_PREFIX):
            lines[index] = f'{_CONSTRAINT_PREFIX}"{MWAA_PLUGINS_PATH}/{name}"\n'
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
        for key, file in props.objects:
            self._upload(key, file, sha256(file))

        extra = tuple(props.plugins_extra)
        self.requirements: BundledObject | None = None
        if props.requirements is not None and props.requirements.is_file():
            requirements = props.requirements
            if props.constraints is not None and props.constraints.is_file():
                name = constraints_name(sha256(props.constraints))
                extra += ((name, props.constraints),)
                requirements = _cached(
                    f"requirements-{hashlib.sha256(props.requirements.read_bytes() + name.encode()).hexdigest()[:16]}.txt",
                    lambda target: target.write_text(pin_constraint(props.requirements.read_text(), name)),
                )
            self.requirements = self._versioned("requirements.txt", requirements, sha256(requirements))

        self.plugins: BundledObject | None = None
        sources = bundle_files(props.plugins_dir) if props.plugins_dir is not None else []
        if sources or extra:
            # Content-addressed, so repeated synths reuse one file instead of leaving a new one each time.
            extra = tuple(sorted(extra))
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
