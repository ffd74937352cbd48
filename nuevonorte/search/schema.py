"""The index schema and its Spanish and English analysers (the only Whoosh schema code)."""

from __future__ import annotations

import re

from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema
from whoosh.lang import stopwords_for_language
from whoosh.support.charset import accent_map

#: Languages with their own analyser; text in any other language is analysed as English.
LANGUAGES = ("es", "en")


def fold(text: str) -> str:
    """Case- and accent-fold ``text`` the way every analyser does ("Niños" -> "ninos")."""
    return text.lower().translate(accent_map)


def stopwords(lang: str) -> frozenset[str]:
    """The folded stop words of ``lang``."""
    return frozenset(fold(w) for w in stopwords_for_language(lang))


def language_analyzer(lang: str) -> Analyzer:
    """Tokenise, fold case and accents, drop stop words, then stem with snowball for ``lang``.

    Folding comes before stemming so that a word typed with or without its accents stems
    the same way ("migración" and "migracion" both become "migracion").
    """
    return (
        RegexTokenizer()
        | LowercaseFilter()
        | CharsetFilter(accent_map)
        | StopFilter(stoplist=stopwords(lang), minsize=1)
        | StemFilter(lang=lang, cachesize=-1)  # unbounded dict: the vocabulary is bounded
    )


def plain_analyzer() -> Analyzer:
    """Tokenise and fold, no stemming: names of places and people, and the spelling vocabulary."""
    return RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)


def analyzer_for(lang: str) -> Analyzer:
    """The analyser used for text in ``lang`` (English for anything but Spanish)."""
    return ANALYZERS["es" if lang == "es" else "en"]


ANALYZERS = {lang: language_analyzer(lang) for lang in LANGUAGES}
PLAIN = plain_analyzer()

#: Words as the analysers' tokenizer (Whoosh's RegexTokenizer default) splits them.
TOKEN = re.compile(r"\w+(?:\.?\w+)*")
#: Word -> its indexed form, per language; each word is analysed once per worker.
_stems: dict[str, dict[str, str | None]] = {code: {} for code in LANGUAGES}
MAX_STEMS = 200_000


def stem(word: str, lang: str) -> str | None:
    """The indexed form of one word in ``lang`` ("es" or "en"); None for a stop word."""
    cache = _stems[lang]
    if word not in cache:
        if len(cache) >= MAX_STEMS:
            cache.clear()
        cache[word] = next((t.text for t in ANALYZERS[lang](word)), None)
    return cache[word]


#: Bumped whenever the fields change: an index built with another version is not opened
#: (search says "temporarily unavailable" and ``nuevonorte check`` says to reindex).
SCHEMA_VERSION = "2"

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

#: Searched fields without positions -> the positional twin a phrase in them is looked up in.
PHRASE_FIELDS = {"text_es": "phrase_es", "text_en": "phrase_en"}

#: Fields that can be faceted and filtered on (all keyword fields of codes or slugs).
FACETS = ("theme", "place", "country", "language", "media", "decade")


def _schema(staff: bool) -> Schema:
    es, en = ANALYZERS["es"], ANALYZERS["en"]
    fields = {
        "sid": ID(unique=True, stored=True),  # the story's database id, the update key
        "pid": STORED(),  # the public id, for links
        # Searched (not stored): see QUERY_FIELDS.
        "head_es": TEXT(analyzer=es),
        "head_en": TEXT(analyzer=en),
        # No positions in the long fields: reading a term's postings with positions was
        # most of a search's time. Phrases in them are looked up in a positional twin,
        # read only for phrases (PHRASE_FIELDS).
        "text_es": TEXT(analyzer=es, phrase=False),
        "text_en": TEXT(analyzer=en, phrase=False),
        "phrase_es": TEXT(analyzer=es),
        "phrase_en": TEXT(analyzer=en),
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
