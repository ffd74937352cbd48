"""The curators' workspace at /curate: sign-in, review, description, transcripts, collections, admin."""

from __future__ import annotations

from flask import Blueprint

from nuevonorte.curate.views import bp

__all__ = ["blueprint", "bp"]


def blueprint() -> Blueprint:
    """The curate blueprint with the routes of every view module on it (each module attaches
    its views to ``bp`` when imported; importing them here, not in ``views``, keeps the package
    free of an import cycle)."""
    from nuevonorte.curate import (  # noqa: F401
        admin,
        auth,
        collections,
        correction,
        describe,
        drafts,
        event_import,
        jobs,
        notes,
        partners,
        password,
        preview,
        queue,
        review,
        search,
        sensitive,
        transcripts,
        translation,
    )

    return bp
