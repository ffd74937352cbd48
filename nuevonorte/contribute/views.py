"""The contribution flow and "my stories", under the language prefix (``/es/...``, ``/en/...``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from nuevonorte import consent, quota, ratelimit, receipts, stories
from nuevonorte.consent import CONSENT_TEXT_VERSION, ConsentChoices
from nuevonorte.contribute import signin
from nuevonorte.contribute.forms import ConfirmForm, ConsentForm, ContributionForm, PlainForm, ReceiptForm
from nuevonorte.contributions import MAX_FILES, Contribution, FileRefused, TooManyFiles, send
from nuevonorte.extensions import csrf, db
from nuevonorte.i18n import prefix_language
from nuevonorte.models import Contributor, MediaFile, MediaKind, Place, Story, StoryStatus, Theme
from nuevonorte.safe_input import NUL_REMOVED, keeps_text, nul_removed
from nuevonorte.uploads import tolerate_truncation, upload_incomplete

bp = Blueprint("contribute", __name__, url_prefix="/<lang>")

STATUS_WORDS = {
    StoryStatus.SUBMITTED: _l("Waiting for a curator of the workshop to read it"),
    StoryStatus.PUBLISHED: _l("Accepted by the curators"),
    StoryStatus.PRIVATE: _l("Kept in the archive, not shown to the public"),
    StoryStatus.REJECTED: _l("Not included in the archive"),
    StoryStatus.WITHDRAWN: _l("Withdrawn: you deleted it"),
}
INCOMPLETE = _l("The upload did not arrive complete, so nothing was saved. Please try again.")
QUOTA_NOTE = _l("Nothing was saved this time, your earlier stories are safe, and your text is still here.")
KEPT_NOTE = _l("Nothing was saved; your text is still here.")
EXPIRED = _l("For your safety, this form expired. We kept what you wrote: please send it again.")


prefix_language(bp)


def _too_many_text() -> str:
    return str(_("Many people are sending stories right now. Please wait a minute and try again."))


@bp.errorhandler(ratelimit.RateLimited)
def _too_many(e: ratelimit.RateLimited) -> tuple[str, int, dict[str, str]]:
    text = _too_many_text()
    page = render_template("errors/error.html", code=429, heading=_("Too many attempts"), text=text)
    return page, 429, {"Retry-After": str(e.retry_after)}


# --- contributing ---------------------------------------------------------------------------


# Exempt from the global CSRF hook only so that a cut-off upload can be told apart from a
# missing token; the form itself still checks the token (FlaskForm), before anything is saved.
@csrf.exempt
@bp.route("/contribute", methods=["GET", "POST"])
@keeps_text
def contribute() -> Any:
    """The contribution form; on success, the receipt page with the code (shown only once)."""
    limited = None
    if request.method == "POST":
        tolerate_truncation()
        try:
            ratelimit.hit("contribute")
        except ratelimit.RateLimited as e:
            limited = e
    form = ContributionForm()
    if request.method == "GET":
        form.language.data = g.lang
    _vocabulary_choices(form)
    if request.method == "GET" or "switch_language" in request.form:
        # A language switch posts the form to the other language's address: nothing is
        # saved or checked, the typed text comes back (C13).
        return _form_page(form, 200)
    if limited is not None:
        # Like every other refusal, the typed text comes back in the form (nothing was saved).
        page, status = _form_page(form, 429, problem=f"{_too_many_text()} {KEPT_NOTE}")
        return page, status, {"Retry-After": str(limited.retry_after)}
    if upload_incomplete():
        return _form_page(form, 400, problem=str(INCOMPLETE))
    if nul_removed():  # A23: the text comes back without its NULs; nothing is saved
        return _form_page(form, 400, problem=str(NUL_REMOVED))
    valid = form.validate()
    if "csrf_token" in form.errors:
        return _form_page(form, 400, problem=str(EXPIRED))
    files = [f for f in (*form.audio.data, *form.photos.data) if _has_content(f)]
    if valid and not form.body.data.strip() and not files:
        form.body.errors = [*form.body.errors, _("Write your story, record it or add a file.")]
        valid = False
    if not valid:
        return _form_page(form, 422)
    contribution = Contribution(
        body=form.body.data,
        choices=form.choices(),
        consent_language=g.lang,
        title=form.title.data or "",
        language=form.language.data,
        theme_ids=form.themes.data or [],
        place_ids=form.places.data or [],
    )
    contributor = signin.current()
    try:
        # U20: quotas before anything is stored; earlier contributions are never touched.
        receipt = send(contribution, [f.stream for f in files], contributor)
    except quota.QuotaExceeded as refused:
        db.session.rollback()
        problem = f"{refused.message()} {QUOTA_NOTE}"
        page, status = _form_page(form, refused.status, problem=problem)
        return page, status, {"Retry-After": str(refused.retry_after)}
    except TooManyFiles:
        db.session.rollback()
        problem = _("You can send up to %(count)d files with one story.", count=MAX_FILES)
        return _form_page(form, 413, problem=problem)
    except FileRefused as refused:
        db.session.rollback()
        # 422 for a file we could not take, 507 when the disk is full (F03): the text comes back.
        return _form_page(form, refused.rejected.status, problem=_file_problem(refused, files))
    db.session.commit()
    quota.record(receipt.file_sizes)
    page = render_template(
        "contribute/receipt.html",
        receipt=receipt,
        code_words=(receipt.code or "").split(),
        added=bool(contributor),
    )
    # The code is in this page only: never cache it anywhere.
    return page, 201, {"Cache-Control": "no-store"}


def _file_problem(refused: FileRefused, files: list[FileStorage]) -> str:
    """A message naming which file (by its place, never its name) and what was wrong."""
    return str(
        _(
            "File %(number)d of %(total)d: %(problem)s Nothing was saved; your text is still here.",
            number=refused.index,
            total=len(files),
            problem=refused.rejected.message,
        )
    )


def _has_content(upload: Any) -> bool:
    """Whether a file field carried a file (browsers send an empty part when none is chosen)."""
    if not isinstance(upload, FileStorage):
        return False
    stream = upload.stream
    position = stream.tell()
    present = bool(stream.read(1))
    stream.seek(position)
    return present


def _vocabulary_choices(form: ContributionForm) -> None:
    lang = g.lang
    themes = db.session.scalars(select(Theme)).all()
    places = db.session.scalars(select(Place)).all()
    form.themes.choices = sorted((SelectChoice(t.id, t.name(lang)) for t in themes), key=lambda c: c.label)
    form.places.choices = sorted((SelectChoice(p.id, p.name(lang)) for p in places), key=lambda c: c.label)


def _form_page(form: ContributionForm, status: int, problem: str | None = None) -> tuple[str, int]:
    page = render_template(
        "contribute/form.html",
        form=form,
        problem=problem,
        consent_version=CONSENT_TEXT_VERSION,
        max_files=MAX_FILES,
    )
    return page, status


# --- my stories -----------------------------------------------------------------------------


@bp.route("/my-stories", methods=["GET", "POST"])
def my_stories() -> Any:
    """Sign in with the receipt code, then see every story sent with it and its status."""
    form = ReceiptForm()
    if form.validate_on_submit():
        ratelimit.hit("receipt")
        contributor = receipts.find_contributor(form.code.data)
        if contributor is None:
            form.code.errors = [_("We do not know this code. Check each word and try again.")]
            return render_template("contribute/sign_in.html", form=form), 422
        signin.sign_in(contributor)
        return redirect(url_for(".my_stories"), 303)
    contributor = signin.current()
    if contributor is None:
        return render_template("contribute/sign_in.html", form=form), 422 if form.errors else 200
    found = db.session.scalars(
        select(Story).where(Story.contributor_id == contributor.id).order_by(Story.id.desc())
    ).all()
    return render_template(
        "contribute/my_stories.html", stories=found, forget=PlainForm(), words=STATUS_WORDS
    )


@bp.post("/my-stories/forget")
def forget() -> Response:
    """Forget the contributor on this device."""
    if PlainForm().validate_on_submit():
        signin.forget()
        quota.forget()
        flash(_("This device no longer remembers you. Your stories are safe."))
    return redirect(url_for(".my_stories"), 303)


@bp.route("/my-stories/<story_id>", methods=["GET", "POST"])
def my_story(story_id: str) -> Any:
    """One of my stories: change consent, withdraw a file, or withdraw the whole story."""
    _contributor, story = _own_story(story_id)
    form = ConsentForm(data=_consent_data(story) if request.method == "GET" else None)
    if story.status != StoryStatus.WITHDRAWN and form.validate_on_submit():
        stories.change_consent(story, form.choices(), language=g.lang)
        db.session.commit()
        flash(_("Saved. Your new choices apply from now on."))
        return redirect(url_for(".my_story", story_id=story.public_id), 303)
    status = 422 if form.errors else 200
    return render_template(
        "contribute/my_story.html",
        story=story,
        form=form,
        confirm=ConfirmForm(),
        words=STATUS_WORDS,
        is_public=consent.story_is_public(story),
        consent_version=CONSENT_TEXT_VERSION,
    ), status


@bp.post("/my-stories/<story_id>/withdraw")
def withdraw(story_id: str) -> Any:
    """Withdraw a whole story at once: text and files are deleted."""
    done = _("Your story was deleted: its text and files are gone from the archive.")
    if signin.current() is not None and _is_tombstone(story_id):
        # Sent twice (C07): the tombstone no longer names who sent it, so say it is done.
        flash(done)
        return redirect(url_for(".my_stories"), 303)
    _contributor, story = _own_story(story_id)
    confirm = ConfirmForm()
    if not confirm.validate_on_submit():
        flash(_("Tick the box to confirm. Nothing was deleted."))
        return redirect(url_for(".my_story", story_id=story.public_id), 303)
    stories.withdraw(story)
    db.session.commit()
    flash(done)
    return redirect(url_for(".my_stories"), 303)


def _is_tombstone(story_id: str) -> bool:
    return (
        db.session.scalar(
            select(Story.id).where(Story.public_id == story_id, Story.status == StoryStatus.WITHDRAWN)
        )
        is not None
    )


@bp.post("/my-stories/<story_id>/media/<media_id>/withdraw")
def withdraw_media(story_id: str, media_id: str) -> Any:
    """Withdraw one file of a story; the rest of the story stays as it is."""
    _contributor, story = _own_story(story_id)
    media = next((m for m in story.media if m.public_id == media_id), None)
    if media is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        flash(_("Tick the box to confirm. Nothing was deleted."))
    else:
        stories.withdraw_media(story, media)
        db.session.commit()
        flash(_("The file was deleted from the archive."))
    return redirect(url_for(".my_story", story_id=story.public_id), 303)


def _own_story(story_id: str) -> tuple[Contributor, Story]:
    """The signed-in contributor and their story; 404 for anyone else's (A04)."""
    contributor = signin.current()
    if contributor is None:
        flash(_("Please write your receipt code again."))
        abort(redirect(url_for(".my_stories"), 303))
    story = db.session.scalar(
        select(Story).where(Story.public_id == story_id, Story.contributor_id == contributor.id)
    )
    if story is None:
        abort(404)
    return contributor, story


def _consent_data(story: Story) -> dict[str, Any]:
    record = story.current_consent
    if record is None:
        return {}
    choices = ConsentChoices.of(record)
    return {
        "visibility": choices.visibility.value,
        "credit": choices.credit.value,
        "credit_name": choices.credit_name,
        "voice_public": choices.voice_public,
        "photos_public": choices.photos_public,
        "in_collections": choices.in_collections,
        "embargo_until": choices.embargo_until,
    }


def media_label(media: MediaFile) -> str:
    """A file's name for its owner, "Photo 2" or "Recording 1", never the original filename (M15)."""
    same_kind = [m for m in media.story.media if m.kind == media.kind]
    number = same_kind.index(media) + 1
    if media.kind == MediaKind.IMAGE:
        return str(_("Photo %(number)d", number=number))
    return str(_("Recording %(number)d", number=number))


bp.add_app_template_global(media_label)
