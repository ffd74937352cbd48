# ruff: noqa: F811  (pytest fixtures imported from tests.media_fixtures)
"""The re-check of every image output for the upload's metadata values (M21).

The worker looks for each metadata value of the upload in the bytes of what it is about to
store, as the encoder produces them. The run filter that makes this cheap must give exactly
the answer of looking everywhere, and the pipe between encoder and scan must never leave a
thread waiting when either side fails. A file the re-check refuses is told so plainly: it
could not be cleaned, and sending it again will not help.
"""

from __future__ import annotations

import io
import threading
from itertools import pairwise
from pathlib import Path

import pytest
from flask_babel import force_locale
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from nuevonorte.media import MediaRejected, images
from nuevonorte.media.worker import MIN_NEEDLE, NeedleScan, distinct_needles
from tests import media_samples as samples
from tests.media_fixtures import assert_nothing_left, ingest, story  # noqa: F401

LIMITS = {"max_pixels": 40_000_000, "display_px": 1600, "thumbnail_px": 400}

#: A few byte values, so that needles, near misses and runs of needle bytes are all common.
SMALL_ALPHABET = b"ab\x00\xffz"


def scanned(scan: NeedleScan, data: bytes, cuts: list[int]) -> bool:
    """Feed ``data`` to ``scan`` in pieces cut at ``cuts``; what it says at the end."""
    edges = [0, *sorted(c for c in cuts if 0 < c < len(data)), len(data)]
    for start, end in pairwise(edges):
        scan.feed(data[start:end])
    return scan.found


@settings(max_examples=400, deadline=None)
@given(
    data=st.binary(max_size=400).map(lambda raw: bytes(SMALL_ALPHABET[b % len(SMALL_ALPHABET)] for b in raw)),
    needles=st.lists(
        st.binary(min_size=MIN_NEEDLE - 2, max_size=14).map(
            lambda raw: bytes(SMALL_ALPHABET[b % 3] for b in raw)  # needles use 'a', 'b' and NUL only
        ),
        max_size=4,
    ),
    planted=st.one_of(st.none(), st.tuples(st.integers(0, 3), st.integers(0, 400))),
    cuts=st.lists(st.integers(0, 420), max_size=6),
)
def test_needle_scan_answers_exactly_as_looking_everywhere(data, needles, planted, cuts):
    """Whatever the pieces and whichever path (run filter or plain search), the scan finds a
    value exactly when one occurs in the bytes — also across the edge of two pieces."""
    if planted is not None and needles:
        index, at = planted
        needle = needles[index % len(needles)]
        data = data[:at] + needle + data[at:]
    expected = any(n in data for n in distinct_needles(needles))
    for filtered in (True, False):
        scan = NeedleScan(needles)
        scan.filtered = filtered
        assert scanned(scan, data, cuts) == expected


def test_needles_using_many_byte_values_are_looked_for_one_by_one():
    """Values using more than FILTER_MAX_ALPHABET byte values would make runs of their bytes
    common in a JPEG; the scan then looks for each value everywhere, with the same answer."""
    wide = bytes(range(40, 200))
    scan = NeedleScan([wide[:80], wide[80:]])
    assert not scan.filtered
    assert scanned(scan, b"\x00" * 50 + wide[70:160] + b"\x00", [60, 100])


def test_save_scanned_writes_what_save_jpeg_writes_and_scans_all_of_it(tmp_path):
    """The file is byte for byte the encoder's output, and a value anywhere in it — in the
    header, deep in the compressed data, near the end — is found."""
    picture = Image.effect_noise((900, 700), 60).convert("RGB")
    reference = io.BytesIO()
    images.save_jpeg(picture, reference)
    encoded = reference.getvalue()
    assert len(encoded) > 3 * images.PIPE_PIECE
    path = tmp_path / "out.jpg"
    for at in (100, len(encoded) // 3, len(encoded) // 2, len(encoded) - 30):
        assert images.save_scanned(picture, str(path), NeedleScan([encoded[at : at + 20]])), at
        assert path.read_bytes() == encoded
    assert not images.save_scanned(picture, str(path), NeedleScan([b"Tijuana-Needle-7781"]))
    assert path.read_bytes() == encoded


@pytest.mark.timeout(30)
def test_save_scanned_fails_cleanly_when_either_side_fails(tmp_path):
    """An output that cannot be opened makes the encoder stop too (it would otherwise wait
    forever on a full pipe), and an encoder failure reaches the caller; no thread is left."""
    before = threading.active_count()
    big = Image.effect_noise((1200, 1200), 60).convert("RGB")
    with pytest.raises(FileNotFoundError):
        images.save_scanned(big, str(tmp_path / "missing" / "out.jpg"), NeedleScan([]))
    with pytest.raises(OSError, match="RGBA"):
        images.save_scanned(Image.new("RGBA", (50, 50)), str(tmp_path / "rgba.jpg"), NeedleScan([]))
    assert threading.active_count() == before


def test_an_image_output_carrying_a_metadata_value_is_refused_M21(tmp_path, monkeypatch):
    """Were the encoder ever to copy the upload's EXIF into any output (here only into the
    thumbnail, the last one written), the re-check refuses the photo."""
    source = tmp_path / "dirty.jpg"
    source.write_bytes(samples.jpeg(samples.picture(640, 480), dirty=True))
    outputs = {name: str(tmp_path / f"{name}.jpg") for name in ("original", "display", "thumbnail")}
    images.clean(str(source), outputs, LIMITS, NeedleScan)  # as built: accepted

    leaky_exif = samples.dirty_exif(orientation=1)

    def leaky_save(image: Image.Image, target) -> None:
        leak = max(image.size) <= LIMITS["thumbnail_px"]
        image.save(target, "JPEG", quality=images.JPEG_QUALITY, exif=leaky_exif if leak else b"")

    monkeypatch.setattr(images, "save_jpeg", leaky_save)
    with pytest.raises(images.MetadataSurvived):
        images.clean(str(source), outputs, LIMITS, NeedleScan)
    assert samples.NEEDLE.encode() in Path(outputs["thumbnail"]).read_bytes()  # what would have leaked
    assert samples.NEEDLE.encode() not in Path(outputs["display"]).read_bytes()


#: The bytes every JPEG the archive writes starts with after its first marker: the JFIF header
#: (version 1.1, no unit, density 1×1). A metadata value equal to them occurs in every clean
#: output, so the re-check cannot tell it from a leak.
JFIF_HEADER = "JFIF\x00\x01\x01\x00\x00\x01\x00\x01"


def photo_with_text(value: str) -> bytes:
    """A PNG whose only metadata is a tEXt comment holding ``value``."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", value)
    out = io.BytesIO()
    samples.picture(320, 240).save(out, "PNG", pnginfo=info)
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(lambda: photo_with_text(JFIF_HEADER), id="photo"),
        # An Opus title the Ogg muxer writes anyway: the name of the stream's first header.
        pytest.param(lambda: samples.encoded("opus", metadata={"title": "OpusHead"}), id="recording"),
    ],
)
def test_a_file_whose_metadata_survives_cleaning_is_not_cleaned_not_a_retry_M21(ingest, data):
    """When the re-check finds a metadata value of the upload in what would be stored, the
    refusal says so ("not_cleaned"), and says what to send instead: no "try again later",
    since the same file is refused every time. Nothing is left behind."""
    upload = data()
    for _attempt in range(2):
        with pytest.raises(MediaRejected) as caught:
            ingest(upload)
        assert caught.value.code == "not_cleaned"
        assert_nothing_left()
    with force_locale("en"):
        message = caught.value.message
    assert "could identify you" in message and "send another copy" in message
    assert "try again" not in message
