"""Describing a story; a second curator saving a stale copy is told, and loses nothing."""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from nuevonorte import description, stories, withheld_words
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


@dataclass
class Typed:
    """What the form sends outside its WTForms fields: the photos' descriptions (Spanish,
    English), the paragraphs withheld whole, and the words withheld in each paragraph (the
    textarea as typed, one passage per line)."""

    alt: dict[str, tuple[str, str]]
    restricted: set[int]
    words: dict[int, str]

    @classmethod
    def of_story(cls, story: Story) -> Typed:
        images = [m for m in story.media if m.kind == MediaKind.IMAGE]
        return cls(
            alt={m.public_id: (m.alt_es, m.alt_en) for m in images},
            restricted=story.restricted_indexes(),
            words={
                i: "\n".join(withheld_words.withheld(story, withheld_words.TOLD, i))
                for i in range(len(story.paragraphs()))
            },
        )

    @classmethod
    def sent(cls, formdata: MultiDict[str, str], story: Story) -> Typed:
        images = [m for m in story.media if m.kind == MediaKind.IMAGE]
        return cls(
            alt={
                m.public_id: (
                    formdata.get(f"alt_es_{m.public_id}", "")[:2000],
                    formdata.get(f"alt_en_{m.public_id}", "")[:2000],
                )
                for m in images
            },
            restricted={n for v in formdata.getlist("restricted") if (n := number(v)) is not None},
            words={i: formdata.get(f"words-{i}", "")[:20_000] for i in range(len(story.paragraphs()))},
        )

    def passages(self) -> dict[int, list[str]]:
        """The words to withhold in each paragraph, one passage per line."""
        return {i: text.splitlines() for i, text in self.words.items()}


def _render(
    story: Story,
    form: DescribeForm,
    typed: Typed | None = None,
    *,
    conflict: bool = False,
    error: str | None = None,
    status: int = 200,
    draft: CuratorDraft | None = None,
) -> tuple[str, int]:
    typed = typed or Typed.of_story(story)
    page = render_template(
        "curate/describe.html",
        story=story,
        form=form,
        images=[m for m in story.media if m.kind == MediaKind.IMAGE],
        alt=typed.alt,
        restricted=typed.restricted,
        words=typed.words,
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
    """The description form, loaded with the story's current revision (or a kept draft)."""
    story = get_story(story_id)
    draft = kept_drafts.waiting()
    kept = kept_drafts.fields(draft)
    if kept is None:
        return _render(story, _form(story, formdata=False))
    return _render(story, _form(story, False, kept), Typed.sent(kept, story), draft=draft)


@bp.post("/stories/<story_id>/describe")
@curator_required
def save_description(story_id: str) -> Response | tuple[str, int]:
    """Save the description unless someone else saved first (then keep the form and say so)."""
    story = get_story(story_id)
    form = _form(story, formdata=True)
    typed = Typed.sent(request.form, story)
    if not form.validate_on_submit():
        return _render(story, form, typed, error=_("Please check the form."), status=400)
    if form.revision.data != str(story.revision):
        # Keep what this curator typed; show the saved version beside it; a second save wins.
        form.revision.data = str(story.revision)
        return _render(story, form, typed, conflict=True, status=409)
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
        alt=typed.alt,
        restricted_paragraphs=typed.restricted,
        withheld_words=typed.passages(),
    )
    try:
        description.describe(story, d, actor())
        kept_drafts.saved()
        db.session.commit()
    except withheld_words.WordsRefused as refused:
        db.session.rollback()
        return _render(get_story(story_id), form, typed, error=refused.message, status=400)
    except stories.StoryRefused as refused:
        db.session.rollback()
        return _render(get_story(story_id), form, typed, error=refused.message, status=409)
    except StaleDataError:
        db.session.rollback()
        story = get_story(story_id)
        form.revision.data = str(story.revision)
        return _render(story, form, typed, conflict=True, status=409)
    flash(_("Description saved."), "notice")
    return redirect(url_for("curate.describe", story_id=story_id))
