"""Choosing the interface language for pages without a language prefix (A16, A18, A19)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, request, session
from werkzeug.wrappers import Response

from nuevonorte.i18n import is_locale

bp = Blueprint("language", __name__)


def safe_next(target: str | None) -> str:
    """``target`` when it is a same-site relative path, else "/" (never another site: A19)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ord(c) < 32 or c == "\\" for c in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


@bp.post("/language")
def choose() -> Response:
    """Remember the chosen language in the session and go back (CSRF-protected like every POST)."""
    lang = request.form.get("lang")
    if not is_locale(lang):
        abort(400)
    session["lang"] = lang
    return redirect(safe_next(request.form.get("next")), code=303)
