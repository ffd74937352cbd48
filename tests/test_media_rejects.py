"""Bad uploads are refused with a stable code and leave nothing behind (docs/security.md U, F15)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from flask_babel import force_locale
from PIL import Image

from nuevonorte.media import MediaRejected
from tests import media_samples as samples
from tests.media_fixtures import assert_nothing_left

EPS = b"""%!PS-Adobe-3.0 EPSF-3.0
%%BoundingBox: 0 0 10 10
newpath 0 0 moveto 10 10 lineto stroke
showpage
%%EOF
"""


def refused(ingest, data: bytes) -> str:
    with pytest.raises(MediaRejected) as caught:
        ingest(data)
    assert_nothing_left()
    assert caught.value.message  # a sentence for the person, never empty
    return caught.value.code


def saved(image: Image.Image, fmt: str, **kwargs) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **kwargs)
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        b"<html><script>alert(1)</script></html>",
        b"<?php system($_GET['c']); ?>",
        b"\xef\xbb\xbf<!DOCTYPE html><p>hola</p>",
    ],
    ids=["html", "php", "bom-html"],
)
def test_spoofed_type_is_refused_U01(ingest, data):
    """HTML/PHP bodies (sent as image/jpeg by a client) are not decoded as anything we accept."""
    assert refused(ingest, data) == "unsupported_type"


def fake_ghostscript(folder: Path) -> Path:
    """A `gs` on PATH that records every call (a subprocess spy)."""
    marker = folder / "gs-called"
    script = folder / "gs"
    script.write_text(f"#!/bin/sh\necho called >> {marker}\nexit 1\n")
    script.chmod(0o755)
    return marker


def test_dangerous_formats_are_refused_and_ghostscript_never_runs_U02(ingest, tmp_path, monkeypatch):
    """EPS, TIFF, PDF, BMP, GIF bytes (whatever the name) are refused; Ghostscript is never run."""
    spy_dir = tmp_path / "bin"
    spy_dir.mkdir()
    marker = fake_ghostscript(spy_dir)
    monkeypatch.setenv("PATH", f"{spy_dir}{os.pathsep}{os.environ['PATH']}")
    # The spy works: Pillow allowed to open EPS does call it.
    eps_path = samples.write(tmp_path, "x.eps", EPS)
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"from PIL import Image\ntry:\n Image.open({str(eps_path)!r}).load()\nexcept Exception: pass",
        ],
        check=True,
    )
    assert marker.exists()
    marker.unlink()

    picture = samples.picture()
    for data in (
        EPS,
        saved(picture, "TIFF"),
        saved(picture, "PDF"),
        saved(picture, "BMP"),
        saved(picture.convert("P"), "GIF", comment=samples.NEEDLE.encode()),
        b"8BPS\x00\x01" + b"\x00" * 40,  # a PSD header
        b"SIMPLE  =                    T" + b" " * 50,  # a FITS header
    ):
        assert refused(ingest, data) == "unsupported_type"
    assert not marker.exists()


def test_pixel_floods_are_refused_from_the_header_U10(ingest):
    """14000×14000 and 10000×10000 PNGs of a few KB: refused before decoding."""
    for side in (14000, 10000):
        data = samples.png_flood(side, side)
        assert len(data) < 64 * 1024
        assert refused(ingest, data) == "too_many_pixels"


def test_app_pixel_cap_is_configurable_U10(app, ingest):
    """The app's own cap (MAX_IMAGE_PIXELS) applies below Pillow's default."""
    app.config["MAX_IMAGE_PIXELS"] = 1000
    assert refused(ingest, samples.jpeg(samples.picture(64, 48))) == "too_many_pixels"
    app.config["MAX_IMAGE_PIXELS"] = 64 * 48
    media, _ = ingest(samples.jpeg(samples.picture(64, 48)))
    assert (media.width, media.height) == (64, 48)


def test_ztxt_bomb_is_refused_not_a_crash_U11(ingest):
    """A small PNG whose zTXt inflates to 5 MB: refused cleanly (Pillow raises ValueError)."""
    data = samples.ztxt_bomb()
    assert len(data) < 20 * 1024
    assert refused(ingest, data) == "corrupt"


def test_truncated_and_corrupt_images_are_refused_U12(ingest):
    """Half a JPEG, a PNG with a wrong CRC, a JPEG with garbage after its header."""
    whole = samples.jpeg(samples.picture(320, 240))
    assert refused(ingest, whole[: len(whole) // 2]) == "corrupt"
    png = bytearray(samples.png(samples.picture(320, 240)))
    png[-20] ^= 0xFF  # inside the IDAT CRC or data
    assert refused(ingest, bytes(png)) == "corrupt"
    assert refused(ingest, whole[:200] + os.urandom(2000)) == "corrupt"


@pytest.mark.parametrize(
    "data",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b"<!DOCTYPE html><html><body>hola</body></html>",
        "Mi historia, en texto plano. ñandú".encode(),
    ],
    ids=["svg", "html", "text"],
)
def test_svg_html_and_text_are_refused_U14(ingest, data):
    assert refused(ingest, data) == "unsupported_type"


def test_archives_are_refused_U15(ingest):
    """A zip (also a .docx), a tar.gz and a zip bomb: refused, never unpacked."""
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("../../etc/passwd", "root")
        z.writestr("bomb.txt", b"0" * 5_000_000)
    tarred = io.BytesIO()
    with tarfile.open(fileobj=tarred, mode="w:gz") as t:
        info = tarfile.TarInfo("a.txt")
        info.size = 3
        t.addfile(info, io.BytesIO(b"abc"))
    assert refused(ingest, zipped.getvalue()) == "unsupported_type"
    assert refused(ingest, tarred.getvalue()) == "unsupported_type"


def test_audio_format_confusion_is_refused_U16(ingest):
    """ASF and Musepack bytes (named .mp3 by a client), an MP3 header followed by junk."""
    asf = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c") + os.urandom(200)
    musepack = b"MPCK" + os.urandom(200)
    mp3_junk = b"\xff\xfb\x90\x64" + os.urandom(4000)
    assert refused(ingest, asf) == "unsupported_type"
    assert refused(ingest, musepack) == "unsupported_type"
    assert refused(ingest, mp3_junk) in ("corrupt", "unsupported_type")


def test_video_without_audio_is_refused_U16(ingest):
    """An MP4 whose only stream is video: refused (only audio streams are ever copied)."""
    import av

    video = io.BytesIO()
    with av.open(video, "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for n in range(5):
            frame = av.VideoFrame.from_image(samples.picture(32, 32))
            frame.pts = n
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    assert refused(ingest, video.getvalue()) in ("corrupt", "unsupported_type")


def test_heic_is_transcoded_never_stored_as_heic_U19(ingest):
    media, _ = ingest(samples.heic(samples.picture(64, 48), dirty=True))
    assert media.mime_type == "image/jpeg" and media.storage_key.endswith(".jpg")


def test_empty_upload_is_refused(ingest):
    assert refused(ingest, b"") == "empty"


def test_oversize_upload_is_refused_while_streaming_U07(app, ingest):
    """Past MAX_CONTENT_LENGTH the copy stops: refused, no temporary file left."""
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    assert refused(ingest, samples.wav(seconds=40)) == "too_large"


def test_a_parser_that_runs_too_long_is_killed_F15(app, ingest):
    """The child is killed at the wall-clock limit; the refusal is clean and the worker healthy."""
    slow = Image.effect_noise((3000, 2000), 60).convert("RGB")  # decoding it takes well over 5 ms
    app.config["MEDIA_TIMEOUT_SECONDS"] = 0.005
    assert refused(ingest, samples.jpeg(slow)) == "timeout"
    app.config["MEDIA_TIMEOUT_SECONDS"] = 60
    media, _ = ingest(samples.jpeg())
    assert media.width == 64


def test_memory_limit_refuses_what_would_exhaust_the_worker_F15(app, ingest):
    """Under a small RLIMIT_AS, a 36-megapixel decode (144 MB of pixels) fails in the child, not
    in the web worker, and is refused for what it is: too much to check, not too many pixels
    (36 megapixels are within the archive's cap); a small photo under the same limit is still
    accepted."""
    app.config["MEDIA_MEMORY_MB"] = 128
    data = samples.png_flood(6000, 6000)
    assert 6000 * 6000 <= app.config["MAX_IMAGE_PIXELS"]
    assert refused(ingest, data) == "too_complex"
    media, _ = ingest(samples.jpeg())
    assert media.width == 64


@pytest.mark.parametrize(
    "upload",
    [
        pytest.param(samples.png_flood(3000, 3000), id="png-516-bytes"),
        pytest.param(samples.jpeg(samples.picture(2000, 1500)), id="jpeg-70-KB"),
    ],
)
def test_a_small_file_over_the_memory_limit_is_too_complex_not_too_large_F15(app, ingest, upload):
    """A small file that needs more memory than the child may use (1 MB here) is
    ``too_complex``: never ``too_large`` (that means only an upload past MAX_CONTENT_LENGTH),
    nor too many pixels (3 and 9 megapixels are within the cap), nor a damaged file. The
    person reads a truthful message."""
    app.config["MEDIA_MEMORY_MB"] = 1
    assert len(upload) < 80 * 1024 < app.config["MAX_CONTENT_LENGTH"]
    with pytest.raises(MediaRejected) as caught:
        ingest(upload)
    assert caught.value.code == "too_complex"
    assert_nothing_left()
    with force_locale("en"):
        assert "needs more memory than the archive can give it" in caught.value.message
