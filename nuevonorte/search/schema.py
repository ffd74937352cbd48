"""The index schema and its Spanish and English analysers (the only Whoosh schema code)."""

from __future__ import annotations

import itertools
import re
import threading
import zlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import Stemmer
from whoosh.analysis import Analyzer, CharsetFilter, LowercaseFilter, RegexTokenizer, Token, Tokenizer
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema
from whoosh.lang import stopwords_for_language
from whoosh.support.charset import accent_map

from nuevonorte.search.whoosh_internals.codec import PackedPositions

#: Languages with their own analyser; text in any other language is analysed as English.
LANGUAGES = ("es", "en")
#: Each language's Snowball algorithm (PyStemmer: the Snowball project's own C library).
SNOWBALL = {"es": "spanish", "en": "english"}


#: Words as the analysers split them (the pattern of Whoosh's RegexTokenizer).
TOKEN = re.compile(r"\w+(?:\.?\w+)*")
#: At most this many words' stems are kept per language and process.
MAX_STEMS = 200_000


#: How many of a stem's last letters may differ from its word's: Snowball rewrites endings
#: ("-biliti" -> "-ble", "lying" -> "lie", Spanish "-encia" -> "-ente" -> "-ent"), but the
#: stem never differs from the (folded) word in more than its last two letters (checked on
#: the archive's own texts and both languages' derivations: tests/test_search_analysis.py).
#: So a word whose stem is S begins with S less two letters: how highlighting finds a
#: stem's words quickly.
STEM_REWRITE = 2


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


#: The code page that text written in Spanish or English nearly always fits (Latin-1's
#: letters, typographic quotes and dashes): one byte a character, so such a text is folded
#: by one byte table (``bytes.translate``), in C.
CODE_PAGE = "cp1252"


def _byte_folds() -> bytes:
    """``accent_map`` as a table of ``CODE_PAGE``'s bytes (each of its characters folds to one
    of its characters: tests/test_search_highlight.py)."""
    table = bytearray(range(256))
    for byte in range(0x80, 0x100):
        try:
            char = bytes([byte]).decode(CODE_PAGE)
        except UnicodeDecodeError:  # a byte the code page leaves undefined: never encoded
            continue
        table[byte] = char.translate(accent_map).encode(CODE_PAGE)[0]
    return bytes(table)


_BYTE_FOLDS = _byte_folds()


def _fold_run(run: re.Match[str]) -> str:
    return run.group().translate(accent_map)


def _into_other_kind() -> re.Pattern[str]:
    """The characters ``accent_map`` folds into a word character though they are none, or the
    reverse (a few combining marks, none in ``CODE_PAGE``: tests/test_search_highlight.py)."""
    word = re.compile(r"\w")
    odd = [chr(c) for c, folded in accent_map.items() if bool(word.match(chr(c))) != bool(word.match(folded))]
    return re.compile("[" + re.escape("".join(odd)) + "]" if odd else "(?!)")


_INTO_OTHER_KIND = _into_other_kind()


def _by_code_page(text: str) -> str | None:
    """``text`` folded by the byte table; None when it does not fit ``CODE_PAGE``."""
    try:
        return text.encode(CODE_PAGE).translate(_BYTE_FOLDS).decode(CODE_PAGE)
    except UnicodeEncodeError:
        return None


def fold_lowered(text: str) -> str:
    """Accent-fold lower-case ``text``: through a byte table when it fits ``CODE_PAGE``, else
    only its runs of non-ASCII letters go through ``accent_map`` (which maps lower-case ASCII
    to itself). ``str.translate`` with a table that lacks most characters, then a callback
    per accented letter, were the cost of highlighting a page of results."""
    folded = text if text.isascii() else _by_code_page(text)
    return _NON_ASCII.sub(_fold_run, text) if folded is None else folded


def fold_in_place(text: str) -> str | None:
    """``fold_lowered(text)`` when its words are where ``text``'s are: each character folded
    to one (always, in Whoosh's map), word characters to word characters (None otherwise)."""
    folded = text if text.isascii() else _by_code_page(text)  # the code page has no odd fold
    if folded is None and _INTO_OTHER_KIND.search(text) is None:
        folded = _NON_ASCII.sub(_fold_run, text)
    return folded


def fold(text: str) -> str:
    """Case- and accent-fold ``text`` the way every analyser does ("Niños" -> "ninos")."""
    return fold_lowered(text.lower())


def stopwords(lang: str) -> frozenset[str]:
    """The folded stop words of ``lang``."""
    return frozenset(fold(w) for w in stopwords_for_language(lang))


#: The folded stop words of each language, and of either.
STOPWORDS = {lang: stopwords(lang) for lang in LANGUAGES}
ANY_STOPWORD = STOPWORDS["es"] | STOPWORDS["en"]

_ACUTE = str.maketrans("aeiou", "áéíóú")


def accent_variants(word: str) -> list[str]:
    """``word`` (lower case, no accents) with an acute accent on one of its vowels, each way.

    Spanish Snowball rules name accented endings ("-ación", "-ía", "-aría"): a word typed
    without its accent ("deportacion", "vivia") only meets its family through the form with
    it. Spanish words carry one written accent at most, so one per variant is enough.
    """
    return [word[:i] + c.translate(_ACUTE) + word[i + 1 :] for i, c in enumerate(word) if c in "aeiou"]


class LanguageAnalyzer(Tokenizer):
    """Tokenise, lower-case, drop stop words, stem with Snowball for ``lang``, then fold accents.

    One pass over the text instead of Whoosh's chain of five filters (tokenizer, lowercase,
    stop, stem, charset), with a per-process word -> indexed form table: analysis was most of
    the time of a rebuild. The stemmer sees the accents (its Spanish rules are written for
    them: "deportación" and "deportados" both become "deport", "vivía" and "vivir" "viv");
    folding comes after, so the indexed form never holds an accent. A word typed without
    its accents still meets them through ``query_terms`` (decision 0011). Stop words are
    matched folded ("mas" and "más" alike). Positions skip stop words, as Whoosh's
    StopFilter numbers them.
    """

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self._setup()

    def _setup(self) -> None:
        self._stops = STOPWORDS[self.lang]
        self._terms: dict[str, str | None] = {}
        self._threads = threading.local()

    def _stem(self, word: str) -> str:
        """Snowball's stem of ``word``, by this thread's own stemmer (a PyStemmer stemmer keeps
        state between calls and is not to be shared by threads); our table is the cache."""
        stemmer = getattr(self._threads, "stemmer", None)
        if stemmer is None:
            stemmer = self._threads.stemmer = Stemmer.Stemmer(SNOWBALL[self.lang], 0)
        return str(stemmer.stemWord(word))

    def __getstate__(self) -> dict[str, Any]:
        return {"lang": self.lang}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.lang = state["lang"]
        self._setup()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LanguageAnalyzer) and other.lang == self.lang

    def __hash__(self) -> int:
        return hash(("LanguageAnalyzer", self.lang))

    def term(self, word: str) -> str | None:
        """The indexed form of a lower-case word (accents kept); None for a stop word."""
        terms = self._terms
        found = terms.get(word, "")
        if found == "":
            if len(terms) >= MAX_STEMS:
                terms.clear()
            folded = fold_lowered(word)
            found = terms[word] = None if folded in self._stops else fold_lowered(self._stem(word))
        return found

    def kept(self, value: str) -> list[str]:
        """The indexed forms of ``value``'s words that are not stop words, in order."""
        return [t for t in map(self.term, TOKEN.findall(value.lower())) if t is not None]

    def query_terms(self, word: str) -> tuple[str, ...]:
        """The indexed forms a typed word may meet, its own first; () for a stop word.

        Beside the word's own form: the form of the word without its accents (text written
        without them: "deportación" meets a story that wrote "deportacion"), and, for a
        Spanish word typed without accents, the forms of its accented spellings
        ("deportacion" meets "deportación" and "deportados"; "vivia" meets "vivir").
        """
        lower = word.lower()
        own = self.term(lower)
        if own is None:
            return ()
        folded = fold_lowered(lower)
        spellings = [folded]
        if self.lang == "es" and folded == lower:
            spellings += accent_variants(lower)
        out = [own]
        for spelling in spellings:
            found = self.term(spelling)
            if found is not None and found not in out:
                out.append(found)
        return tuple(out)

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        lowered = value.lower()
        same_length = len(lowered) == len(value)
        matches = TOKEN.finditer(lowered) if tokenize else iter([re.match(r"(?s).*", lowered)])
        pos = None
        term = self.term
        for raw, match in enumerate(matches):
            if match is None:
                continue
            word = match.group()
            text = term(word)
            if text is None:
                if removestops:
                    continue
                t.stopped = True
                text = fold_lowered(word)
            else:
                t.stopped = False
                # Like StopFilter: the first kept word keeps its place, the next follow it.
                pos = start_pos + raw if pos is None else pos + 1
            t.text = text
            t.boost = 1.0
            if keeporiginal:
                t.original = word
            if positions:
                t.pos = pos if pos is not None else start_pos + raw
            if chars:
                start, end = match.span() if same_length else (0, len(value))
                t.startchar, t.endchar = start_char + start, start_char + end
            yield t


#: Recent analyses of text fields: (analyser, format, boost, value, options) -> (postings, each
#: word's term and position in order).
_analysed: dict[tuple[Any, ...], tuple[list[Any], list[tuple[str, int]]]] = {}
_analysed_lock = threading.Lock()
MAX_ANALYSED = 16

#: Common words are kept as this many hashes (``word_hash``; ``common_words``).
WORD_HASHES = 4096
_hashes: dict[str, int] = {}
MAX_HASHES = 200_000


def word_hash(term: str) -> int:
    """The number an indexed form is kept as among an index's common words."""
    found = _hashes.get(term)
    if found is None:
        if len(_hashes) >= MAX_HASHES:
            _hashes.clear()
        found = _hashes[term] = zlib.crc32(term.encode("utf-8")) % WORD_HASHES
    return found


def is_pair(term: str | bytes) -> bool:
    """Whether an indexed term of a text field is a pair of words (``SharedText``)."""
    return b" " in term if isinstance(term, bytes) else " " in term


def pair_term(field: Any, words: Sequence[str]) -> str | None:
    """The pair term that holds the phrase ``words`` in a text field: two words, both common
    in its index (``SharedText.common``); None when the phrase is matched on positions."""
    common = getattr(field, "common", None)
    if not common or len(words) != 2 or not all(word_hash(w) in common for w in words):
        return None
    return f"{words[0]} {words[1]}"


class SharedText(TEXT):
    """A positional text field whose positions are packed as arrays (``codec.PackedPositions``:
    a phrase reads them with numpy), that also holds its pairs of consecutive common words,
    and that reuses the postings of a value analysed moments ago.

    A pair term ("a b": no word holds a space) has its first word's positions, and a
    frequency of 0 for the writer, so no field length counts it and ranking reads the same
    lengths as without pairs (``common_words``, decision 0034).

    A rebuild writes each story's public document and then its staff document; their titles,
    summaries and texts are usually the same strings, and analysis is most of the cost of
    writing them. The postings depend only on the analyser, the format and the value, which
    are the key (compared by equality), so a value is never given another value's postings;
    the pairs, on the field's common words too, so they are made from the words kept.
    """

    def __init__(
        self, analyzer: Analyzer, field_boost: float = 1.0, common: frozenset[int] = frozenset()
    ) -> None:
        super().__init__(analyzer=analyzer, phrase=True, field_boost=field_boost)
        self.format = PackedPositions(field_boost=field_boost)
        #: The hashes of the index's common words (``word_hash``): which pairs are indexed.
        self.common = common

    def index(self, value: Any, **kwargs: Any) -> list[Any]:
        options = tuple(sorted(kwargs.items()))
        key = (self.analyzer, type(self.format), self.format.field_boost, value, options)
        found = _analysed.get(key)
        if found is None:
            if isinstance(value, str):
                found = self._analyse(value, kwargs)
            elif self.common:  # a phrase of two common words would be looked up as a pair
                raise TypeError("a text field with pairs of common words indexes text only")
            else:  # a list of words (not written by the archive): Whoosh's own
                found = (list(super().index(value, **kwargs)), [])
            with _analysed_lock:  # threads of one web worker may index at once
                if len(_analysed) >= MAX_ANALYSED:
                    del _analysed[next(iter(_analysed))]  # the oldest
                _analysed[key] = found
        postings, order = found
        return postings + self._pairs(order) if self.common else postings

    def _analyse(
        self, value: str, kwargs: dict[str, Any]
    ) -> tuple[list[tuple[bytes, int, float, bytes]], list[tuple[str, int]]]:
        """(term, frequency, weight, positions) of each word, as Whoosh's ``TEXT.index`` gives
        them (``Positions.word_values``), and each word's (term, position) in order."""
        options = {"mode": "index", **kwargs, "positions": True, "boosts": True}
        at: dict[str, list[int]] = {}
        weights: dict[str, float] = {}
        order: list[tuple[str, int]] = []
        for token in self.analyzer(value, **options):
            if token.stopped:
                continue
            at.setdefault(token.text, []).append(token.pos)
            weights[token.text] = weights.get(token.text, 0.0) + token.boost
            order.append((token.text, token.pos))
        encode, boost = self.format.encode, self.format.field_boost
        return [(w.encode("utf-8"), len(p), weights[w] * boost, encode(p)) for w, p in at.items()], order

    def _pairs(self, order: list[tuple[str, int]]) -> list[tuple[bytes, int, float, bytes]]:
        """(term, frequency 0, weight, positions) of each pair of common words at consecutive
        positions, at its first word's positions."""
        common, held = self.common, {}
        pairs: dict[str, list[int]] = {}
        for (a, p), (b, q) in itertools.pairwise(order):
            if q != p + 1:
                continue
            if a not in held:
                held[a] = word_hash(a) in common
            if b not in held:
                held[b] = word_hash(b) in common
            if held[a] and held[b]:
                pairs.setdefault(f"{a} {b}", []).append(p)
        encode, boost = self.format.encode, self.format.field_boost
        return [(pair.encode("utf-8"), 0, len(p) * boost, encode(p)) for pair, p in pairs.items()]


def plain_analyzer() -> Analyzer:
    """Tokenise and fold, no stemming: names of places and people, and the spelling vocabulary."""
    return RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)


ANALYZERS: dict[str, LanguageAnalyzer] = {lang: LanguageAnalyzer(lang) for lang in LANGUAGES}
PLAIN = plain_analyzer()


def stem(word: str, lang: str) -> str | None:
    """The indexed form of one word in ``lang`` ("es" or "en"); None for a stop word."""
    return ANALYZERS[lang].term(word.lower())


#: Bumped whenever the fields change: an index built with another version is not opened
#: (search says "temporarily unavailable" and ``nuevonorte check`` says to reindex).
SCHEMA_VERSION = "8"
# 1: 12 query fields, Whoosh filter chains; 2: positional twins of the text fields; 3: one
# positional field per language; 4: words stemmed with their accents, then folded (0011);
# 5: the partner source facet; 6: posting blocks and positions packed as arrays (0029); 7: Snowball
# stems from PyStemmer, a later Snowball than Whoosh's port (0033); 8: pairs of common words (0034).

#: Fields a free-text query searches, with their weight. Per language, a short "head" (title,
#: summary, theme and place names) weighted above the long "text" (story text, transcript
#: cues, credited name). Four fields instead of twelve: each query word is an OR over these,
#: and that OR is most of the cost of a search (docs/parts/search.md).
QUERY_FIELDS = {
    "head_es": 3.0,
    "head_en": 3.0,
    "text_es": 1.0,
    "text_en": 1.0,
}


def text_language(language: str) -> str:
    """The language whose ``text_`` field holds the body of a story told in ``language``."""
    return "es" if language == "es" else "en"


#: Fields that can be faceted and filtered on (all keyword fields of codes or slugs).
FACETS = ("theme", "place", "country", "language", "media", "decade", "source")


def _schema(staff: bool, common: Mapping[str, frozenset[int]] | None) -> Schema:
    es, en = ANALYZERS["es"], ANALYZERS["en"]
    chosen = common or {}
    es_common, en_common = chosen.get("es", frozenset()), chosen.get("en", frozenset())
    fields = {
        "sid": ID(unique=True, stored=True),  # the story's database id, the update key
        "pid": STORED(),  # the public id, for links
        # Searched (not stored): see QUERY_FIELDS.
        "head_es": SharedText(analyzer=es, common=es_common),
        "head_en": SharedText(analyzer=en, common=en_common),
        "text_es": SharedText(analyzer=es, common=es_common),
        "text_en": SharedText(analyzer=en, common=en_common),
        # Shown (stored, not searched): one copy of each, nothing a result page does not show.
        "title_es": STORED(),
        "title_en": STORED(),
        "summary_es": STORED(),
        "summary_en": STORED(),
        "body": STORED(),  # in the story's language, for snippets
        "cues": STORED(),  # [[start_ms, text, language, translation], ...] of the indexed cues
        "themes_es": STORED(),
        "themes_en": STORED(),
        "spell": TEXT(analyzer=PLAIN, phrase=False),  # unstemmed vocabulary for "did you mean"
        "theme": KEYWORD(commas=True, stored=True),
        "place": KEYWORD(commas=True, stored=True),
        "country": KEYWORD(commas=True, stored=True),
        "language": ID(stored=True),
        "media": KEYWORD(commas=True, stored=True),
        "decade": KEYWORD(commas=True, stored=True),
        # Where the story was told: "here", or "p<partner id>" for a partner archive's story.
        "source": ID(stored=True),
    }
    if staff:
        fields["status"] = ID(stored=True)
    return Schema(**fields)


def public_schema(common: Mapping[str, frozenset[int]] | None = None) -> Schema:
    """The public index: only what the consent rule makes public (``common``: the hashes of
    its common words per language, ``common_words``)."""
    return _schema(staff=False, common=common)


def staff_schema() -> Schema:
    """The staff index: every story that is not withdrawn, with its review status (no pairs of
    common words: curators' phrases are matched on positions)."""
    return _schema(staff=True, common=None)
