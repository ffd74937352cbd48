"""A real MP3 carrying both an ID3v2 tag before its audio and an ID3v1 tag after it, as a
tagger wrote them (tests/fixtures/id3v1v2-combined.mp3, from mutagen's test data): accepted,
and stored with neither tag (docs/security.md M10, T10).

The tags are read back with mutagen, so every value this test looks for in the stored bytes is
one the tagger really wrote, not one this test planted.
"""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from mutagen.id3 import ID3, ParseID3v1

from nuevonorte.models import MediaKind
from nuevonorte.storage import get_storage

FIXTURES = Path(__file__).with_name("fixtures")
COMBINED = FIXTURES / "id3v1v2-combined.mp3"
#: Shorter values ("3", a year) occur by chance in any few kilobytes of audio.
SHORTEST_VALUE = 4


def tag_values(path: Path) -> list[str]:
    """Every text value of the file's ID3v2 tag and of its 128-byte ID3v1 tag, as mutagen reads them."""
    data = path.read_bytes()
    v2 = ID3(path, load_v1=False)
    v1 = ParseID3v1(data[-128:])
    assert v1, "the fixture ends with an ID3v1 tag"
    frames = [*v2.values(), *v1.values()]
    values = {str(text) for frame in frames for text in getattr(frame, "text", [])}
    return sorted(value for value in values if len(value.strip("\x00 ")) >= SHORTEST_VALUE)


def frames(path: Path | str) -> list[bytes]:
    """The bytes of each MPEG frame the file's demuxer hands on (the Info frame is not one)."""
    with av.open(str(path)) as check:
        return [bytes(packet) for packet in check.demux(audio=0) if packet.size]


def test_the_fixture_carries_both_tags():
    """What the test below relies on: an ID3v2 header first, an ID3v1 "TAG" trailer last, and
    the values a tagger wrote in each (title and artist in both, album, year and comment only
    in ID3v1)."""
    data = COMBINED.read_bytes()
    assert data[:3] == b"ID3" and data[-128:-125] == b"TAG"
    values = tag_values(COMBINED)
    assert {"cosmic american", "Anais Mitchell", "Hymns for the Exiled", "1337", "v1 comment"} <= set(values)


def test_a_real_mp3_with_id3v1_and_id3v2_is_stored_with_neither_M10_T10(ingest):
    """Accepted; the stored file starts with an MPEG frame (no "ID3" header), ends with no
    "TAG" trailer and holds none of the tagger's values. Its audio is the upload's, frame for
    frame and byte for byte: every whole frame, and not the last one, which is cut short (the
    demuxer would hand it on with the ID3v1 tag's bytes; a frame the archive cannot prove is
    audio is never stored)."""
    data = COMBINED.read_bytes()
    media, report = ingest(data)
    assert media.kind == MediaKind.AUDIO and media.mime_type == "audio/mpeg"
    assert "audio_tags" in report.removed
    path = get_storage().path(media.storage_key)
    stored = path.read_bytes()
    assert stored[:2] == b"\xff\xfb"  # an MPEG-1 layer III frame header
    assert b"ID3" not in stored
    assert b"TAG" not in stored
    assert ParseID3v1(stored[-128:]) is None
    for value in tag_values(COMBINED):
        assert value.encode("latin-1", "replace") not in stored, value
        assert value.encode("utf-8") not in stored, value
    assert b"1337v1 comment" not in stored  # the ID3v1 year and comment, as the tag holds them
    uploaded = frames(COMBINED)
    assert len(uploaded) == 6 and len(uploaded[-1]) < len(uploaded[0])
    assert frames(path) == uploaded[:-1]
    assert media.duration_seconds == pytest.approx(5 * 1152 / 44100, abs=0.03)
