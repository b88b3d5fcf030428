"""A domain's data contract, loaded from `airflow/dags/domains/<domain>.yaml`.

The contract is data (issue 13): fields, types, which are PII and how each is
masked, the unique field, the partition field and the accepted formats. The
kernel (validation, masking, reader, ingest, synthetic) reads it; nothing in the
pipeline package names a domain's fields any more. A bad file fails loading with
one line naming the file, the field, the value and the rule (ContractError).

Keys of a contract file::

    domain: <name>               # must equal the file name (<name>.yaml)
    dataset: <name>              # folder under each zone, DAG id prefix
    formats: [jsonl, csv]        # accepted export formats (by the export's suffix)
    unique: <field>              # optional; repeats -> duplicate_<field>
    partition: {field: <timestamp field>, column: <date column>}
    fields: [...]                # contract order = reason-code order = curated column order

Per field: name, type (id|text|phone|email|timestamp|integer|number), required,
pii (default false), mask (pii only, required there: keyed_hash|last4|redact|drop),
min/max (integer/number only). Optional keys, for behaviour a domain must keep:

- ``hash_tag``: BLAKE2b personalisation (<= 16 bytes) of a keyed_hash field.
  Domain separation: the same value in two fields must not give the same
  pseudonym. Default: derived from the domain and field name. call_analytics
  pins ``cc-name-v1``/``cc-email-v1`` so its pseudonyms stay as they were.
- ``reasons``: ``{below_min: <code>, above_max: <code>}`` for integer/number
  fields (default ``<field>_out_of_range``); call_analytics keeps
  ``negative_duration``/``duration_too_long``.
- ``dictionary``: true for a low-cardinality curated column (Parquet dictionary pages).
- ``statistics``: Parquet min/max statistics for the column (default: non-pii
  id/timestamp/integer/number fields other than the unique one, where readers prune).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import pathlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pyarrow is imported lazily: DAG files import this module at parse time
    import pyarrow as pa

log = logging.getLogger(__name__)

TYPES = ("id", "text", "phone", "email", "timestamp", "integer", "number")
MASKS = ("keyed_hash", "last4", "redact", "drop")
FORMATS = ("jsonl", "csv")
#: Export suffix -> format. .json and .ndjson are JSON lines too (one object per line).
SUFFIX_FORMATS = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
MASK_SUFFIX = {"keyed_hash": "_hash", "last4": "_last4", "redact": "_redacted"}
CLASSIFICATIONS = ("pii", "internal", "public")
DEFAULT_DOMAIN = "call_analytics"
#: Airflow option [callcenter] domains, as MWAA passes it (stacks/mwaa_options.py).
DOMAINS_ENV = "AIRFLOW__CALLCENTER__DOMAINS"

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_TOP_KEYS = {"domain", "dataset", "formats", "unique", "partition", "fields"}
_FIELD_KEYS = {"name", "type", "required", "pii", "mask", "min", "max", "hash_tag", "reasons", "dictionary",
               "statistics"}
_REASON_KEYS = {"below_min", "above_max"}
_INT32_MAX = 2**31 - 1


class ContractError(ValueError):
    """A contract file breaks a rule. The message is one line: file, field, value, rule."""


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    required: bool
    pii: bool = False
    mask: str | None = None
    min: float | None = None
    max: float | None = None
    output: str | None = None  # curated column; None when the mask is drop
    hash_tag: bytes | None = None  # keyed_hash personalisation
    below_min: str = ""  # reason codes of the range rules (integer/number)
    above_max: str = ""
    dictionary: bool = False
    statistics: bool = False

    @property
    def int32(self) -> bool:
        """An integer field whose bounds fit int32 is stored as int32 (call_analytics' duration)."""
        return (self.type == "integer" and self.min is not None and self.max is not None
                and -_INT32_MAX - 1 <= self.min and self.max <= _INT32_MAX)


@dataclass(frozen=True)
class DomainContract:
    domain: str
    dataset: str
    formats: tuple[str, ...]
    unique: str | None
    partition_field: str
    partition_column: str
    fields: tuple[FieldSpec, ...]
    path: str

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def pii_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.pii)

    @property
    def duplicate_reason(self) -> str:
        return f"duplicate_{self.unique}"

    @property
    def curated_schema(self) -> pa.Schema:
        """Curated columns in contract order (dropped fields absent), then the partition column."""
        import pyarrow as pa

        cols = [pa.field(f.output, _arrow_type(f), nullable=not f.required) for f in self.fields if f.output]
        return pa.schema([*cols, pa.field(self.partition_column, pa.date32(), nullable=False)])

    @property
    def file_schema(self) -> pa.Schema:
        """The Parquet file's schema: the partition column is carried by the folder name."""
        schema = self.curated_schema
        return schema.remove(schema.get_field_index(self.partition_column))

    @property
    def dictionary_columns(self) -> list[str]:
        return [f.output for f in self.fields if f.output and f.dictionary]

    @property
    def statistics_columns(self) -> list[str]:
        return [f.output for f in self.fields if f.output and f.statistics]

    def format_of(self, path: str) -> str:
        """The export's format from its suffix; ContractError if the contract does not accept it."""
        suffix = pathlib.PurePosixPath(path).suffix.lower()
        fmt = SUFFIX_FORMATS.get(suffix)
        if fmt is None:
            raise ContractError(f"{path}: suffix {suffix or '(none)'!r} is not an export format "
                                f"(one of {', '.join(sorted(SUFFIX_FORMATS))})")
        if fmt not in self.formats:
            raise ContractError(f"{path}: format {fmt!r} is not accepted by domain {self.domain} "
                                f"(formats: {', '.join(self.formats)} in {self.path})")
        return fmt


def _arrow_type(spec: FieldSpec) -> pa.DataType:
    import pyarrow as pa

    if spec.mask is not None or spec.type in ("id", "text", "phone", "email"):
        return pa.string()
    if spec.type == "timestamp":
        return pa.timestamp("us", tz="UTC")
    if spec.type == "integer":
        return pa.int32() if spec.int32 else pa.int64()
    return pa.float64()


def contracts_dir() -> pathlib.Path:
    """airflow/dags/domains, next to the callcenter package (ships in the DAG bundle)."""
    return pathlib.Path(__file__).resolve().parent.parent / "domains"


def available() -> list[str]:
    """Sorted domain names of the contract files."""
    folder = contracts_dir()
    if folder.is_dir():
        return sorted(p.stem for p in folder.glob("*.yaml"))
    # Imported from the Spark job's zip (spark_job.package_files ships domains/*.yaml beside the package).
    archive = getattr(__loader__, "archive", None)
    if archive is None:
        return []
    import zipfile

    with zipfile.ZipFile(archive) as z:
        return sorted(pathlib.PurePosixPath(n).stem for n in z.namelist()
                      if n.startswith("domains/") and n.endswith(".yaml"))


def _read(path: pathlib.Path) -> str:
    if path.is_file():
        return path.read_text(encoding="utf-8")
    get_data = getattr(__loader__, "get_data", None)  # zipimporter: a path inside the archive
    if get_data is None or getattr(__loader__, "archive", None) is None:
        raise FileNotFoundError(str(path))
    return get_data(str(path)).decode("utf-8")


@functools.cache
def load(domain: str = DEFAULT_DOMAIN) -> DomainContract:
    """The contract of `domain` (cached); ContractError on a missing or bad file."""
    path = contracts_dir() / f"{domain}.yaml"
    if not _NAME.match(domain) or domain not in available():
        raise ContractError(f"{path}: domain {domain!r}: no contract file (available: {', '.join(available())})")
    return load_file(path)


def load_file(path: str | os.PathLike[str]) -> DomainContract:
    """Parse and check one contract file (not cached: tests and the scaffold use their own files)."""
    import yaml

    where = str(path)
    try:
        data = yaml.safe_load(_read(pathlib.Path(path)))
    except OSError as exc:
        raise ContractError(f"{where}: cannot read the contract: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}" if mark is not None else "?"
        raise ContractError(f"{where}: {at}: not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    return parse(data, where, expected_domain=pathlib.Path(path).stem)


def _fail(where: str, what: str, value: object, rule: str) -> ContractError:
    return ContractError(f"{where}: {what}: {value!r}: {rule}")


def parse(data: Any, where: str, *, expected_domain: str | None = None) -> DomainContract:
    """Check a loaded contract document; `where` names it in errors."""
    if not isinstance(data, dict):
        raise _fail(where, "document", type(data).__name__, "must be a mapping of the contract keys")
    unknown = sorted(set(map(str, data)) - _TOP_KEYS)
    if unknown:
        raise _fail(where, "key", unknown[0], f"unknown key (allowed: {', '.join(sorted(_TOP_KEYS))})")
    for key in ("domain", "dataset", "formats", "partition", "fields"):
        if key not in data:
            raise _fail(where, "key", key, "required")
    domain, dataset = data["domain"], data["dataset"]
    for key, value in (("domain", domain), ("dataset", dataset)):
        if not isinstance(value, str) or not _NAME.match(value):
            raise _fail(where, key, value, "must match ^[a-z][a-z0-9_]*$ (at most 63 characters)")
    if expected_domain is not None and domain != expected_domain:
        raise _fail(where, "domain", domain, f"must equal the file name ({expected_domain})")
    formats = data["formats"]
    if not isinstance(formats, list) or not formats:
        raise _fail(where, "formats", formats, f"must be a non-empty list of {', '.join(FORMATS)}")
    for fmt in formats:
        if fmt not in FORMATS:
            raise _fail(where, "formats", fmt, f"unknown format (one of {', '.join(FORMATS)})")
    if len(set(formats)) != len(formats):
        raise _fail(where, "formats", formats, "lists a format twice")

    raw_fields = data["fields"]
    if not isinstance(raw_fields, list) or not raw_fields:
        raise _fail(where, "fields", raw_fields, "must be a non-empty list of field mappings")
    unique = data.get("unique")
    fields = tuple(_field(where, domain, i, raw, unique) for i, raw in enumerate(raw_fields))
    names = [f.name for f in fields]
    seen: set[str] = set()
    for f in fields:
        if f.name in seen:
            raise _fail(where, f"field {f.name}", f.name, "declared twice")
        seen.add(f.name)

    if unique is not None:
        if unique not in names:
            raise _fail(where, "unique", unique, f"must name a field ({', '.join(names)})")
        spec = fields[names.index(unique)]
        if spec.pii or not spec.required or spec.type not in ("id", "text"):
            raise _fail(where, "unique", unique, "must be a required, non-pii id or text field "
                                                 "(duplicates are found on the value as stored in curated)")

    partition = data["partition"]
    if not isinstance(partition, dict) or set(partition) != {"field", "column"}:
        raise _fail(where, "partition", partition, "must be {field: <timestamp field>, column: <date column>}")
    p_field, p_column = partition["field"], partition["column"]
    if p_field not in names:
        raise _fail(where, "partition.field", p_field, f"must name a field ({', '.join(names)})")
    spec = fields[names.index(p_field)]
    if spec.type != "timestamp" or not spec.required or spec.pii:
        raise _fail(where, "partition.field", p_field, "must be a required, non-pii timestamp field")
    if not isinstance(p_column, str) or not _NAME.match(p_column):
        raise _fail(where, "partition.column", p_column, "must match ^[a-z][a-z0-9_]*$")

    outputs: dict[str, str] = {}
    for f in fields:
        if f.output is not None and f.output in outputs:
            raise _fail(where, f"field {f.name}", f.output, f"curated column collides with field {outputs[f.output]}'s")
        if f.output is not None:
            outputs[f.output] = f.name
    if p_column in outputs:
        raise _fail(where, "partition.column", p_column, f"collides with field {outputs[p_column]}'s curated column")
    return DomainContract(domain=domain, dataset=dataset, formats=tuple(formats), unique=unique,
                          partition_field=p_field, partition_column=p_column, fields=fields, path=where)


def _field(where: str, domain: str, index: int, raw: Any, unique: object) -> FieldSpec:
    if not isinstance(raw, dict):
        raise _fail(where, f"fields[{index}]", raw, "must be a mapping with name and type")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise _fail(where, f"fields[{index}].name", name, "must match ^[a-z][a-z0-9_]*$")
    what = f"field {name}"
    unknown = sorted(set(map(str, raw)) - _FIELD_KEYS)
    if unknown:
        raise _fail(where, what, unknown[0], f"unknown key (allowed: {', '.join(sorted(_FIELD_KEYS))})")
    ftype = raw.get("type")
    if ftype not in TYPES:
        raise _fail(where, f"{what}.type", ftype, f"unknown type (one of {', '.join(TYPES)})")
    for key in ("required", "pii", "dictionary", "statistics"):
        if key in raw and not isinstance(raw[key], bool):
            raise _fail(where, f"{what}.{key}", raw[key], "must be true or false")
    if "required" not in raw:
        raise _fail(where, f"{what}.required", None, "required (true or false)")
    pii, mask = bool(raw.get("pii", False)), raw.get("mask")
    if pii and mask is None:
        raise _fail(where, f"{what}.mask", mask, f"a pii field needs a mask ({', '.join(MASKS)})")
    if not pii and mask is not None:
        raise _fail(where, f"{what}.mask", mask, "only pii fields are masked (set pii: true)")
    if mask is not None and mask not in MASKS:
        raise _fail(where, f"{what}.mask", mask, f"unknown mask (one of {', '.join(MASKS)})")
    bounds: dict[str, float | None] = {}
    for key in ("min", "max"):
        value = raw.get(key)
        if value is not None and ftype not in ("integer", "number"):
            raise _fail(where, f"{what}.{key}", value, "bounds apply to integer and number fields only")
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or (ftype == "integer" and not isinstance(value, int))):
            raise _fail(where, f"{what}.{key}", value, f"must be a{'n integer' if ftype == 'integer' else ' number'}")
        bounds[key] = value
    if bounds["min"] is not None and bounds["max"] is not None and bounds["min"] > bounds["max"]:
        raise _fail(where, f"{what}.min", bounds["min"], f"must not exceed max ({bounds['max']})")
    tag = raw.get("hash_tag")
    if tag is not None and (mask != "keyed_hash" or not isinstance(tag, str) or not 0 < len(tag.encode()) <= 16):
        raise _fail(where, f"{what}.hash_tag", tag, "only for mask keyed_hash; 1-16 bytes (BLAKE2b person)")
    reasons = raw.get("reasons") or {}
    if reasons and (ftype not in ("integer", "number") or not isinstance(reasons, dict)
                    or not set(reasons) <= _REASON_KEYS
                    or not all(isinstance(v, str) and _NAME.match(v) for v in reasons.values())):
        raise _fail(where, f"{what}.reasons", reasons,
                    "integer/number only; {below_min: <code>, above_max: <code>} with lower-case codes")
    if mask == "keyed_hash" and tag is None:
        # Stable per domain and field: 16 bytes, the BLAKE2b personalisation size.
        tag_bytes = hashlib.blake2b(f"{domain}/{name}".encode(), digest_size=8).hexdigest().encode()
    else:
        tag_bytes = tag.encode() if tag else None
    output = None if mask == "drop" else name + MASK_SUFFIX.get(mask or "", "")
    statistics = raw.get("statistics")
    if statistics is None:
        # Readers prune on these; on the unique (near-unique) id they cost write time and prune nothing.
        statistics = not pii and name != unique and ftype in ("id", "timestamp", "integer", "number")
    return FieldSpec(
        name=name, type=ftype, required=raw["required"], pii=pii, mask=mask, min=bounds["min"],
        max=bounds["max"], output=output, hash_tag=tag_bytes,
        below_min=reasons.get("below_min", f"{name}_out_of_range"),
        above_max=reasons.get("above_max", f"{name}_out_of_range"),
        dictionary=bool(raw.get("dictionary", False)), statistics=bool(statistics),
    )


def configured() -> dict[str, dict]:
    """The domains this Airflow runs: {domain: {"owner", "classification"}}.

    Read from the [callcenter] domains option (env AIRFLOW__CALLCENTER__DOMAINS,
    compact JSON written by stacks/mwaa_options.py). Unset or empty: every
    contract file, owner unknown, classification pii (the strictest), so a bare
    local Airflow still shows them. A named domain without a contract file is
    skipped with one logged line, never a DAG import error.
    """
    raw = os.environ.get(DOMAINS_ENV, "").strip()
    if not raw:
        return {name: {"owner": "unknown", "classification": "pii"} for name in available()}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ContractError(f"{DOMAINS_ENV}: {raw[:60]!r}: not JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise ContractError(f"{DOMAINS_ENV}: {raw[:60]!r}: must be a JSON object of domain -> settings")
    have = set(available())
    out: dict[str, dict] = {}
    for name, settings in sorted(value.items()):
        if name not in have:
            log.warning("domain %s is configured but has no contract file in %s: skipped", name, contracts_dir())
            continue
        settings = settings if isinstance(settings, dict) else {}
        classification = settings.get("classification", "pii")
        out[name] = {"owner": str(settings.get("owner", "unknown")),
                     "classification": classification if classification in CLASSIFICATIONS else "pii"}
    return out
