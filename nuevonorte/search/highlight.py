"""Snippets and transcript moments: the words a query met, marked in a story's own text.

A word is marked when its indexed form (``LanguageAnalyzer.term``) is one the query looked
for, so every word that made a story match is found again, whatever its stem did to its
spelling ("family" is indexed as "famili", "experiencia" as "experient"). Everything but
the ``<mark>`` tags is HTML-escaped.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass
from itertools import accumulate

from markupsafe import Markup, escape

from nuevonorte.search.schema import ANALYZERS, STEM_REWRITE, TOKEN, fold_in_place

SNIPPET_WINDOW = 420
SNIPPET_CHARS = 240
SNIPPET_CONTEXT = 60
SNIPPET_FRAGMENTS = 2
CUES_PER_HIT = 3

Span = tuple[int, int]


@dataclass(frozen=True)
class CueHit:
    """A matching passage of a transcript: where it starts, and its highlighted text — the cue's
    own words, or its translation when only that matched — with that text's language."""

    start_seconds: int
    text_html: Markup
    lang: str = "es"


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
        # A word begins after anything but a letter, or a dot that does not join it to one;
        # that is asked after each beginning's first letter, so that the pattern starts with
        # letters and the regular expression engine skips ahead to them (twice as fast).
        after_first = r"(?<!\w.)(?<!\w\..)"
        pattern = "|".join(re.escape(s[0]) + after_first + re.escape(s[1:]) for s in starts)
        self.starts = re.compile(pattern) if starts else None

    def spans(self, text: str, first: bool = False) -> list[Span]:
        """Where the wanted words of ``text`` are (only the first with ``first``)."""
        return self.spans_in(Text(text), 0, len(text), first)

    def spans_in(self, text: Text, start: int, end: int, first: bool = False) -> list[Span]:
        """Where the wanted words of ``text`` that lie between ``start`` and ``end`` are (a word
        cut by ``end`` is not looked at: its beginning may not be its word)."""
        if self.starts is None:
            return []
        out: list[Span] = []
        lowered, term, wanted = text.lowered, self.analyzer.term, self.wanted
        if text.folded is None:  # folded words are not where the text's are: every word is looked up
            low, high = text.in_lowered(start), text.in_lowered(end)
            for word in TOKEN.finditer(lowered, low, len(lowered)):
                if word.end() > high:
                    break
                if term(word.group()) in wanted:
                    out.append(text.in_text(word.span()))
                    if first:
                        break
            return out
        for candidate in self.starts.finditer(text.folded, start, end):
            m = TOKEN.match(lowered, candidate.start())
            if m is not None and m.end() <= end and term(m.group()) in wanted:
                out.append(m.span())
                if first:
                    break
        return out


class Text:
    """A text with its lower-case and folded forms, made once.

    ``lowered`` is the whole text lower-cased, as the analysers read it ("Σ" ending a word
    becomes "ς"). Its positions are the text's, unless lower-casing lengthened a letter ("İ"
    becomes two characters): ``in_lowered`` and ``in_text`` then map them. ``folded`` is None
    when its positions or words are not those of ``lowered`` (``schema.fold_in_place``), or
    ``lowered``'s are not the text's.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.lowered = text.lower()
        self._at: list[int] | None = None  # where each character of the text starts in ``lowered``
        self._back: list[int] | None = None  # the character of the text each one of ``lowered`` comes from
        self.folded: str | None = None
        if len(self.lowered) == len(text):
            self.folded = fold_in_place(self.lowered)
        else:  # a letter's lower case has no context but its length ("İ"), so each is lowered alone
            sizes = [len(c.lower()) for c in text]
            self._at = list(accumulate(sizes, initial=0))
            self._back = [i for i, size in enumerate(sizes) for _ in range(size)] + [len(text)]

    def in_lowered(self, at: int) -> int:
        return at if self._at is None else self._at[at]

    def in_text(self, span: Span) -> Span:
        if self._back is None:
            return span
        return self._back[span[0]], self._back[span[1] - 1] + 1


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
    forms = Text(text)
    first = marker.spans_in(forms, 0, len(text), first=True)
    if not first:
        return ""
    start = max(0, first[0][0] - SNIPPET_WINDOW // 3)
    if start:
        start = text.find(" ", start, first[0][0]) + 1  # at a word (0 when none: the match's own start)
        start = start or first[0][0]
    end = min(len(text), start + SNIPPET_WINDOW)
    window = text[start:end]
    spans = [(a - start, b - start) for a, b in marker.spans_in(forms, start, end)]
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
    Spanish recording through its translated cues, and is taken to the moment too).

    ``markers`` holds a marker per language to look for: a language without one is skipped.
    """
    if not markers:
        return []
    cues = json.loads(stored)
    own: dict[int, tuple[str, list[Span], str]] = {}
    translated: dict[int, tuple[str, list[Span], str]] = {}
    for code in markers:
        other = "en" if code == "es" else "es"
        texts = {i: cue[1] for i, cue in enumerate(cues) if _lang(cue[2]) == code}
        own.update({i: (*found, code) for i, found in _spans_each(texts, markers[code]).items()})
        translations = {i: cue[3] for i, cue in enumerate(cues) if _lang(cue[2]) == other and len(cue) > 3}
        met = _spans_each(translations, markers[code])
        translated.update({i: (*found, code) for i, found in met.items()})
    hits = []
    for i, cue in enumerate(cues):
        found = own.get(i) or translated.get(i)
        if found:
            text, spans, lang = found
            html = Markup(marked(text, spans, 0, len(text)))  # noqa: S704 (escaped but <mark>)
            hits.append(CueHit(int(cue[0]) // 1000, html, lang))
            if len(hits) == CUES_PER_HIT:
                break
    return hits


def _lang(code: str) -> str:
    return "es" if code == "es" else "en"


def _spans_each(texts: dict[int, str], marker: Marker) -> dict[int, tuple[str, list[Span]]]:
    """The wanted words of each text, looked for in all of them at once (one fold, one scan:
    a recording has hundreds of cues)."""
    if not texts or marker.starts is None:
        return {}
    keys = list(texts)
    starts = [0]
    for key in keys:
        starts.append(starts[-1] + len(texts[key]) + 1)
    joined = Text("\n".join(texts[key] for key in keys))
    out: dict[int, tuple[str, list[Span]]] = {}
    for a, b in marker.spans_in(joined, 0, len(joined.text)):
        n = bisect.bisect_right(starts, a) - 1
        key, offset = keys[n], starts[n]
        if b - offset <= len(texts[key]):  # never across two cues
            out.setdefault(key, (texts[key], []))[1].append((a - offset, b - offset))
    return out
