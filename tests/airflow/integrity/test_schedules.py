"""customer_360's schedule, evaluated the way the scheduler does it: the DAG is
serialized and the scheduler-side timetable computes the next run."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture(scope="module")
def timetable(dagbag):
    from airflow.serialization.serialized_objects import DagSerialization

    dag = dagbag.dags["customer_360"]
    return DagSerialization.from_dict(DagSerialization.to_dict(dag)).timetable


def test_the_run_at_midnight_builds_the_day_that_just_finished(timetable):
    from airflow.timetables.base import DataInterval, TimeRestriction

    info = timetable.next_dagrun_info(
        last_automated_data_interval=DataInterval(_utc(2026, 11, 23), _utc(2026, 11, 24)),
        restriction=TimeRestriction(earliest=_utc(2026, 11, 1), latest=None, catchup=True))
    assert info.run_after == _utc(2026, 11, 25)
    assert (info.data_interval.start, info.data_interval.end) == (_utc(2026, 11, 24), _utc(2026, 11, 25))


def test_a_manual_run_also_gets_the_previous_full_day(timetable):
    interval = timetable.infer_manual_data_interval(run_after=_utc(2026, 11, 25, 9, 30))
    assert interval.start.date().isoformat() == "2026-11-24"


def test_curated_updates_also_trigger_it(timetable):
    # either one (AssetAny): a curated call_analytics update, or the days an earlier run carried over
    assert [asset.name for _, asset in timetable.asset_condition.iter_assets()] == [
        "call_analytics.curated_call_records", "call_analytics.customer_360_backlog"]
    assert type(timetable.asset_condition).__name__.endswith("AssetAny")
