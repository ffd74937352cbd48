"""Pairs of common words (decision 0034): chosen by a rebuild from public documents only, kept
as hashes, found by a phrase as its words' positions find it, and purged with their story.

That a pair term matches exactly what positions match is asked of every phrase, with any words
common, in ``test_search_matching``; here the archive's own rebuild, writes and purge.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh.fields import TEXT

from nuevonorte import search, stories
from nuevonorte.extensions import db
from nuevonorte.models import Story, StoryStatus
from nuevonorte.search import common_words, store
from nuevonorte.search.documents import PublicDocument
from nuevonorte.search.schema import ANALYZERS, WORD_HASHES, SharedText, pair_term, stem, word_hash
from tests.index_bytes import words_in
from tests.search_fixtures import public_lexicon

pytestmark = pytest.mark.usefixtures("index")

SECRET = "xilofonista"  # a word found nowhere else


def found(q: str) -> set[str]:
    return {hit.public_id for hit in search.search_public(q, "es").hits}


def chosen(kind: str) -> common_words.Common:
    return common_words.load(store.index_path(kind).resolve())


def form(word: str) -> str:
    found_form = stem(word, "es")
    assert found_form is not None
    return found_form


def test_common_words_are_chosen_from_public_documents_only(
    make_story: Callable[..., Story], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A word three public stories share is common; a word three private stories share is not,
    though the staff index holds it; the choice is kept as numbers, no word. The staff index
    (curators' search) has no pairs."""
    monkeypatch.setattr(common_words, "MIN_SHARED", 3)
    monkeypatch.setattr(common_words, "SHARE", 0.5)
    for _ in range(3):
        make_story(body="La maquiladora cerró de noche.")
        make_story(status=StoryStatus.PRIVATE, body=f"Un {SECRET} en la maquiladora.")
    search.rebuild()
    public = chosen(store.PUBLIC)
    assert word_hash(form("maquiladora")) in public["es"]
    assert word_hash(form(SECRET)) not in public["es"]  # three stories hold it, none public
    assert chosen(store.STAFF) == common_words.NONE
    kept = (store.index_path(store.PUBLIC).resolve() / common_words.PAIRS_FILE).read_text()
    assert all(isinstance(n, int) for numbers in json.loads(kept).values() for n in numbers)


@pytest.fixture
def real_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common_words, "MIN_SHARED", 50)
    monkeypatch.setattr(common_words, "SHARE", 0.1)
    monkeypatch.setattr(common_words, "MOST", 64)


@pytest.mark.usefixtures("real_thresholds")
@pytest.mark.parametrize("documents", [200, 1_000])
def test_a_word_is_common_in_a_tenth_of_the_documents_and_at_least_fifty(documents: int) -> None:
    """The real thresholds, on documents' fields as a rebuild samples them: a word needs a
    tenth of the documents with text in its language, and fifty of them."""
    least = max(documents // 10, 50)
    held = {"camino": documents, "decimo": least, "raro": least - 1}
    texts = [
        PublicDocument({"text_es": " ".join(w for w, n in held.items() if i < n), "text_en": ""})
        for i in range(documents)
    ]
    common = common_words.choose(texts)
    assert common["es"] == {word_hash(form("camino")), word_hash(form("decimo"))}
    assert common["en"] == frozenset()  # no document with English text


@pytest.mark.usefixtures("real_thresholds")
def test_only_the_64_most_shared_words_are_chosen() -> None:
    words = [f"zqx{chr(97 + n // 26)}{chr(97 + n % 26)}k" for n in range(80)]
    assert len({form(w) for w in words}) == 80
    texts = [
        PublicDocument({"text_es": " ".join(words[: 80 - i // 5])}) for i in range(400)
    ]  # word k in 400 - 5k
    assert common_words.choose(texts)["es"] == {word_hash(form(w)) for w in words[:64]}


def test_an_archive_too_small_has_no_common_word(
    make_story: Callable[..., Story], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the real thresholds, no word of a few stories is chosen: phrases go by positions."""
    monkeypatch.setattr(common_words, "MIN_SHARED", 50)
    monkeypatch.setattr(common_words, "SHARE", 0.1)
    story = make_story(body="La maquiladora cerró de noche.")
    search.rebuild()
    assert chosen(store.PUBLIC) == common_words.NONE
    with store.searcher(store.PUBLIC) as s:
        assert pair_term(s.schema["text_es"], [form("maquiladora"), form("cerró")]) is None
        assert not any(" " in t.decode() for t in s.reader().lexicon("text_es"))
    assert found('"maquiladora cerró"') == {story.public_id}


def test_a_phrase_of_common_words_is_its_pair_and_goes_with_its_story(
    make_story: Callable[..., Story],
) -> None:
    """Every public word is common here (conftest): phrases are read from pair terms, in order
    and across stop words, in what a rebuild wrote and in what is written after it; a
    withdrawn story's pairs leave the lexicon and the index files."""
    first = make_story(body="La maquiladora cerró temprano.")
    second = make_story(body="Cerró la maquiladora.")
    secret = make_story(body=f"El {SECRET} cantaba de noche.")
    search.rebuild()
    with store.searcher(store.PUBLIC) as s:
        assert pair_term(s.schema["text_es"], [form("maquiladora"), form("cerró")]) is not None
    assert f"{form(SECRET)} {form('cantaba')}" in public_lexicon()
    later = make_story(body="Cuando la maquiladora cerró, volvimos.")  # written after the rebuild
    assert found('"maquiladora cerró"') == {first.public_id, later.public_id}
    assert found('"cerró maquiladora"') == {second.public_id}  # "la" holds no position
    assert found('"temprano maquiladora"') == set()
    assert found(f'"{SECRET} cantaba"') == {secret.public_id}
    staff = {hit.public_id for hit in search.search_staff('"maquiladora cerró"', "es").hits}
    assert staff == {first.public_id, later.public_id}  # by positions

    stories.withdraw(secret)
    db.session.commit()
    assert found(f'"{SECRET} cantaba"') == set()
    assert not any(SECRET[:6] in term for term in public_lexicon())
    assert words_in(Path(store.index_root()), [SECRET]) == {}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.lists(
        st.sampled_from(
            ["casa", "Madre", "de", "la", "fronteras", "río", "NIÑOS", "ΟΔΟΣ", "x.y", "the", "  ", ", "]
        ),
        max_size=40,
    ).map(" ".join),
    lang=st.sampled_from(["es", "en"]),
)
def test_a_fields_word_postings_are_whooshs_and_its_pairs_follow_its_positions(text: str, lang: str) -> None:
    """One analysis gives both: the words' postings are what Whoosh's ``TEXT.index`` gives, and
    each pair is two common words at consecutive positions, at the first one's."""
    plain = SharedText(analyzer=ANALYZERS[lang])
    paired = SharedText(analyzer=ANALYZERS[lang], common=frozenset(range(WORD_HASHES)))  # every word
    words = sorted(TEXT.index(plain, text))
    assert sorted(plain.index(text)) == words
    found = sorted(paired.index(text))
    assert [p for p in found if b" " not in p[0]] == words
    positions = {term.decode(): plain.format.decode_positions(value) for term, _, _, value in words}
    at = sorted((p, term) for term, ps in positions.items() for p in ps)
    expected: dict[str, list[int]] = {}
    for (p, a), (q, b) in itertools.pairwise(at):
        if q == p + 1:
            expected.setdefault(f"{a} {b}", []).append(p)
    pairs = {t.decode(): (n, w, plain.format.decode_positions(v)) for t, n, w, v in found if b" " in t}
    assert pairs == {pair: (0, float(len(ps)), ps) for pair, ps in expected.items()}
