"""Public pages. Every page lives under a language prefix: ``/es/...`` or ``/en/...``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from nuevonorte import consent, term_counts, translations, vocabulary
from nuevonorte.collections import collections_showing
from nuevonorte.content_warnings import labels
from nuevonorte.extensions import db
from nuevonorte.i18n import current_locale, locales, localize_view_args, negotiated_locale, prefix_language
from nuevonorte.models import Collection, Place, Story, Theme
from nuevonorte.public import citation, page_cache
from nuevonorte.public.cards import CARD_LOADS
from nuevonorte.public.lookup import collection_or_404, story_or_404
from nuevonorte.public.presentation import term_url
from nuevonorte.safe_input import page_number

bp = Blueprint("public", __name__, url_prefix="/<lang>")
root = Blueprint("root", __name__)

RECENT_STORIES = 12
PAGE_SIZE = 20
#: The media type of Citation Style Language input data.
CSL_JSON_TYPE = "application/vnd.citationstyles.csl+json; charset=utf-8"


prefix_language(bp)


bp.before_request(page_cache.serve_cached)
bp.after_request(page_cache.store)


@root.get("/")
def index() -> Response:
    """Send the visitor to the home page in their browser's language (Spanish by default)."""
    return redirect(url_for("public.home", lang=negotiated_locale()))


@bp.get("/")
def home() -> str:
    """The home page: published collections, the most recent public stories, and themes."""
    collections = db.session.scalars(
        consent.public_collections().order_by(Collection.published_on.desc(), Collection.id.desc())
    ).all()
    stories = db.session.scalars(
        consent.public_stories()
        .order_by(Story.published_on.desc(), Story.id.desc())
        .limit(RECENT_STORIES)
        .options(*CARD_LOADS)
    ).all()
    return render_template(
        "public/home.html", collections=collections, stories=stories, themes=themes_in_use()
    )


def themes_in_use() -> list[tuple[Theme | Place, int]]:
    """The themes of public stories with their counts: a few rows whatever the archive's size
    (``term_counts``)."""
    return term_counts.in_public_use(Theme)


@bp.get("/stories/<story_id>")
def story(story_id: str) -> str:
    """A public story page; the same 404 for a missing story and a non-public one."""
    found = story_or_404(story_id)
    warnings = labels(found.warning_codes())
    start = request.args.get("t", type=float)
    cited = citation.for_story(found)
    return render_template(
        "public/story.html",
        story=found,
        warnings=warnings,
        held_back=bool(warnings) and request.args.get("show") != "1",
        as_told=translations.public_paragraphs(found, current_locale()) is not None
        and request.args.get("original") == "1",
        start=max(0.0, start) if start is not None and start == start and start < 86_400 else None,
        collections=collections_showing(found),
        citation_text=citation.plain_text(cited),
        bibtex=citation.bibtex(cited),
        csl_json=citation.csl_json(cited),
    )


@bp.get("/stories/<story_id>/cite.bib")
def cite_bibtex(story_id: str) -> Response:
    """The story's citation as BibTeX; answers as the story page does (404 once not public)."""
    cited = citation.for_story(story_or_404(story_id))
    return Response(citation.bibtex(cited), content_type="application/x-bibtex; charset=utf-8")


@bp.get("/stories/<story_id>/cite.json")
def cite_csl_json(story_id: str) -> Response:
    """The story's citation as CSL-JSON; answers as the story page does (404 once not public)."""
    cited = citation.for_story(story_or_404(story_id))
    return Response(citation.csl_json(cited), content_type=CSL_JSON_TYPE)


@bp.get("/collections/<collection_id>")
def collection(collection_id: str) -> str:
    """A published collection, read as a narrative: introduction, then entries in order."""
    return render_template("public/collection.html", collection=collection_or_404(collection_id))


@bp.get("/themes/")
def themes() -> str:
    """Every theme that has public stories, with how many."""
    return render_template("public/terms.html", kind="themes", terms=themes_in_use())


@bp.get("/themes/<slug>")
def theme(slug: str) -> Response | str:
    """The public stories on one theme, newest first."""
    found = _term_or_redirect(Theme, slug)
    if isinstance(found, Response):
        return found
    return _term_page("themes", found, Story.themes.any(Theme.id == found.id))


@bp.get("/places/")
def places() -> str:
    """Every place that has public stories, with how many."""
    return render_template(
        "public/terms.html",
        kind="places",
        terms=term_counts.in_public_use(Place),
    )


@bp.get("/places/<slug>")
def place(slug: str) -> Response | str:
    """The public stories set in one place, newest first."""
    found = _term_or_redirect(Place, slug)
    if isinstance(found, Response):
        return found
    return _term_page("places", found, Story.places.any(Place.id == found.id))


def _term_or_redirect(model: type[Theme] | type[Place], slug: str) -> Theme | Place | Response:
    """The term a term page shows; a permanent redirect when the address used the other
    language's short id (``/en/themes/trabajo`` -> ``/en/themes/work``); 404 when none."""
    lang = current_locale()
    found = vocabulary.find_term(model, slug, lang)
    if found is None:
        abort(404)
    if slug != found.slug_for(lang):
        return redirect(term_url(found, page=request.args.get("page")), 301)
    localize_view_args({code: {"slug": found.slug_for(code)} for code in locales()})
    return found


@bp.get("/about")
def about() -> str:
    """What the archive is and who keeps it."""
    return render_template("public/about.html")


@bp.get("/how-it-works")
def how_it_works() -> str:
    """How to contribute, and how consent and withdrawal work."""
    return render_template("public/how_it_works.html")


def _term_page(kind: str, term: Theme | Place, condition: Any) -> str:
    page = page_number()
    total = term_counts.stories_naming(term)
    ids = term_counts.page_of_stories(term, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    # The page's stories read through the consent rule itself, whatever the counts say.
    stories = db.session.scalars(
        consent.public_stories()
        .where(Story.id.in_(ids), condition)
        .order_by(Story.published_on.desc(), Story.id.desc())
        .options(*CARD_LOADS)
    ).all()
    if page > 1 and not stories:
        abort(404)
    return render_template(
        "public/term.html",
        kind=kind,
        term=term,
        stories=stories,
        total=total,
        page=page,
        has_next=page * PAGE_SIZE < total,
    )
