"""Words withheld inside a paragraph: a street name hidden without hiding the whole paragraph.

A curator lists, for one paragraph of the body as it was told or of its translation, the
passages to withhold, copied as they are written. The public reads that paragraph with every
occurrence of each passage (whatever its capitals or spacing) replaced by ``MARK``; the search
indexes and the exports read the same public text (``consent.public_paragraphs``), so the
words are never indexed or exported.

The rule fails closed. A passage that cannot be found in its paragraph withholds the whole
paragraph. A translation of a paragraph with withheld words is shown only once at least as
many passages are withheld in the translation too, all of them found; until then visitors read
the paragraph as told, with its markers. A stored value that cannot be read withholds every
paragraph.

A transcript passage (a cue) holds its own withheld words, in its text and in its
translation, by the same rules. The public reads its text with markers, and hears its seconds
silent: where in the cue the words are spoken is not known (``consent.withheld_ranges``).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flask_babel import gettext as _
from markupsafe import Markup, escape

from nuevonorte import audit, ledger
from nuevonorte.extensions import db
from nuevonorte.models import Cue, CuratorAccount, Story, StoryStatus

#: What the public reads in place of withheld words.
MARK = "[…]"
TOLD = "told"
TRANSLATION = "translation"
LAYERS = (TOLD, TRANSLATION)
MAX_PASSAGES = 30  # per paragraph
MAX_CHARS = 300  # per passage
MIN_CHARS = 2

#: Passages by (layer, paragraph index); None when the stored value cannot be read.
Passages = Mapping[tuple[str, int], list[str]] | None


class WordsRefused(Exception):
    """The passages to withhold were not accepted; ``message`` says why, for the curator."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def of(story: Story) -> Passages:
    """The passages withheld in ``story``, or None when the stored value cannot be read."""
    if not story.withheld_words:
        return {}
    try:
        rows = json.loads(story.withheld_words)
        found: dict[tuple[str, int], list[str]] = {}
        for row in rows:
            layer, index, text = row["in"], row["p"], row["text"]
            if layer not in LAYERS or not isinstance(index, int) or not isinstance(text, str):
                return None
            found.setdefault((layer, index), []).append(text)
        return found
    except (ValueError, TypeError, KeyError):
        return None


def _pattern(passage: str) -> re.Pattern[str]:
    words = unicodedata.normalize("NFC", passage).split()
    return re.compile(r"\s+".join(re.escape(w) for w in words), re.IGNORECASE)


def mask(text: str, passages: Iterable[str]) -> str | None:
    """``text`` with every occurrence of each passage replaced by ``MARK`` (overlapping ones
    merged); None when a passage is not in ``text`` at all."""
    text = unicodedata.normalize("NFC", text)
    spans: list[tuple[int, int]] = []
    for passage in passages:
        found = [m.span() for m in _pattern(passage).finditer(text) if m.end() > m.start()]
        if not found:
            return None
        spans += found
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    for start, end in reversed(merged):
        text = text[:start] + MARK + text[end:]
    return text


def public_told(story: Story, index: int, text: str, passages: Passages) -> str | None:
    """Paragraph ``index`` of the body as told, as the public may read it (not judging whether
    the whole paragraph is withheld); None when it cannot be shown at all."""
    if passages is None:
        return None
    return mask(text, passages.get((TOLD, index), []))


def public_translation(index: int, text: str, passages: Passages) -> str | None:
    """The translation of paragraph ``index`` as the public may read it, or None when it may
    not be shown (then the paragraph as told is shown instead)."""
    if passages is None:
        return None
    own = passages.get((TRANSLATION, index), [])
    if len(own) < len(passages.get((TOLD, index), [])):
        return None
    return mask(text, own)


def withheld(story: Story, layer: str, index: int) -> list[str]:
    """The passages withheld in one paragraph of one layer (for the curators' forms)."""
    passages = of(story)
    return list(passages.get((layer, index), [])) if passages else []


def check(text: str, passages: list[str]) -> list[str]:
    """The passages as given, cleaned (blank lines dropped, repeats once); refused with a
    reason when one is too short, too long, too many, or not in ``text``."""
    cleaned: list[str] = []
    for passage in passages:
        passage = " ".join(unicodedata.normalize("NFC", passage).split())
        if passage and passage.casefold() not in {c.casefold() for c in cleaned}:
            cleaned.append(passage)
    if len(cleaned) > MAX_PASSAGES:
        raise WordsRefused(_("At most %(num)d passages can be withheld in a paragraph.", num=MAX_PASSAGES))
    for passage in cleaned:
        if not MIN_CHARS <= len(passage) <= MAX_CHARS:
            limits = {"min": MIN_CHARS, "max": MAX_CHARS}
            raise WordsRefused(_("A passage to withhold must have %(min)d to %(max)d characters.", **limits))
        if mask(text, [passage]) is None:
            missing = _("“%(words)s” is not in that text: copy it as it is written.", words=passage)
            raise WordsRefused(missing)
    return cleaned


def set_paragraph(
    story: Story,
    layer: str,
    index: int,
    text: str,
    passages: list[str],
    curator: CuratorAccount | None = None,
) -> None:
    """Withhold exactly ``passages`` in paragraph ``index`` of ``layer`` (whose text is
    ``text``), after ``check`` (a refusal names the paragraph); the caller commits. On a
    published story, a passage newly withheld is written to the withdrawal ledger, so that
    restoring an older backup cannot show it again."""
    try:
        cleaned = check(text, passages)
    except WordsRefused as refused:
        raise WordsRefused(_where(layer, index, refused.message)) from refused
    current = of(story)
    if current is None:  # never overwrite what cannot be read: it may withhold more
        raise WordsRefused(_("The withheld words of this story cannot be read. Nothing was changed."))
    before = {p.casefold() for p in current.get((layer, index), [])}
    kept = {key: texts for key, texts in current.items() if key != (layer, index)}
    if cleaned:
        kept[(layer, index)] = cleaned
    order = sorted(kept, key=lambda key: (LAYERS.index(key[0]), key[1]))
    rows = [{"in": lay, "p": i, "text": t} for lay, i in order for t in kept[(lay, i)]]
    stored = json.dumps(rows, ensure_ascii=False) if rows else ""
    if stored == story.withheld_words:
        return
    story.withheld_words = stored
    if story.status == StoryStatus.PUBLISHED and {p.casefold() for p in cleaned} - before:
        ledger.record(ledger.HIDDEN, story)
    # Audited here, whoever calls: an audit event is also what ends the public page cache.
    db.session.flush()
    audit.record("story.withheld_words_changed", "story", story.public_id, actor=curator)


def _where(layer: str, index: int, problem: str) -> str:
    if layer == TOLD:
        return str(_("Paragraph %(n)d: %(problem)s", n=index + 1, problem=problem))
    return str(_("Translation of paragraph %(n)d: %(problem)s", n=index + 1, problem=problem))


def add(
    story: Story, layer: str, index: int, text: str, passage: str, curator: CuratorAccount | None = None
) -> None:
    """Withhold one more passage in a paragraph (see ``set_paragraph``)."""
    set_paragraph(story, layer, index, text, [*withheld(story, layer, index), passage], curator)


def marked(text: str) -> Markup:
    """``text`` as HTML with each ``MARK`` shown as a marker that says what it is (a template
    filter: ``{{ paragraph | withheld_marks }}``)."""
    marker = Markup(
        '<span class="withheld-words"><span aria-hidden="true">{mark}</span>'
        '<span class="visually-hidden">{words}</span></span>'
    ).format(mark=MARK, words=_("[words withheld]"))
    return marker.join(escape(part) for part in text.split(MARK))


def forget(story: Story) -> None:
    """Drop every withheld passage (a withdrawal: the words go with the text)."""
    story.withheld_words = ""


# --- inside a transcript passage (a cue) -----------------------------------------------------


@dataclass(frozen=True)
class CueWords:
    """The passages withheld in one cue's text and in its translation."""

    text: tuple[str, ...] = ()
    translation: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.text or self.translation)

    def stored(self) -> str:
        """The value of the ``cue.withheld_words`` column ("" for none)."""
        if not self:
            return ""
        value = {"text": list(self.text), "translation": list(self.translation)}
        return json.dumps(value, ensure_ascii=False)

    def folded(self) -> set[tuple[str, str]]:
        """Each passage with its layer, compared without capitals (what is newly withheld)."""
        return {("text", p.casefold()) for p in self.text} | {
            ("translation", p.casefold()) for p in self.translation
        }


#: No words withheld in a cue.
NO_WORDS = CueWords()


def of_cue(cue: Cue) -> CueWords | None:
    """The passages withheld in ``cue``, or None when the stored value cannot be read."""
    if not cue.withheld_words:
        return NO_WORDS
    try:
        value = json.loads(cue.withheld_words)
        text, translation = value.get("text", []), value.get("translation", [])
    except (ValueError, TypeError, AttributeError):
        return None
    if not isinstance(text, list) or not isinstance(translation, list):
        return None
    if not all(isinstance(p, str) for p in (*text, *translation)):
        return None
    return CueWords(tuple(text), tuple(translation))


def cue_words(
    text: str, translation: str, text_passages: list[str], translation_passages: list[str]
) -> CueWords:
    """The passages to withhold in a cue, after ``check`` against its text and translation;
    ``WordsRefused`` says which layer (the caller names the cue)."""
    try:
        told = check(text, text_passages)
    except WordsRefused as refused:
        raise WordsRefused(_("In the text: %(problem)s", problem=refused.message)) from refused
    try:
        translated = check(translation, translation_passages)
    except WordsRefused as refused:
        raise WordsRefused(_("In the translation: %(problem)s", problem=refused.message)) from refused
    return CueWords(tuple(told), tuple(translated))


def public_cue(text: str, translation: str, words: CueWords | None) -> tuple[str, str] | None:
    """A cue's text and translation as the public may read them, or None when the cue cannot
    be shown at all (its words cannot be read, or a passage is no longer in its text). The
    translation is "" when it may not be shown: it withholds fewer passages than the text, or
    one of its passages is no longer in it."""
    if words is None:
        return None
    shown = mask(text, words.text)
    if shown is None:
        return None
    if not translation.strip() or len(words.translation) < len(words.text):
        return shown, ""
    return shown, mask(translation, words.translation) or ""
