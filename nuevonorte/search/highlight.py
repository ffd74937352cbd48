"""Snippets and transcript moments: the words a query met, marked in a story's own text.

A word is marked when its indexed form (``LanguageAnalyzer.term``) is one the query looked
for, so every word that made a story match is found again, whatever its stem did to its
spelling ("family" is indexed as "famili", "experiencia" as "experient"). Everything but
the ``<mark>`` tags is HTML-escaped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from markupsafe import Markup, escape

from nuevonorte.search.schema import ANALYZERS, STEM_REWRITE, TOKEN, fold

SNIPPET_WINDOW = 420
SNIPPET_CHARS = 240
SNIPPET_CONTEXT = 60
SNIPPET_FRAGMENTS = 2
CUES_PER_HIT = 3

Span = tuple[int, int]


@dataclass(frozen=True)
class CueHit:
    """A matching passage of a transcript: where it starts and its highlighted text."""

    start_seconds: int
    text_html: Markup


class Marker:
    """Finds, in text of one language, the words whose indexed form is among ``wanted``.

    Looking up every word of a 300-word story is too slow for a page of results, so only
    the words that begin like a wanted form are looked up: a word whose stem is S begins
    with S less its last ``STEM_REWRITE`` letters (one letter at least), and one regular
    expression finds those beginnings.
    """

    def __init__(self, wanted: frozenset[str], lang: str) -> None:
        self.wanted = wanted
        self.analyzer = ANALYZERS[lang]
        starts = sorted({t[: max(1, len(t) - STEM_REWRITE)] for t in wanted}, key=len, reverse=True)
        # A word begins after anything but a letter, or a dot that does not join it to one.
        pattern = r"(?<!\w)(?<!\w\.)(?:" + "|".join(re.escape(s) for s in starts) + ")"
        self.starts = re.compile(pattern) if starts else None

    def _is_wanted(self, word: str) -> bool:
        return self.analyzer.term(word.lower()) in self.wanted

    def spans(self, text: str, start: int = 0, end: int | None = None, first: bool = False) -> list[Span]:
        """Where the wanted words of ``text[start:end]`` are (only the first with ``first``)."""
        if self.starts is None:
            return []
        end = len(text) if end is None else end
        folded, lowered = fold(text), text.lower()
        out: list[Span] = []
        if len(folded) != len(text) or len(lowered) != len(text):  # a letter folds to several
            for word in TOKEN.finditer(text, start, end):
                if self._is_wanted(word.group()):
                    out.append(word.span())
                    if first:
                        break
            return out
        for candidate in self.starts.finditer(folded, start, end):
            m = TOKEN.match(lowered, candidate.start(), end)
            if m is not None and self.analyzer.term(m.group()) in self.wanted:
                out.append(m.span())
                if first:
                    break
        return out

    def found_in(self, text: str) -> bool:
        """Whether ``text`` holds a wanted word."""
        return bool(self.spans(text, first=True))


def marked(text: str, spans: list[Span], start: int, end: int) -> str:
    """``text[start:end]`` HTML-escaped, with the spans inside it in <mark>."""
    out, at = [], start
    for a, b in spans:
        out += [str(escape(text[at:a])), "<mark>", str(escape(text[a:b])), "</mark>"]
        at = b
    out.append(str(escape(text[at:end])))
    return "".join(out)


def snippet(text: str, marker: Marker) -> str:
    """Highlighted fragments of ``text`` around the query's words (HTML-escaped but <mark>);
    "" when it holds none.

    Only a window of ``SNIPPET_WINDOW`` characters around the first word met is looked at,
    not the whole story. At most two fragments of about 240 characters, the ones with the
    most matches, in text order, joined by " … ".
    """
    if not text:
        return ""
    first = marker.spans(text, first=True)
    if not first:
        return ""
    start = max(0, first[0][0] - SNIPPET_WINDOW // 3)
    if start:
        start = text.find(" ", start, first[0][0]) + 1  # at a word (0 when none: the match's own start)
        start = start or first[0][0]
    window = text[start : start + SNIPPET_WINDOW]
    spans = marker.spans(window)
    fragments: list[tuple[int, int, list[Span]]] = []
    i = 0
    while i < len(spans):
        first_char = max(fragments[-1][1] if fragments else 0, spans[i][0] - SNIPPET_CONTEXT)
        if first_char:  # start at a word
            first_char = spans[i][0] - len(window[first_char : spans[i][0]].split(" ", 1)[-1])
        j = i + 1
        while j < len(spans) and spans[j][1] + SNIPPET_CONTEXT - first_char <= SNIPPET_CHARS:
            j += 1
        limit = spans[j][0] if j < len(spans) else len(window)  # never show the next match unmarked
        last = min(limit, spans[j - 1][1] + SNIPPET_CONTEXT)
        if last < len(window):  # end at a word
            last = spans[j - 1][1] + len(window[spans[j - 1][1] : last].rsplit(" ", 1)[0])
        fragments.append((first_char, last, spans[i:j]))
        i = j
    best = sorted(sorted(fragments, key=lambda f: -len(f[2]))[:SNIPPET_FRAGMENTS])
    return " … ".join(marked(window, inside, a, b) for a, b, inside in best)


def cue_hits(stored: str, markers: dict[str, Marker]) -> list[CueHit]:
    """The first transcript cues holding a word met, each with its time: the cue's own text,
    or its translation when only the translation holds one (an English visitor finds a
    Spanish recording through its translated cues, and is taken to the moment too)."""
    hits = []
    for start_ms, text, cue_lang, *rest in json.loads(stored):
        code = "es" if cue_lang == "es" else "en"
        translation = rest[0] if rest else ""
        other = "en" if code == "es" else "es"
        for shown, marker in ((text, markers[code]), (translation, markers[other])):
            spans = marker.spans(shown) if shown else []
            if spans:
                hits.append(CueHit(int(start_ms) // 1000, Markup(marked(shown, spans, 0, len(shown)))))  # noqa: S704 (escaped but <mark>)
                break
        if len(hits) == CUES_PER_HIT:
            break
    return hits
