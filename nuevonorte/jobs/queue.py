"""The queue engine: Huey, carrying nothing but job ids.

Default: a SQLite file in the instance folder (``queue_path``), for one machine. With
``queue_url = "redis://…"``: Redis, for workers on several machines. Either way results are
not stored (a job's outcome is in the ``job`` table) and a message is ``run_job(<id>)``.
Failures that may pass (a database busy too long, a full disk) are retried by Huey with a
growing delay; failures that will not pass end the job with a reason (``drafts``).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app
from huey import Huey, RedisHuey, SqliteHuey

log = logging.getLogger(__name__)

EXTENSION = "nuevonorte.queue"
#: Retries after a failure that may pass: after 30 s, 60 s, 120 s.
RETRIES = 3
RETRY_DELAY = 30
RETRY_BACKOFF = 2


def make(app: Flask) -> Huey:
    """The engine the configuration names, with the archive's one task registered."""
    url = app.config["QUEUE_URL"]
    common: dict[str, Any] = {"results": False, "store_none": False, "utc": True}
    huey: Huey
    if url:
        huey = RedisHuey("nuevonorte", url=url, **common)
    else:
        huey = SqliteHuey("nuevonorte", filename=app.config["QUEUE_PATH"], fsync=True, **common)

    @huey.task(
        retries=RETRIES, retry_delay=RETRY_DELAY, retry_backoff=RETRY_BACKOFF, context=True, name="run_job"
    )
    def run_job(job_id: int, task: Any = None) -> None:
        from nuevonorte.jobs import runner

        with app.app_context():
            runner.run(job_id, retries_left=task.retries if task is not None else 0)

    huey.nuevonorte_run_job = run_job
    return huey


def engine(app: Flask | None = None) -> Huey:
    """This app's engine, made on first use (opening the queue's file or connection then)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    huey = app.extensions.get(EXTENSION)
    if huey is None:
        huey = app.extensions[EXTENSION] = make(app)
    return huey


def enqueue(job_id: int) -> None:
    """Hand a job's id to the queue."""
    engine().nuevonorte_run_job(job_id)


def queued_ids() -> set[int]:
    """The job ids the queue holds, waiting or scheduled for a retry."""
    huey = engine()
    ids: set[int] = set()
    for task in [*huey.pending(), *huey.scheduled()]:
        if task.args:
            ids.add(int(task.args[0]))
    return ids
