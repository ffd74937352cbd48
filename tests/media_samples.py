"""Seed media for the ingest tests, generated here: clean and deliberately dirty files.

Every identifying value planted in a dirty file contains ``NEEDLE`` (or one of the other
markers below), so a byte scan of the stored files can prove it is gone.
"""

from __future__ import annotations

import io
import math
import struct
import wave
import zlib
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image, ImageDraw, PngImagePlugin

NEEDLE = "Tijuana-Needle-7781"
MARKERS = [NEEDLE, "Serial-4242-Marker", "Creator-Marker-Lupita", "Comment-Marker-Calle"]

GPS_IFD = 0x8825
EXIF_IFD = 0x8769


# --- images ---------------------------------------------------------------------------------


def picture(width: int = 64, height: int = 48, mode: str = "RGB") -> Image.Image:
    """A small picture with shapes; its top-left quarter is red so orientation can be checked."""
    image = Image.new("RGB", (width, height), (40, 90, 160))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width // 2 - 1, height // 2 - 1), fill=(220, 30, 30))
    draw.ellipse((width // 2, height // 2, width - 1, height - 1), fill=(240, 220, 40))
    return image.convert(mode) if mode != "RGB" else image


def dirty_exif(orientation: int = 1) -> Image.Exif:
    """EXIF with GPS, camera make/model/serial, dates, software, artist and a comment."""
    exif = Image.Exif()
    exif[0x010F] = f"Make {NEEDLE}"
    exif[0x0110] = "Model Pixel Marker"
    exif[0x0131] = f"Software {NEEDLE}"
    exif[0x013B] = "Creator-Marker-Lupita"
    exif[0x0132] = "2026:05:01 10:11:12"
    exif[0x010E] = f"Description {NEEDLE}"
    exif[0x0112] = orientation
    exif_ifd = exif.get_ifd(EXIF_IFD)
    exif_ifd[0x9003] = "2026:05:01 10:11:12"
    exif_ifd[0xA431] = "Serial-4242-Marker"
    exif_ifd[0x9286] = b"ASCII\x00\x00\x00Comment-Marker-Calle"
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (32.0, 31.0, 30.0)
    gps[3] = "W"
    gps[4] = (117.0, 2.0, 1.0)
    gps[0x1B] = f"ASCII\x00\x00\x00{NEEDLE}".encode()
    return exif


XMP = f"""<?xpacket begin='\ufeff' id='W5M0MpCehiHzreSzNTczkc9d'?>
<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>
<rdf:Description xmlns:photoshop='http://ns.adobe.com/photoshop/1.0/' xmlns:dc='http://purl.org/dc/elements/1.1/'
 xmlns:tiff='http://ns.adobe.com/tiff/1.0/' photoshop:City='{NEEDLE}' tiff:Orientation='1'>
<dc:creator><rdf:Seq><rdf:li>Creator-Marker-Lupita</rdf:li></rdf:Seq></dc:creator>
</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end='w'?>""".encode()


def iptc_app13() -> bytes:
    """A Photoshop APP13 segment with IPTC By-line and City."""

    def dataset(number: int, value: bytes) -> bytes:
        return b"\x1c\x02" + bytes([number]) + struct.pack(">H", len(value)) + value

    iptc = dataset(80, b"Creator-Marker-Lupita") + dataset(90, NEEDLE.encode())
    if len(iptc) % 2:
        iptc += b"\x00"
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iptc)) + iptc
    payload = b"Photoshop 3.0\x00" + resource
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def display_p3_profile(description: str = f"Display P3 {NEEDLE}") -> bytes:
    """A Display-P3 ICC v2 matrix/TRC profile (P3 primaries adapted to D50, gamma 2.2), built by hand."""

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ \x00\x00\x00\x00" + _s15(x) + _s15(y) + _s15(z)

    ascii_desc = description.encode() + b"\x00"
    desc = b"desc\x00\x00\x00\x00" + struct.pack(">I", len(ascii_desc)) + ascii_desc
    desc += b"\x00" * 8 + b"\x00\x00\x00" + b"\x00" * 67
    curve = b"curv\x00\x00\x00\x00" + struct.pack(">IH", 1, 0x0233) + b"\x00\x00"
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.5151, 0.2412, -0.0011)),
        (b"gXYZ", xyz(0.2920, 0.6922, 0.0419)),
        (b"bXYZ", xyz(0.1571, 0.0666, 0.7841)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
        (b"cprt", b"text\x00\x00\x00\x00" + f"Creator-Marker-Lupita {NEEDLE}".encode() + b"\x00"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for sig, data in tags:
        while (offset + len(body)) % 4:
            body += b"\x00"
        table += sig + struct.pack(">II", offset + len(body), len(data))
        body += data
    while len(body) % 4:
        body += b"\x00"
    size = offset + len(body)
    header = struct.pack(">I", size) + b"\x00" * 4 + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ "
    header += struct.pack(">6H", 2026, 5, 1, 10, 11, 12) + b"acsp" + b"\x00" * 4 + b"\x00" * 4
    header += b"\x00" * 8 + b"\x00" * 8 + b"\x00" * 4 + _s15(0.9642) + _s15(1.0) + _s15(0.8249)
    header += b"\x00" * 4 + b"\x00" * 16 + b"\x00" * 28
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


def jpeg(
    image: Image.Image | None = None,
    *,
    dirty: bool = False,
    orientation: int = 1,
    icc: bytes | None = None,
    quality: int = 90,
) -> bytes:
    """A JPEG; dirty ones carry EXIF/GPS, XMP, IPTC, a COM comment and an ICC profile."""
    image = image or picture()
    out = io.BytesIO()
    kwargs: dict = {"quality": quality}
    if dirty:
        kwargs.update(
            exif=dirty_exif(orientation),
            comment=f"COM {NEEDLE}".encode(),
            xmp=XMP,
            icc_profile=icc or srgb_profile_marked(),
        )
    elif orientation != 1:
        exif = Image.Exif()
        exif[0x0112] = orientation
        kwargs["exif"] = exif
    if icc is not None:
        kwargs["icc_profile"] = icc
    image.save(out, "JPEG", **kwargs)
    data = out.getvalue()
    if dirty:  # IPTC right after SOI
        data = data[:2] + iptc_app13() + data[2:] + f"trailing {NEEDLE}".encode()
    return data


def srgb_profile_marked() -> bytes:
    """A device ICC profile whose description and copyright carry markers."""
    return display_p3_profile()


def png(image: Image.Image | None = None, *, dirty: bool = False) -> bytes:
    """A PNG; dirty ones carry tEXt, iTXt (XMP), zTXt, eXIf, iCCP and tIME chunks."""
    image = image or picture()
    out = io.BytesIO()
    if not dirty:
        image.save(out, "PNG")
        return out.getvalue()
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Creator-Marker-Lupita")
    info.add_text("Comment", f"Comment-Marker-Calle {NEEDLE}", zip=True)
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    info.add(b"tIME", struct.pack(">HBBBBB", 2026, 5, 1, 10, 11, 12))
    image.save(out, "PNG", pnginfo=info, exif=dirty_exif(), icc_profile=srgb_profile_marked())
    return out.getvalue()


def webp(image: Image.Image | None = None, *, dirty: bool = False) -> bytes:
    """A WebP; dirty ones carry EXIF, XMP and ICC chunks."""
    image = image or picture()
    out = io.BytesIO()
    kwargs: dict = {"quality": 90}
    if dirty:
        kwargs.update(exif=dirty_exif(), xmp=XMP, icc_profile=srgb_profile_marked())
    image.save(out, "WEBP", **kwargs)
    return out.getvalue()


def heic(image: Image.Image | None = None, *, dirty: bool = False) -> bytes:
    """A HEIC; dirty ones carry EXIF/GPS, XMP and an ICC profile."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    image = image or picture()
    out = io.BytesIO()
    kwargs: dict = {"quality": 80}
    if dirty:
        kwargs.update(exif=dirty_exif(), xmp=XMP, icc_profile=srgb_profile_marked())
    image.save(out, "HEIF", **kwargs)
    return out.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk with a correct CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int, idat: bytes = b"") -> bytes:
    """A PNG declaring ``width``×``height`` (a pixel flood), with a tiny compressed body."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = idat or zlib.compress(b"\x00" * 1024, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", body) + png_chunk(b"IEND", b"")
    )


def png_flood(width: int, height: int) -> bytes:
    """A real, decodable flood: rows of zeros compress to almost nothing."""
    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\x00" * (width * 3)
    parts = [compressor.compress(row) for _ in range(min(height, 50))]
    parts.append(compressor.flush())
    return png_header_only(width, height, b"".join(parts))


def ztxt_bomb() -> bytes:
    """A small PNG whose zTXt chunk inflates to 5 MB (docs/security.md U11)."""
    base = png()
    bomb = png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"A" * 5_000_000, 9))
    return base[:33] + bomb + base[33:]


# --- audio ----------------------------------------------------------------------------------


def tone(seconds: float = 1.0, rate: int = 44100, channels: int = 1) -> bytes:
    """Signed 16-bit little-endian PCM of a soft tone."""
    frames = bytearray()
    for n in range(int(seconds * rate)):
        value = int(8000 * math.sin(2 * math.pi * 330 * n / rate))
        frames += struct.pack("<h", value) * channels
    return bytes(frames)


def wav(seconds: float = 1.0, rate: int = 16000) -> bytes:
    """A WAV file from the ``wave`` module."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(tone(seconds, rate))
    return out.getvalue()


def riff_chunk(kind: bytes, data: bytes) -> bytes:
    """One RIFF chunk, padded to even length."""
    pad = b"\x00" if len(data) % 2 else b""
    return kind + struct.pack("<I", len(data)) + data + pad


def dirty_wav(seconds: float = 1.0) -> bytes:
    """A WAV with a LIST/INFO chunk (title, artist, comment) and an ID3 chunk."""
    data = wav(seconds)
    info = (
        b"INFO"
        + riff_chunk(b"INAM", f"Title {NEEDLE}\x00".encode())
        + riff_chunk(b"IART", b"Creator-Marker-Lupita\x00")
        + riff_chunk(b"ICMT", b"Comment-Marker-Calle\x00")
    )
    extra = riff_chunk(b"LIST", info)
    body = data[12:] + extra
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body


ENCODE = {
    # container -> (format, codec, rate)
    "mp3": ("mp3", "libmp3lame", 44100),
    "m4a": ("ipod", "aac", 44100),
    "ogg": ("ogg", "libopus", 48000),
    "vorbis": ("ogg", "vorbis", 44100),
    "opus": ("ogg", "libopus", 48000),
    "webm": ("webm", "libopus", 48000),
    "flac": ("flac", "flac", 44100),
    "wav": ("wav", "pcm_s16le", 44100),
}


def encoded(
    kind: str,
    seconds: float = 1.0,
    metadata: dict[str, str] | None = None,
    muxer_options: dict[str, str] | None = None,
) -> bytes:
    """Audio of ``kind`` encoded with PyAV; ``metadata`` becomes container tags."""
    fmt, codec, rate = ENCODE[kind]
    out = io.BytesIO()
    with av.open(out, "w", format=fmt, options=muxer_options or {}) as container:
        for key, value in (metadata or {}).items():
            container.metadata[key] = value
        # FFmpeg's own Vorbis encoder is experimental and stereo only.
        layout, channels = ("stereo", 2) if codec == "vorbis" else ("mono", 1)
        options = {"strict": "experimental"} if codec == "vorbis" else {}
        stream = container.add_stream(codec, rate=rate, options=options)
        stream.layout = layout
        pcm = tone(seconds, rate, channels)
        step = 1024 * 2 * channels
        sample_fmt = stream.codec_context.format.name
        resampler = av.AudioResampler(format=sample_fmt, layout=layout, rate=rate)
        pts = 0
        for start in range(0, len(pcm), step):
            chunk = pcm[start : start + step]
            frame = av.AudioFrame(format="s16", layout=layout, samples=len(chunk) // (2 * channels))
            frame.planes[0].update(chunk)
            frame.sample_rate = rate
            frame.pts = pts
            pts += frame.samples
            for converted in resampler.resample(frame):
                for packet in stream.encode(converted):
                    container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


TAGS = {
    "title": f"Title {NEEDLE}",
    "artist": "Creator-Marker-Lupita",
    "comment": "Comment-Marker-Calle",
    "location": f"+32.5-117.0/ {NEEDLE}",
    "date": "2026-05-01",
}


def cover_jpeg() -> bytes:
    """A cover picture that itself carries EXIF GPS (an embedded picture must go entirely)."""
    return jpeg(picture(16, 16), dirty=True)


def id3_bytes() -> bytes:
    """An ID3v2.4 tag on its own: title, TXXX location, COMM and an APIC cover."""
    from mutagen.id3 import APIC, COMM, ID3, TIT2, TXXX

    tags = ID3()
    tags.add(TIT2(encoding=3, text=[f"Title {NEEDLE}"]))
    tags.add(TXXX(encoding=3, desc="location", text=[f"Calle Revolución {NEEDLE}"]))
    tags.add(COMM(encoding=3, lang="spa", desc="", text=["Comment-Marker-Calle"]))
    tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="cover", data=cover_jpeg()))
    out = io.BytesIO()
    tags.save(out, padding=lambda info: 0)
    return out.getvalue()


def id3v1() -> bytes:
    """A 128-byte ID3v1 tag: title, artist, album, year, comment, genre."""

    def field(text: str, size: int) -> bytes:
        return text.encode()[:size].ljust(size, b"\x00")

    return (
        b"TAG"
        + field(NEEDLE, 30)
        + field("Creator-Marker-Lupita", 30)
        + field("Album", 30)
        + b"2026"
        + field("Comment-Marker-Calle", 30)
        + b"\x0c"
    )


def dirty_audio(kind: str, tmp: Path) -> bytes:
    """Encoded audio of ``kind`` carrying every kind of tag its container can hold."""
    from mutagen.apev2 import APEv2
    from mutagen.flac import FLAC, Picture
    from mutagen.mp4 import MP4, MP4Cover
    from mutagen.oggopus import OggOpus
    from mutagen.oggvorbis import OggVorbis

    if kind == "wav":
        path = write(tmp, "dirty.wav", dirty_wav())
        data = path.read_bytes()
        id3 = riff_chunk(b"id3 ", id3_bytes())
        body = data[12:] + id3
        return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body
    if kind == "webm":
        return encoded("webm", metadata=TAGS)
    path = write(tmp, f"dirty.{kind}", encoded(kind))
    picture_block = Picture()
    picture_block.type, picture_block.mime, picture_block.data = 3, "image/jpeg", cover_jpeg()
    picture_block.desc = f"cover {NEEDLE}"
    if kind == "mp3":
        path.write_bytes(id3_bytes() + path.read_bytes())
        ape = APEv2()
        ape["Title"] = f"APE {NEEDLE}"
        ape["Artist"] = "Creator-Marker-Lupita"
        ape.save(path)
        path.write_bytes(path.read_bytes() + id3v1())
    elif kind == "flac":
        flac = FLAC(path)
        for key, value in TAGS.items():
            flac[key] = value
        flac.tags.vendor = f"Recorder {NEEDLE}"
        flac.add_picture(picture_block)
        flac.save()
        path.write_bytes(id3_bytes() + path.read_bytes())  # a prepended ID3 tag, as some tools do
    elif kind in ("ogg", "opus", "vorbis"):
        import base64

        ogg = OggVorbis(path) if kind == "vorbis" else OggOpus(path)
        ogg.tags.vendor = f"VoiceRecorder {NEEDLE}"  # the recording app (M12)
        for key, value in TAGS.items():
            ogg[key] = value
        ogg["metadata_block_picture"] = base64.b64encode(picture_block.write()).decode()
        ogg.save()
    elif kind == "m4a":
        mp4 = MP4(path)
        mp4["\xa9nam"] = f"Title {NEEDLE}"
        mp4["\xa9day"] = "2026-05-01"
        mp4["\xa9ART"] = "Creator-Marker-Lupita"
        mp4["\xa9cmt"] = "Comment-Marker-Calle"
        mp4["\xa9xyz"] = f"+32.5-117.0/{NEEDLE}"
        mp4["covr"] = [MP4Cover(cover_jpeg(), imageformat=MP4Cover.FORMAT_JPEG)]
        mp4.save()
    return path.read_bytes()


def write(tmp: Path, name: str, data: bytes) -> Path:
    """Write ``data`` to ``tmp/name`` and return the path."""
    path = tmp / name
    path.write_bytes(data)
    return path


#: Loudness (RMS of 16-bit samples) of the test tone is about 5,600; silence is 0.
SILENT, LOUD = 20.0, 2000.0


def loudness(data: bytes, start: float, end: float) -> float:
    """RMS of the first channel of ``data`` (any format PyAV reads) between two seconds."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        pieces = []
        for frame in container.decode(stream):
            samples = frame.to_ndarray().astype(np.float64)
            channels = len(frame.layout.channels)
            first = samples[0] if frame.format.is_planar else samples.reshape(-1)[::channels]
            if frame.format.name.startswith(("flt", "dbl")):
                first = first * 32768
            pieces.append(first)
    signal = np.concatenate(pieces)
    part = signal[int(start * rate) : int(end * rate)]
    return float(np.sqrt(np.mean(part**2)))


def fetched(client: Any, url: str, method: str = "GET", **kwargs: Any) -> tuple[int, bytes]:
    """Status and body of a request, the response closed (a served media file is an open file
    until then)."""
    response = client.open(url, method=method, **kwargs)
    try:
        return response.status_code, response.get_data()
    finally:
        response.close()


# --- sizes that lie and tags after the audio (docs/security.md T10) --------------------------
#
# Every value planted here is a marker of its own (``T10`` + where it was planted), so a byte
# scan of the stored files says exactly which tag survived.

#: What a WAV's `data` chunk may claim: the truth, 0 (an unfinished header), 0xFFFFFFFF (what
#: streaming writers leave) or more than the file holds.
LIES = ("honest", "zero", "unknown", "too_large")
WAV_RATE = 16000


def marker(where: str) -> str:
    """A marker unique to one planted value."""
    return f"T10-{where}-Marker"


def pcm_wav(lie: str, after: bytes = b"", seconds: float = 1.0) -> bytes:
    """A 16-bit mono WAV whose `data` size tells ``lie``, with ``after`` following the audio
    (the RIFF size lies the same way, as the writers that leave such files do)."""
    pcm = tone(seconds, WAV_RATE)
    fmt = struct.pack("<HHIIHH", 1, 1, WAV_RATE, WAV_RATE * 2, 2, 16)
    claimed = {"honest": len(pcm), "zero": 0, "unknown": 0xFFFFFFFF, "too_large": 4 * len(pcm)}[lie]
    body = b"WAVE" + riff_chunk(b"fmt ", fmt) + b"data" + struct.pack("<I", claimed) + pcm + after
    riff = {"honest": len(body), "zero": 0, "unknown": 0xFFFFFFFF, "too_large": len(body) + 3 * len(pcm)}[lie]
    return b"RIFF" + struct.pack("<I", riff) + body


def info_chunk() -> tuple[bytes, list[str]]:
    """LIST/INFO: title, artist, comment and a place named in the keywords."""
    fields = {b"INAM": "info-title", b"IART": "info-artist", b"ICMT": "info-comment", b"IKEY": "info-place"}
    values = {kind: marker(where) for kind, where in fields.items()}
    body = b"INFO" + b"".join(riff_chunk(kind, f"{value}\x00".encode()) for kind, value in values.items())
    return riff_chunk(b"LIST", body), list(values.values())


def id3v2_tag(where: str) -> tuple[bytes, list[str]]:
    """An ID3v2.4 tag: title, artist, a location (TXXX), a comment and a cover picture that
    itself carries EXIF GPS and a camera serial."""
    from mutagen.id3 import APIC, COMM, ID3, TIT2, TPE1, TXXX

    planted = {field: marker(f"{where}-{field}") for field in ("title", "artist", "place", "comment")}
    tags = ID3()
    tags.add(TIT2(encoding=3, text=[planted["title"]]))
    tags.add(TPE1(encoding=3, text=[planted["artist"]]))
    tags.add(TXXX(encoding=3, desc="location", text=[planted["place"]]))
    tags.add(COMM(encoding=3, lang="spa", desc="", text=[planted["comment"]]))
    tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="cover", data=cover_jpeg()))
    out = io.BytesIO()
    tags.save(out, padding=lambda info: 0)
    return out.getvalue(), [*planted.values(), *MARKERS]


def id3_chunk() -> tuple[bytes, list[str]]:
    """An `id3 ` chunk holding an ID3v2 tag with a picture."""
    tag, planted = id3v2_tag("id3chunk")
    return riff_chunk(b"id3 ", tag), planted


def bext_chunk() -> tuple[bytes, list[str]]:
    """A Broadcast WAV `bext` chunk: description, originator (the recorder), its reference
    (a serial number), date and time, and the coding history."""
    planted = [marker("bext-description"), marker("bext-originator"), marker("bext-serial")]
    history = marker("bext-history")

    def field(text: str, size: int) -> bytes:
        return text.encode().ljust(size, b"\x00")

    body = (
        field(planted[0], 256)
        + field(planted[1], 32)
        + field(planted[2], 32)
        + b"2026-05-01"
        + b"10:11:12"
        + struct.pack("<QH", 0, 1)
        + b"\x00" * (64 + 190)
        + f"A=PCM,F={WAV_RATE},W=16,M=mono,T={history}\r\n".encode()
    )
    return riff_chunk(b"bext", body), [*planted, history]


def ixml_chunk() -> tuple[bytes, list[str]]:
    """An `iXML` chunk: the project, a note and the recorder's serial number."""
    planted = [marker("ixml-project"), marker("ixml-note"), marker("ixml-serial")]
    xml = (
        f"<?xml version='1.0'?><BWFXML><PROJECT>{planted[0]}</PROJECT><NOTE>{planted[1]}</NOTE>"
        f"<SERIAL>{planted[2]}</SERIAL></BWFXML>"
    )
    return riff_chunk(b"iXML", xml.encode()), planted


def vendor_chunk() -> tuple[bytes, list[str]]:
    """A recorder maker's own chunk that no parser knows (e.g. Olympus' `olym`): a serial."""
    planted = [marker("vendor-serial")]
    return riff_chunk(b"olym", b"\x01\x00" + planted[0].encode() + b"\x00" * 20), planted


#: Chunks that writers put after the audio, each with the values planted in it.
TRAILING_CHUNKS = {
    "LIST": info_chunk,
    "id3 ": id3_chunk,
    "bext": bext_chunk,
    "iXML": ixml_chunk,
    "olym": vendor_chunk,
}


def id3v1_tag() -> tuple[bytes, list[str]]:
    """A 128-byte ID3v1.1 tag: title, artist, album, year, comment, track, genre."""
    planted = [marker("v1-title"), marker("v1-artist"), marker("v1-album"), marker("v1-note")]

    def field(text: str, size: int) -> bytes:
        return text.encode()[:size].ljust(size, b"\x00")

    tag = b"TAG" + field(planted[0], 30) + field(planted[1], 30) + field(planted[2], 30) + b"2026"
    return tag + field(planted[3], 28) + b"\x00\x07\x0c", planted


def ape_tag() -> tuple[bytes, list[str]]:
    """An APEv2 tag with a header: title, artist, a place and a cover picture."""
    from mutagen.apev2 import APEv2, APEValue

    planted = [marker("ape-title"), marker("ape-artist"), marker("ape-place")]
    tags = APEv2()
    tags["Title"], tags["Artist"], tags["Location"] = planted
    tags["Cover Art (Front)"] = APEValue(b"cover.jpg\x00" + cover_jpeg(), 1)  # 1: binary
    out = io.BytesIO()
    tags.save(out)
    return out.getvalue(), [*planted, *MARKERS]


def lyrics3_tag() -> tuple[bytes, list[str]]:
    """A Lyrics3v2 block: lyrics, the author and additional information."""
    planted = [marker("lyrics-words"), marker("lyrics-author"), marker("lyrics-info")]
    fields = b"IND00002" + b"10"
    for kind, value in zip((b"LYR", b"AUT", b"INF"), planted, strict=True):
        fields += kind + b"%05d" % len(value) + value.encode()
    body = b"LYRICSBEGIN" + fields
    return body + b"%06d" % len(body) + b"LYRICS200", planted


def appended_id3v2() -> tuple[bytes, list[str]]:
    """An ID3v2 tag appended at the end of the file, as some taggers do."""
    return id3v2_tag("appended")


#: Tags that taggers append after MP3 or FLAC audio (and ID3v1 or APE after WAV chunks).
TRAILERS = {"id3v1": id3v1_tag, "ape": ape_tag, "lyrics3": lyrics3_tag, "id3v2": appended_id3v2}


def joined(parts: list[tuple[bytes, list[str]]]) -> tuple[bytes, list[str]]:
    """The parts one after another, and every value planted in them."""
    return b"".join(data for data, _ in parts), [m for _, planted in parts for m in planted]
