"""Words with times, as speech recognition gives them, grouped into passages (cues) of a size a
curator can read and correct: a passage ends at the end of a sentence once it has some words, at
a pause, or before it grows too long to read in one go."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: A passage is closed before it passes these.
MAX_SECONDS = 7.0
MAX_CHARACTERS = 84
#: A silence this long between two words ends a passage.
PAUSE_SECONDS = 1.0
#: A sentence end closes a passage only once it is this long (a lone "Sí." stays with the next).
MIN_SENTENCE_SECONDS = 1.5
SENTENCE_ENDS = (".", "?", "!", "…")


@dataclass(frozen=True)
class Word:
    """One recognised word: seconds from the start of the recording, and its text as given
    (Whisper puts the space before a word inside it)."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Passage:
    """A group of words: milliseconds and text."""

    start_ms: int
    end_ms: int
    text: str


def group(words: Iterable[Word]) -> list[Passage]:
    """``words`` (in order) as passages: none empty, in order, never overlapping, and every
    word's text in exactly one of them."""
    passages: list[Passage] = []
    current: list[Word] = []

    def close() -> None:
        text = " ".join("".join(w.text for w in current).split())
        if text:
            start = _ms(current[0].start)
            end = max(_ms(current[-1].end), start)
            if passages and start < passages[-1].end_ms:
                start = passages[-1].end_ms
                end = max(end, start)
            passages.append(Passage(start, end, text))
        current.clear()

    for word in words:
        if current and _breaks_before(current, word):
            close()
        current.append(word)
        if _ends_sentence(current):
            close()
    if current:
        close()
    return passages


def _breaks_before(current: list[Word], word: Word) -> bool:
    length = len("".join(w.text for w in current).strip()) + len(word.text)
    return (
        word.start - current[-1].end >= PAUSE_SECONDS
        or word.end - current[0].start > MAX_SECONDS
        or length > MAX_CHARACTERS
    )


def _ends_sentence(current: list[Word]) -> bool:
    return (
        current[-1].text.rstrip().endswith(SENTENCE_ENDS)
        and current[-1].end - current[0].start >= MIN_SENTENCE_SECONDS
    )


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))
