"""What crawlers read: robots.txt, sitemap.xml and the favicon at the site's root.

robots.txt states the configured choice: search engines on public pages (``allow_search_engines``,
default yes) and crawlers that gather text to train AI systems (``allow_ai_crawlers``, default
no). Contributors read the same choice in the consent text. The sitemap lists only what
``nuevonorte.consent`` makes public, in every language, and is built for each request (never
from the page cache), so a withdrawal leaves it at its commit (C05).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template, send_from_directory
from sqlalchemy import Select, func
from werkzeug.wrappers import Response

from nuevonorte import consent, term_counts
from nuevonorte.extensions import db
from nuevonorte.i18n import locales
from nuevonorte.models import Collection, Place, Story, Theme
from nuevonorte.public.address import X_DEFAULT, absolute_url, base_url
from nuevonorte.public.presentation import term_url

bp = Blueprint("crawlers", __name__)

#: User agents of crawlers that collect pages to train AI models (their operators' documented
#: names). Crawlers that fetch a page because a person asked for it are not on this list.
AI_CRAWLERS = (
    "GPTBot",
    "CCBot",
    "Google-Extended",
    "ClaudeBot",
    "anthropic-ai",
    "Applebot-Extended",
    "Bytespider",
    "meta-externalagent",
    "PerplexityBot",
    "cohere-ai",
    "Amazonbot",
    "Diffbot",
)

#: Pages with a language prefix that are no one's to index: forms, a person's own stories,
#: search results (endless combinations of the pages the sitemap lists).
PRIVATE_UNDER_LANGUAGE = ("contribute", "my-stories", "search")
PRIVATE = ("/curate/", "/api/", "/language")

#: Pages every language has, besides stories and collections.
STATIC_PAGES = ("public.home", "public.about", "public.how_it_works", "public.themes", "public.places")


def _private_paths() -> list[str]:
    return [*PRIVATE, *(f"/{code}/{name}" for code in locales() for name in PRIVATE_UNDER_LANGUAGE)]


def robots_txt() -> str:
    """The robots.txt of the configured choice (RFC 9309)."""
    search = bool(current_app.config["ALLOW_SEARCH_ENGINES"])
    ai = bool(current_app.config["ALLOW_AI_CRAWLERS"])
    public_pages = [f"Disallow: {path}" for path in _private_paths()]
    everything = ["Disallow: /"]
    lines = ["# Nuevo Norte archive: stories shared with their narrators' consent."]
    if not ai or not search:
        # A crawler that has a group of its own reads only that group: state its rules in full.
        lines += [f"User-agent: {agent}" for agent in AI_CRAWLERS]
        lines += (public_pages if ai else everything) + [""]
    lines += ["User-agent: *", *(public_pages if search else everything), ""]
    if search:
        lines.append(f"Sitemap: {absolute_url('crawlers.sitemap')}")
    return "\n".join(lines) + "\n"


@bp.get("/robots.txt")
def robots() -> Response:
    """Which crawlers may read which pages."""
    return Response(robots_txt(), mimetype="text/plain")


def _in_every_language(endpoint: str, **values: Any) -> dict[str, str]:
    """The page's URL in each locale, and x-default (the default locale's)."""
    urls = {code: absolute_url(endpoint, lang=code, **values) for code in locales()}
    urls[X_DEFAULT] = urls[current_app.config["BABEL_DEFAULT_LOCALE"]]
    return urls


#: URLs in one sitemap file: the protocol allows 50,000 (and 50 MB); each page is listed once
#: per language, each with its alternates, so a file holds MAX_URLS // languages pages.
MAX_URLS = 40_000


def _pages_per_file() -> int:
    return max(1, MAX_URLS // len(locales()))


def _few_pages() -> list[dict[str, str]]:
    """Pages besides stories, in order: the fixed ones, themes and places with public stories,
    public collections. There are few of them; stories come after, read a file's worth at once."""
    pages = [_in_every_language(endpoint) for endpoint in STATIC_PAGES]
    for model in (Theme, Place):
        for term, _count in term_counts.in_public_use(model):
            urls = {code: base_url() + term_url(term, lang=code) for code in locales()}
            pages.append(urls | {X_DEFAULT: urls[current_app.config["BABEL_DEFAULT_LOCALE"]]})
    collections = consent.public_collections().with_only_columns(Collection.public_id).order_by(Collection.id)
    pages += [
        _in_every_language("public.collection", collection_id=cid) for cid in db.session.scalars(collections)
    ]
    return pages


def _public_story_ids() -> Select[Any]:
    return consent.public_stories().with_only_columns(Story.public_id).order_by(Story.id)


def _file(pages: list[dict[str, str]]) -> Response:
    return _xml(render_template("public/sitemap.xml", pages=pages, locales=locales()))


def _xml(text: str) -> Response:
    response = Response(text, mimetype="application/xml")
    response.cache_control.no_cache = True
    return response


@bp.get("/sitemap.xml")
def sitemap() -> Response:
    """Every public page in every language, each with its alternates; past one file's worth, an
    index of numbered files (built for each request, never cached: C05)."""
    few = _few_pages()
    total = len(few) + _count_public_stories()
    files = -(-total // _pages_per_file())
    if files <= 1:
        return sitemap_part(1)
    parts = [absolute_url("crawlers.sitemap_part", part=number) for number in range(1, files + 1)]
    return _xml(render_template("public/sitemap_index.xml", parts=parts))


@bp.get("/sitemap-<int:part>.xml")
def sitemap_part(part: int) -> Response:
    """One numbered file of the sitemap index: its slice of the pages, in the index's order."""
    size = _pages_per_file()
    few = _few_pages()
    if part < 1 or (part - 1) * size >= len(few) + _count_public_stories():
        abort(404)
    start, end = (part - 1) * size, part * size
    pages = few[start:end]
    offset = max(0, start - len(few))
    ids = db.session.scalars(_public_story_ids().offset(offset).limit(end - start - len(pages)))
    return _file(pages + [_in_every_language("public.story", story_id=sid) for sid in ids])


def _count_public_stories() -> int:
    return db.session.scalar(_public_story_ids().with_only_columns(func.count()).order_by(None)) or 0


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The site's icon where browsers look for it first."""
    return send_from_directory(str(current_app.static_folder), "favicon.ico", max_age=86_400)
