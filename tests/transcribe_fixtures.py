"""Spoken recordings for the draft-transcript tests, made by espeak-ng (Debian's package, installed
by .ci/run), and the word error rate that judges a draft."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.support import require

ENGLISH = "My family crossed the border at night and we walked for three days to reach the city."
SPANISH = "Mi familia cruzó la frontera de noche y caminamos tres días para llegar a la ciudad."
VOICES = {"en": "en-us", "es": "es-419"}


def spoken(tmp_path: Path, text: str, language: str, name: str = "spoken.wav") -> bytes:
    """A WAV of ``text`` read aloud by espeak-ng (16-bit mono, 22,050 Hz)."""
    require(shutil.which("espeak-ng") is not None, "espeak-ng is not installed")
    out = tmp_path / name
    subprocess.run(["espeak-ng", "-v", VOICES[language], "-s", "150", "-w", str(out), text], check=True)
    return out.read_bytes()


def words(text: str) -> list[str]:
    return [
        "".join(c for c in w.casefold() if c.isalnum()) for w in text.split() if any(c.isalnum() for c in w)
    ]


def word_error_rate(reference: str, heard: str) -> float:
    """(substitutions + deletions + insertions) / words of the reference (Levenshtein on words)."""
    ref, hyp = words(reference), words(heard)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (r != h))
    return row[len(hyp)] / max(1, len(ref))
