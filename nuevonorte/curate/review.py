"""The review queue, the review page, review actions, consent narrowing and private media."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import abort, flash, make_response, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from nuevonorte import consent, curation, sensitive, stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.curate.auth import actor, curator_required
from nuevonorte.curate.forms import ActionForm, AssignForm, ConsentNarrowForm, NoteForm, ReviewActionForm
from nuevonorte.curate.views import bp
from nuevonorte.curate.wording import consent_words, exposure_notes, widening_words
from nuevonorte.extensions import db
from nuevonorte.i18n import current_locale
from nuevonorte.models import (
    PERMISSIONS,
    Credit,
    CuratorAccount,
    MediaFile,
    Story,
    StoryStatus,
    Visibility,
)
from nuevonorte.queue import BadFilter, Filters, ordered_ids
from nuevonorte.storage import StorageError, content_type, get_storage

ACTIONS: dict[str, Callable[[Story, CuratorAccount | None], None]] = {
    "publish": stories.publish,
    "unpublish": stories.unpublish,
    "keep-private": stories.keep_private,
    "return-to-review": stories.return_to_review,
    "reject": stories.reject,
    "message": lambda story, curator: None,  # the message to the narrator alone (saved below)
}


def get_story(public_id: str) -> Story:
    """The story with ``public_id`` or 404; a page saying only that it exists, its day and
    status (403) when its contributor keeps it to themselves — for every curator route."""
    story = db.session.scalar(select(Story).where(Story.public_id == public_id))
    if story is None:
        abort(404)
    if story.status != StoryStatus.WITHDRAWN and not consent.curators_may_read(story):
        abort(make_response(render_template("curate/sealed.html", story=story), 403))
    return story


def get_live_story(public_id: str) -> Story:
    """``get_story`` for a form that changes the story's text (its correction, its translation):
    it refuses what ``get_story`` refuses (no such story, 404; kept by its contributor to
    themselves, 403) and also a withdrawn story (404), which ``get_story`` lets through for its
    review page: withdrawal deleted its text, so there is nothing to correct or translate."""
    story = get_story(public_id)
    if story.status == StoryStatus.WITHDRAWN:
        abort(404)
    return story


def stale_message() -> str:
    """What a curator is told when someone else changed the story first."""
    return str(
        _(
            "This story changed since you opened it (another curator, or the narrator). Nothing was saved: look at it again and retry."  # noqa: E501
        )
    )


def render_review(story: Story, error: str | None = None, status: int = 200) -> tuple[str, int]:
    """The review page, optionally with a refusal shown at the top."""
    consent = story.current_consent
    narrow = ConsentNarrowForm(formdata=None)
    if consent is not None:
        narrow.visibility.data = consent.visibility.value
        narrow.anonymous.data = consent.credit == Credit.ANONYMOUS
        for name in PERMISSIONS:
            narrow[name].data = consent.choices.allows(name)
        narrow.embargo_until.data = consent.embargo_until.isoformat() if consent.embargo_until else ""
    assign_form = AssignForm(formdata=None, revision=story.revision)
    curators = db.session.scalars(
        select(CuratorAccount).where(CuratorAccount.is_active.is_(True)).order_by(CuratorAccount.email)
    )
    assign_form.curator.choices = [(0, _("Nobody")), *((c.id, c.email) for c in curators)]
    assign_form.curator.data = story.assigned_to_id or 0
    exposed = curation.newly_exposed(story)
    page = render_template(
        "curate/review.html",
        story=story,
        action_form=ActionForm(formdata=None, revision=story.revision),
        review_form=ReviewActionForm(formdata=None, revision=story.revision, message=story.note_to_narrator),
        note_form=NoteForm(formdata=None),
        assign_form=assign_form,
        newly_exposed=widening_words(*exposed) if exposed else [],
        neighbours=neighbours(story),
        queue_args=Filters.read(request.args).link_args() if request.args else {},
        narrow_form=narrow,
        consent_words=consent_words(consent),
        exposure_notes=exposure_notes(story),
        flags=sensitive.undecided(story) if story.status != StoryStatus.WITHDRAWN else [],
        error=error,
        lang=current_locale(),
    )
    return page, status


def neighbours(story: Story) -> tuple[str | None, str | None]:
    """The public ids of the stories before and after ``story`` in the queue the curator came
    from (its filters are in the page's query string), for the previous/next links and keys."""
    try:
        ids = ordered_ids(Filters.read(request.args), actor().id, current_locale())
    except BadFilter:
        return None, None
    if story.id not in ids:
        return None, None
    at = ids.index(story.id)
    before = ids[at - 1] if at > 0 else None
    after = ids[at + 1] if at + 1 < len(ids) else None
    return _public_id(before), _public_id(after)


def _public_id(story_id: int | None) -> str | None:
    found = db.session.get(Story, story_id) if story_id is not None else None
    return found.public_id if found is not None else None


@bp.get("/stories/<story_id>")
@curator_required
def review(story_id: str) -> tuple[str, int]:
    """The review page: text, media, consent in plain words and the actions."""
    story = get_story(story_id)
    if story.status == StoryStatus.WITHDRAWN:
        return render_review(story, stories.StoryRefused(stories.Refusal.WITHDRAWN).message)
    return render_review(story)


@bp.post("/stories/<story_id>/<action>")
@curator_required
def act(story_id: str, action: str) -> Response | tuple[str, int]:
    """Publish, unpublish, keep private, return to review or reject; refusals change nothing."""
    change = ACTIONS.get(action)
    if change is None:
        abort(404)
    story = get_story(story_id)
    form = ReviewActionForm()
    if not form.validate_on_submit():
        if form.message.errors:
            return render_review(
                story, _("The message to the narrator is too long (up to 1,000 characters)."), 400
            )
        abort(400)
    if form.revision.data != str(story.revision):
        return render_review(story, stale_message(), 409)
    try:
        if form.message.data is not None and "message" in request.form:
            curation.tell_narrator(story, form.message.data, actor())
        change(story, actor())
        db.session.commit()
    except stories.StoryRefused as refused:
        db.session.rollback()
        return render_review(get_story(story_id), refused.message, 409)
    except StaleDataError:
        # The narrator withdrew (or someone saved) between our read and our write: theirs wins.
        db.session.rollback()
        return render_review(get_story(story_id), stale_message(), 409)
    flash(_("Done."), "notice")
    return redirect(url_for("curate.review", story_id=story_id))


@bp.post("/stories/<story_id>/consent")
@curator_required
def narrow_consent(story_id: str) -> Response | tuple[str, int]:
    """Record narrower consent on the narrator's behalf; anything wider is refused (C10)."""
    story = get_story(story_id)
    form = ConsentNarrowForm()
    current = story.current_consent
    if not form.validate_on_submit() or form.visibility.data not in set(Visibility):
        return render_review(story, _("Please check the form."), 400)
    embargo: date | None = None
    if form.embargo_until.data:
        try:
            embargo = date.fromisoformat(form.embargo_until.data)
        except ValueError:
            return render_review(story, _("Write the date as YYYY-MM-DD, for example 2027-03-03."), 400)
    name = current.credit_name if current else ""
    credit = current.credit if current else Credit.ANONYMOUS
    choices = ConsentChoices(
        visibility=Visibility(form.visibility.data),
        credit=Credit.ANONYMOUS if form.anonymous.data else credit,
        credit_name=name,
        **{name: bool(form[name].data) for name in PERMISSIONS},
        embargo_until=embargo,
    )
    try:
        stories.change_consent(story, choices, language=current_locale(), curator=actor())
        db.session.commit()
    except stories.StoryRefused as refused:
        db.session.rollback()
        return render_review(get_story(story_id), refused.message, 409)
    flash(_("Consent narrowed."), "notice")
    return redirect(url_for("curate.review", story_id=story_id))


@bp.get("/media/<media_id>/<variant>")
@curator_required
def media(media_id: str, variant: str) -> Response:
    """Serve any media file to curators only: never cached, never sniffed, sandboxed (A07)."""
    found = db.session.scalar(select(MediaFile).where(MediaFile.public_id == media_id))
    if found is None or variant not in ("original", "display", "thumbnail"):
        abort(404)
    if not consent.curators_may_read(found.story):
        abort(404)
    key = {"original": found.storage_key, "display": found.display_key, "thumbnail": found.thumbnail_key}[
        variant
    ] or found.storage_key
    mime = content_type(key) or "application/octet-stream"
    try:
        handle = get_storage().open(key)
    except (StorageError, OSError):
        abort(404)
    response = send_file(handle, mimetype=mime, conditional=True, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Content-Disposition"] = "inline"
    return response
