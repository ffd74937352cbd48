"""Correcting a story's text (``nuevonorte.corrections``): each paragraph beside the narrator's
words as told; a stale page keeps what was typed and says so."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from nuevonorte import corrections, stories
from nuevonorte.curate import drafts as kept_drafts
from nuevonorte.curate.auth import actor, curator_required
from nuevonorte.curate.forms import CorrectionForm
from nuevonorte.curate.review import get_live_story, stale_message
from nuevonorte.curate.views import bp
from nuevonorte.extensions import db
from nuevonorte.models import CuratorDraft, Story


def _typed(formdata: MultiDict[str, str], story: Story) -> list[str]:
    return [formdata.get(f"c-{i}", "")[: corrections.MAX_CHARS] for i in range(len(story.paragraphs()))]


def _render(
    story: Story,
    form: CorrectionForm,
    typed: list[str] | None = None,
    error: str = "",
    status: int = 200,
    draft: CuratorDraft | None = None,
) -> tuple[str, int]:
    page = render_template(
        "curate/correction.html",
        story=story,
        form=form,
        typed=typed if typed is not None else story.paragraphs(),
        told=story.told_paragraphs(),
        withheld=story.restricted_indexes(),
        error=error,
        **kept_drafts.template_values(draft),
    )
    return page, status


@bp.get("/stories/<story_id>/correct")
@curator_required
def correction(story_id: str) -> tuple[str, int]:
    """The text as the archive shows it, paragraph by paragraph, beside the text as told."""
    story = get_live_story(story_id)
    draft = kept_drafts.waiting()
    kept = kept_drafts.fields(draft)
    if kept is not None:
        return _render(story, CorrectionForm(formdata=kept), _typed(kept, story), draft=draft)
    return _render(story, CorrectionForm(formdata=None, revision=story.revision))


@bp.post("/stories/<story_id>/correct")
@curator_required
def save_correction(story_id: str) -> Response | tuple[str, int]:
    """Save the correction (or go back to the text as told) unless the story changed meanwhile."""
    story = get_live_story(story_id)
    form = CorrectionForm()
    typed = story.told_paragraphs() if form.as_told.data else _typed(request.form, story)
    if not form.validate_on_submit():
        return _render(story, form, typed, _("Please check the form."), 400)
    if form.revision.data != str(story.revision):
        form.revision.data = str(story.revision)
        return _render(story, form, typed, stale_message(), 409)
    try:
        corrections.correct(story, typed, actor())
        kept_drafts.saved()
        db.session.commit()
    except corrections.CorrectionRefused as refused:
        db.session.rollback()
        return _render(get_live_story(story_id), form, typed, refused.message, 400)
    except (stories.StoryRefused, StaleDataError):
        db.session.rollback()
        return _render(get_live_story(story_id), form, typed, stale_message(), 409)
    flash(_("The text as told is shown again.") if form.as_told.data else _("Correction saved."), "notice")
    return redirect(url_for("curate.correction", story_id=story_id))
