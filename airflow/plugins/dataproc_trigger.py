"""The triggerer's half of callcenter/dataproc.py: polls a Dataproc Serverless batch until it ends.

Why a plugin module: Airflow 3's triggerer imports a trigger by its class path (triggerer_job_runner
get_trigger_by_classpath -> import_string) and adds no DAG folder or bundle to sys.path itself, while the
plugins folder is on sys.path in every component (airflow.settings, PLUGINS_FOLDER; MWAA extracts
plugins.zip there). The polling code itself stays in the DAG package (callcenter.dataproc), found through
the DAG folder that sits beside this one in the repository and on MWAA (/usr/local/airflow/{dags,plugins}).

The trigger's arguments are stored in the metadata DB: only the batch name, the domain's non-secret
credentials settings, the API root and the poll interval. The domain's token is fetched from Vault here.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent


def dags_importable() -> None:
    """Make `callcenter` importable: the DAG folder beside the plugins folder, unless it already is."""
    if importlib.util.find_spec("callcenter") is None:
        dags = Path(__file__).resolve().parent.parent / "dags"
        if (dags / "callcenter").is_dir():
            sys.path.append(str(dags))


class DataprocBatchTrigger(BaseTrigger):
    def __init__(self, name: str, settings_json: str, api_url: str, poll_seconds: float = 60):
        super().__init__()
        self.name, self.settings_json, self.api_url, self.poll_seconds = name, settings_json, api_url, poll_seconds

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (f"{type(self).__module__}.{type(self).__qualname__}",
                {"name": self.name, "settings_json": self.settings_json, "api_url": self.api_url,
                 "poll_seconds": self.poll_seconds})

    async def run(self):  # type: ignore[override]
        dags_importable()
        from callcenter.dataproc import TERMINAL, Batches, outcome

        batches = Batches(self.settings_json, self.api_url)
        while True:
            # hvac and requests block: off the triggerer's event loop.
            batch = await asyncio.to_thread(batches.get, self.name)
            if batch.get("state") in TERMINAL:
                yield TriggerEvent(outcome(batch))
                return
            await asyncio.sleep(self.poll_seconds)
