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
from flask_babel import force_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from nuevonorte import consent
from nuevonorte.content_warnings import labels
from nuevonorte.headers import CONTENT_SECURITY_POLICY
from nuevonorte.i18n import current_locale, locales, prefix_language
from nuevonorte.models import Story
from nuevonorte.public.address import absolute_url, base_url
from nuevonorte.public.cards import card_image
from nuevonorte.public.lookup import story_or_404
from nuevonorte.public.media import MAX_AGE  # one limit for everything handed out

bp = Blueprint("embed", __name__, url_prefix="/<lang>")
prefix_language(bp)
oembed_bp = Blueprint("oembed", __name__)

#: Any site may frame this page, and only this page.
EMBED_CSP = CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", "frame-ancestors *")
#: The addresses of a story oEmbed answers for: persistent, its page, its player.
STORY_PATH = re.compile(r"/(?:s|(?P<lang>[a-z]{2})/(?:stories|embed))/(?P<id>[A-Za-z0-9_-]{1,32})/?")
#: A maxwidth or maxheight: ASCII digits ("²".isdigit() is true, and int() refuses it).
ASKED_SIZE = re.compile(r"[0-9]{1,5}")
#: The player's size when the consumer sets no limit (CSS pixels): room for a title, a photo and a player.
WIDTH, HEIGHT, HEIGHT_WITH_IMAGE = 560, 240, 520


def embeddable(story_id: str) -> Story:
    """The story if it may be embedded now; else the same 404 as for any story not public."""
    return story_or_404(story_id, consent.story_is_embeddable)


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
    try:
        parts = urlsplit(url)
        host = (parts.scheme, (parts.hostname or "").lower(), parts.port)
    except ValueError:  # not an address at all ("http://[::1/s/…")
        abort(404)
    ours = urlsplit(base_url())
    match = STORY_PATH.fullmatch(parts.path)
    if match is None or host != (ours.scheme, (ours.hostname or "").lower(), ours.port):
        abort(404)
    if match["lang"] is not None and match["lang"] not in locales():
        abort(404)
    lang = match["lang"] or locales()[0]
    found = embeddable(match["id"])
    width = _limit(WIDTH, "maxwidth")
    height = _limit(HEIGHT_WITH_IMAGE if card_image(found) is not None else HEIGHT, "maxheight")
    # No title or author: a consumer keeps what it is given, and the story's words and name
    # must not outlive a withdrawal on someone else's site. The frame asks the archive each time.
    answer: dict[str, Any] = {
        "version": "1.0",
        "type": "rich",
        "provider_name": "Nuevo Norte",
        "provider_url": base_url() + "/",
        "html": code(found, lang, width, height),
        "width": width,
        "height": height,
        "cache_age": MAX_AGE,
    }
    response = jsonify(answer)
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    return response


def code(story: Story, lang: str | None = None, width: int = WIDTH, height: int | None = None) -> str:
    """The HTML another website pastes to show ``story`` (its story page shows it too)."""
    lang = lang or current_locale()
    height = height or (HEIGHT_WITH_IMAGE if card_image(story) is not None else HEIGHT)
    src = absolute_url("embed.player", lang=lang, story_id=story.public_id)
    with force_locale(lang):
        # A neutral title: the code is pasted and kept elsewhere; the story's title is not.
        title = _("A story from the Nuevo Norte archive")
    frame = render_template("public/embed_frame.html", src=src, width=width, height=height, title=title)
    return frame.strip()


def _limit(size: int, name: str) -> int:
    """``size``, or at most what the consumer asks (``maxwidth``, ``maxheight``, as oEmbed says:
    never more than asked)."""
    asked = request.args.get(name, "")
    return min(size, int(asked)) if ASKED_SIZE.fullmatch(asked) and int(asked) > 0 else size
