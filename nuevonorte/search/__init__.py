"""Search over the archive: the only code that imports Whoosh.

Public interface:

- ``search_public(q, lang, filters, page, pagelen)`` — the public index (only what
  ``nuevonorte.consent`` makes public today); ``search_staff(...)`` — the staff index.
  Both return ``SearchResults`` and raise ``SearchUnavailable`` when the index is missing or
  corrupt (show "temporarily unavailable", 503).
- ``init_app(app)`` — installs the session hooks that keep both indexes in step after every
  commit (``sync``); ``rebuild(progress)`` — ``nuevonorte reindex``; ``index_findings()`` —
  ``nuevonorte check``; ``index_due_embargoes()`` — embargoes that lifted.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from nuevonorte.search.health import IndexFinding, rebuild
from nuevonorte.search.health import findings as index_findings
from nuevonorte.search.query import CueHit, SearchHit, SearchResults, search_index
from nuevonorte.search.store import IndexUnavailable as SearchUnavailable
from nuevonorte.search.store import RebuildFailed
from nuevonorte.search.sync import apply_log, index_due_embargoes

__all__ = [
    "CueHit",
    "IndexFinding",
    "RebuildFailed",
    "SearchHit",
    "SearchResults",
    "SearchUnavailable",
    "apply_log",
    "index_due_embargoes",
    "index_exists",
    "index_findings",
    "init_app",
    "rebuild",
    "search_public",
    "search_staff",
]


def search_public(
    q: str, lang: str, filters: dict[str, str] | None = None, page: int = 1, pagelen: int = 10
) -> SearchResults:
    """Search what is public today. Facets: theme, place, country, language, media, decade."""
    from nuevonorte.search import recheck, store

    return _checked(store.PUBLIC, recheck.public, q, lang, filters, page, pagelen)


def search_staff(
    q: str, lang: str = "es", filters: dict[str, str] | None = None, page: int = 1, pagelen: int = 20
) -> SearchResults:
    """Search every story that is not withdrawn (submitted, private, rejected, embargoed...),
    all paragraphs and cues included, for curators only. Adds a ``status`` facet/filter.
    Hits carry ``public_id`` and ``status``; the caller links them to its curator pages."""
    from nuevonorte.search import recheck, store

    return _checked(store.STAFF, recheck.staff, q, lang, filters, page, pagelen)


def _checked(
    kind: str,
    keep: Callable[[SearchResults], SearchResults],
    q: str,
    lang: str,
    filters: dict[str, str] | None,
    page: int,
    pagelen: int,
) -> SearchResults:
    """Search ``kind`` and keep only the hits the database still allows (``keep``); a "did you
    mean" is kept only if its own first page still has such a hit (the index can lag)."""
    results = keep(search_index(kind, q, lang, filters, page, pagelen))
    if results.suggestion:
        suggested = keep(search_index(kind, results.suggestion, lang, filters, 1, pagelen))
        if not suggested.hits:
            results.suggestion = None
    return results


def index_exists() -> bool:
    """Whether both indexes are present and built with this version's schema (they may
    still be corrupt: see ``index_findings``). ``nuevonorte setup`` rebuilds when not."""
    from nuevonorte.search import store

    return store.is_current(store.PUBLIC) and store.is_current(store.STAFF)


def init_app(app: Flask) -> None:
    """Keep the indexes in step with every commit (SQLAlchemy session events), and let each
    worker's first request finish the index work a dead process left (decision 0007); size
    this process's decoded postings (``search_cache_mb``)."""
    from nuevonorte.search import sync
    from nuevonorte.search.whoosh_internals import postings_cache

    sync.install()
    app.before_request(sync.resume_after_dead_process)
    postings_cache.MAX_BYTES = int(app.config.get("SEARCH_CACHE_BYTES", postings_cache.MAX_BYTES))
