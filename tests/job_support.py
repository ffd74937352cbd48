"""A background job's row as the database holds it now, for the job tests."""

from __future__ import annotations

from nuevonorte.extensions import db
from nuevonorte.models import Job


def job_row(job_id: int) -> Job:
    """The job's row read afresh (what workers and requests committed since)."""
    db.session.rollback()
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job is not None
    return job
