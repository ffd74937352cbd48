"""One recording in, its language and passages out: the speech recognition itself.

The audio is decoded here, in the worker, from the archive's own cleaned copy (uploads are
rebuilt by the sandboxed ingest before they are stored), and is held in memory only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, Any

from nuevonorte.transcribe import cues as grouping
from nuevonorte.transcribe.model import load

log = logging.getLogger(__name__)

LANGUAGES = ("es", "en")
SAMPLE_RATE = 16_000


class AudioUnreadable(Exception):
    """The decoder refused the recording."""


class Stopped(Exception):
    """The job was cancelled (or taken by another worker) while the recording was transcribed."""


@dataclass(frozen=True)
class Draft:
    """What speech recognition heard: its language, and the passages (possibly none)."""

    language: str
    passages: list[grouping.Passage]


@dataclass(frozen=True)
class Settings:
    """The configured model and how many threads it may use."""

    model_dir: str = ""
    hash_list: str = ""
    threads: int = 0

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> Settings:
        """The settings an app's configuration names (``transcribe_*`` keys)."""
        return cls(
            config["TRANSCRIBE_MODEL_DIR"], config["TRANSCRIBE_MODEL_SHA256"], config["TRANSCRIBE_THREADS"]
        )


def transcribe(
    audio_file: IO[bytes],
    language: str,
    settings: Settings,
    progress: Callable[[int], bool],
) -> Draft:
    """Transcribe ``audio_file`` in ``language`` ("es", "en", or "" to tell which of the two it
    is). ``progress`` is called with a percentage as the work goes on; when it answers False the
    work stops (``Stopped``). ``ModelUnavailable`` and ``AudioUnreadable`` say why nothing came."""
    model = load(settings.model_dir, settings.hash_list, settings.threads)
    samples = _decode(audio_file)
    duration = len(samples) / SAMPLE_RATE
    if duration == 0:
        return Draft(language or "es", [])
    if language not in LANGUAGES:
        language = _which_language(model, samples)
    if not progress(1):
        raise Stopped
    segments, _info = model.transcribe(
        samples, language=language, word_timestamps=True, beam_size=5, vad_filter=True
    )
    words: list[grouping.Word] = []
    for segment in segments:
        words += [grouping.Word(w.start, w.end, w.word) for w in segment.words or ()]
        if not progress(min(99, max(1, int(100 * segment.end / duration)))):
            raise Stopped
    return Draft(language, grouping.group(words))


def _decode(audio_file: IO[bytes]) -> Any:
    from faster_whisper.audio import decode_audio

    try:
        return decode_audio(audio_file, sampling_rate=SAMPLE_RATE)
    except Exception as error:  # PyAV raises its own error types for every kind of bad input
        log.info("a recording could not be decoded for a draft transcript: %s", type(error).__name__)
        raise AudioUnreadable from error


def _which_language(model: Any, samples: Any) -> str:
    """Spanish or English, whichever the model finds likelier (the archive's two languages; a
    recording in another language is still drafted in the closer of the two, and the curator
    can ask again in the other)."""
    _best, _probability, ranked = model.detect_language(samples, language_detection_segments=2)
    scores = dict(ranked)
    return max(LANGUAGES, key=lambda code: scores.get(code, 0.0))
