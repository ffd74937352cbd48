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
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping

from flask_babel import gettext as _
from markupsafe import Markup, escape

from nuevonorte import audit, ledger
from nuevonorte.extensions import db
from nuevonorte.models import CuratorAccount, Story, StoryStatus

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
            missing = _("“%(words)s” is not in that paragraph: copy it as it is written.", words=passage)
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
    ``text``), after ``check``; the caller flushes, audits and commits. On a published story,
    a passage newly withheld is written to the withdrawal ledger, so that restoring an older
    backup cannot show it again."""
    cleaned = check(text, passages)
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
