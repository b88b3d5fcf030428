"""Contract files (airflow/dags/domains/*.yaml) and their loader (callcenter.domain)."""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from callcenter import domain
from callcenter.contract import CURATED_SCHEMA
from callcenter.domain import ContractError

GOOD = {
    "domain": "quality_assurance",
    "dataset": "qa_reviews",
    "formats": ["csv", "jsonl"],
    "unique": "review_id",
    "partition": {"field": "reviewed_at", "column": "review_date"},
    "fields": [
        {"name": "review_id", "type": "id", "required": True},
        {"name": "reviewed_at", "type": "timestamp", "required": True},
        {"name": "score", "type": "integer", "required": True, "min": 0, "max": 100},
        {"name": "reviewer_email", "type": "email", "required": True, "pii": True, "mask": "keyed_hash"},
    ],
}


def write(tmp_path, doc, name="quality_assurance"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc) if not isinstance(doc, str) else doc, encoding="utf-8")
    return path


def edited(edit):
    doc = copy.deepcopy(GOOD)
    edit(doc)
    return doc


def test_shipped_contracts_load_and_call_analytics_is_todays_schema() -> None:
    assert {"call_analytics", "agent_performance"} <= set(domain.available())
    calls = domain.load("call_analytics")
    # CONTRACT.md's curated columns, as the pre-contract kernel wrote them (contract.py at 7468e4e).
    assert [(f.name, str(f.type), f.nullable) for f in calls.curated_schema] == [
        ("call_id", "string", False), ("customer_id", "string", False), ("customer_name_hash", "string", True),
        ("customer_phone_last4", "string", False), ("customer_email_hash", "string", False),
        ("agent_id", "string", False), ("call_start_time", "timestamp[us, tz=UTC]", False),
        ("duration", "int32", False), ("sentiment", "double", False), ("notes_redacted", "string", True),
        ("call_date", "date32[day]", False)]
    assert CURATED_SCHEMA == calls.curated_schema
    assert (calls.dataset, calls.unique, calls.partition_column, calls.formats) == \
        ("call_records", "call_id", "call_date", ("jsonl",))
    assert calls.dictionary_columns == ["customer_name_hash", "customer_phone_last4", "agent_id"]
    assert calls.statistics_columns == ["customer_id", "agent_id", "call_start_time", "duration", "sentiment"]
    agents = domain.load("agent_performance")
    assert "csv" in agents.formats and not agents.pii_fields
    assert agents.curated_schema.names[-1] == "event_date"


def test_a_good_file_loads_with_derived_outputs(tmp_path) -> None:
    c = domain.load_file(write(tmp_path, GOOD))
    assert c.curated_schema.names == ["review_id", "reviewed_at", "score", "reviewer_email_hash", "review_date"]
    assert c.field("score").int32 and c.duplicate_reason == "duplicate_review_id"
    assert c.field("reviewer_email").hash_tag and len(c.field("reviewer_email").hash_tag) == 16


@pytest.mark.parametrize(("edit", "where", "rule"), [
    (lambda d: d.update(extra=1), "key: 'extra'", "unknown key"),
    (lambda d: d.pop("partition"), "key: 'partition'", "required"),
    (lambda d: d.update(domain="other"), "domain: 'other'", "must equal the file name"),
    (lambda d: d.update(dataset="Bad-Name"), "dataset: 'Bad-Name'", "must match"),
    (lambda d: d.update(formats=["xml"]), "formats: 'xml'", "unknown format"),
    (lambda d: d.update(formats=[]), "formats: []", "non-empty"),
    (lambda d: d.update(unique="nope"), "unique: 'nope'", "must name a field"),
    (lambda d: d.update(unique="reviewer_email"), "unique: 'reviewer_email'", "non-pii"),
    (lambda d: d["partition"].update(field="score"), "partition.field: 'score'", "timestamp"),
    (lambda d: d["partition"].update(column="score"), "partition.column: 'score'", "collides"),
    (lambda d: d["fields"][2].update(type="decimal"), "field score.type: 'decimal'", "unknown type"),
    (lambda d: d["fields"][2].pop("required"), "field score.required: None", "required"),
    (lambda d: d["fields"][2].update(required="yes"), "field score.required: 'yes'", "true or false"),
    (lambda d: d["fields"][2].update(min=200), "field score.min: 200", "must not exceed max"),
    (lambda d: d["fields"][2].update(max=1.5), "field score.max: 1.5", "integer"),
    (lambda d: d["fields"][0].update(min=1), "field review_id.min: 1", "integer and number fields only"),
    (lambda d: d["fields"][3].pop("mask"), "field reviewer_email.mask: None", "needs a mask"),
    (lambda d: d["fields"][3].update(mask="blur"), "field reviewer_email.mask: 'blur'", "unknown mask"),
    (lambda d: d["fields"][2].update(mask="drop"), "field score.mask: 'drop'", "only pii fields"),
    (lambda d: d["fields"][3].update(hash_tag="x" * 17), "field reviewer_email.hash_tag", "1-16 bytes"),
    (lambda d: d["fields"][2].update(reasons={"above": "x"}), "field score.reasons", "below_min"),
    (lambda d: d["fields"].append({"name": "score", "type": "text", "required": False}),
     "field score: 'score'", "declared twice"),
    (lambda d: d["fields"].append({"name": "reviewer_email_hash", "type": "text", "required": False}),
     "field reviewer_email_hash: 'reviewer_email_hash'", "collides"),
    (lambda d: d["fields"].append("just a name"), "fields[4]: 'just a name'", "mapping"),
])
def test_each_rule_fails_with_one_line_naming_file_field_value_rule(tmp_path, edit, where, rule) -> None:
    path = write(tmp_path, edited(edit))
    with pytest.raises(ContractError) as err:
        domain.load_file(path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(str(path)), message
    assert where in message and rule in message, message


@pytest.mark.parametrize(("text", "rule"), [
    ("domain: [unclosed", "not valid YAML"),
    ("- a list", "must be a mapping"),
])
def test_unparseable_files_fail_with_one_line(tmp_path, text, rule) -> None:
    with pytest.raises(ContractError, match=rule) as err:
        domain.load_file(write(tmp_path, text))
    assert "\n" not in str(err.value)


def test_unknown_domain_names_the_available_ones() -> None:
    with pytest.raises(ContractError, match="no contract file.*call_analytics"):
        domain.load("no_such_domain")


def test_format_follows_the_suffix_and_is_refused_when_not_listed() -> None:
    calls = domain.load("call_analytics")
    assert calls.format_of("raw/x/incoming/a.ndjson") == "jsonl"
    with pytest.raises(ContractError, match="format 'csv' is not accepted by domain call_analytics"):
        calls.format_of("raw/x/incoming/a.csv")
    with pytest.raises(ContractError, match="suffix '.xml'"):
        calls.format_of("a.xml")


def test_configured_reads_the_option_and_skips_domains_without_a_contract(monkeypatch, caplog) -> None:
    monkeypatch.delenv(domain.DOMAINS_ENV, raising=False)
    unset = domain.configured()
    assert set(unset) == set(domain.available())
    assert all(v == {"owner": "unknown", "classification": "pii"} for v in unset.values())  # strictest
    monkeypatch.setenv(domain.DOMAINS_ENV, json.dumps({
        "agent_performance": {"owner": "workforce-team", "classification": "internal"},
        "ghost": {"owner": "nobody", "classification": "public"}}))
    with caplog.at_level("WARNING"):
        got = domain.configured()
    assert got == {"agent_performance": {"owner": "workforce-team", "classification": "internal"}}
    assert "ghost" in caplog.text
    monkeypatch.setenv(domain.DOMAINS_ENV, "{not json")
    with pytest.raises(ContractError, match="not JSON"):
        domain.configured()


def test_the_spark_jobs_zip_ships_the_contracts_and_loads_them_from_inside(tmp_path) -> None:
    """EMR runs the kernel from --py-files: the contracts must be read from the zip, not the repo."""
    import subprocess
    import sys

    from callcenter import spark_job

    zip_path, _ = spark_job.build_package(tmp_path)
    probe = ("import sys; sys.path.insert(0, sys.argv[1])\n"
             "from callcenter import domain\n"
             "assert '.zip' in domain.__file__, domain.__file__\n"
             "c = domain.load('agent_performance')\n"
             "print(','.join(domain.available()), c.partition_column)")
    done = subprocess.run([sys.executable, "-c", probe, str(zip_path)], capture_output=True, text=True, cwd=tmp_path,
                          check=False)
    assert done.returncode == 0, done.stderr
    names, column = done.stdout.split()
    assert set(names.split(",")) == set(domain.available()) and column == "event_date"
