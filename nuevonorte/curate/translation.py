"""Translating a story's body paragraph by paragraph (curators and translators)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from nuevonorte import stories, translations, withheld_words
from nuevonorte.curate import drafts as kept_drafts
from nuevonorte.curate.auth import actor, curator_required
from nuevonorte.curate.forms import TranslationForm
from nuevonorte.curate.review import get_live_story, stale_message
from nuevonorte.curate.views import bp
from nuevonorte.extensions import db
from nuevonorte.models import CuratorDraft, Provenance, Story

_withheld = withheld_words.withheld


def _render(
    story: Story,
    form: TranslationForm,
    typed: dict[str, str] | None = None,
    error: str = "",
    status: int = 200,
    draft: CuratorDraft | None = None,
) -> tuple[str, int]:
    current = translations.for_staff(story)
    language = translations.target_language(story)
    old = {t.position: t.text for t in story.translations if t.language == language}
    if typed is None:
        count = len(story.paragraphs())
        typed = {f"p-{i}": current[i].text if i in current else old.get(i, "") for i in range(count)}
        typed |= {f"w-{i}": "\n".join(_withheld(story, withheld_words.TRANSLATION, i)) for i in range(count)}
    page = render_template(
        "curate/translation.html",
        story=story,
        form=form,
        typed=typed,
        stale=set(translations.stale(story)),
        withheld=story.restricted_indexes(),
        told_words={i: _withheld(story, withheld_words.TOLD, i) for i in range(len(story.paragraphs()))},
        target=language,
        error=error,
        **kept_drafts.template_values(draft),
    )
    return page, status


@bp.get("/stories/<story_id>/translation")
@curator_required
def translation(story_id: str) -> tuple[str, int]:
    """The body beside its translation, one paragraph at a time."""
    story = get_live_story(story_id)
    draft = kept_drafts.waiting()
    kept = kept_drafts.fields(draft)
    if kept is not None:
        return _render(story, TranslationForm(formdata=kept), _typed(kept, story), draft=draft)
    form = TranslationForm(formdata=None, revision=story.revision)
    kinds = {t.provenance for t in translations.for_staff(story).values()}
    if len(kinds) == 1:
        form.provenance.data = kinds.pop().value
    return _render(story, form)


def _typed(formdata: MultiDict[str, str], story: Story) -> dict[str, str]:
    """The translation of each paragraph (``p-N``) and the words withheld in it (``w-N``, one
    passage per line) as sent."""
    names = [f"{kind}-{i}" for i in range(len(story.paragraphs())) for kind in ("p", "w")]
    return {name: formdata.get(name, "") for name in names}


def _texts(typed: dict[str, str]) -> dict[int, str]:
    return {int(name[2:]): value for name, value in typed.items() if name.startswith("p-")}


def _words(typed: dict[str, str]) -> dict[int, list[str]]:
    return {int(n[2:]): value[:20_000].splitlines() for n, value in typed.items() if n.startswith("w-")}


@bp.post("/stories/<story_id>/translation")
@curator_required
def save_translation(story_id: str) -> Response | tuple[str, int]:
    """Save the translation; a stale page keeps what was typed and says so (409)."""
    story = get_live_story(story_id)
    form = TranslationForm()
    typed = _typed(request.form, story)
    if not form.validate_on_submit():
        return _render(story, form, typed, _("Please check the form."), 400)
    if form.revision.data != str(story.revision):
        form.revision.data = str(story.revision)
        return _render(story, form, typed, stale_message(), 409)
    try:
        translations.save(story, _texts(typed), Provenance(form.provenance.data), actor(), _words(typed))
        kept_drafts.saved()
        db.session.commit()
    except withheld_words.WordsRefused as refused:
        db.session.rollback()
        return _render(get_live_story(story_id), form, typed, refused.message, 400)
    except translations.TranslationRefused:
        db.session.rollback()
        return _render(
            get_live_story(story_id),
            form,
            typed,
            _("A paragraph is too long (up to 20,000 characters)."),
            400,
        )
    except (stories.StoryRefused, StaleDataError):
        db.session.rollback()
        return _render(get_live_story(story_id), form, typed, stale_message(), 409)
    flash(_("Translation saved."), "notice")
    return redirect(url_for("curate.translation", story_id=story_id))
