"""Describing a story; a second curator saving a stale copy is told, and loses nothing."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from nuevonorte import description, stories
from nuevonorte.content_warnings import WARNINGS
from nuevonorte.curate import drafts as kept_drafts
from nuevonorte.curate.auth import actor, curator_required
from nuevonorte.curate.forms import DescribeForm
from nuevonorte.curate.review import get_story
from nuevonorte.curate.views import bp
from nuevonorte.extensions import db
from nuevonorte.i18n import current_locale
from nuevonorte.models import CuratorDraft, MediaKind, Place, Story, Theme
from nuevonorte.safe_input import number


def _form(story: Story, formdata: bool, kept: MultiDict[str, str] | None = None) -> DescribeForm:
    """The form from the post (``formdata``), from a kept draft, or from the story."""
    lang = current_locale()
    if formdata:
        form = DescribeForm()
    elif kept is not None:
        form = DescribeForm(formdata=kept)
    else:
        form = DescribeForm(formdata=None, obj=story)
    themes = db.session.scalars(select(Theme).order_by(Theme.slug)).all()
    places = db.session.scalars(select(Place).order_by(Place.slug)).all()
    form.themes.choices = [SelectChoice(t.id, t.name(lang)) for t in themes]
    form.places.choices = [SelectChoice(p.id, p.name(lang)) for p in places]
    form.warnings.choices = [SelectChoice(code, str(label)) for code, label in WARNINGS.items()]
    if not formdata and kept is None:
        form.revision.data = str(story.revision)
        form.themes.data = [t.id for t in story.themes]
        form.places.data = [p.id for p in story.places]
        form.warnings.data = story.warning_codes()
    return form


def _render(
    story: Story,
    form: DescribeForm,
    *,
    alt: dict[str, tuple[str, str]] | None = None,
    restricted: set[int] | None = None,
    conflict: bool = False,
    error: str | None = None,
    status: int = 200,
    draft: CuratorDraft | None = None,
) -> tuple[str, int]:
    images = [m for m in story.media if m.kind == MediaKind.IMAGE]
    alt = alt if alt is not None else {m.public_id: (m.alt_es, m.alt_en) for m in images}
    page = render_template(
        "curate/describe.html",
        story=story,
        form=form,
        images=images,
        alt=alt,
        restricted=restricted if restricted is not None else story.restricted_indexes(),
        missing=description.missing(story),
        conflict=conflict,
        error=error,
        lang=current_locale(),
        **kept_drafts.template_values(draft),
    )
    return page, status


@bp.get("/stories/<story_id>/describe")
@curator_required
def describe(story_id: str) -> tuple[str, int]:
    """The description form, loaded with the story's current revision."""
    story = get_story(story_id)
    draft = kept_drafts.waiting()
    kept = kept_drafts.fields(draft)
    if kept is None:
        return _render(story, _form(story, formdata=False))
    alt, restricted = _typed(kept, story)
    return _render(story, _form(story, False, kept), alt=alt, restricted=restricted, draft=draft)


def _typed(formdata: MultiDict[str, str], story: Story) -> tuple[dict[str, tuple[str, str]], set[int]]:
    """The photos' descriptions and the withheld paragraphs as sent (fields outside the form)."""
    images = [m for m in story.media if m.kind == MediaKind.IMAGE]
    alt = {
        m.public_id: (
            formdata.get(f"alt_es_{m.public_id}", "")[:2000],
            formdata.get(f"alt_en_{m.public_id}", "")[:2000],
        )
        for m in images
    }
    restricted = {n for v in formdata.getlist("restricted") if (n := number(v)) is not None}
    return alt, restricted


@bp.post("/stories/<story_id>/describe")
@curator_required
def save_description(story_id: str) -> Response | tuple[str, int]:
    """Save the description unless someone else saved first (then keep the form and say so)."""
    story = get_story(story_id)
    form = _form(story, formdata=True)
    alt, restricted = _typed(request.form, story)
    if not form.validate_on_submit():
        return _render(
            story, form, alt=alt, restricted=restricted, error=_("Please check the form."), status=400
        )
    if form.revision.data != str(story.revision):
        # Keep what this curator typed; show the saved version beside it; a second save wins.
        form.revision.data = str(story.revision)
        return _render(story, form, alt=alt, restricted=restricted, conflict=True, status=409)
    chosen_themes = set(form.themes.data or [])
    chosen_places = set(form.places.data or [])
    d = description.Description(
        title_es=form.title_es.data or "",
        title_en=form.title_en.data or "",
        summary_es=form.summary_es.data or "",
        summary_en=form.summary_en.data or "",
        themes=[t for t in db.session.scalars(select(Theme)) if t.id in chosen_themes],
        places=[p for p in db.session.scalars(select(Place)) if p.id in chosen_places],
        period_start=form.period_start.data,
        period_end=form.period_end.data,
        warnings=list(form.warnings.data or []),
        alt=alt,
        restricted_paragraphs=restricted,
    )
    try:
        description.describe(story, d, actor())
        kept_drafts.saved()
        db.session.commit()
    except stories.StoryRefused as refused:
        db.session.rollback()
        return _render(
            get_story(story_id), form, alt=alt, restricted=restricted, error=refused.message, status=409
        )
    except StaleDataError:
        db.session.rollback()
        story = get_story(story_id)
        form.revision.data = str(story.revision)
        return _render(story, form, alt=alt, restricted=restricted, conflict=True, status=409)
    flash(_("Description saved."), "notice")
    return redirect(url_for("curate.describe", story_id=story_id))
