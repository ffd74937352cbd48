"""The yes/no consent choices are declared once, on ``ConsentChoices`` (issue 22): the database
column, the contributors' form and the API, the curators' narrowing form and summaries, the import
sheet and the export are all made from that declaration, so adding a choice is its field, a
migration and the translations of its words. These tests walk every surface against the
declaration, and read the source for any other copy of the list."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlalchemy import Boolean

import nuevonorte
from nuevonorte import consent
from nuevonorte.contribute.forms import CONSENT_FIELDS, ContributionForm
from nuevonorte.curate.forms import ConsentNarrowForm
from nuevonorte.curate.wording import consent_words, widening_words
from nuevonorte.export.content import _consent as exported_consent
from nuevonorte.importer.sheet import REQUIRED
from nuevonorte.models import (
    PERMISSION_WORDS,
    PERMISSIONS,
    ConsentChoices,
    ConsentRecord,
    Credit,
    GivenBy,
    Visibility,
)

PACKAGE = Path(nuevonorte.__file__).parent
DECLARATION = PACKAGE / "models" / "consent.py"


def record(choices: ConsentChoices) -> ConsentRecord:
    return ConsentRecord(
        seq=1, text_version="test", text_language="es", given_by=GivenBy.CONTRIBUTOR, **choices.values()
    )


def test_the_declaration_is_the_choices_the_rules_read():
    """Voice, photos, collections and embedding are the yes/no choices; the media table names
    only them, and the safe defaults hold (C14): neither voice nor photos public, nor the story
    embedded on other websites, unless chosen."""
    assert PERMISSIONS == ("voice_public", "photos_public", "in_collections", "embeddable")
    assert set(consent.MEDIA_CHOICE.values()) <= set(PERMISSIONS)
    defaults = ConsentChoices()
    assert not any(defaults.allows(name) for name in ("voice_public", "photos_public", "embeddable"))


def test_each_choice_has_a_boolean_column_and_survives_a_round_trip(app):
    """The column is made from the declaration, not null, and a record reads back as the
    choices it was made from, one choice flipped at a time."""
    for name in PERMISSIONS:
        column = ConsentRecord.__table__.c[name]
        assert isinstance(column.type, Boolean) and not column.nullable
    base = ConsentChoices(visibility=Visibility.PUBLIC, credit=Credit.ANONYMOUS)
    for name in PERMISSIONS:
        flipped = replace(base, **{name: not base.allows(name)})
        assert ConsentChoices.of(record(flipped)) == flipped


def test_both_forms_ask_every_choice_in_its_own_words(app):
    """The contributors' form (and so the API, which reads the same form) asks each choice with
    its declared question, checked only where the safe default is; the curators' narrowing form
    with its curator label."""
    with app.test_request_context("/es/contribute"):
        contribution = ContributionForm(meta={"csrf": False})
        narrow = ConsentNarrowForm(meta={"csrf": False})
        for name, words in PERMISSION_WORDS.items():
            assert contribution[name].label.text == words.ask
            assert contribution[name].default is ConsentChoices().allows(name)
            assert narrow[name].label.text == words.curator
    assert set(PERMISSIONS) <= set(CONSENT_FIELDS)


def test_the_sheet_the_export_and_the_summaries_carry_every_choice(app):
    """The import sheet requires a column per choice; the full export writes each; the curators'
    summary says each, allowed or not; a narrator newly allowing one is a widening with its note."""
    assert set(PERMISSIONS) <= set(REQUIRED)
    none = ConsentChoices(
        visibility=Visibility.PUBLIC, credit=Credit.ANONYMOUS, **dict.fromkeys(PERMISSIONS, False)
    )
    with app.test_request_context("/curate"):
        for name, words in PERMISSION_WORDS.items():
            allowed = replace(none, **{name: True})
            assert exported_consent(record(allowed))[name] is True
            assert exported_consent(record(none))[name] is False
            assert str(words.granted) in consent_words(record(allowed))
            assert str(words.refused) in consent_words(record(none))
            assert consent.widenings(none, allowed) == [name]
            assert widening_words(none, allowed, [name]) == [str(words.widened)]
            assert consent.widenings(allowed, none) == []


#: How close together the names must be to be a copy of the list (a form's fields, a dict, a
#: column list): a rule that names one choice, and another rule a hundred lines on, is not.
WINDOW = 8


def lists_them_all(text: str) -> bool:
    lines = text.splitlines()
    return any(
        all(any(name in line for line in lines[start : start + WINDOW]) for name in PERMISSIONS)
        for start in range(len(lines))
    )


def test_no_other_module_or_template_repeats_the_list():
    """Only the declaration names every yes/no choice together: a module or template that lists
    them all is a copy, which the next choice would miss. (Naming one or two, as the media table
    does for the choice that governs a kind, is using a rule, not repeating the list.)"""
    copies = [
        str(path.relative_to(PACKAGE))
        for path in sorted([*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.html")])
        if path != DECLARATION and lists_them_all(path.read_text())
    ]
    assert copies == []
