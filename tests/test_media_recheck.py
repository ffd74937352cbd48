"""The re-check of every image output for the upload's metadata values (M21).

The worker looks for each metadata value of the upload in the bytes of what it is about to
store, as the encoder produces them. The run filter that makes this cheap must give exactly
the answer of looking everywhere, and the pipe between encoder and scan must never leave a
thread waiting when either side fails. A file the re-check refuses is told so plainly: it
could not be cleaned, and sending it again will not help (422, never a storage error); the
administrator reads the kind of value that survived and nothing of the file (M22).
"""

from __future__ import annotations

import io
import logging
import re
import threading
from itertools import pairwise
from pathlib import Path

import av
import pytest
from flask_babel import force_locale
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape
from PIL import Image, PngImagePlugin

from nuevonorte.media import MediaRejected, images
from nuevonorte.media.worker import MIN_NEEDLE, NeedleScan, distinct_needles
from tests import media_samples as samples
from tests.contribute_fixtures import contribute, nothing_stored, story_form, upload
from tests.media_fixtures import assert_nothing_left

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
    ("data", "leftover"),
    [
        pytest.param(lambda: photo_with_text(JFIF_HEADER), "image_metadata", id="photo"),
        # An Opus title the Ogg muxer writes anyway: the name of the stream's first header.
        pytest.param(
            lambda: samples.encoded("opus", metadata={"title": "OpusHead"}), "audio_tag", id="recording"
        ),
    ],
)
def test_a_file_whose_metadata_survives_cleaning_is_not_cleaned_not_a_retry_M21_M22(
    ingest, caplog, data, leftover
):
    """When the re-check finds a metadata value of the upload in what would be stored, the
    refusal says so ("not_cleaned"), and says what to send instead: no "try again later",
    since the same file is refused every time. Nothing is left behind. The administrator
    reads, each time, the kind of value that survived, and not the value."""
    upload = data()
    caplog.set_level(logging.INFO)
    for _attempt in range(2):
        with pytest.raises(MediaRejected) as caught:
            ingest(upload)
        assert caught.value.code == "not_cleaned"
        assert caught.value.leftover == leftover
        assert_nothing_left()
    assert admin_lines(caplog) == [NOT_CLEANED_LINE.format(leftover)] * 2
    for value in ("JFIF", "OpusHead"):
        assert value not in caplog.text
    with force_locale("en"):
        message = caught.value.message
    assert "could identify you" in message and "send another copy" in message
    assert "try again" not in message


# --- real MP3s the re-check catches, refused through the API and the form (M22) --------------

COMBINED = Path(__file__).with_name("fixtures") / "id3v1v2-combined.mp3"
#: The administrator's line for a file that could not be cleaned, by kind of leftover.
NOT_CLEANED_LINE = "not cleaned: an upload was refused (leftover: {})"
TITLE = "La voz de mi abuela"
BODY = "Grabé a mi abuela en Oaxaca antes de cruzar."
FILE_NAME = "abuela-Oaxaca.mp3"
NOT_CLEANED = {
    "en": "We could not remove everything in this file that could identify you, so we did not keep it. "
    "You can send another copy instead, like a screenshot of the photo or a new recording.",
    "es": "No pudimos quitar de este archivo todo lo que podría identificarte, así que no lo guardamos. "
    "Puedes enviar otra copia, como una captura de pantalla de la foto o una grabación nueva.",
}
WHICH = {"en": "File 1 of 1:", "es": "Archivo 1 de 1:"}


def admin_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What ingest told the administrator."""
    return [r.getMessage() for r in caplog.records if r.name == "nuevonorte.media.ingest"]


def text_runs(data: bytes) -> list[bytes]:
    """The runs of printable text in ``data`` the re-check would look for: MIN_NEEDLE bytes or
    more, of at least four different values."""
    runs = re.findall(rb"[\x20-\x7e]{%d,}" % MIN_NEEDLE, data)
    return [run for run in runs if len(set(run)) >= 4]


def frames(path: Path) -> list[bytes]:
    """The bytes of each MPEG frame of the file."""
    with av.open(str(path)) as check:
        return [bytes(packet) for packet in check.demux(audio=0) if packet.size]


def titled_with_its_own_audio(tmp_path: Path) -> tuple[bytes, list[str]]:
    """The real combined MP3, its ID3v2 title (and ID3v1 title) set to text that occurs in its
    own audio frames, and what a log must not show: the archive cannot tell that title from the
    audio, so it cannot clean the file."""
    from mutagen.id3 import ID3, TIT2

    [run, *_] = [run for frame in frames(COMBINED) for run in text_runs(frame)]
    path = tmp_path / "titled.mp3"
    path.write_bytes(COMBINED.read_bytes())
    tags = ID3(path)
    tags.setall("TIT2", [TIT2(encoding=3, text=[run.decode("latin-1")])])
    tags.save(path, v1=1)  # 1: the ID3v1 tag at the end is kept and updated
    data = path.read_bytes()
    assert data[:3] == b"ID3" and data[-128:-125] == b"TAG" and data.count(run) >= 3
    return data, [run.decode("latin-1"), "cosmic american", "Anais Mitchell", "Hymns for the Exiled"]


def trailer_with_the_muxers_text(tmp_path: Path) -> tuple[bytes, list[str]]:
    """A real recording with an ID3v1 tag appended whose artist is text the MP3 muxer itself
    writes into the new file (its Info frame's table of contents): the trailer is taken off,
    but its text occurs in the rebuilt file, so the file cannot be shown clean."""
    from nuevonorte.media import audio

    plain = samples.encoded("mp3")
    source, rebuilt = tmp_path / "plain.mp3", tmp_path / "rebuilt.mp3"
    source.write_bytes(plain)
    audio.clean(str(source), {"original": str(rebuilt)}, {})  # what the cleaner writes for it
    [run, *_] = [run for run in text_runs(rebuilt.read_bytes()) if run not in plain]
    run = run[:20]
    assert len(set(run)) >= 4
    artist = run.ljust(30, b"\x00")
    return plain + b"TAG" + b"\x00" * 30 + artist + b"\x00" * 64 + b"\xff", [run.decode("latin-1")]


CANNOT_CLEAN = {"audio_tag": titled_with_its_own_audio, "audio_text": trailer_with_the_muxers_text}


def assert_one_line_without_content(caplog, leftover: str, secrets: list[str], app) -> None:
    """One line for the administrator, naming the refusal and the kind of leftover; no log line
    carries a value of the file, its name, the person's words or where files are kept (M18)."""
    assert admin_lines(caplog) == [NOT_CLEANED_LINE.format(leftover)]
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == [
        r for r in caplog.records if r.name == "nuevonorte.media.ingest"
    ]
    for secret in (*secrets, FILE_NAME, TITLE, BODY, "Oaxaca", app.config["MEDIA_DIR"]):
        assert secret not in caplog.text


@pytest.mark.parametrize("leftover", sorted(CANNOT_CLEAN))
@pytest.mark.parametrize("lang", ["en", "es"])
def test_an_mp3_the_archive_cannot_clean_is_422_not_cleaned_json_M22(
    app, client, caplog, tmp_path, lang, leftover
):
    """API: 422 with ``file_error: not_cleaned`` and the message that this file could not be
    cleaned, in the visitor's language (not a storage error, not "try again later"); one
    content-free line for the administrator; nothing stored."""
    data, secrets = CANNOT_CLEAN[leftover](tmp_path)
    caplog.set_level(logging.INFO)
    response = client.post(
        "/api/v1/contributions",
        data={**story_form(title=TITLE, body=BODY), "audio": [upload(data, FILE_NAME)]},
        headers={"Accept-Language": lang},
        content_type="multipart/form-data",
    )
    body = response.get_json()
    assert response.status_code == 422, body
    assert body == {
        "error": "file_refused",
        "file": 1,
        "file_error": "not_cleaned",
        "kept": False,
        "message": NOT_CLEANED[lang],
    }
    assert_one_line_without_content(caplog, leftover, secrets, app)
    nothing_stored(app)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_an_mp3_the_archive_cannot_clean_is_422_on_the_form_with_the_text_kept_M22(
    app, client, caplog, tmp_path, lang
):
    """Form: 422, the could-not-be-cleaned message for file 1 in the page's language, the typed
    text back in the form, one content-free log line, nothing stored."""
    data, secrets = titled_with_its_own_audio(tmp_path)
    caplog.set_level(logging.INFO)
    response = contribute(client, lang, title=TITLE, body=BODY, audio=[upload(data, FILE_NAME)])
    html = response.get_data(as_text=True)
    assert response.status_code == 422, html
    assert f"{WHICH[lang]} {escape(NOT_CLEANED[lang])}" in html
    assert TITLE in html and BODY in html
    assert_one_line_without_content(caplog, "audio_tag", secrets, app)
    nothing_stored(app)
