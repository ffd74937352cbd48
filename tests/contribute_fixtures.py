"""Helpers for the contribution tests: real forms with real CSRF tokens, and leftovers checks."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from nuevonorte.consent import CONSENT_TEXT_VERSION
from nuevonorte.extensions import db
from nuevonorte.models import AuditEvent, ConsentRecord, Contributor, MediaFile, Story

CODE_RE = re.compile(r'id="receipt-code"[^>]*>([^<]+)<')


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on ``path``."""
    return form_tokens(client, path)["csrf_token"]


def form_tokens(client: FlaskClient, path: str) -> dict[str, str]:
    """The hidden tokens of the form on ``path``: CSRF and, on the contribution form, the
    form's own token (one story per sent form)."""
    html = client.get(path).get_data(as_text=True)
    found = dict(re.findall(r'name="(csrf_token|submission)" type="hidden" value="([^"]+)"', html))
    assert "csrf_token" in found, "no CSRF token on " + path
    return found


def sent(response: Any) -> bool:
    """Whether a contribution was saved: its answer led to the receipt page."""
    return response.status_code == 200 and response.request.path.endswith("/contribute/receipt")


def story_form(**overrides: Any) -> dict[str, Any]:
    """A complete, valid contribution (text only) with the safe defaults."""
    data: dict[str, Any] = {
        "title": "Cruzando",
        "body": "Salí de Oaxaca en marzo.\n\nLlegué a Tijuana.",
        "language": "es",
        "visibility": "public",
        "credit": "pseudonym",
        "credit_name": "Lupe",
        "in_collections": "y",
        "consent_version": CONSENT_TEXT_VERSION,
        "agree": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def upload(data: bytes, name: str = "file.bin") -> tuple[io.BytesIO, str]:
    """A file part for the test client."""
    return io.BytesIO(data), name


def contribute(client: FlaskClient, lang: str = "es", *, token: bool = True, **fields: Any) -> Any:
    """Post the contribution form in ``lang`` (with a real CSRF token unless ``token`` is False)
    and follow a redirect to the receipt (``sent`` tells a saved story)."""
    data = story_form(**fields)
    if token:
        data = {**form_tokens(client, f"/{lang}/contribute"), **data}
    return client.post(
        f"/{lang}/contribute", data=data, content_type="multipart/form-data", follow_redirects=True
    )


def receipt_code(response: Any) -> str:
    """The receipt code shown on a receipt page."""
    match = CODE_RE.search(response.get_data(as_text=True))
    assert match, "no receipt code on the page"
    return match.group(1).strip()


def counts() -> dict[str, int]:
    """How many rows each table of a contribution holds."""
    models = {"story": Story, "consent": ConsentRecord, "media": MediaFile, "contributor": Contributor}
    return {name: db.session.scalar(select(func.count()).select_from(m)) or 0 for name, m in models.items()}


def nothing_stored(app: Flask) -> None:
    """No story, consent, media, contributor, audit event, stored file or temporary file."""
    db.session.rollback()  # end any read snapshot; expires everything
    assert counts() == {"story": 0, "consent": 0, "media": 0, "contributor": 0}
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0
    media = Path(app.config["MEDIA_DIR"])
    held = media / ".tmp" / "held"  # files kept for a form being corrected (contribute/held.py)
    files = [p for p in media.rglob("*") if p.is_file() and held not in p.parents] if media.exists() else []
    assert files == []
