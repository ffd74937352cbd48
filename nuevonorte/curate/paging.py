"""Pages of a long staff list (the review queue, the audit trail), from the ``page`` argument."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from nuevonorte.extensions import db
from nuevonorte.safe_input import page_number


@dataclass(frozen=True)
class Page:
    """One page of rows, its number (from 1) and how many pages and rows there are."""

    rows: list[Any]
    number: int
    pages: int
    total: int


def page_of(query: Select[Any], size: int) -> Page:
    """The requested page of ``query`` (already ordered); past the end gives the last page, past
    any listing (``safe_input.MAX_PAGE``) a 404."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, -(-total // size))
    number = min(page_number(), pages)
    rows = list(db.session.scalars(query.offset((number - 1) * size).limit(size)).all())
    return Page(rows, number, pages, total)


def page_of_ids(ids: list[int], size: int, load: Callable[[list[int]], list[Any]]) -> Page:
    """The requested page of rows already ordered as ``ids`` (a sort SQL cannot do), loaded
    with ``load``; pages as ``page_of`` does."""
    total = len(ids)
    pages = max(1, -(-total // size))
    number = min(page_number(), pages)
    return Page(load(ids[(number - 1) * size : number * size]), number, pages, total)
