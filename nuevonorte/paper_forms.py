"""Paper consent forms of imported stories: how their references compare, and the forms whose
story its narrator withdrew, kept as keyed hashes so that importing the same sheet again never
brings a withdrawn story back (docs/security.md T18)."""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from sqlalchemy import select

from nuevonorte.extensions import db
from nuevonorte.models import Story, WithdrawnPaperForm


def form_key(reference: str) -> str:
    """How paper form references are compared: "TNN 017" and "tnn  017" are the same form."""
    return " ".join(reference.split()).casefold()


def digest(reference: str) -> str:
    """A keyed hash of the form's reference: without the archive's secret key and the paper
    form itself it says nothing, not even which workshop or day."""
    key = hmac.new(
        str(current_app.config["SECRET_KEY"]).encode(), b"nuevonorte withdrawn paper forms", hashlib.sha256
    ).digest()
    return hmac.new(key, form_key(reference).encode(), hashlib.sha256).hexdigest()


def remember_withdrawn(story: Story) -> None:
    """Before a withdrawal deletes its consent history: the story's paper forms, as hashes."""
    known = withdrawn()
    for consent in story.consents:
        if consent.paper_form_ref and (found := digest(consent.paper_form_ref)) not in known:
            db.session.add(WithdrawnPaperForm(digest=found))
            known.add(found)


def withdrawn() -> set[str]:
    """The hashes of every paper form whose story was withdrawn."""
    return set(db.session.scalars(select(WithdrawnPaperForm.digest)))
