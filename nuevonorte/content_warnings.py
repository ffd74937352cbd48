"""Content warnings curators can set on a story, shown to visitors before the story."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

WARNINGS: dict[str, LazyString] = {
    "detention": _l("Detention"),
    "violence": _l("Violence"),
    "family_separation": _l("Family separation"),
    "death": _l("Death or grief"),
    "sexual_violence": _l("Sexual violence"),
    "self_harm": _l("Self-harm"),
}


def labels(codes: list[str]) -> list[str]:
    """The localized labels of known warning codes, in the given order."""
    return [str(WARNINGS[c]) for c in codes if c in WARNINGS]
