"""Mutated images and audio: each is stored cleanly or refused cleanly, never another error (U17, U18)."""

from __future__ import annotations

import functools
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nuevonorte.extensions import db
from nuevonorte.media import MediaRejected, ingest_upload
from nuevonorte.storage import get_storage
from tests import media_samples as samples
from tests.media_fixtures import media_rows

#: Sizes that lie and tags after the audio (T10); mutations then also break the tags' own sizes.
TAGGED = {
    "wav-zero-tagged": "zero",
    "wav-unknown-tagged": "unknown",
    "wav-too-large-tagged": "too_large",
    "mp3-trailers": "mp3",
    "flac-trailers": "flac",
}
SEEDS = ["jpeg", "png", "webp", "mp3", "ogg", "flac", "m4a", "wav", *TAGGED]


@functools.cache
def tagged_seed(kind: str) -> bytes:
    """A small recording with tags after its audio: a WAV whose `data` size lies, followed by
    LIST/INFO, `id3 ` and `bext` chunks, or MP3 or FLAC followed by ID3v2, APE, Lyrics3, ID3v1."""
    if kind.startswith("wav"):
        after, _ = samples.joined([samples.info_chunk(), samples.id3_chunk(), samples.bext_chunk()])
        return samples.pcm_wav(TAGGED[kind], after, seconds=0.3)
    tags, _ = samples.joined([fn() for fn in samples.TRAILERS.values()])
    return samples.encoded(TAGGED[kind], seconds=0.3) + tags


@functools.cache
def seed(kind: str) -> bytes:
    """A small clean file of ``kind`` (or, for the T10 seeds, a tagged one)."""
    if kind in TAGGED:
        return tagged_seed(kind)
    if kind == "jpeg":
        return samples.jpeg(samples.picture(48, 32))
    if kind == "png":
        return samples.png(samples.picture(48, 32))
    if kind == "webp":
        return samples.webp(samples.picture(48, 32))
    if kind == "wav":
        return samples.wav(seconds=0.3)
    return samples.encoded(kind, seconds=0.3)


@st.composite
def mutated(draw: st.DrawFn, kind: str) -> bytes:
    """The seed with a few bytes flipped, a range overwritten, bytes inserted or the tail cut."""
    data = bytearray(seed(kind))
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["flip", "overwrite", "insert", "truncate"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if action == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif action == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=16))
            data[at : at + len(chunk)] = chunk
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        else:
            del data[max(at, 1) :]
    return bytes(data)


#: What a mutated file may be refused as: never a storage failure (too_complex: a mutation made
#: it need more memory than the child may use).
CLEAN_REFUSALS = {"corrupt", "unsupported_type", "too_many_pixels", "too_complex", "timeout", "empty"}


@pytest.mark.parametrize("kind", SEEDS)
def test_mutated_media_is_accepted_or_refused_cleanly_U17_U18(app, story, kind):
    app.config["MEDIA_TIMEOUT_SECONDS"] = 30
    storage = get_storage()

    @settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(data=mutated(kind))
    def check(data: bytes) -> None:
        try:
            media, report = ingest_upload(story, io.BytesIO(data))
        except MediaRejected as rejected:
            assert rejected.code in CLEAN_REFUSALS
            assert media_rows() == 0
        else:
            assert all(storage.exists(key) for key in media.storage_keys())
            assert media.mime_type.split("/")[0] in ("image", "audio")
            assert isinstance(report.messages(), list)
        finally:
            db.session.rollback()
        assert list(storage.keys()) == []
        assert storage.temp_files() == []
        assert media_rows() == 0

    check()


def test_seeds_are_accepted(story):
    """The unmutated seeds are valid, so the property above exercises both outcomes."""
    for kind in SEEDS:
        media, _ = ingest_upload(story, io.BytesIO(seed(kind)))
        assert Path(get_storage().path(media.storage_key)).is_file()
