"""Stored media for public-site tests: a real JPEG with derivatives and a transcribed WAV."""

from __future__ import annotations

import io
import math
import struct
import wave

from PIL import Image

from nuevonorte.models import Cue, MediaFile, MediaKind, Story, Transcript
from nuevonorte.storage import get_storage

CUES = [
    (0, 2000, "Llegamos de noche.", "We arrived at night."),
    (2000, 4000, "Nadie nos esperaba.", "Nobody was waiting for us."),
    (4000, 6000, "Pero al otro día salió el sol.", "But the next day the sun came out."),
]


def _jpeg(width: int, height: int, color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "JPEG", quality=80)
    return out.getvalue()


def _wav(seconds: int = 6, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(
            b"".join(
                struct.pack("<h", int(6000 * math.sin(2 * math.pi * 330 * n / rate)))
                for n in range(seconds * rate)
            )
        )
    return out.getvalue()


def add_image(story: Story) -> MediaFile:
    """Attach a stored JPEG with display and thumbnail derivatives to ``story``."""
    storage = get_storage()
    original = _jpeg(1200, 800, (44, 110, 120))
    media = MediaFile(
        kind=MediaKind.IMAGE,
        position=len(story.media),
        mime_type="image/jpeg",
        storage_key=storage.put_bytes(original, "jpg"),
        checksum="x",
        size_bytes=len(original),
        width=1200,
        height=800,
        display_key=storage.put_bytes(_jpeg(960, 640, (44, 110, 121)), "jpg"),
        thumbnail_key=storage.put_bytes(_jpeg(320, 213, (44, 110, 122)), "jpg"),
        alt_es="Una calle de noche con luces.",
        alt_en="A street at night with lights.",
    )
    story.media.append(media)
    return media


def add_audio(story: Story, transcript: bool = True) -> MediaFile:
    """Attach a stored six-second WAV, with a three-cue transcript, to ``story``."""
    data = _wav()
    media = MediaFile(
        kind=MediaKind.AUDIO,
        position=len(story.media),
        mime_type="audio/wav",
        storage_key=get_storage().put_bytes(data, "wav"),
        checksum="x",
        size_bytes=len(data),
        duration_seconds=6.0,
    )
    if transcript:
        media.transcript = Transcript(
            language="es",
            translation_language="en",
            cues=[
                Cue(position=n, start_ms=s, end_ms=e, text=t, translation=tr)
                for n, (s, e, t, tr) in enumerate(CUES)
            ],
        )
    story.media.append(media)
    return media
