"""What a partner archive asks of this one, under ``/api/v1``: who we are (``/archive``), a
subscription to our withdrawal notices, the check of a subscription we asked for, and the
notices it sends us. Nothing here authenticates by cookie (no CSRF); the notices carry their
own signature (``notices``)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import func
from werkzeug.wrappers import Response

from nuevonorte import consent
from nuevonorte.extensions import csrf, db
from nuevonorte.i18n import negotiated_locale
from nuevonorte.models import Story
from nuevonorte.partners import notices
from nuevonorte.public.address import base_url

bp = Blueprint("partner_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

#: The largest subscription or notice body read.
MAX_BODY = 256 * 1024

_MESSAGES = {
    "bad_request": lambda: _("The request is not one this archive understands."),
    "not_a_partner": lambda: _("This archive has not added yours as a partner."),
    "not_confirmed": lambda: _("Your archive did not confirm this subscription at its own address."),
    "bad_signature": lambda: _("The notice's signature or time is not valid."),
    "too_soon": lambda: _(
        "This archive checked a subscription of yours a moment ago. Try again in a minute."
    ),
}


@bp.url_value_preprocessor
def _language(_endpoint: str | None, _values: dict[str, Any] | None) -> None:
    g.lang = negotiated_locale()


def _refused(refused: notices.Refused) -> tuple[Response, int]:
    return jsonify(error=refused.code, message=_MESSAGES[refused.code]()), refused.status


def _body() -> bytes | None:
    if request.content_length is not None and request.content_length > MAX_BODY:
        return None
    data = request.stream.read(MAX_BODY + 1)
    return None if len(data) > MAX_BODY else data


def _json(body: bytes | None) -> object:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


@bp.get("/archive")
def archive() -> Response:
    """Who this archive is, for an archive that adds it as a partner."""
    count = db.session.scalar(consent.public_stories().with_only_columns(func.count(Story.id)).order_by(None))
    return jsonify(
        name=current_app.config["ARCHIVE_NAME"],
        software="nuevonorte",
        api="1",
        url=base_url(),
        stories=count or 0,
    )


@bp.post("/partners/subscribe")
def subscribe() -> Response | tuple[Response, int]:
    """A partner asks for our withdrawal notices (``notices.accept``)."""
    body = _body()
    try:
        notices.accept(_json(body))
    except notices.Refused as refused:
        return _refused(refused)
    return jsonify(subscribed=True)


@bp.get("/partners/confirm")
def confirm() -> tuple[Response, int]:
    """Whether this archive asked the archive ``from`` for notices with a key of ``digest``."""
    confirmed = notices.confirms(request.args.get("from", "")[:300], request.args.get("digest", "")[:64])
    return jsonify(confirmed=confirmed), 200 if confirmed else 404


@bp.post("/partners/notices")
def receive_notice() -> Response | tuple[Response, int]:
    """A partner tells us which of its stories left public view (``notices.receive``)."""
    body = _body()
    if body is None:
        return _refused(notices.Refused("bad_request", 413))
    try:
        removed = notices.receive(request.headers, body)
    except notices.Refused as refused:
        return _refused(refused)
    return jsonify(removed=removed)
