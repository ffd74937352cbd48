"""Curators' internal notes on a story, and who looks after it (staff only, never public)."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from nuevonorte import curation, stories
from nuevonorte.curate.auth import actor, curator_required
from nuevonorte.curate.forms import ActionForm, AssignForm, NoteForm
from nuevonorte.curate.review import get_story, render_review, stale_message
from nuevonorte.curate.views import bp
from nuevonorte.extensions import db
from nuevonorte.models import CuratorAccount


@bp.post("/stories/<story_id>/notes")
@curator_required
def add_note(story_id: str) -> Response | tuple[str, int]:
    """Leave a note for the other curators on this story."""
    story = get_story(story_id)
    form = NoteForm()
    if not form.validate_on_submit():
        return render_review(story, _("Write the note (up to 4,000 characters) and try again."), 400)
    try:
        curation.add_note(story, actor(), form.body.data or "")
        db.session.commit()
    except (curation.NoteRefused, stories.StoryRefused):
        db.session.rollback()
        return render_review(
            get_story(story_id), _("Write the note (up to 4,000 characters) and try again."), 400
        )
    flash(_("Note saved. Only curators can read it."), "notice")
    return redirect(url_for("curate.review", story_id=story_id, _anchor="notes"))


@bp.post("/stories/<story_id>/notes/<int:note_id>/delete")
@curator_required
def delete_note(story_id: str, note_id: int) -> Response:
    """Delete a note; deleting one already gone changes nothing."""
    story = get_story(story_id)
    if not ActionForm().validate_on_submit():  # its CSRF token
        abort(400)
    if curation.delete_note(story, note_id, actor()):
        db.session.commit()
        flash(_("Note deleted."), "notice")
    return redirect(url_for("curate.review", story_id=story_id, _anchor="notes"))


@bp.post("/stories/<story_id>/assign")
@curator_required
def assign(story_id: str) -> Response | tuple[str, int]:
    """Give the story to a curator to look after, or to nobody."""
    story = get_story(story_id)
    form = AssignForm()
    form.curator.choices = [(0, "")] + [(c.id, c.email) for c in db.session.scalars(select(CuratorAccount))]
    if not form.validate_on_submit():
        return render_review(story, _("Please check the form."), 400)
    if form.revision.data != str(story.revision):
        return render_review(story, stale_message(), 409)
    to = db.session.get(CuratorAccount, form.curator.data) if form.curator.data else None
    if to is not None and not to.is_active:
        return render_review(story, _("That account is switched off. Choose another curator."), 400)
    try:
        curation.assign(story, to, actor())
        db.session.commit()
    except (stories.StoryRefused, StaleDataError):
        db.session.rollback()
        return render_review(get_story(story_id), stale_message(), 409)
    flash(_("Saved."), "notice")
    return redirect(url_for("curate.review", story_id=story_id))
