"""Embedding, only where the narrator allowed it (the consent choice "may be shown on other
websites"): a player page made to live inside another website's frame (``/<lang>/embed/<id>``)
and the oEmbed endpoint that hands out its code (``/oembed``).

The frame always loads from this archive and its files from ``/media/``: once a story is
withdrawn or narrowed, every website that embedded it shows the same 404 as everyone else.
Only this page may be framed by other sites (``frame-ancestors *``); every other page keeps
``frame-ancestors 'none'`` and ``X-Frame-Options: DENY`` (``nuevonorte.headers``).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, jsonify, render_template, request
from sqlalchemy import select
from werkzeug.wrappers import Response

from nuevonorte import consent
from nuevonorte.content_warnings import labels
from nuevonorte.extensions import db
from nuevonorte.headers import CONTENT_SECURITY_POLICY
from nuevonorte.i18n import current_locale, locales, prefix_language
from nuevonorte.models import Story
from nuevonorte.models.base import localized
from nuevonorte.public.address import absolute_url, base_url
from nuevonorte.public.cards import card_image

bp = Blueprint("embed", __name__, url_prefix="/<lang>")
prefix_language(bp)
oembed_bp = Blueprint("oembed", __name__)

#: Seconds another site's visitors may keep the player: a withdrawal reaches them within this.
MAX_AGE = 300
#: Any site may frame this page, and only this page.
EMBED_CSP = CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", "frame-ancestors *")
#: The addresses of a story oEmbed answers for: persistent, its page, its player.
STORY_PATH = re.compile(r"/(?:s|(?P<lang>[a-z]{2})/(?:stories|embed))/(?P<id>[A-Za-z0-9_-]{1,32})/?")
#: The player's size when the consumer sets no limit (CSS pixels): room for a title, a photo and a player.
WIDTH, HEIGHT, HEIGHT_WITH_IMAGE = 560, 240, 520


def embeddable(story_id: str) -> Story:
    """The story if it may be embedded now; else the same 404 as for any story not public."""
    found = db.session.scalar(select(Story).where(Story.public_id == story_id))
    if found is None or not consent.story_is_embeddable(found):
        abort(404)
    return found


@bp.get("/embed/<story_id>")
def player(story_id: str) -> Response:
    found = embeddable(story_id)
    warnings = labels(found.warning_codes())
    body = render_template(
        "public/embed.html",
        story=found,
        warnings=warnings,
        held_back=bool(warnings) and request.args.get("show") != "1",
        image=card_image(found),
    )
    response = Response(body, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = EMBED_CSP
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    return response


@oembed_bp.get("/oembed")
def oembed() -> Response | tuple[str, int]:
    """oEmbed 1.0 (https://oembed.com): the player's code for a story that may be embedded.
    404 for any other address or story; 501 for a format other than JSON, as the spec says."""
    if request.args.get("format", "json") != "json":
        return "", 501
    url = request.args.get("url", "")
    parts = urlsplit(url)
    match = STORY_PATH.fullmatch(parts.path)
    ours = urlsplit(base_url())
    if match is None or (parts.scheme, parts.netloc) != (ours.scheme, ours.netloc):
        abort(404)
    lang = match["lang"] if match["lang"] in locales() else locales()[0]
    found = embeddable(match["id"])
    image = card_image(found) is not None
    width = _limit(WIDTH, "maxwidth")
    height = _limit(HEIGHT_WITH_IMAGE if image else HEIGHT, "maxheight")
    title = localized(found.title_es, found.title_en, lang)
    frame = code(found, lang, width, height)
    answer: dict[str, Any] = {
        "version": "1.0",
        "type": "rich",
        "provider_name": "Nuevo Norte",
        "provider_url": base_url() + "/",
        "title": title,
        "html": frame,
        "width": width,
        "height": height,
        "cache_age": MAX_AGE,
    }
    credit = consent.credit_line(found)
    if credit:
        answer["author_name"] = credit
    response = jsonify(answer)
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    return response


def code(story: Story, lang: str | None = None, width: int = WIDTH, height: int | None = None) -> str:
    """The HTML another website pastes to show ``story`` (its story page shows it too)."""
    lang = lang or current_locale()
    height = height or (HEIGHT_WITH_IMAGE if card_image(story) is not None else HEIGHT)
    src = absolute_url("embed.player", lang=lang, story_id=story.public_id)
    title = localized(story.title_es, story.title_en, lang)
    return render_template(
        "public/embed_frame.html", src=src, width=width, height=height, title=title
    ).strip()


def _limit(size: int, name: str) -> int:
    """``size``, or less when the consumer asks (``maxwidth``, ``maxheight``; at least 120)."""
    asked = request.args.get(name, "")
    return max(120, min(size, int(asked))) if asked.isdigit() and len(asked) < 6 else size
