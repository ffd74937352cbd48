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

from flask import Flask

from nuevonorte.search.health import IndexFinding, rebuild
from nuevonorte.search.health import findings as index_findings
from nuevonorte.search.query import CueHit, SearchHit, SearchResults, search_index
from nuevonorte.search.store import IndexUnavailable as SearchUnavailable
from nuevonorte.search.store import RebuildFailed
from nuevonorte.search.sync import apply_outbox, index_due_embargoes

__all__ = [
    "CueHit",
    "IndexFinding",
    "RebuildFailed",
    "SearchHit",
    "SearchResults",
    "SearchUnavailable",
    "apply_outbox",
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

    return recheck.public(search_index(store.PUBLIC, q, lang, filters, page, pagelen))


def search_staff(
    q: str, lang: str = "es", filters: dict[str, str] | None = None, page: int = 1, pagelen: int = 20
) -> SearchResults:
    """Search every story that is not withdrawn (submitted, private, rejected, embargoed...),
    all paragraphs and cues included, for curators only. Adds a ``status`` facet/filter.
    Hits carry ``public_id`` and ``status``; the caller links them to its curator pages."""
    from nuevonorte.search import recheck, store

    return recheck.staff(search_index(store.STAFF, q, lang, filters, page, pagelen))


def index_exists() -> bool:
    """Whether both indexes are present and built with this version's schema (they may
    still be corrupt: see ``index_findings``). ``nuevonorte setup`` rebuilds when not."""
    from nuevonorte.search import store

    return store.is_current(store.PUBLIC) and store.is_current(store.STAFF)


def init_app(app: Flask) -> None:
    """Keep the indexes in step with every commit (SQLAlchemy session events), and let each
    worker's first request finish the index work a dead process left (decision 0007)."""
    from nuevonorte.search import sync

    sync.install()
    app.before_request(sync.resume_after_dead_process)
