"""Highlighting marks exactly the words whose indexed form a query looked for.

``highlight.Marker`` does not analyse every word of a text: it looks only at the words that
begin like a wanted form, found by one pattern in the text folded (``schema.fold_lowered``, by
a byte table when the text fits ``schema.CODE_PAGE``). These tests hold that quick path to the
slow one it stands for: every word of the text analysed, and kept when its form is wanted.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.support.charset import accent_map

from nuevonorte.search.highlight import Marker, Text
from nuevonorte.search.schema import ANALYZERS, CODE_PAGE, TOKEN, fold_in_place, fold_lowered

# Letters as stories spell them, accented and not, some that lower-casing lengthens ("İ") or
# that fold oddly (combining marks), digits, the underscore, and what separates words.
LETTERS = "abcdeilmnorstuvyáéíóúñüàèçåæøÁÉÑÜİŁΣσ0_\u0301\u0303"
SEPARATORS = [" ", "  ", ". ", ".", ", ", "\n", "-", "'", "¿", "!", "“", "”", "—", "’"]
SPANISH = ["deportación", "deportados", "vivía", "vivir", "niños", "experiencia", "migración", "río"]
ENGLISH = ["family", "families", "dying", "cities", "possibility", "organization", "U.S.A", "evening"]

words = st.one_of(
    st.text(alphabet=LETTERS, min_size=1, max_size=9),
    st.sampled_from(SPANISH + ENGLISH),
    st.sampled_from(SPANISH + ENGLISH).map(str.upper),
)


@st.composite
def texts_and_wanted(draw: st.DrawFn) -> tuple[str, str, frozenset[str]]:
    lang = draw(st.sampled_from(["es", "en"]))
    parts = draw(st.lists(st.tuples(words, st.sampled_from(SEPARATORS)), min_size=1, max_size=25))
    text = "".join(word + sep for word, sep in parts)
    analyzer = ANALYZERS[lang]
    forms = [form for m in TOKEN.finditer(text) if (form := analyzer.term(m.group().lower()))]
    asked = [m.group() for word in draw(st.lists(words, max_size=3)) for m in TOKEN.finditer(word)]
    wanted = set(draw(st.lists(st.sampled_from(forms), max_size=4))) if forms else set()
    wanted |= {form for word in asked for form in analyzer.query_terms(word)}  # words as typed
    return text, lang, frozenset(wanted)


def words_of(text: str, lang: str) -> list[tuple[int, int, str | None]]:
    """Each word as the index reads a text (the whole text lower-cased: "Σ" ending a word is
    "ς" there), with its form; positions in the text's own (a lower case can be longer: "İ")."""
    lowered = text.lower()
    back = [i for i, c in enumerate(text) for _ in c.lower()]
    assert len(back) == len(lowered)
    words = [(m, ANALYZERS[lang].term(m.group())) for m in TOKEN.finditer(lowered)]
    assert [form for _, form in words if form] == [t.text for t in ANALYZERS[lang](text)]  # the index's
    return [(back[m.start()], back[m.end() - 1] + 1, form) for m, form in words]


def every_word(text: str, lang: str, wanted: frozenset[str]) -> list[tuple[int, int]]:
    """The slow path: every word of ``text`` analysed."""
    return [(a, b) for a, b, form in words_of(text, lang) if form in wanted]


@settings(max_examples=600, deadline=None)
@given(texts_and_wanted(), st.data())
def test_the_words_marked_are_every_word_whose_form_is_wanted(
    case: tuple[str, str, frozenset[str]], data: st.DataObject
) -> None:
    text, lang, wanted = case
    marker = Marker(wanted, lang)
    expected = every_word(text, lang, wanted)
    assert marker.spans(text) == expected
    assert marker.spans(text, first=True) == expected[:1]
    # From any word's start on, as the snippet's window is read, up to any end: a word the end
    # cuts is not marked.
    forms = Text(text)
    for start in [0, *(a for a, _, _ in words_of(text, lang))]:
        end = data.draw(st.integers(min_value=start, max_value=len(text)))
        inside = [(a, b) for a, b in expected if a >= start and b <= end]
        assert marker.spans_in(forms, start, end) == inside, (start, end)


def test_accented_words_are_found_in_their_folded_text() -> None:
    marker = Marker(frozenset({"deport", "nin", "migracion"}), "es")
    text = "LA DEPORTACIÓN de los niños; la “Migración”. U.S.deportados"
    assert [text[a:b] for a, b in marker.spans(text)] == ["DEPORTACIÓN", "niños", "Migración"]
    assert Marker(frozenset({"b"}), "en").spans("U.S.B. and b.") == [(11, 12)]


def test_a_text_is_folded_alike_by_the_byte_table_and_by_whooshs_map() -> None:
    """Every character of the code page, and every other below U+3000 (which the byte table
    leaves to ``accent_map``), lower-cased as the highlighter and the analysers fold them."""
    every = "".join(map(chr, range(1, 0x3000))).lower()
    page = "".join(c for c in every if c.encode(CODE_PAGE, "ignore"))
    assert len(page) > 200
    assert all(len(folded) == 1 for folded in accent_map.values())
    for text in (page, every, page + "ł", "niños “año” — más"):
        assert fold_lowered(text) == text.translate(accent_map)
    word = re.compile(r"\w")
    assert all(bool(word.match(c)) == bool(word.match(fold_lowered(c))) for c in page)  # fold_in_place's
    # Combining marks that Whoosh's map folds into letters (none in the code page): a text
    # holding one is not read folded, since its words would move.
    assert fold_in_place("an\u0303o") is None and fold_in_place("año ł") == "ano l"
