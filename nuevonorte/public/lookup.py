"""The story or collection an address names, when the consent rule lets it be shown; else the
same 404 for one that never existed, one not public and one withdrawn. Every public surface
(pages, persistent addresses, the read API, the embedded player, IIIF) finds them here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort
from sqlalchemy import select

from nuevonorte import consent
from nuevonorte.extensions import db
from nuevonorte.models import Collection, Story


def story_or_404(
    public_id: str, rule: Callable[[Story], bool] = consent.story_is_public, options: tuple[Any, ...] = ()
) -> Story:
    """The story ``public_id`` names if ``rule`` (public, by default) allows it; else 404."""
    found = db.session.scalar(select(Story).where(Story.public_id == public_id).options(*options))
    if found is None or not rule(found):
        abort(404)
    return found


def collection_or_404(public_id: str) -> Collection:
    """The published collection ``public_id`` names; else 404."""
    found = db.session.scalar(select(Collection).where(Collection.public_id == public_id))
    if found is None or not consent.collection_is_public(found):
        abort(404)
    return found
