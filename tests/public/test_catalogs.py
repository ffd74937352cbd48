"""Every message of the whole application exists in both languages, and compiled catalogs are fresh."""

from __future__ import annotations

import gettext
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent.parent
TRANSLATIONS = ROOT / "translations"
LOCALES = ("es", "en")


def _catalog(lang: str) -> Catalog:
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=lang)


def _translated(string: str | tuple[str, ...]) -> bool:
    return all(string) if isinstance(string, tuple) else bool(string)


@pytest.mark.parametrize("lang", LOCALES)
def test_every_message_is_translated_and_none_is_fuzzy(lang: str) -> None:
    catalog = _catalog(lang)
    untranslated = [m.id for m in catalog if m.id and not _translated(m.string)]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not untranslated, f"{lang}: untranslated {untranslated}"
    assert not fuzzy, f"{lang}: fuzzy {fuzzy}"


def test_every_extracted_message_is_in_both_catalogs(tmp_path: Path) -> None:
    """What `make translations` would extract today: a new string without a translation fails here."""
    pot = tmp_path / "messages.pot"
    CommandLineInterface().run(
        [
            "pybabel",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "_l",
            "-o",
            str(pot),
            "--no-location",
            "--omit-header",
            str(ROOT),
        ]
    )
    with pot.open("rb") as f:
        extracted = {m.id for m in read_po(f) if m.id}
    assert len(extracted) > 50  # the extraction really ran over templates and code
    for lang in LOCALES:
        known = {m.id for m in _catalog(lang) if m.id}
        assert not extracted - known, f"{lang}: missing {sorted(map(str, extracted - known))}"


@pytest.mark.parametrize("lang", LOCALES)
def test_compiled_catalog_matches_its_po(lang: str) -> None:
    """The .mo the app loads says exactly what the .po says (run `make compile-translations`)."""
    mo = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo"
    assert mo.is_file(), f"{mo} is missing: run `make compile-translations`"
    with mo.open("rb") as f:
        compiled = {k: v for k, v in gettext.GNUTranslations(f)._catalog.items() if k != ""}  # type: ignore[attr-defined]
    expected: dict[object, str] = {}
    for m in _catalog(lang):
        if not m.id or not _translated(m.string):
            continue
        if isinstance(m.id, tuple):
            for n, form in enumerate(m.string):
                expected[(m.id[0], n)] = form
        else:
            expected[m.id] = m.string
    assert compiled == expected
