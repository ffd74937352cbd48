"""The contribution flow and "my stories", under the language prefix (``/es/...``, ``/en/...``)."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import validate_csrf
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response
from wtforms import ValidationError
from wtforms.fields.choices import SelectChoice

from nuevonorte import admission, consent, quota, ratelimit, receipts, stories
from nuevonorte.consent import CONSENT_TEXT_VERSION, ConsentChoices
from nuevonorte.contribute import held, signin, submissions
from nuevonorte.contribute.forms import (
    CONSENT_FIELDS,
    ConfirmForm,
    ConsentForm,
    ContributionForm,
    PlainForm,
    ReceiptForm,
)
from nuevonorte.contributions import MAX_FILES, Contribution, FileRefused, Receipt, TooManyFiles, send
from nuevonorte.extensions import csrf, db
from nuevonorte.i18n import prefix_language
from nuevonorte.media import IngestReport
from nuevonorte.models import Contributor, MediaFile, MediaKind, Place, Story, StoryStatus, Theme
from nuevonorte.safe_input import NUL_REMOVED, keeps_text, nul_removed
from nuevonorte.storage import get_storage
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
EXPIRED = _l(
    "For your safety, this form expired. We kept what you wrote; please choose again who may see "
    "your story, then send it."
)
#: The session key of the receipt this device may show again (a token, never the code).
RECEIPT_KEY = "receipt"


prefix_language(bp)


@bp.after_request
def _never_cached(response: Response) -> Response:
    """Every page here may hold a person's words, code or stories: no cache keeps it, so
    nothing is left on the device after "forget me" (the Back button asks the server again)."""
    response.headers["Cache-Control"] = "no-store"
    return response


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
    """The contribution form. A story sent is answered with a redirect to its receipt page
    (post/redirect/get): reloading the receipt never sends the story again."""
    if request.method == "POST":
        tolerate_truncation()
    form = ContributionForm()
    _vocabulary_choices(form)
    if request.method == "GET":
        form.language.data = g.lang
        form.submission.data = submissions.new_token()
        return _form_page(form, 200)
    if not submissions.valid_token(form.submission.data):
        form.submission.data = submissions.new_token()
    token = form.submission.data
    trusted = _csrf_valid()
    if not trusted:
        # A post from another site (or an expired page) may carry the words back, never the
        # choices about who may see the story: those the person makes again, here.
        _forget_choices(form)
    if "switch_language" in request.form:
        # A language switch posts the form to the other language's address: nothing is saved
        # or checked, the typed text and the files already kept come back (C13).
        return _form_page(form, 200 if trusted else 400, problem=None if trusted else str(EXPIRED))
    if trusted and submissions.find(token) is not None:
        return _to_receipt(token, added=None)  # this form was already sent: no second story
    files = [(kind, f) for kind, f in _uploads(form) if _has_content(f)]
    if upload_incomplete():
        return _form_page(form, 400, problem=str(INCOMPLETE))
    if nul_removed():  # A23: the text comes back without its NULs; nothing is saved
        return _form_page(form, 400, problem=str(NUL_REMOVED))
    valid = form.validate()
    if not trusted:
        return _form_page(form, 400, problem=str(EXPIRED))
    storage = get_storage()
    dropped = set(request.form.getlist("drop_held"))
    held.drop(storage, token, dropped)
    if valid and not form.body.data.strip() and not files and not held.listed(storage, token):
        form.body.errors = [*form.body.errors, _("Write your story, record it or add a file.")]
        valid = False
    if not valid:
        return _form_page(form, 422, keep=files)
    try:
        admission.admit_contribution()  # only valid contributions count (decision 0008)
    except ratelimit.RateLimited as limited:
        # Like every other refusal, the typed text comes back in the form (nothing was saved;
        # the page the script keeps still holds the chosen files).
        page, status = _form_page(form, 429, problem=f"{_too_many_text()} {KEPT_NOTE}")
        return page, status, {"Retry-After": str(limited.retry_after)}
    return _send(form, token, [f for _kind, f in files])


def _send(form: ContributionForm, token: str, new_files: list[FileStorage]) -> Any:
    """Save the story with the files kept earlier and the new ones; redirect to its receipt."""
    storage = get_storage()
    contribution = Contribution(
        body=form.body.data,
        choices=form.choices(),
        consent_language=g.lang,
        title=form.title.data or "",
        language=form.language.data,
        theme_ids=form.themes.data or [],
        place_ids=form.places.data or [],
    )
    signed_in = signin.current()
    # On a shared phone the story is the new person's unless they say otherwise (one person,
    # one code): the person signed in before is signed out once the story is saved.
    contributor = signed_in if signed_in is not None and form.whose.data == "add" else None
    kept = held.open_all(storage, token)
    streams = [f for f, _removed in kept] + [f.stream for f in new_files]

    def remember(receipt: Receipt) -> None:  # in the contribution's own transaction
        submissions.record(token, receipt.story, receipt.code)
        submissions.sweep()  # erase older sealed codes now, not only when cron runs `sweep`
        if signed_in is not None and contributor is None:
            signin.sign_out()

    try:
        # U20: quotas before anything is stored; earlier contributions are never touched.
        receipt = send(contribution, streams, contributor, also=remember)
    except quota.QuotaExceeded as refused:
        problem = f"{refused.message()} {QUOTA_NOTE}"
        page, status = _form_page(form, refused.status, problem=problem)
        return page, status, {"Retry-After": str(refused.retry_after)}
    except TooManyFiles:
        problem = _("You can send up to %(count)d files with one story.", count=MAX_FILES)
        return _form_page(form, 413, problem=problem)
    except FileRefused as refused:
        # 422 for a file we could not take, 507 when the disk is full (F03): the text comes back.
        return _form_page(form, refused.rejected.status, problem=_file_problem(refused, len(streams)))
    except IntegrityError:
        # The same form sent twice at once: the other request saved it; this one saved nothing.
        return _to_receipt(token, added=None)
    finally:
        for stream in streams[: len(kept)]:
            stream.close()
    for report, (_f, removed) in zip(receipt.reports, kept, strict=False):
        report.removed = sorted({*report.removed, *removed})  # what the first cleaning removed
    reports = [(str(r.kind), list(r.removed)) for r in receipt.reports]
    held.release(storage, token)
    return _to_receipt(token, added=contributor is not None, reports=reports)


def _to_receipt(
    token: str, added: bool | None, reports: list[tuple[str, list[str]]] | None = None
) -> Response:
    """Remember on this device which receipt to show, and go there (303: a GET)."""
    previous = _receipt_on_device()
    if added is None:  # sent again: keep what the first answer knew
        same = previous.get("token") == token
        added = bool(previous.get("added")) if same else False
        reports = previous.get("reports", []) if same else []
    session[RECEIPT_KEY] = {"token": token, "added": added, "reports": reports or []}
    return redirect(url_for(".receipt"), 303)


def _receipt_on_device() -> dict[str, Any]:
    """This device's receipt to show ({"token", "added", "reports"}), or {} if none."""
    value = session.get(RECEIPT_KEY)
    if isinstance(value, dict) and submissions.valid_token(value.get("token")):
        return value
    return {}


@bp.get("/contribute/receipt")
def receipt() -> Any:
    """The receipt of the story sent last from this device, as often as it is reloaded, until
    the person says they wrote the code down (or ``submissions.SHOWN_FOR`` has passed)."""
    value = _receipt_on_device()
    found = submissions.find(value["token"]) if value else None
    if found is None or found.story is None:
        session.pop(RECEIPT_KEY, None)
        return redirect(url_for(".contribute"), 303)
    code = submissions.code(found, value["token"])
    reports = [IngestReport(MediaKind(kind), list(removed)) for kind, removed in value.get("reports", [])]
    return render_template(
        "contribute/receipt.html",
        code=code,
        code_words=(code or "").split(),
        added=bool(value.get("added")),
        reports=reports,
        done=PlainForm(),
    )


@bp.post("/contribute/receipt/done")
def receipt_done() -> Response:
    """ "I wrote it down": the code is erased from the archive and from this device."""
    if PlainForm().validate_on_submit():
        value = _receipt_on_device()
        session.pop(RECEIPT_KEY, None)
        if value:
            submissions.written_down(value["token"])
            db.session.commit()
        flash(_("Done. Keep your code safe: with it you can come back to your story whenever you want."))
        return redirect(url_for(".my_stories"), 303)
    return redirect(url_for(".receipt"), 303)


def _csrf_valid() -> bool:
    """Whether the post carries this site's CSRF token (as FlaskForm checks it; a test server
    may turn the check off, as for every other form)."""
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return True
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return False
    return True


def _forget_choices(form: ContributionForm) -> None:
    """Back to their defaults: the consent choices (they are made on this page, never brought
    from elsewhere), the agreement and whose story it is."""
    for name in (*CONSENT_FIELDS, "agree", "whose"):
        field = getattr(form, name)
        field.data = field.default
        field.raw_data = []


def _uploads(form: ContributionForm) -> list[tuple[str, FileStorage]]:
    return [("audio", f) for f in form.audio.data or []] + [("photo", f) for f in form.photos.data or []]


def _file_problem(refused: FileRefused, total: int, kept: bool = False) -> str:
    """A message naming which file (by its place, never its name) and what was wrong."""
    if kept:  # the form had other problems too: this file is not among those kept
        return str(
            _(
                "File %(number)d of %(total)d could not be kept: %(problem)s",
                number=refused.index,
                total=total,
                problem=refused.rejected.message,
            )
        )
    return str(
        _(
            "File %(number)d of %(total)d: %(problem)s Nothing was saved; your text is still here.",
            number=refused.index,
            total=total,
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


def _form_page(
    form: ContributionForm,
    status: int,
    problem: str | None = None,
    keep: list[tuple[str, FileStorage]] | None = None,
) -> tuple[str, int]:
    """The form again, with what the person typed and, when the page can be trusted (its
    token), the files they sent kept for the next try (``held``)."""
    token = form.submission.data
    storage = get_storage()
    if keep and submissions.valid_token(token):
        refused = held.keep(storage, token, [f.stream for _kind, f in keep])
        if refused:  # said with the other problems; the files that could be kept are listed
            said = [
                _file_problem(FileRefused(index, rejected), len(keep), kept=True)
                for index, rejected in refused
            ]
            problem = " ".join([problem or "", *said]).strip()
    page = render_template(
        "contribute/form.html",
        form=form,
        problem=problem,
        consent_version=CONSENT_TEXT_VERSION,
        max_files=MAX_FILES,
        held=held.listed(storage, token) if submissions.valid_token(token) else [],
        signed_in=signin.current() is not None,
        pending_receipt=_pending_receipt(),
    )
    return page, status


def _pending_receipt() -> bool:
    """Whether this device has a receipt whose code was not yet written down (Back from it)."""
    return bool(_receipt_on_device())


# --- my stories -----------------------------------------------------------------------------


@bp.route("/my-stories", methods=["GET", "POST"])
def my_stories() -> Any:
    """Sign in with the receipt code, then see every story sent with it and its status."""
    form = ReceiptForm()
    if form.validate_on_submit():
        try:
            contributor = admission.find_contributor(form.code.data)
        except ratelimit.RateLimited as busy:  # under pressure, without a proof (decision 0008)
            page = render_template("contribute/sign_in.html", form=form, busy=True)
            return page, 429, {"Retry-After": str(busy.retry_after)}
        if contributor is None:
            form.code.errors = [_code_problem(form.code.data)]
            return render_template("contribute/sign_in.html", form=form), 422
        signin.sign_in(contributor)
        db.session.commit()
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


def _code_problem(typed: str) -> str:
    """What is wrong with a code that signs nobody in: a word not in the list, by name, if any."""
    unknown = receipts.unknown_words(typed)
    if unknown:
        return str(
            _(
                "The word “%(word)s” is not in our list of words. Check how it is written on your "
                "paper or photo; the other words are fine.",
                word=unknown[0],
            )
        )
    if len(receipts.typed_words(typed)) != receipts.WORDS:
        return str(_("A receipt code has %(count)d words. Check that none is missing.", count=receipts.WORDS))
    return str(_("We do not know this code. Check each word and try again."))


@bp.post("/my-stories/forget")
def forget() -> Response:
    """Forget the contributor on this device."""
    if PlainForm().validate_on_submit():
        signin.forget(signin.current())
        db.session.commit()
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
    page = render_template(
        "contribute/my_story.html",
        story=story,
        form=form,
        confirm=ConfirmForm(),
        words=STATUS_WORDS,
        is_public=consent.story_is_public(story),
        consent_version=CONSENT_TEXT_VERSION,
    )
    # Their unpublished words and files: no copy in any cache, nor after a deletion and "back".
    return page, status, {"Cache-Control": "no-store"}


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
    return choices.values() | {"visibility": choices.visibility.value, "credit": choices.credit.value}


def media_label(media: MediaFile) -> str:
    """A file's name for its owner, "Photo 2" or "Recording 1", never the original filename (M15)."""
    same_kind = [m for m in media.story.media if m.kind == media.kind]
    number = same_kind.index(media) + 1
    if media.kind == MediaKind.IMAGE:
        return str(_("Photo %(number)d", number=number))
    return str(_("Recording %(number)d", number=number))


bp.add_app_template_global(media_label)
