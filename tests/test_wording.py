"""One word for one thing in each language (issue 13, item 12): a person under stress should
never wonder whether a "comprobante" and a "recibo", or a "relato" and a "historia", differ.

Read from the catalogues themselves, so a new string cannot bring the other word back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent


def _translations(lang: str) -> list[str]:
    with open(ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f)
    found = []
    for message in catalog:
        if message.id:
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            found.extend(s for s in strings if s)
    return found


@pytest.mark.parametrize(
    ("lang", "avoid", "because"),
    [
        ("es", r"\brelatos?\b", "a story is «historia» everywhere"),
        ("es", r"comprobante", "the code is «código de recibo» everywhere"),
        ("es", r"archivo se borró del archivo", "a file is not deleted from a file"),
        ("en", r"\breceipt number\b|\bvoucher\b", "the code is the «receipt code» everywhere"),
    ],
)
def test_one_word_for_one_thing(lang: str, avoid: str, because: str) -> None:
    offending = [s for s in _translations(lang) if re.search(avoid, s, re.IGNORECASE)]
    assert offending == [], because


def test_every_string_exists_in_both_languages() -> None:
    for lang in ("es", "en"):
        with open(ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
            catalog = read_po(f)
        empty = [
            m.id
            for m in catalog
            if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))
        ]
        assert empty == [], (lang, empty[:5])
