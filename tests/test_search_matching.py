"""Matching on arrays (``whoosh_internals.matching``) finds exactly what Whoosh's own matchers find.

Each example writes a real Whoosh index with the archive's codec and Spanish analyser, in
several segments (each a commit without merging), deletes some documents, and compares the
documents ``Search.mask`` gives for phrases, words, ANDs and ORs with those of Whoosh's
``Searcher.docs_for_query``. A small vocabulary makes terms with hundreds of postings, read
in blocks of 128, beside rare ones of a single short block.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh import index as whoosh_index
from whoosh.fields import ID, KEYWORD, TEXT, Schema
from whoosh.query import And, Or, Phrase, Query, Term
from whoosh.searching import Searcher

from nuevonorte.search.schema import ANALYZERS, SharedText, pair_term, word_hash
from nuevonorte.search.whoosh_internals import matching
from nuevonorte.search.whoosh_internals.codec import BLOCK_POSTINGS, ArchiveCodec, PackedPositions
from nuevonorte.search.whoosh_internals.matching import Search, packed_positions, posting_positions, read_term

#: Content words (their forms differ from the words: "fronteras" -> "fronter"), a rare word,
#: and stop words, which take no position (a phrase skips them as its text does).
WORDS = ["casa", "madre", "fronteras", "noche", "río", "tren", "tren", "madre"]
RARE = "desierto"
STOPS = ["de", "la", "mi"]

documents = st.lists(
    st.lists(st.sampled_from([*WORDS, *STOPS]), min_size=1, max_size=14).map(" ".join),
    min_size=1,
    max_size=320,
)
phrases = st.lists(st.sampled_from([*WORDS, RARE, *STOPS]), min_size=1, max_size=4)


#: W3's own block size: a few hundred documents give terms of several blocks, as the archive's
#: ``BLOCK_POSTINGS`` needs thousands for (one test reads that size too).
SMALL_BLOCKS = 128


def form(word: str) -> str | None:
    return ANALYZERS["es"].term(word)


def phrase_query(words: list[str]) -> Query | None:
    forms = [f for f in (form(w) for w in words) if f is not None]
    if not forms:
        return None
    return Term("text", forms[0]) if len(forms) == 1 else Phrase("text", forms)


def write(
    folder: Path,
    texts: list[str],
    segments: int,
    deleted: set[int],
    whooshs_own: bool = False,
    blocks: int = SMALL_BLOCKS,
    common: frozenset[int] = frozenset(),
) -> whoosh_index.FileIndex:
    """An index of ``texts`` with the archive's field and codec (``blocks`` postings per block),
    with the pairs of the ``common`` words (their hashes); with ``whooshs_own``, the same
    documents in the same segments as Whoosh writes them itself (its ``Positions``, its W3
    codec, no pairs): the reference that ours must match."""
    field = (
        TEXT(analyzer=ANALYZERS["es"]) if whooshs_own else SharedText(analyzer=ANALYZERS["es"], common=common)
    )
    ix = whoosh_index.create_in(str(folder), Schema(sid=ID(unique=True, stored=True), text=field))

    def writer() -> Any:
        return ix.writer() if whooshs_own else ix.writer(codec=ArchiveCodec(blocks))

    per = max(1, -(-len(texts) // segments))
    for first in range(0, len(texts), per):
        w = writer()
        for n in range(first, min(first + per, len(texts))):
            w.add_document(sid=str(n), text=texts[n])
        w.commit(merge=False)
    if deleted:
        w = writer()
        for n in deleted:
            w.delete_by_term("sid", str(n))
        w.commit(merge=False)
    return ix


def whoosh_docs(s: Searcher, query: Query) -> set[int]:
    return set(s.docs_for_query(query))


#: The forms of the words, of which any may be one of the index's common words.
FORMS = sorted({f for f in (form(w) for w in [*WORDS, RARE]) if f is not None})


def hashes(forms: set[str]) -> frozenset[int]:
    return frozenset(word_hash(f) for f in forms)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=documents,
    segments=st.integers(min_value=1, max_value=4),
    deleted=st.sets(st.integers(min_value=0, max_value=319), max_size=40),
    asked=st.lists(phrases, min_size=1, max_size=8),
    rare_at=st.sets(st.integers(min_value=0, max_value=319), max_size=3),
    common=st.sets(st.sampled_from(FORMS)),
)
def test_phrases_words_ands_and_ors_match_what_whoosh_matches(
    tmp_path_factory: pytest.TempPathFactory,
    texts: list[str],
    segments: int,
    deleted: set[int],
    asked: list[list[str]],
    rare_at: set[int],
    common: set[str],
) -> None:
    """Also when some words are common (decision 0034): a phrase of two of them is matched by
    its pair term, Whoosh's reference by positions (it has no pairs)."""
    texts = [f"{text} {RARE} madre" if n in rare_at else text for n, text in enumerate(texts)]
    gone = {n for n in deleted if n < len(texts)}
    ix = write(tmp_path_factory.mktemp("ix"), texts, segments, gone, common=hashes(common))
    reference = write(tmp_path_factory.mktemp("whoosh"), texts, segments, gone, whooshs_own=True)
    queries = [q for q in (phrase_query(words) for words in asked) if q is not None]
    if len(queries) > 1:
        queries += [And(queries[:2]), Or(queries[:3])]
    with ix.searcher() as s, reference.searcher() as whoosh:
        search, over_whooshs_files = Search(s), Search(whoosh)
        for query in queries:
            found = set(np.flatnonzero(search.mask(query)).tolist())
            assert found == whoosh_docs(s, query), query
            assert found == whoosh_docs(whoosh, query), query  # Whoosh's own files and matchers
            # Blocks Whoosh pickled are read too (through its matchers: the slow path).
            assert set(np.flatnonzero(over_whooshs_files.mask(query)).tolist()) == found, query
        for pair in itertools.product(sorted(common), repeat=2):  # each pair term against positions
            query = Phrase("text", list(pair))
            assert pair_term(s.schema["text"], query.words) is not None
            found = set(np.flatnonzero(search.mask(query)).tolist())
            assert found == set(np.flatnonzero(search.phrase_mask("text", query.words)).tolist()), pair
            assert found == whoosh_docs(whoosh, query), pair


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=documents,
    segments=st.integers(min_value=1, max_value=4),
    deleted=st.sets(st.integers(min_value=0, max_value=319), max_size=40),
    picked=st.lists(
        st.sets(st.sampled_from([*sorted(set(WORDS)), RARE]), min_size=1, max_size=3), max_size=4
    ),
    boost=st.sampled_from([1.0, 3.0]),
)
def test_scores_are_whooshs_bm25f(
    tmp_path_factory: pytest.TempPathFactory,
    texts: list[str],
    segments: int,
    deleted: set[int],
    picked: list[set[str]],
    boost: float,
) -> None:
    """Every matched document's score (``Search.scores``, its idf counted from the postings
    read) is the one Whoosh's own BM25F gives it, for words, ORs and ANDs of distinct words,
    boosted or not, over several segments with deleted documents."""
    texts = [f"{text} {RARE}" if n % 37 == 5 else text for n, text in enumerate(texts)]
    gone = {n for n in deleted if n < len(texts)}
    ix = write(tmp_path_factory.mktemp("ix"), texts, segments, gone)
    queries: list[Query] = [Term("text", form(w), boost=boost) for w in [*sorted(set(WORDS)), RARE]]
    for words in picked:
        terms: list[Query] = [Term("text", form(w), boost=boost) for w in sorted(words)]
        queries += [Or(terms), And(terms)]
    with ix.searcher() as s:
        search = Search(s)
        for query in queries:
            leaves = matching._leaves(query)
            assert leaves is not None
            mask = search.mask(query)
            ours = search.scores(leaves, mask)
            theirs = {hit.docnum: hit.score for hit in s.search(query, limit=None)}
            assert set(theirs) == set(np.flatnonzero(mask).tolist()), query
            for docnum, score in theirs.items():
                assert ours[docnum] == pytest.approx(score, rel=1e-9), (query, docnum)


def test_a_phrase_needs_its_words_in_order_and_next_to_each_other(tmp_path: Path) -> None:
    texts = [
        "la madre cruzó la frontera de noche",  # "madre cruzó": in order, next to each other
        "cruzó la madre",  # reversed
        "madre de noche cruzó",  # apart
        "mi madre, cruzó",  # a comma between them is not a word
    ]
    ix = write(tmp_path, texts, segments=2, deleted=set())
    with ix.searcher() as s:
        query = phrase_query(["madre", "cruzó"])
        assert query is not None
        found = np.flatnonzero(Search(s).mask(query)).tolist()
        assert [s.stored_fields(n)["sid"] for n in found] == ["0", "3"]
        alone = Phrase("text", [form("madre")])  # a phrase of one word: wherever the word is
        assert set(np.flatnonzero(Search(s).mask(alone)).tolist()) == whoosh_docs(s, alone) == {0, 1, 2, 3}


@pytest.mark.parametrize("common", [set(), set(FORMS)], ids=["positions", "pairs"])
def test_every_two_word_phrase_over_terms_of_many_blocks(tmp_path: Path, common: set[str]) -> None:
    """Hundreds of documents per word: postings span several blocks of 128 in each segment.
    With every word common, every phrase is its pair term's documents (decision 0034)."""
    rng = random.Random(7)
    texts = [" ".join(rng.choices([*WORDS, *STOPS], k=rng.randint(3, 20))) for _ in range(900)]
    ix = write(tmp_path, texts, segments=3, deleted=set(range(0, 900, 17)), common=hashes(common))
    with ix.searcher() as s:
        search = Search(s)
        assert max(len(search.term("text", form(w))[0]) for w in WORDS) > 3 * 128
        for a, b in itertools.product(sorted(set(WORDS)), repeat=2):
            query = phrase_query([a, b])
            assert isinstance(query, Phrase)
            assert (pair_term(s.schema["text"], query.words) is not None) == bool(common)
            found = set(np.flatnonzero(search.mask(query)).tolist())
            assert found == whoosh_docs(s, query), query
            assert found == set(np.flatnonzero(search.phrase_mask("text", query.words)).tolist())
            assert found  # with so many documents every pair occurs somewhere


def test_pairs_are_counted_in_no_field_length(tmp_path: Path) -> None:
    """Ranking reads the same lengths, averages and scores with pairs as without them."""
    rng = random.Random(3)
    texts = [" ".join(rng.choices([*WORDS, *STOPS], k=rng.randint(3, 20))) for _ in range(300)]
    (tmp_path / "plain").mkdir()
    (tmp_path / "paired").mkdir()
    plain = write(tmp_path / "plain", texts, segments=2, deleted={5, 9})
    paired = write(tmp_path / "paired", texts, segments=2, deleted={5, 9}, common=hashes(set(FORMS)))
    with plain.searcher() as a, paired.searcher() as b:
        assert any(" " in t.decode() for t in b.reader().lexicon("text"))
        assert not any(" " in t.decode() for t in a.reader().lexicon("text"))
        assert a.avg_field_length("text") == b.avg_field_length("text")
        assert np.array_equal(Search(a).m.lengths("text"), Search(b).m.lengths("text"))
        query = Or([Term("text", f) for f in FORMS])
        leaves = matching._leaves(query)
        assert leaves is not None
        ours = Search(b).scores(leaves, Search(b).mask(query))
        assert np.array_equal(ours, Search(a).scores(leaves, Search(a).mask(query)))


@pytest.mark.parametrize("merge_from", [0, 10**9])
def test_phrases_asked_by_binary_search_and_by_merge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, merge_from: int
) -> None:
    """A word's keys are asked by a binary search of each sought key, or by one merge of both
    lists (``matching._held``, by their sizes): each way alone, forced here, gives what Whoosh
    gives for phrases of two to four words, a word repeated, the lead first, last or between."""
    monkeypatch.setattr(matching, "MERGE_FROM", merge_from)
    rng = random.Random(5)
    texts = [" ".join(rng.choices([*WORDS, *STOPS, RARE], k=rng.randint(3, 40))) for _ in range(300)]
    ix = write(tmp_path, texts, segments=3, deleted=set(range(0, 300, 11)))
    asked = [[a, b] for a, b in itertools.product(sorted(set(WORDS)), repeat=2)]
    asked += [rng.choices([*WORDS, RARE], k=rng.randint(3, 4)) for _ in range(60)]
    asked += [["casa", "casa", "casa"], ["madre", RARE, "madre"]]
    with ix.searcher() as s:
        search = Search(s)
        for words in asked:
            query = phrase_query(words)
            assert query is not None
            assert set(np.flatnonzero(search.mask(query)).tolist()) == whoosh_docs(s, query), words


WIDE, NARROW = np.dtype(np.int64), np.dtype(np.uint32)


@pytest.mark.parametrize(
    ("narrow_up_to", "segment_widths", "joined_widths"),
    [
        (0, {WIDE}, {WIDE}),
        (700, {WIDE, NARROW}, {WIDE}),  # a word's keys narrow in one segment, wide in the next
        (3_000, {NARROW}, {WIDE, NARROW}),  # some words' joined keys pass the bound, some not
        (matching._NARROW_KEYS, {NARROW}, {NARROW}),
    ],
)
def test_phrases_with_position_keys_past_32_bits(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    narrow_up_to: int,
    segment_widths: set[np.dtype],
    joined_widths: set[np.dtype],
) -> None:
    """Position keys that do not fit in 32 bits are kept as int64 (``packed_positions``), in a
    segment or in the list joined over segments: the bound is lowered here so that some keys
    are wide and some narrow, and every two-word phrase still matches what Whoosh matches."""
    monkeypatch.setattr(matching, "_NARROW_KEYS", narrow_up_to)
    rng = random.Random(11)
    texts = [" ".join(rng.choices([*WORDS, *STOPS], k=rng.randint(3, 30))) for _ in range(400)]
    ix = write(tmp_path, texts, segments=4, deleted=set(range(0, 400, 13)))
    with ix.searcher() as s:
        search = Search(s)
        kept = [
            matching.segment_entry(sub, None, "text", form(w), True)
            for sub, _ in s.subsearchers
            for w in WORDS
        ]
        assert {entry[3].dtype for entry in kept if entry is not None} == segment_widths
        assert {search.positions("text", form(w))[2].dtype for w in WORDS} == joined_widths
        for a, b in itertools.product(sorted(set(WORDS)), repeat=2):
            query = phrase_query([a, b])
            assert query is not None
            assert set(np.flatnonzero(search.mask(query)).tolist()) == whoosh_docs(s, query), query


positions_lists = st.lists(
    st.one_of(
        st.lists(st.integers(min_value=0, max_value=600), min_size=1, max_size=30, unique=True),
        st.lists(st.integers(min_value=0, max_value=200_000), min_size=1, max_size=30, unique=True),
        st.lists(st.integers(min_value=0, max_value=5_000), min_size=990, max_size=1_100, unique=True),
        # Past 2**32 once summed over a few postings: keys kept as int64.
        st.lists(st.integers(min_value=0, max_value=2**32 - 2), min_size=1, max_size=3, unique=True),
    ).map(sorted),
    min_size=1,
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(lists=positions_lists)
def test_packed_positions_read_as_arrays_are_the_ones_written(lists: list[list[int]]) -> None:
    """Gaps small and large (past 65,535 too), long lists: each value's positions come back
    from the joined values, and as Whoosh's own matchers decode them. The keys a phrase
    searches rise strictly over the whole list, each posting's above the key before it."""
    fmt = PackedPositions()
    values = [fmt.encode(positions) for positions in lists]
    lengths = np.array([len(v) for v in values], dtype=np.int64)
    starts, keys = packed_positions(lengths, [b"".join(values)])
    assert [posting_positions(starts, keys, i).tolist() for i in range(len(values))] == lists
    assert bool(np.all(np.diff(keys) > 0)) and int(keys[0]) > 0
    last = sum(p[-1] + 1 for p in lists)  # the last key: every posting's last position, plus one
    assert int(keys[-1]) == last and keys.dtype == (np.uint32 if last < 2**32 else np.int64)
    assert [fmt.decode_positions(v) for v in values] == lists
    assert [fmt.decode_frequency(v) for v in values] == [len(p) for p in lists]


def test_positions_that_do_not_add_up_are_refused() -> None:
    with pytest.raises(ValueError):
        packed_positions(np.array([8], dtype=np.int64), [PackedPositions().encode([1])])


def test_a_phrase_far_into_a_long_text(tmp_path: Path) -> None:
    """Words hundreds of positions apart (deltas of 256 or more) are still matched rightly."""
    filler = " ".join(["noche"] * 300)
    texts = [f"madre {filler} casa madre tren", f"casa {filler} madre {filler} tren casa", "tren madre"]
    ix = write(tmp_path, texts, segments=1, deleted=set())
    with ix.searcher() as s:
        search = Search(s)
        for words in (["madre", "tren"], ["tren", "casa"], ["casa", "madre"], ["noche", "madre"]):
            query = phrase_query(words)
            assert query is not None
            assert set(np.flatnonzero(search.mask(query)).tolist()) == whoosh_docs(s, query), words


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    themes=st.lists(
        st.lists(st.sampled_from(["trabajo", "familia", "viaje", "casa"]), max_size=3), max_size=200
    ),
    segments=st.integers(min_value=1, max_value=3),
    picked=st.lists(st.integers(min_value=0, max_value=199), max_size=200),
)
def test_facet_counts_are_the_documents_values_whether_few_or_many_match(
    tmp_path_factory: pytest.TempPathFactory, themes: list[list[str]], segments: int, picked: list[int]
) -> None:
    """Few matches read only their own pairs, many test every pair: both are exact."""
    schema = Schema(sid=ID(unique=True, stored=True), theme=KEYWORD(commas=True, stored=True))
    ix = whoosh_index.create_in(str(tmp_path_factory.mktemp("ix")), schema)
    per = max(1, -(-len(themes) // segments))
    for first in range(0, len(themes), per):
        w = ix.writer(codec=ArchiveCodec())
        for n in range(first, min(first + per, len(themes))):
            w.add_document(sid=str(n), theme=",".join(themes[n]))
        w.commit(merge=False)
    with ix.searcher() as s:
        search = Search(s)
        for chosen in ({n for n in picked if n < len(themes)}, set(range(len(themes)))):
            mask = np.zeros(search.m.size, dtype=bool)
            mask[sorted(chosen)] = True
            expected = Counter(t for n in chosen for t in set(s.stored_fields(n)["theme"].split(",")) if t)
            assert dict(search.facet_counts("theme", mask)) == dict(expected)


@pytest.mark.parametrize(
    ("seed", "segments", "blocks", "documents"),
    [
        (1, 1, SMALL_BLOCKS, 700),
        (2, 2, SMALL_BLOCKS, 700),
        (3, 3, SMALL_BLOCKS, 700),
        (4, 1, BLOCK_POSTINGS, 3000),
    ],
)
def test_a_terms_arrays_are_the_postings_whoosh_writes_and_reads(
    tmp_path: Path, seed: int, segments: int, blocks: int, documents: int
) -> None:
    """Document numbers, frequencies and positions read from our packed blocks at once are the
    ones Whoosh's matcher hands out one by one over the same files, and the ones Whoosh writes
    and reads in its own format for the same documents: terms of one document (a block of one
    posting), and of hundreds or thousands (several blocks of 128, or of the archive's own
    ``BLOCK_POSTINGS``)."""
    rng = random.Random(seed)
    texts = [" ".join(rng.choices([*WORDS, *STOPS, RARE], k=rng.randint(1, 40))) for _ in range(documents)]
    texts[0] += " quetzal"  # one document only
    (tmp_path / "ix").mkdir()
    (tmp_path / "whoosh").mkdir()
    ix = write(tmp_path / "ix", texts, segments, set(), blocks=blocks)
    reference = write(tmp_path / "whoosh", texts, segments, set(), whooshs_own=True)
    heaviest = 0
    with ix.searcher() as s, reference.searcher() as whoosh:
        for (sub, offset), (theirs, _) in zip(
            s.subsearchers or [(s, 0)], whoosh.subsearchers or [(whoosh, 0)], strict=True
        ):
            reader, their_reader = sub.reader(), theirs.reader()
            for term in reader.lexicon("text"):
                read = read_term(reader, "text", term, values=True)
                assert read is not None and read.lengths is not None
                heaviest = max(heaviest, len(read.ids))
                starts, keys = packed_positions(read.lengths, read.values)
                ours = [
                    (int(d), float(w), posting_positions(starts, keys, i).tolist())
                    for i, (d, w) in enumerate(zip(read.ids, read.weights, strict=True))
                ]
                expected = []
                for m in (reader.postings("text", term), their_reader.postings("text", term)):
                    one_by_one = []
                    while m.is_active():
                        one_by_one.append((m.id(), m.weight(), m.value_as("positions")))
                        m.next()
                    expected.append(one_by_one)
                assert ours == expected[0] == expected[1], term
    assert heaviest > blocks  # some term spans more than one block in a segment
