from __future__ import annotations

import pytest
from callcenter.engine_choice import Thresholds, choose


def test_small_hourly_export_stays_in_the_worker():
    assert choose(50 * 1024**2, 1) == "worker"


def test_at_the_thresholds_still_worker_just_above_goes_to_spark():
    t = Thresholds(max_worker_bytes=1000, max_worker_days=3)
    assert choose(1000, 3, t) == "worker"
    assert choose(1001, 1, t) == "spark"
    assert choose(10, 4, t) == "spark"


def test_defaults_send_big_inputs_and_backfills_to_spark():
    assert choose(3 * 1024**3, 1) == "spark"
    assert choose(1024, 30) == "spark"


@pytest.mark.parametrize("args", [(-1, 1), (1, -1)])
def test_negative_input_refused(args):
    with pytest.raises(ValueError, match=">= 0"):
        choose(*args)


def test_non_positive_thresholds_refused():
    with pytest.raises(ValueError, match="positive"):
        Thresholds(max_worker_bytes=0)
