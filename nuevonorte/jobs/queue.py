"""The queue engine: Huey, carrying nothing but job ids.

Default: a SQLite file in the instance folder (``queue_path``), for one machine. With
``queue_url = "redis://…"``: Redis, for workers on several machines. Either way results are
not stored (a job's outcome is in the ``job`` table) and a message is ``run_job(<id>)``.
Failures that may pass (a database busy too long, a full disk) are retried by Huey with a
growing delay; failures that will not pass end the job with a reason (``runner``).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app
from huey import Huey, PriorityRedisHuey, SqliteHuey

from nuevonorte.models import JobKind

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
        huey = PriorityRedisHuey("nuevonorte", url=url, **common)
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


#: Jobs taken before others: a silenced copy (seconds of encoding that give a recording back to
#: the public) does not wait behind hours of drafts.
#: A withdrawal notice to a partner archive goes first of all: a narrator's "no" reaches the
#: partner before anything else is done.
PRIORITY = {JobKind.PARTNER_NOTICE: 20, JobKind.SILENCED_COPY: 10, JobKind.PARTNER_HARVEST: 5}


def enqueue(job_id: int, kind: JobKind | None = None, delay: float | None = None) -> None:
    """Hand a job's id to the queue, with its kind's priority (after ``delay`` seconds)."""
    huey = engine()
    huey.enqueue(
        huey.nuevonorte_run_job.s(job_id, priority=PRIORITY.get(kind) if kind else None, delay=delay)
    )


def queued_ids() -> set[int]:
    """The job ids the queue holds: waiting, or scheduled for a retry that is not overdue (a
    retry whose time has passed with no consumer to move it counts as lost: ``worker --drain``
    from cron has no scheduler)."""
    huey = engine()
    now = huey._get_timestamp()
    due = [task for task in huey.scheduled() if task.eta is None or task.eta > now]
    return {int(task.args[0]) for task in [*huey.pending(), *due] if task.args}


def move_due_retries() -> int:
    """Move the retries whose time has come from the schedule to the queue (what a consumer's
    scheduler does; ``worker --drain`` has none); returns how many."""
    huey = engine()
    due = huey.read_schedule()
    for task in due:
        huey.enqueue(task)
    return len(due)
