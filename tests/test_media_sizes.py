"""Containers whose sizes lie, and tags after the audio (docs/security.md T10).

A WAV's `data` chunk may claim 0, 0xFFFFFFFF or more than the file holds, with LIST/INFO,
`id3 `, `bext` or other chunks after the audio; taggers append ID3v1, APE, Lyrics3 and ID3v2
after MP3 and FLAC audio. None of it may reach a stored file: the stored audio is exactly what
the decoder read, the report says what was removed, and the re-check looks for every run of
text that lay outside the decoded audio.
"""

from __future__ import annotations

import functools
import io
import struct
import wave
from dataclasses import dataclass
from pathlib import Path

import av
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nuevonorte.extensions import db
from nuevonorte.media import MediaRejected, audio, ingest_upload, worker
from nuevonorte.storage import get_storage
from tests import media_samples as samples
from tests.media_fixtures import assert_nothing_left

#: The encoded seeds last this long; a WAV is samples.WAV_RATE samples a second.
SECONDS = 1.0


def stored_bytes() -> dict[Path, bytes]:
    """Every file under the media folder, temporary and intent files included."""
    root = Path(get_storage().root)
    return {path: path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def assert_no_marker(markers: list[str]) -> None:
    """No planted value, in UTF-8 or UTF-16, in any byte of any file under the media folder."""
    for path, data in stored_bytes().items():
        for value in markers:
            for encoding in ("utf-8", "utf-16-le"):
                assert value.encode(encoding) not in data, f"{value} survived in {path.name}"


@dataclass(frozen=True)
class Decoded:
    """What a decoder gets from a recording: its samples (per channel) and the largest frame."""

    samples: int
    rate: int
    frame: int


def decoded(path: Path | io.BytesIO) -> Decoded:
    with av.open(path) as container:
        frames = [frame.samples for frame in container.decode(audio=0)]
        rate = container.streams.audio[0].sample_rate
    return Decoded(sum(frames), rate, max(frames))


@functools.cache
def encoded_seed(kind: str) -> bytes:
    """Clean encoded audio of ``kind`` (no tags), SECONDS long."""
    return samples.encoded(kind, seconds=SECONDS)


def assert_same_audio(path: Path, reference: bytes) -> None:
    """The stored recording decodes to the reference's length, within one frame."""
    stored, expected = decoded(path), decoded(io.BytesIO(reference))
    assert stored.rate == expected.rate
    assert abs(stored.samples - expected.samples) <= expected.frame, (stored, expected)


def stored_original(media) -> Path:
    return get_storage().path(media.storage_key)


@pytest.mark.parametrize("lie", samples.LIES)
def test_a_wav_whose_data_size_lies_keeps_exactly_its_audio_T10(ingest, lie):
    """T10: 0, 0xFFFFFFFF, too large or the truth, with LIST/INFO, `id3 ` and `bext` after the
    audio: the stored WAV holds exactly the PCM the decoder read, its data size says so, no
    tag value is in any stored byte, and the report says tags and a picture were removed."""
    after, markers = samples.joined([samples.info_chunk(), samples.id3_chunk(), samples.bext_chunk()])
    media, report = ingest(samples.pcm_wav(lie, after))
    assert_no_marker(markers)
    assert {"audio_tags", "embedded_picture"} <= set(report.removed)
    assert media.duration_seconds == pytest.approx(SECONDS, abs=1e-6)
    path = stored_original(media)
    with wave.open(str(path), "rb") as stored:
        assert stored.getnframes() == samples.WAV_RATE * SECONDS
        assert stored.readframes(stored.getnframes()) == samples.tone(SECONDS, samples.WAV_RATE)
    data = path.read_bytes()
    data_at = data.index(b"data")
    assert struct.unpack_from("<I", data, data_at + 4)[0] == len(data) - data_at - 8


@pytest.mark.parametrize("kind", ["mp3", "flac"])
@pytest.mark.parametrize(
    "trailers", [["id3v1"], ["ape"], ["lyrics3", "id3v1"], ["id3v2"], list(samples.TRAILERS)]
)
def test_tags_appended_after_mp3_and_flac_audio_are_not_stored_T10(ingest, kind, trailers):
    """T10: ID3v1, APEv2 (with a cover), Lyrics3 and ID3v2 appended after the audio, alone and
    together: gone from every stored byte, told in the report, and the audio is all there."""
    tags, markers = samples.joined([samples.TRAILERS[name]() for name in trailers])
    media, report = ingest(encoded_seed(kind) + tags)
    assert_no_marker(markers)
    assert "audio_tags" in report.removed
    if {"ape", "id3v2"} & set(trailers):
        assert "embedded_picture" in report.removed
    assert_same_audio(stored_original(media), encoded_seed(kind))


@pytest.mark.parametrize("kind", ["mp3", "flac", "wav"])
def test_text_after_the_last_frame_is_dropped_and_told_T10(ingest, kind):
    """T10: bytes after the audio that are no known tag — text after the last MP3 or FLAC frame
    (FFmpeg's FLAC parser hands it on inside the last packet), a maker's own chunk after a
    WAV whose size is unknown — are not stored, and the report says other information went."""
    junk = samples.marker("junk-after-audio")
    if kind == "wav":
        chunk, markers = samples.vendor_chunk()
        data, reference = samples.pcm_wav("unknown", chunk), samples.pcm_wav("honest")
    else:
        data, reference, markers = (
            encoded_seed(kind) + f"Recorded at {junk}".encode(),
            encoded_seed(kind),
            [junk],
        )
    media, report = ingest(data)
    assert_no_marker(markers)
    assert "other_metadata" in report.removed
    assert_same_audio(stored_original(media), reference)


def test_a_list_chunk_whose_own_size_lies_is_cut_off_whole_T10(ingest):
    """T10: after a `data` size of 0xFFFFFFFF, a LIST chunk whose own size is wrong too: its
    INFO entries still follow one another to the end, so the cut falls before the LIST header
    and the stored audio is exactly the PCM."""
    chunk, markers = samples.info_chunk()
    lying = chunk[:4] + struct.pack("<I", len(chunk) * 10) + chunk[8:]
    media, report = ingest(samples.pcm_wav("unknown", lying))
    assert_no_marker(markers)
    assert "audio_tags" in report.removed
    with wave.open(str(stored_original(media)), "rb") as stored:
        assert stored.readframes(stored.getnframes()) == samples.tone(SECONDS, samples.WAV_RATE)


def test_a_wav_whose_tags_cannot_be_cut_off_is_refused_T10(ingest):
    """T10: after a `data` size of 0xFFFFFFFF, a LIST/INFO chunk cut short (the file ends inside
    its last entry) cannot be told apart from the audio cleanly: refused, nothing kept."""
    chunk, _ = samples.info_chunk()
    with pytest.raises(MediaRejected) as refused:
        ingest(samples.pcm_wav("unknown", chunk[:-5]))
    assert refused.value.code == "corrupt"
    assert_nothing_left()


LEAKS = {
    "wav": lambda: (samples.pcm_wav("unknown", samples.info_chunk()[0]), samples.info_chunk()[0]),
    "mp3": lambda: (encoded_seed("mp3") + samples.ape_tag()[0], samples.ape_tag()[0]),
}


@pytest.mark.parametrize("kind", sorted(LEAKS))
def test_the_recheck_refuses_text_from_outside_the_decoded_audio_T10(tmp_path, monkeypatch, kind):
    """T10: were a rebuild ever to write a tag FFmpeg never parsed into the new file (here the
    LIST chunk after a WAV of unknown size, an APE tag after an MP3), the worker's re-check
    finds the tag's text, which lay outside the decoded audio, and refuses the file, saying
    that text from outside the audio is what survived (M22)."""
    data, leaked = LEAKS[kind]()
    source = tmp_path / "upload"
    source.write_bytes(data)
    outputs = {name: str(tmp_path / name) for name in ("original", "display", "thumbnail")}
    job = {"input": str(source), "outputs": outputs, "limits": {"max_pixels": 1_000_000}}
    assert worker.process(job)["ok"]  # as built: accepted

    rebuild = audio.clean

    def leaky(path, outputs, limits):
        facts = rebuild(path, outputs, limits)
        with open(outputs["original"], "ab") as stored:
            stored.write(leaked)
        return facts

    monkeypatch.setattr(audio, "clean", leaky)
    assert worker.process(job) == {"ok": False, "code": "not_cleaned", "leftover": "audio_text"}


@dataclass(frozen=True)
class Tagged:
    """A recording with tags after its audio: the bytes, the values planted, the audio alone,
    and what the report must say."""

    data: bytes
    markers: list[str]
    reference: bytes
    removed: set[str]


@st.composite
def tagged_recordings(draw: st.DrawFn) -> Tagged:
    """WAV (any lie, any chunks after the audio in any order, maybe an ID3v1 or APE tag after
    those), or MP3 or FLAC with any appended tags in any order."""
    kind = draw(st.sampled_from(["wav", "mp3", "flac"]))
    if kind == "wav":
        chunks = draw(st.lists(st.sampled_from(sorted(samples.TRAILING_CHUNKS)), unique=True))
        trailers = draw(st.lists(st.sampled_from(["id3v1", "ape"]), unique=True))
        after, markers = samples.joined(
            [samples.TRAILING_CHUNKS[name]() for name in chunks]
            + [samples.TRAILERS[name]() for name in trailers]
        )
        data, reference = (
            samples.pcm_wav(draw(st.sampled_from(samples.LIES)), after),
            samples.pcm_wav("honest"),
        )
        removed = {"audio_tags"} if set(chunks) - {"olym"} or trailers else set()
        removed |= {"other_metadata"} if "olym" in chunks else set()
    else:
        trailers = draw(st.lists(st.sampled_from(sorted(samples.TRAILERS)), unique=True))
        tags, markers = samples.joined([samples.TRAILERS[name]() for name in trailers])
        data, reference = encoded_seed(kind) + tags, encoded_seed(kind)
        removed = {"audio_tags"} if trailers else set()
    return Tagged(data, markers, reference, removed)


def test_no_planted_value_of_any_combination_reaches_a_stored_file_T10(app, story):
    """T10, as a property: for any container, lie and set of tags after the audio, every value
    planted in the upload is absent from every byte under the media folder after ingest; the
    stored audio decodes to the right length (within one frame); the report tells the truth."""
    app.config["MEDIA_TIMEOUT_SECONDS"] = 30

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(tagged=tagged_recordings())
    def check(tagged: Tagged) -> None:
        try:
            media, report = ingest_upload(story, io.BytesIO(tagged.data))
            assert_no_marker(tagged.markers)
            assert tagged.removed <= set(report.removed)
            assert_same_audio(stored_original(media), tagged.reference)
        finally:
            db.session.rollback()
        assert_nothing_left()

    check()


@pytest.mark.parametrize("kind", sorted(samples.ENCODE))
def test_an_honest_recording_is_stored_whole_T10(ingest, kind: str) -> None:  # type: ignore[no-untyped-def]
    """T10: bounding the audio by its bytes never cuts an honest file short — every container's
    five seconds are stored as five seconds (an Ogg page header is no tag between packets)."""
    media, _report = ingest(samples.encoded(kind, seconds=5.0))
    with av.open(str(get_storage().path(media.storage_key))) as stored:
        stream = stored.streams.audio[0]
        samples_read = sum(frame.samples for frame in stored.decode(stream))
        seconds = samples_read / stream.codec_context.sample_rate
    assert seconds == pytest.approx(5.0, abs=0.1)
