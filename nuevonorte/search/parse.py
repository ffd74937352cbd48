"""A visitor's search text turned into a Whoosh query, without Whoosh's query language.

Only words and balanced double quotes (phrases) are read; field names, wildcards, ranges,
groups, boosts and operators mean nothing here, so no visitor's text can reach them.

Every word is looked up in the four searched fields (``schema.QUERY_FIELDS``), each with its
own language's analyser, so a Spanish word also finds English translations and back. A word
that is a stop word in either language ("de", "el", "mi", "the", "in") is *optional*: it adds
to a story's score where it is indexed (as a word of the other language's fields), but no
story is required to hold it. English visitors type Spanish names with their articles
("Ciudad de México") and Spanish visitors English titles ("the first day in Tijuana"); the
other language's fields index those articles as plain words, and required they found nothing.
A query of optional words only finds the stories holding any of them. Quoted words are
always required, as a phrase (decision 0011).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass, field

from whoosh.query import And, Or, Phrase, Query, Term

from nuevonorte.search.schema import ANALYZERS, ANY_STOPWORD, QUERY_FIELDS, TOKEN, fold

MAX_QUERY_CHARS = 200
MAX_WORDS = 12
#: At most this many spellings of one phrase are looked up (a phrase of words typed
#: without accents has several: see ``LanguageAnalyzer.query_terms``).
MAX_PHRASE_SPELLINGS = 8
_OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"})
_PHRASES = re.compile(r'("[^"]*")')


def field_language(fieldname: str) -> str:
    """The language of a searched field ("head_es" -> "es")."""
    return fieldname.rsplit("_", 1)[1]


@dataclass(frozen=True)
class Word:
    """A word as typed, and whether a story must hold it."""

    text: str
    required: bool


@dataclass
class ParsedQuery:
    """What a query asks: the words typed, and the Whoosh queries built from them."""

    words: list[Word] = field(default_factory=list)
    phrases: list[list[str]] = field(default_factory=list)
    #: What a story must match (None: nothing was asked).
    match: Query | None = None
    #: What a story's score is computed from: ``match`` and the optional words.
    rank: Query | None = None

    def highlight_terms(self) -> dict[str, frozenset[str]]:
        """Per language, every indexed form the query looks for (to highlight the words met)."""
        typed = [w.text for w in self.words] + [w for phrase in self.phrases for w in phrase]
        return {
            lang: frozenset(t for word in typed for t in analyzer.query_terms(word))
            for lang, analyzer in ANALYZERS.items()
        }

    def plain_words(self) -> list[str]:
        """The words typed, phrases' included, in order (for "did you mean")."""
        return [w.text for w in self.words] + [w for phrase in self.phrases for w in phrase]


def split(raw: str) -> tuple[list[Word], list[list[str]]]:
    """The words of ``raw`` (at most ``MAX_WORDS``) and its phrases (balanced quotes only).

    Control characters and anything but letters and digits are word breaks; typed operators
    ("AND", "OR") are dropped.
    """
    text = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in raw[:MAX_QUERY_CHARS])
    if text.count('"') % 2:
        text = text.replace('"', " ")
    words: list[Word] = []
    phrases: list[list[str]] = []
    count = 0
    for part in _PHRASES.split(text):
        quoted = len(part) > 1 and part.startswith('"') and part.endswith('"')
        tokens = [m.group() for m in TOKEN.finditer(part)]
        if quoted:
            tokens = tokens[: MAX_WORDS - count]
            if tokens:
                phrases.append(tokens)
                count += len(tokens)
            continue
        for token in tokens:
            if token in _OPERATORS or count >= MAX_WORDS:
                continue
            words.append(Word(token, required=fold(token) not in ANY_STOPWORD))
            count += 1
    return words, phrases


def parse(raw: str) -> ParsedQuery:
    """The query of a visitor's text (see the module's docstring)."""
    words, phrases = split(raw)
    parsed = ParsedQuery(words=words, phrases=phrases)
    required = [q for q in (_word_query(w.text) for w in words if w.required) if q is not None]
    required += [q for q in (_phrase_query(p) for p in phrases) if q is not None]
    optional = [q for q in (_word_query(w.text) for w in words if not w.required) if q is not None]
    if required:
        parsed.match = required[0] if len(required) == 1 else And(required)
        parsed.rank = Or([parsed.match, *optional]) if optional else parsed.match
    elif optional:
        parsed.match = parsed.rank = optional[0] if len(optional) == 1 else Or(optional)
    return parsed


def _word_query(word: str) -> Query | None:
    """One word in every searched field, in each of the forms it may meet there."""
    alternatives: list[Query] = []
    for fieldname, boost in QUERY_FIELDS.items():
        for text in ANALYZERS[field_language(fieldname)].query_terms(word):
            alternatives.append(Term(fieldname, text, boost=boost))
    if not alternatives:
        return None
    return alternatives[0] if len(alternatives) == 1 else Or(alternatives)


def _phrase_query(words: list[str]) -> Query | None:
    """The words one after the other in any searched field (stop words skipped in each
    language's fields, as their positions are)."""
    alternatives: list[Query] = []
    for fieldname, boost in QUERY_FIELDS.items():
        analyzer = ANALYZERS[field_language(fieldname)]
        forms = [terms for terms in (analyzer.query_terms(w) for w in words) if terms]
        if not forms:
            continue
        spellings = list(itertools.islice(itertools.product(*forms), MAX_PHRASE_SPELLINGS))
        for spelling in spellings:
            if len(spelling) == 1:
                alternatives.append(Term(fieldname, spelling[0], boost=boost))
            else:
                alternatives.append(Phrase(fieldname, list(spelling), boost=boost))
    if not alternatives:
        return None
    return alternatives[0] if len(alternatives) == 1 else Or(alternatives)
