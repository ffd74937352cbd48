"""Admin page of background jobs: what waits, runs, failed and why; drafts made automatically."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from nuevonorte.curate.auth import actor, admin_required
from nuevonorte.curate.forms import ActionForm
from nuevonorte.curate.views import bp
from nuevonorte.extensions import db
from nuevonorte.jobs import records
from nuevonorte.jobs.messages import refusal_text
from nuevonorte.models import Job, JobState, MediaFile

#: The newest jobs the page lists.
SHOWN = 200


@bp.get("/admin/jobs")
@admin_required
def jobs_page() -> str:
    """The newest jobs, newest first, with their state, progress and reason."""
    listed = db.session.scalars(select(Job).order_by(Job.id.desc()).limit(SHOWN)).all()
    media_ids = {job.media_id for job in listed if job.media_id is not None}
    media = {
        m.id: m
        for m in db.session.scalars(
            select(MediaFile).where(MediaFile.id.in_(media_ids)).options(joinedload(MediaFile.story))
        )
    }
    return render_template(
        "curate/jobs.html",
        jobs=listed,
        media=media,
        auto=records.auto_drafts(),
        model_installed=records.model_installed(),
        action_form=ActionForm(formdata=None),
    )


@bp.post("/admin/jobs/settings")
@admin_required
def jobs_settings() -> Response:
    """Turn automatic draft transcripts of new recordings on or off."""
    if not ActionForm().validate_on_submit():
        abort(400)
    on = request.form.get("auto") == "on"
    records.set_auto_drafts(on, actor())
    db.session.commit()
    if on:
        flash(_("Every new recording now gets a draft transcript."), "notice")
    else:
        flash(_("New recordings get a draft transcript only when a curator asks."), "notice")
    return redirect(url_for("curate.jobs_page"))


@bp.post("/admin/jobs/<int:job_id>/retry")
@admin_required
def retry_job(job_id: int) -> Response:
    """Ask again for what a failed or cancelled job was to do."""
    if not ActionForm().validate_on_submit():
        abort(400)
    job = db.session.get(Job, job_id)
    if job is None or job.state not in (JobState.FAILED, JobState.CANCELLED):
        abort(404)
    try:
        records.retry(job, actor())
    except records.Refused as refused:
        flash(refusal_text(refused.code), "notice")
        return redirect(url_for("curate.jobs_page"))
    db.session.commit()
    flash(_("Asked again: a new job is waiting."), "notice")
    return redirect(url_for("curate.jobs_page"))
