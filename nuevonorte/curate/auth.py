"""Sign-in, sign-out, interface language, and the permission decorators of the workspace."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from nuevonorte import consent, drafts, staff
from nuevonorte.curate.forms import LanguageForm, SignInForm
from nuevonorte.curate.views import bp
from nuevonorte.extensions import db
from nuevonorte.i18n import is_locale
from nuevonorte.models import CuratorAccount, Role, Story, StoryStatus

login_manager = LoginManager()
# Flask-Login's "session protection" hashes the client address into the session; we keep
# no addresses at all (docs/security.md M17), and server-side sessions make it unnecessary.
login_manager.session_protection = None

F = TypeVar("F", bound=Callable[..., Any])

SIGNED_OUT_IDLE = _l("You were signed out after a period of inactivity. Please sign in again.")
DRAFT_KEPT = _l(
    "You were signed out after a period of inactivity, so nothing was saved yet. What you typed"
    " is kept: sign in again and the form will open with it, ready to check and save."
)
SIGN_IN_FAILED = _l("That email address and password do not match an active account.")
THROTTLED = _l("Too many failed attempts for this account. Please wait a minute and try again.")


class StaffUser(UserMixin):
    """The signed-in staff member; Flask-Login's id is the session token, not the account id."""

    def __init__(self, account: CuratorAccount, token: str) -> None:
        self.account = account
        self.token = token

    def get_id(self) -> str:
        return self.token

    @property
    def is_admin(self) -> bool:
        """Whether this person may manage accounts, vocabularies and read the audit trail."""
        return self.account.role == Role.ADMIN

    @property
    def is_translator(self) -> bool:
        """Whether this person only translates (``TRANSLATOR_MAY``)."""
        return self.account.role == Role.TRANSLATOR


@login_manager.user_loader
def _load(token: str) -> StaffUser | None:
    found, expired_for = staff.load_session(token)
    # The request's edge: an ended session's deletion, or a touch, is committed before the view
    # runs (a view that fails and rolls back must not bring an ended session back).
    if db.session.dirty or db.session.deleted:
        db.session.commit()
    if expired_for is not None:
        g.session_expired_for = expired_for
    return StaffUser(found.account, token) if found else None


@login_manager.unauthorized_handler
def _unauthorized() -> Response:
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    expired_for = g.get("session_expired_for")
    if expired_for is not None:
        page = _keep_draft(expired_for) if request.method == "POST" else None
        flash(str(DRAFT_KEPT if page else SIGNED_OUT_IDLE), "notice")
        target = page or target
    return redirect(url_for("curate.sign_in", next=target))


def _keep_draft(account_id: int) -> str | None:
    """Keep this post as a draft for the account whose session just expired, when it is a
    story form that account may use on a story it may still read; the form's page, or None.
    (The post already passed the CSRF check, which runs before any view.)"""
    page = drafts.page_of(request)
    account = db.session.get(CuratorAccount, account_id)
    story_id = (request.view_args or {}).get("story_id")
    if page is None or account is None or not account.is_active or not isinstance(story_id, str):
        return None
    if account.role == Role.TRANSLATOR and request.endpoint not in TRANSLATOR_MAY:
        return None
    story = db.session.scalar(select(Story).where(Story.public_id == story_id))
    if story is None or story.status == StoryStatus.WITHDRAWN or not consent.curators_may_read(story):
        return None
    if not drafts.keep(account.id, story, page, request.form):
        return None
    db.session.commit()
    return page


def signed_in() -> StaffUser:
    """The current staff user (views behind ``curator_required`` only)."""
    user: StaffUser = current_user._get_current_object()
    return user


def actor() -> CuratorAccount:
    """The account acting in this request, for domain functions and the audit trail."""
    return signed_in().account


#: All a translator may reach: the queue and a story's page to find work, the story's media to
#: listen, the translation form, the transcript editor (which keeps what curators withheld:
#: ``curate.transcripts.save_cues``) and the public preview. Not publishing, consent, notes,
#: bulk actions, descriptions, transcript uploads or parts, or collections (a 403, nothing
#: changes).
TRANSLATOR_MAY = frozenset(
    {
        "curate.queue",
        "curate.review",
        "curate.media",
        "curate.translation",
        "curate.save_translation",
        "curate.transcript",
        "curate.save_cues",
        "curate.story_preview",
        "curate.discard_draft",
    }
)


#: What every signed-in staff member reaches, translators included.
EVERY_ROLE_MAY = frozenset(
    {"curate.sign_in", "curate.sign_out", "curate.language", "curate.own_password", "curate.static"}
)


@bp.before_request
def _translators_translate() -> None:
    """A translator reaches only ``TRANSLATOR_MAY``: a 403 anywhere else in the workspace, before
    any view reads the form (the one place this rule lives)."""
    if current_user.is_authenticated and signed_in().is_translator:
        if request.endpoint not in TRANSLATOR_MAY | EVERY_ROLE_MAY:
            abort(403)


def curator_required(view: F) -> F:
    """Only signed-in staff; others are sent to sign in, nothing changes (translators are held
    to ``TRANSLATOR_MAY`` before any view, above)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def admin_required(view: F) -> F:
    """Only admins; a curator gets 403 (docs/security.md A05)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not signed_in().is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def safe_next(target: str | None, default: str) -> str:
    """``target`` when it is a same-site relative path, else ``default`` (docs/security.md A19)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Response | tuple[str, int] | str:
    """The sign-in page; same answer for an unknown account and a wrong password (A13)."""
    form = SignInForm()
    target = safe_next(request.args.get("next"), url_for("curate.queue"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(target)
    if not form.validate_on_submit():
        return render_template("curate/sign_in.html", form=form, error=None), 200
    result = staff.authenticate(form.email.data or "", form.password.data or "")
    db.session.commit()
    if result.outcome == staff.SignIn.THROTTLED:
        return render_template("curate/sign_in.html", form=form, error=str(THROTTLED)), 429
    if result.outcome == staff.SignIn.FAILED or result.account is None or result.token is None:
        return render_template("curate/sign_in.html", form=form, error=str(SIGN_IN_FAILED)), 200
    # A fresh session: nothing from before sign-in survives except the language choice (A10).
    lang = session.get("lang")
    session.clear()
    if is_locale(lang):
        session["lang"] = lang
    login_user(StaffUser(result.account, result.token))
    return redirect(target)


@bp.post("/sign-out")
def sign_out() -> Response:
    """End the session on the server, so a copy of the old cookie is anonymous (A10)."""
    if current_user.is_authenticated:
        staff.close_session(signed_in().token)
        db.session.commit()
    forget_browser_session()
    flash(_("You are signed out."), "notice")
    return redirect(url_for("curate.sign_in"))


def forget_browser_session() -> None:
    """Sign this browser out and empty its session, keeping only the language choice."""
    logout_user()
    lang = session.get("lang")
    session.clear()
    if is_locale(lang):
        session["lang"] = lang


@bp.post("/language")
def language() -> Response:
    """Remember the interface language chosen by the person (session only)."""
    form = LanguageForm()
    if form.validate_on_submit() and is_locale(form.lang.data):
        session["lang"] = form.lang.data
    return redirect(safe_next(form.next.data, url_for("curate.queue")))


@bp.app_context_processor
def _curate_globals() -> dict[str, Any]:
    from nuevonorte.consent import curators_may_read
    from nuevonorte.curate.wording import gap_label, status_label, story_state_label
    from nuevonorte.jobs.messages import kind_label, progress_text, reason_text, state_label
    from nuevonorte.jobs.records import latest_job, model_installed
    from nuevonorte.models import JobKind

    return {
        "language_form": LanguageForm,
        "status_label": status_label,
        "story_state_label": story_state_label,
        "gap_label": gap_label,
        "curators_may_read": curators_may_read,
        "job_state": lambda job: state_label(job.state),
        "job_reason": lambda job: reason_text(job.reason),
        "job_progress": lambda job: progress_text(job.state, job.progress),
        "draft_job": latest_job,
        "silencing_job": lambda media: latest_job(media, JobKind.SILENCED_COPY),
        "job_kind": lambda job: kind_label(job.kind),
        "speech_model_installed": model_installed,
    }
