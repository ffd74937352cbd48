"""Public pages. Every page lives under a language prefix: ``/es/...`` or ``/en/...``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from nuevonorte import consent
from nuevonorte.extensions import db
from nuevonorte.i18n import is_locale, negotiated_locale
from nuevonorte.models import Collection, Story

bp = Blueprint("public", __name__, url_prefix="/<lang>")
root = Blueprint("root", __name__)

RECENT_STORIES = 12


@bp.url_value_preprocessor
def _pull_lang(endpoint: str | None, values: dict[str, Any] | None) -> None:
    lang = (values or {}).pop("lang", None)
    if not is_locale(lang):
        abort(404)
    g.lang = lang


@bp.url_defaults
def _add_lang(endpoint: str, values: dict[str, Any]) -> None:
    if "lang" not in values and g.get("lang"):
        values["lang"] = g.lang


@root.get("/")
def index() -> Response:
    """Send the visitor to the home page in their browser's language (Spanish by default)."""
    return redirect(url_for("public.home", lang=negotiated_locale()))


@bp.get("/")
def home() -> str:
    """The home page: published collections and the most recent public stories."""
    collections = db.session.scalars(
        consent.public_collections().order_by(Collection.published_on.desc(), Collection.id.desc())
    ).all()
    stories = db.session.scalars(
        consent.public_stories().order_by(Story.published_on.desc(), Story.id.desc()).limit(RECENT_STORIES)
    ).all()
    return render_template("public/home.html", collections=collections, stories=stories)


@bp.get("/stories/<story_id>")
def story(story_id: str) -> str:
    """A public story page; the same 404 for a missing story and a non-public one."""
    found = db.session.scalar(select(Story).where(Story.public_id == story_id))
    if found is None or not consent.story_is_public(found):
        abort(404)
    return render_template("public/story.html", story=found)


@bp.get("/collections/<collection_id>")
def collection(collection_id: str) -> str:
    """A published collection, read as a narrative: introduction, then entries in order."""
    found = db.session.scalar(select(Collection).where(Collection.public_id == collection_id))
    if found is None or not consent.collection_is_public(found):
        abort(404)
    return render_template("public/collection.html", collection=found)
