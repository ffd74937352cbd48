"""The index schema and its Spanish and English analysers (the only Whoosh schema code)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

from whoosh.analysis import Analyzer, CharsetFilter, LowercaseFilter, RegexTokenizer, Token, Tokenizer
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema
from whoosh.lang import stemmer_for_language, stopwords_for_language
from whoosh.support.charset import accent_map

#: Languages with their own analyser; text in any other language is analysed as English.
LANGUAGES = ("es", "en")


#: Words as the analysers split them (the pattern of Whoosh's RegexTokenizer).
TOKEN = re.compile(r"\w+(?:\.?\w+)*")
#: At most this many words' stems are kept per language and process.
MAX_STEMS = 200_000


def fold(text: str) -> str:
    """Case- and accent-fold ``text`` the way every analyser does ("Niños" -> "ninos")."""
    return text.lower().translate(accent_map)


def stopwords(lang: str) -> frozenset[str]:
    """The folded stop words of ``lang``."""
    return frozenset(fold(w) for w in stopwords_for_language(lang))


class LanguageAnalyzer(Tokenizer):
    """Tokenise, fold case and accents, drop stop words, then stem with snowball for ``lang``.

    One pass over the text instead of Whoosh's chain of five filters (tokenizer, lowercase,
    charset, stop, stem), with a per-process word -> stem table: analysis was most of the
    time of a rebuild. Folding comes before stemming so that a word typed with or without
    its accents stems the same way ("migración" and "migracion" both become "migracion").
    Positions skip stop words, as Whoosh's StopFilter numbers them.
    """

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self._setup()

    def _setup(self) -> None:
        self._stops = stopwords(self.lang)
        self._stemfn = stemmer_for_language(self.lang)
        self._stems: dict[str, str | None] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"lang": self.lang}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.lang = state["lang"]
        self._setup()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LanguageAnalyzer) and other.lang == self.lang

    def __hash__(self) -> int:
        return hash(("LanguageAnalyzer", self.lang))

    def stem(self, word: str) -> str | None:
        """The indexed form of an already folded word; None for a stop word."""
        stems = self._stems
        found = stems.get(word, "")
        if found == "":
            if len(stems) >= MAX_STEMS:
                stems.clear()
            found = stems[word] = None if word in self._stops else self._stemfn(word)
        return found

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
        folded = fold(value)
        same_length = len(folded) == len(value)
        matches = TOKEN.finditer(folded) if tokenize else iter([re.match(r"(?s).*", folded)])
        pos = None
        stem = self.stem
        for raw, match in enumerate(matches):
            if match is None:
                continue
            word = match.group()
            text = stem(word)
            if text is None:
                if removestops:
                    continue
                t.stopped = True
                text = word
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


#: Recent analyses of text fields: (analyser, format, boost, value, options) -> postings.
_analysed: dict[tuple[Any, ...], list[Any]] = {}
_analysed_lock = threading.Lock()
MAX_ANALYSED = 16


class SharedText(TEXT):
    """A text field that reuses the postings of a value analysed moments ago.

    A rebuild writes each story's public document and then its staff document; their titles,
    summaries and texts are usually the same strings, and analysis is most of the cost of
    writing them. The postings depend only on the analyser, the format and the value, which
    are the key (compared by equality), so a value is never given another value's postings.
    """

    def index(self, value: Any, **kwargs: Any) -> list[Any]:
        options = tuple(sorted(kwargs.items()))
        key = (self.analyzer, type(self.format), self.format.field_boost, value, options)
        found = _analysed.get(key)
        if found is None:
            found = list(super().index(value, **kwargs))
            with _analysed_lock:  # threads of one web worker may index at once
                if len(_analysed) >= MAX_ANALYSED:
                    del _analysed[next(iter(_analysed))]  # the oldest
                _analysed[key] = found
        return found


def language_analyzer(lang: str) -> Analyzer:
    """The analyser for text in ``lang`` (see ``LanguageAnalyzer``)."""
    return LanguageAnalyzer(lang)


def plain_analyzer() -> Analyzer:
    """Tokenise and fold, no stemming: names of places and people, and the spelling vocabulary."""
    return RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)


def analyzer_for(lang: str) -> Analyzer:
    """The analyser used for text in ``lang`` (English for anything but Spanish)."""
    return ANALYZERS["es" if lang == "es" else "en"]


ANALYZERS: dict[str, LanguageAnalyzer] = {lang: LanguageAnalyzer(lang) for lang in LANGUAGES}
PLAIN = plain_analyzer()


def stem(word: str, lang: str) -> str | None:
    """The indexed form of one word in ``lang`` ("es" or "en"); None for a stop word."""
    return ANALYZERS[lang].stem(fold(word))


#: Bumped whenever the fields change: an index built with another version is not opened
#: (search says "temporarily unavailable" and ``nuevonorte check`` says to reindex).
SCHEMA_VERSION = "3"  # 1: 12 query fields, Whoosh filter chains; 2: positional twins of the text fields

#: Fields a free-text query searches, with their weight. Per language, a short "head" (title,
#: summary, theme and place names) weighted above the long "text" (story text, transcript
#: cues, credited name). Four fields instead of twelve: each query word is an OR over these,
#: and that OR is most of the cost of a search (README, "Search").
QUERY_FIELDS = {
    "head_es": 3.0,
    "head_en": 3.0,
    "text_es": 1.0,
    "text_en": 1.0,
}

#: Fields that can be faceted and filtered on (all keyword fields of codes or slugs).
FACETS = ("theme", "place", "country", "language", "media", "decade")


def _schema(staff: bool) -> Schema:
    es, en = ANALYZERS["es"], ANALYZERS["en"]
    fields = {
        "sid": ID(unique=True, stored=True),  # the story's database id, the update key
        "pid": STORED(),  # the public id, for links
        # Searched (not stored): see QUERY_FIELDS.
        "head_es": SharedText(analyzer=es),
        "head_en": SharedText(analyzer=en),
        "text_es": SharedText(analyzer=es),
        "text_en": SharedText(analyzer=en),
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
    }
    if staff:
        fields["status"] = ID(stored=True)
    return Schema(**fields)


def public_schema() -> Schema:
    """The public index: only what the consent rule makes public."""
    return _schema(staff=False)


def staff_schema() -> Schema:
    """The staff index: every story that is not withdrawn, with its review status."""
    return _schema(staff=True)
