"""Which engine runs a pipeline run: the Airflow worker or Spark (issue 12).

Measured with bench/spark_bench.py (2 shared cores, 4 exports): the worker did
18k-131k rows/s at 2.8-69 MB, Spark local[2] 1.4k-28k rows/s plus a 6-8 s fixed
start-up and 1.1-1.6 GB of process-tree RSS (JVM + Python workers). Spark never
won on one machine up to 69 MB, so the crossover is not a throughput one: a run
goes to Spark when it would outgrow one worker slot (mw1.small: 1 vCPU, 2 GB
shared by 5 slots) or span many days, where Spark's executors scale out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Engine = Literal["worker", "spark"]


@dataclass(frozen=True)
class Thresholds:
    # ~2 GB at the worker's measured ~46 MB/s is under a minute of one core
    # here; a shared mw1.small slot is several times slower, still well inside
    # an hourly run. Above it the hour and the slot are at risk.
    max_worker_bytes: int = 2 * 1024**3
    # customer_360 and backfills over more than a week read 7+ days of curated
    # partitions: a join over many days is Spark's job.
    max_worker_days: int = 7

    def __post_init__(self) -> None:
        if self.max_worker_bytes <= 0 or self.max_worker_days <= 0:
            raise ValueError(f"thresholds must be positive, got {self}")


def choose(input_bytes: int, days: int, thresholds: Thresholds = Thresholds()) -> Engine:
    """'spark' when the run exceeds either threshold, else 'worker'."""
    if input_bytes < 0 or days < 0:
        raise ValueError(f"input_bytes and days must be >= 0, got {input_bytes=} {days=}")
    if input_bytes > thresholds.max_worker_bytes or days > thresholds.max_worker_days:
        return "spark"
    return "worker"
