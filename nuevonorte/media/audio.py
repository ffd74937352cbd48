"""Recordings, rebuilt from their audio stream: runs only inside the sandboxed worker process.

The container is recognised from its first bytes (never the name), opened with exactly that
FFmpeg demuxer (so FFmpeg never guesses among its hundreds of formats), every packet of the
first audio stream is decoded to prove it is audio, and the packets are copied into a brand-new
container written with no metadata. Tags, pictures, chapters, other streams and container
metadata of the upload are never read into the new file.

``silence`` writes a stored recording again with the seconds of withheld passages silent: the
copy the public hears (docs/security.md T05).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

#: The first bytes of each accepted container.
ID3 = b"ID3"


@dataclass(frozen=True)
class Container:
    """An accepted container: demuxer, codecs allowed in it, and how it is written back."""

    demuxer: str
    codecs: dict[str, tuple[str, str, str]]  # codec -> (muxer, extension, mime type)


MP3 = Container("mp3", {codec: ("mp3", "mp3", "audio/mpeg") for codec in ("mp3", "mp3float", "mp3_fixed")})
OGG = Container(
    "ogg",
    {"vorbis": ("ogg", "ogg", "audio/ogg"), "opus": ("ogg", "ogg", "audio/ogg")},
)
WEBM = Container(
    "matroska",
    # Vorbis keeps its comment header inside the codec data in WebM; the Ogg muxer rewrites it.
    {"opus": ("webm", "webm", "audio/webm"), "vorbis": ("ogg", "ogg", "audio/ogg")},
)
MP4 = Container("mp4", {"aac": ("ipod", "m4a", "audio/mp4")})
FLAC = Container("flac", {"flac": ("flac", "flac", "audio/flac")})
WAV = Container(
    "wav",
    {
        codec: ("wav", "wav", "audio/wav")
        for codec in ("pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_u8", "pcm_f32le")
    },
)
MP4_BRANDS = {
    b"M4A ",
    b"M4B ",
    b"mp41",
    b"mp42",
    b"isom",
    b"iso2",
    b"iso5",
    b"iso6",
    b"dash",
    b"3gp4",
    b"3gp5",
}

#: Options that keep FFmpeg from writing its name and version into the new file.
MUXER_OPTIONS = {"fflags": "+bitexact"}
EXTRA_OPTIONS = {"mp3": {"id3v2_version": "0", "write_xing": "1"}, "flac": {"write_header": "1"}}


#: Container and stream tags that describe the encoding, not the person or the recording.
TECHNICAL_TAGS = {
    "encoder",
    "major_brand",
    "minor_version",
    "compatible_brands",
    "handler_name",
    "vendor_id",
    "language",
    "duration",
    "creation_time",
}


class NotAudio(Exception):
    """The bytes are not a recording in an accepted container and codec."""


class BadAudio(Exception):
    """The bytes start like an accepted recording but do not decode."""


def _skip_id3(head: bytes) -> int:
    if head[:3] != ID3 or len(head) < 10:
        return 0
    size = 0
    for b in head[6:10]:
        if b & 0x80:
            return 0
        size = (size << 7) | b
    footer = 10 if head[5] & 0x10 else 0
    return 10 + size + footer


def sniff(path: str) -> tuple[Container, int]:
    """The container of the file and the offset of its first byte after prepended ID3 tags."""
    with open(path, "rb") as f:
        head = f.read(64)
        offset = 0
        # Skip (possibly several) ID3v2 tags prepended to MP3 or FLAC.
        for _ in range(4):
            skip = _skip_id3(head)
            if not skip:
                break
            offset += skip
            f.seek(offset)
            head = f.read(64)
    if head[:4] == b"fLaC":
        return FLAC, offset
    if head[:4] == b"OggS" and offset == 0:
        return OGG, 0
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE" and offset == 0:
        return WAV, 0
    if head[:4] == b"\x1aE\xdf\xa3" and offset == 0:
        return WEBM, 0
    if head[4:8] == b"ftyp" and head[8:12] in MP4_BRANDS and offset == 0:
        return MP4, 0
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return MP3, offset
    if offset:  # ID3 followed by something else: let the MP3 demuxer resync or refuse
        return MP3, offset
    raise NotAudio


def clean(path: str, outputs: dict[str, str], limits: dict[str, Any]) -> dict[str, Any]:
    """Rebuild the recording into ``outputs["original"]``; return its facts."""
    container, _offset = sniff(path)
    import av

    av.logging.set_level(None)
    try:
        source = av.open(path, format=container.demuxer, options={"probesize": "5000000"})
    except av.FFmpegError as e:
        raise BadAudio from e
    with source:
        streams = [s for s in source.streams if s.type == "audio"]
        if not streams:
            raise BadAudio
        stream = streams[0]
        codec = stream.codec_context.name
        if codec not in container.codecs:
            raise NotAudio
        muxer, extension, mime = container.codecs[codec]
        removed = _found_metadata(source, stream)
        needles = [
            str(value).encode("utf-8", "replace").decode("latin-1")
            for key, value in {**source.metadata, **stream.metadata}.items()
            if key.lower() not in TECHNICAL_TAGS
        ]
        options = dict(MUXER_OPTIONS) | EXTRA_OPTIONS.get(muxer, {})
        frames = errors = packets = 0
        with av.open(outputs["original"], "w", format=muxer, container_options=options) as target:
            out = target.add_stream_from_template(stream)
            out.metadata.clear()
            last = None
            for packet in source.demux(stream):
                if packet.dts is None:
                    continue
                packets += 1
                try:
                    frames += len(packet.decode())
                except av.FFmpegError:
                    errors += 1
                    continue
                if last is not None and packet.dts <= last:
                    continue
                last = packet.dts
                packet.stream = out
                target.mux(packet)
        if frames == 0 or errors > 10 + packets // 100:
            raise BadAudio
    duration = _duration(outputs["original"], muxer)
    return {
        "kind": "audio",
        "ext": extension,
        "mime": mime,
        "duration": duration,
        "removed": removed,
        "needles": needles,
    }


def _found_metadata(source: Any, stream: Any) -> list[str]:
    found: set[str] = set()
    tags = {k.lower(): v for k, v in {**source.metadata, **stream.metadata}.items()}
    if set(tags) - TECHNICAL_TAGS:
        found.add("audio_tags")
    if any(s.type == "video" for s in source.streams):
        found.add("embedded_picture")
    if any(s.type not in ("audio", "video") for s in source.streams) or source.metadata.get("creation_time"):
        found.add("other_metadata")
    return sorted(found)


def _duration(path: str, muxer: str) -> float | None:
    import av

    with av.open(path, format=muxer if muxer != "ipod" else "mp4") as check:
        stream = check.streams.audio[0]
        if stream.duration and stream.time_base:
            return float(stream.duration * stream.time_base)
        if check.duration:
            return check.duration / 1_000_000
    return None


#: The encoder that writes a recording again once some of its seconds are silenced, by the
#: muxer it was stored with (None: the stored PCM codec itself). FFmpeg has no Vorbis encoder
#: of quality, so an Ogg Vorbis recording is heard publicly as Ogg Opus.
REENCODERS: dict[str, str | None] = {
    "wav": None,
    "flac": "flac",
    "mp3": "libmp3lame",
    "ipod": "aac",
    "ogg": "libopus",
    "webm": "libopus",
}
OPUS_RATES = {8000, 12000, 16000, 24000, 48000}
#: Bit rates for the lossy re-encoding: the stored file's own, kept within these bounds.
MIN_BIT_RATE, MAX_BIT_RATE, DEFAULT_BIT_RATE = 64_000, 320_000, 128_000


def silence(path: str, output: str, ranges_ms: list[list[int]]) -> dict[str, Any]:
    """Write the stored recording at ``path`` to ``output`` with every range of ``ranges_ms``
    (milliseconds from its first sample) made silent; return the new file's facts.

    The samples are zeroed after decoding and before encoding, so nothing of the withheld
    seconds reaches the encoder: the public file cannot hold them, whatever the codec.
    """
    import av

    av.logging.set_level(None)
    container, _offset = sniff(path)
    with av.open(path, format=container.demuxer) as source:
        stream = source.streams.audio[0]
        codec = stream.codec_context.name
        if codec not in container.codecs:
            raise NotAudio
        muxer, extension, mime = container.codecs[codec]
        encoder = REENCODERS[muxer] or codec
        rate = stream.codec_context.sample_rate
        out_rate = rate if encoder != "libopus" or rate in OPUS_RATES else 48000
        options = dict(MUXER_OPTIONS) | EXTRA_OPTIONS.get(muxer, {})
        with av.open(output, "w", format=muxer, container_options=options) as target:
            out: Any = target.add_stream(encoder, rate=out_rate, layout=stream.codec_context.layout.name)
            if REENCODERS[muxer] not in (None, "flac"):
                bit_rate = stream.codec_context.bit_rate or DEFAULT_BIT_RATE
                out.bit_rate = min(max(bit_rate, MIN_BIT_RATE), MAX_BIT_RATE)
            out.metadata.clear()
            position = 0
            for frame in source.decode(stream):
                frame = _silenced(frame, position, rate, ranges_ms)
                position += frame.samples
                for packet in out.encode(frame):
                    target.mux(packet)
            for packet in out.encode(None):
                target.mux(packet)
    if position == 0:
        raise BadAudio
    return {"kind": "audio", "ext": extension, "mime": mime, "duration": _duration(output, muxer)}


def _silenced(frame: Any, position: int, rate: int, ranges_ms: list[list[int]]) -> Any:
    """``frame`` (starting ``position`` samples into the recording) with the samples inside any
    of ``ranges_ms`` set to silence, timed by its place in the recording."""
    import av

    count = frame.samples
    spans = []
    for start_ms, end_ms in ranges_ms:
        first = max(start_ms * rate // 1000 - position, 0)
        last = min(-(-end_ms * rate // 1000) - position, count)  # rounded up: never a sample short
        if first < last:
            spans.append((first, last))
    if spans:
        samples = frame.to_ndarray()
        width = 1 if frame.format.is_planar else len(frame.layout.channels)
        zero = 128 if frame.format.name.startswith("u8") else 0
        for first, last in spans:
            samples[:, first * width : last * width] = zero
        silenced = av.AudioFrame.from_ndarray(samples, format=frame.format.name, layout=frame.layout.name)
        silenced.sample_rate = rate
        frame = silenced
    frame.pts = position
    frame.time_base = Fraction(1, rate)
    return frame
