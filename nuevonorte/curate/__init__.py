"""The curators' workspace at /curate: sign-in, review, description, transcripts, collections, admin."""

from __future__ import annotations

from nuevonorte.curate.views import bp

__all__ = ["bp"]
