"""The JSON API for partner tools: workshops upload stories collected on tablets at events.

``POST /api/v1/contributions`` takes the same multipart fields and files as the web form and
goes through the same rules, limits and ingest. Answers are JSON; errors carry a stable
``error`` code and a ``message`` in the language of ``Accept-Language``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from nuevonorte import admission, quota, ratelimit
from nuevonorte.contribute.forms import ContributionForm
from nuevonorte.contributions import MAX_FILES, Contribution, FileRefused, TooManyFiles, send
from nuevonorte.extensions import csrf, db
from nuevonorte.i18n import negotiated_locale
from nuevonorte.models import Place, Theme
from nuevonorte.uploads import tolerate_truncation, upload_incomplete

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# CSRF protects cookie-authenticated browsers from being made to post by another site. This
# API authenticates nothing by cookie (each call stands alone and returns its own receipt
# code); the session cookie only carries the daily upload counters (``nuevonorte.quota``), so a
# forged cross-site request gains nothing an attacker could not send directly.
csrf.exempt(bp)


@bp.url_value_preprocessor
def _language(_endpoint: str | None, _values: dict[str, Any] | None) -> None:
    # Only Accept-Language decides, never a cookie; set before any hook may refuse the request.
    g.lang = negotiated_locale()


def error(code: str, message: str, status: int, **extra: Any) -> tuple[Response, int]:
    """A JSON error with a stable code and a localized message; ``kept: false`` says the archive
    kept nothing of the request, so the client still holds everything it typed and recorded."""
    return jsonify(error=code, message=message, kept=False, **extra), status


@bp.errorhandler(ratelimit.RateLimited)
def _too_many(e: ratelimit.RateLimited) -> tuple[Response, int, dict[str, str]]:
    # Under pressure, a fresh challenge: solved and sent back with the contribution (fields
    # pow_challenge and pow_nonce), it is accepted at once (decision 0008).
    extra = {"challenge": e.challenge.as_json()} if isinstance(e, admission.Busy) else {}
    message = _("Too many uploads right now. Please wait and try again.")
    body, status = error("rate_limited", message, 429, **extra)
    return body, status, {"Retry-After": str(e.retry_after)}


@bp.errorhandler(HTTPException)
def _http(e: HTTPException) -> tuple[Response, int]:
    code = e.code or 500
    if code == 413:
        return error("too_large", _("What you sent is larger than the archive accepts."), 413)
    if code == 405:
        return error("method_not_allowed", _("Use POST to send a contribution."), 405)
    if code == 404:
        return error("not_found", _("There is nothing at this address."), 404)
    if code == 414:
        return error("too_long", _("The address is too long."), 414)
    return error("bad_request", _("Something in the request was not right."), 400 if code < 500 else code)


@bp.post("/contributions")
def contributions() -> Any:
    """Receive one contribution; answer with the receipt code and what was removed per file.

    Every refusal says that nothing was kept (``kept: false``): the client still has what it
    sent and sends it again as it is.
    """
    if request.mimetype != "multipart/form-data":
        return error("unsupported_media_type", _("Send the contribution as multipart/form-data."), 415)
    tolerate_truncation()
    if upload_incomplete():
        return error(
            "upload_incomplete",
            _("The upload did not arrive complete. Nothing was saved: please retry."),
            400,
        )
    form = ContributionForm(meta={"csrf": False})
    form.themes.choices = [SelectChoice(t.id, t.slug) for t in db.session.scalars(db.select(Theme))]
    form.places.choices = [SelectChoice(p.id, p.slug) for p in db.session.scalars(db.select(Place))]
    if not form.validate():
        if form.agree.errors or form.consent_version.errors:
            message = _("The contributor's consent is missing or was given to another version of the text.")
            return error("consent_required", message, 422, fields=form.errors)
        return error("invalid_fields", _("Some fields are missing or not valid."), 422, fields=form.errors)
    # A file field sent as a plain text part arrives as a string: it carries no file.
    files = [
        f
        for f in (*form.audio.data, *form.photos.data)
        if isinstance(f, FileStorage) and f.stream.read(1) and f.stream.seek(0) == 0
    ]
    if not (form.body.data or "").strip() and not files:
        return error("empty", _("A contribution needs a text, a recording or a photo."), 422)
    admission.admit_contribution()  # only valid contributions count (decision 0008)
    contribution = Contribution(
        body=form.body.data or "",
        choices=form.choices(),
        consent_language=g.lang,
        title=form.title.data or "",
        language=form.language.data,
        theme_ids=form.themes.data or [],
        place_ids=form.places.data or [],
    )
    try:
        receipt = send(contribution, [f.stream for f in files])  # U20: quotas first
    except quota.QuotaExceeded as refused:
        body, status = error(refused.code, refused.message(), refused.status)
        return body, status, {"Retry-After": str(refused.retry_after)}
    except TooManyFiles:
        return error(
            "too_many_files", _("Send at most %(count)d files with one story.", count=MAX_FILES), 413
        )
    except FileRefused as refused:
        return error(
            "file_refused",
            refused.rejected.message,
            refused.rejected.status,  # 422, or 507 when the archive's disk is full (F03)
            file=refused.index,
            file_error=refused.rejected.code,
        )
    return jsonify(
        receipt_code=receipt.code,
        story_id=receipt.story.public_id,
        files=[
            {"kind": str(r.kind), "removed": list(r.removed), "messages": r.messages()}
            for r in receipt.reports
        ],
    ), 201
