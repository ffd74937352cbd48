"""Recordings, rebuilt from their audio stream: runs only inside the sandboxed worker process.

The container is recognised from its first bytes (never the name), opened with exactly that
FFmpeg demuxer (so FFmpeg never guesses among its hundreds of formats), every packet of the
first audio stream is decoded to prove it is audio, and the packets are copied into a brand-new
container written with no metadata. Tags, pictures, chapters, other streams and container
metadata of the upload are never read into the new file.

Where the audio ends is read from the upload's own bytes, never from what its header claims
(docs/decisions/0006): the demuxer is shown nothing past it, so tags after the audio — chunks
after a WAV `data` chunk whose size lies, tags appended to an MP3 or FLAC — can never be read as
audio. Every run of text outside the packets that were copied is handed to the worker's re-check.

``silence`` writes a stored recording again with the seconds of withheld passages silent: the
copy the public hears (docs/security.md T05).
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

#: The first bytes of each accepted container.
ID3 = b"ID3"


@dataclass(frozen=True)
class Container:
    """An accepted container: demuxer, codecs allowed in it, and how it is written back."""

    demuxer: str
    codecs: dict[str, tuple[str, str, str]]  # codec -> (muxer, extension, mime type)
    #: Its packets are byte ranges of the upload, copied as they are (WAV, MP3, FLAC): so the
    #: text outside them is what must not reach the new file. (Ogg, MP4 and WebM headers are
    #: rewritten by muxers with constant strings of their own, and their demuxers address
    #: each packet exactly.)
    byte_ranges: bool = False


MP3 = Container(
    "mp3",
    {codec: ("mp3", "mp3", "audio/mpeg") for codec in ("mp3", "mp3float", "mp3_fixed")},
    byte_ranges=True,
)
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
FLAC = Container("flac", {"flac": ("flac", "flac", "audio/flac")}, byte_ranges=True)
WAV = Container(
    "wav",
    {
        codec: ("wav", "wav", "audio/wav")
        for codec in ("pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_u8", "pcm_f32le")
    },
    byte_ranges=True,
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


# --- where the audio ends: read from the bytes, never from what the header claims ----------

#: The file's bytes, mapped read-only (or, in tests, plain bytes).
Buffer = bytes | mmap.mmap

#: "RIFF", the size, "WAVE": the chunks start after these.
RIFF_HEADER = 12
#: `data` sizes that say "unknown": streaming writers leave 0xFFFFFFFF, an unfinished header 0.
UNKNOWN_SIZES = {0, 0xFFFFFFFF}
#: RIFF chunks that hold tags: names, notes, places, the recorder's own description.
TAG_CHUNKS = {b"LIST", b"id3 ", b"ID3 ", b"bext", b"iXML", b"axml", b"_PMX", b"cart", b"DISP", b"umid"}
#: RIFF chunks that describe only the encoding or fill space: nothing to tell when dropped.
PLAIN_CHUNKS = {b"fmt ", b"data", b"fact", b"JUNK", b"junk", b"PAD ", b"FLLR", b"PEAK"}
#: The longest fmt payload (WAVE_FORMAT_EXTENSIBLE); the muxer writes these bytes anew.
FMT_MAX = 40
#: More chunks than this after the audio are not believed to be chunks.
MAX_TRAILING_CHUNKS = 64
#: The candidate chunk starts are looked for this many bytes at a time (memory stays flat).
SCAN_WINDOW = 1 << 22
#: An ID3v2 tag appended at the end is looked for among this many "ID3" occurrences, last first.
MAX_ID3_CANDIDATES = 64


@dataclass(frozen=True)
class Layout:
    """Where an upload's audio ends, read from its own bytes rather than from its header's claims.

    The demuxer is shown the bytes before ``end`` and nothing after, so whatever follows the
    audio can never be read as audio. ``technical`` are byte ranges the new container writes
    again from the codec's parameters (no evidence of a leak when they recur); ``removed`` says
    what lay outside the audio, for the ingest report.
    """

    end: int
    technical: tuple[tuple[int, int], ...] = ()
    removed: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Chunk:
    """One RIFF chunk: its four-letter id, where its header starts and the payload size it claims."""

    kind: bytes
    at: int
    size: int

    @property
    def payload(self) -> int:
        return self.at + 8

    @property
    def claimed_end(self) -> int:
        """Where the next chunk starts if this one tells the truth (payloads are padded to even)."""
        return self.at + 8 + self.size + (self.size & 1)


def layout(data: Buffer, container: Container, offset: int) -> Layout:
    """Where the audio of ``data`` (a file of ``container``, its stream at ``offset``) ends."""
    if container is WAV:
        return _wav_layout(data)
    if container in (MP3, FLAC):
        end, removed = _peel_trailers(data, offset, len(data), id3v2=True)
        return Layout(end, removed=frozenset(removed))
    return Layout(len(data))


def _wav_layout(data: Buffer) -> Layout:
    """A WAV's audio is its `data` chunk, bounded by the truth: a size of 0 or 0xFFFFFFFF, or one
    running past the end, is replaced by where the chunks that follow the audio begin."""
    end, removed = _peel_trailers(data, RIFF_HEADER, len(data), id3v2=False)
    header, _ = _riff_chunks(data, RIFF_HEADER, end, until=b"data", any_id=True)
    if not header or header[-1].kind != b"data":
        raise BadAudio
    audio, header = header[-1], header[:-1]
    fmt = next((c for c in header if c.kind == b"fmt "), None)
    if fmt is None:
        raise BadAudio
    audio_end, after = _wav_audio_end(data, audio, end, _block_align(data, fmt))
    trailing, walked_to = _riff_chunks(data, after, end)
    removed |= _chunk_findings(data, header + trailing)
    if np.frombuffer(data, dtype=np.uint8)[walked_to:end].any():  # after the audio, and no chunk
        removed.add("other_metadata")
    technical = ((0, RIFF_HEADER), (fmt.at, min(fmt.claimed_end, fmt.payload + FMT_MAX)))
    return Layout(audio_end, technical, frozenset(removed))


def _wav_audio_end(data: Buffer, audio: Chunk, end: int, align: int) -> tuple[int, int]:
    """Where the PCM of ``audio`` ends and where the chunks after it begin."""
    start = audio.payload
    if audio.size not in UNKNOWN_SIZES and start + audio.size <= end:
        return start + audio.size, min(end, audio.claimed_end)
    audio_end, after = _first_chunk_chain(data, start, end, align) or (end, end)
    if _holds_tags(data, start, audio_end):
        raise BadAudio  # tags we cannot tell apart from the audio: refused, never stored
    return audio_end, after


def _riff_chunks(
    data: Buffer, at: int, end: int, until: bytes = b"", any_id: bool = False
) -> tuple[list[Chunk], int]:
    """The chunks from ``at`` (up to and including one of kind ``until``), and where the walk
    stopped: at ``end``, or before bytes that are no chunk. Before the audio any four bytes
    are an id, as FFmpeg takes them; after it only printable ones."""
    chunks: list[Chunk] = []
    while at + 8 <= end and (any_id or _is_chunk_id(data[at : at + 4])):
        chunk = Chunk(bytes(data[at : at + 4]), at, struct.unpack_from("<I", data, at + 4)[0])
        chunks.append(chunk)
        if chunk.kind == until:
            break
        at = chunk.claimed_end
    return chunks, min(at, end)


def _is_chunk_id(kind: bytes) -> bool:
    return len(kind) == 4 and all(0x20 <= b <= 0x7E for b in kind)


def _block_align(data: Buffer, fmt: Chunk) -> int:
    """Bytes per sample frame (all channels), from the fmt chunk; 1 when it does not say."""
    if fmt.size < 14 or fmt.payload + 14 > len(data):
        return 1
    return max(1, int(struct.unpack_from("<H", data, fmt.payload + 12)[0]))


def _first_chunk_chain(data: Buffer, start: int, end: int, align: int) -> tuple[int, int] | None:
    """Where the audio ends and the chunks after it begin, when the header does not say: the
    first place after ``start``, a whole number of sample frames in, where well-formed chunks
    (a four-letter printable id and a size) follow one another to exactly ``end``."""
    for at in _chunk_candidates(data, start, end):
        if not _chain_reaches(data, at, end):
            continue
        at = _enclosing_list(data, start, at)
        length = at - start
        if length % align == 0:
            return at, at
        if length % 2 == 0 and (length - 1) % align == 0:
            return at - 1, at  # odd-length audio, then its pad byte
    return None


def _enclosing_list(data: Buffer, start: int, at: int) -> int:
    """Where the chunks after the audio begin when those at ``at`` are the sub-chunks of a LIST
    whose own size lies (its header, "LIST", a size and a four-letter type, comes first)."""
    header = at - 12
    if header >= start and data[header : header + 4] == b"LIST" and _is_chunk_id(data[at - 4 : at]):
        return header
    return at


def _chunk_candidates(data: Buffer, start: int, end: int) -> Iterator[int]:
    """Offsets from ``start`` on, in order, where a chunk could begin: four printable bytes and a
    size that fits before ``end``. Vectorised (a 250 MB recording takes about half a second);
    only the few candidates that pass are walked in Python."""
    view = np.frombuffer(data, dtype=np.uint8)
    last = end - 8  # the last offset where a chunk header fits
    for low in range(start, last + 1, SCAN_WINDOW):
        count = min(SCAN_WINDOW, last + 1 - low)
        block = view[low : low + count + 7]
        printable = (block >= 0x20) & (block <= 0x7E)
        ids = printable[:count] & printable[1 : count + 1] & printable[2 : count + 2]
        found = np.flatnonzero(ids & printable[3 : count + 3])
        size = np.zeros(len(found), dtype=np.int64)
        for byte in range(4):
            size |= block[found + 4 + byte].astype(np.int64) << (8 * byte)
        for at in (found[low + found + 8 + size <= end] + low).tolist():
            yield int(at)


def _chain_reaches(data: Buffer, at: int, end: int) -> bool:
    """Whether chunks starting at ``at`` follow one another to exactly ``end`` (the last one may
    lack its pad byte)."""
    for _ in range(MAX_TRAILING_CHUNKS):
        if at + 8 > end or not _is_chunk_id(data[at : at + 4]):
            return False
        size = struct.unpack_from("<I", data, at + 4)[0]
        following = at + 8 + size
        if end in (following, following + (size & 1)):
            return True
        at = following + (size & 1)
    return False


def _holds_tags(data: Buffer, start: int, end: int) -> bool:
    """Whether what a lying `data` header leaves as audio still holds a LIST/INFO, an ID3 or a
    bext chunk: one damaged so that no chain of chunks from it reaches the end of the file."""
    for payload, chunk_ids in ((b"INFO", (b"LIST",)), (ID3, (b"id3 ", b"ID3 "))):
        at = data.find(payload, start + 8, end)
        while at != -1:
            if data[at - 8 : at - 4] in chunk_ids:  # the chunk's id, then its size, then this
                return True
            at = data.find(payload, at + 1, end)
    at = data.find(b"bext", start, end)
    while at != -1:
        if at + 8 <= end and 602 <= struct.unpack_from("<I", data, at + 4)[0] < 1 << 16:
            return True  # a bext chunk is at least 602 bytes: descriptions, originator, dates
        at = data.find(b"bext", at + 1, end)
    return False


def _chunk_findings(data: Buffer, chunks: list[Chunk]) -> set[str]:
    """What the report says about chunks that are not copied: tags, a picture, or other information."""
    found: set[str] = set()
    for chunk in chunks:
        if chunk.kind in PLAIN_CHUNKS:
            continue
        found.add("audio_tags" if chunk.kind in TAG_CHUNKS else "other_metadata")
        if chunk.kind in (b"id3 ", b"ID3 ") and b"APIC" in data[chunk.payload : chunk.claimed_end]:
            found.add("embedded_picture")
    return found


def _peel_trailers(data: Buffer, start: int, end: int, *, id3v2: bool) -> tuple[int, set[str]]:
    """Where the audio ends once the tags taggers append after it are taken off, and what they
    were: ID3v1 (and its "TAG+" extension), APEv1/v2, Lyrics3 and — after MP3 or FLAC, not
    after RIFF chunks, where an `id3 ` chunk holds one — ID3v2."""
    removed: set[str] = set()
    while (cut := _trailer_start(data, start, end, id3v2)) is not None:
        removed.add("audio_tags")
        tail = data[cut:end]
        if b"APIC" in tail or b"Cover Art" in tail:
            removed.add("embedded_picture")
        end = cut
    return end, removed


def _trailer_start(data: Buffer, start: int, end: int, id3v2: bool) -> int | None:
    """Where a tag that ends exactly at ``end`` begins (not before ``start``), or None."""
    finders = [_id3v1_start, _ape_start, _lyrics3_start]
    if id3v2:
        finders.append(lambda data, end: _id3v2_start(data, start, end))
    for find in finders:
        cut = find(data, end)
        if cut is not None and start <= cut < end:
            return cut
    return None


def _id3v1_start(data: Buffer, end: int) -> int | None:
    """ID3v1: the last 128 bytes, starting "TAG"; an ID3v1.2 "TAG+" block may precede it."""
    if end < 128 or data[end - 128 : end - 125] != b"TAG":
        return None
    if end >= 355 and data[end - 355 : end - 351] == b"TAG+":
        return end - 355
    return end - 128


def _ape_start(data: Buffer, end: int) -> int | None:
    """APEv1/v2: a 32-byte footer ("APETAGEX", version, size of items and footer, count, flags;
    flag bit 31: a 32-byte header precedes the items)."""
    if end < 32 or data[end - 32 : end - 24] != b"APETAGEX":
        return None
    _version, size, _count, flags = struct.unpack_from("<4I", data, end - 24)
    return end - int(size) - (32 if flags & 0x80000000 else 0)


def _lyrics3_start(data: Buffer, end: int) -> int | None:
    """Lyrics3: v2 ends with a 6-digit size and "LYRICS200", v1 with "LYRICSEND" (at most 5100
    bytes after its "LYRICSBEGIN")."""
    if end < 20:
        return None
    if data[end - 9 : end] == b"LYRICS200" and bytes(data[end - 15 : end - 9]).isdigit():
        cut = end - 15 - int(data[end - 15 : end - 9])
        return cut if cut >= 0 and data[cut : cut + 11] == b"LYRICSBEGIN" else None
    if data[end - 9 : end] == b"LYRICSEND":
        cut = data.rfind(b"LYRICSBEGIN", max(0, end - 5120), end)
        return cut if cut != -1 else None
    return None


def _id3v2_start(data: Buffer, start: int, end: int) -> int | None:
    """An ID3v2 tag appended at the end: found from its footer ("3DI"), or from a header "ID3"
    whose size reaches exactly ``end``."""
    if end >= 20 and data[end - 10 : end - 7] == b"3DI":
        size = _skip_id3(b"ID3" + bytes(data[end - 7 : end]))
        cut = end - size - 10
        if size and cut >= 0 and data[cut : cut + 3] == ID3:
            return cut
    at = data.rfind(ID3, start, end - 10)
    for _ in range(MAX_ID3_CANDIDATES):
        if at == -1:
            return None
        if _skip_id3(bytes(data[at : at + 10])) == end - at:
            return at
        at = data.rfind(ID3, start, at)
    return None


# --- the rebuild ----------------------------------------------------------------------------


def clean(path: str, outputs: dict[str, str], limits: dict[str, Any]) -> dict[str, Any]:
    """Rebuild the recording into ``outputs["original"]``; return its facts."""
    container, offset = sniff(path)
    import av

    av.logging.set_level(None)
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        bounds = layout(data, container, offset)
        try:
            source = av.open(_bounded(path, bounds.end, len(data)), format=container.demuxer, options=PROBE)
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
            removed = set(_found_metadata(source, stream)) | bounds.removed
            tag_values = _tag_values(source, stream)
            outside: list[str] = []
            # Ogg, MP4 and WebM frame their packets with headers of their own (page headers, a
            # Vorbis stream's setup): bytes between two packets are no tag there.
            origins = Origins(data, watching=container.byte_ranges)
            _rebuild(source, stream, container, muxer, outputs["original"], origins)
            copied = origins.ranges()
            if container.byte_ranges and copied:
                extradata = bytes(stream.codec_context.extradata or b"")
                runs, stray = _text_outside(data, copied, bounds, container, offset, extradata)
                outside = [run.decode("latin-1") for run in runs]
                if stray:
                    removed.add("other_metadata")
    duration = _duration(outputs["original"], muxer)
    return {
        "kind": "audio",
        "ext": extension,
        "mime": mime,
        "duration": duration,
        "removed": sorted(removed),
        # For the worker's re-check, by where they came from (the kind of leftover it reports).
        "needles": {"audio_tag": tag_values, "audio_text": outside},
    }


#: How far the demuxer may read to find the stream's parameters.
PROBE = {"probesize": "5000000"}


def _bounded(path: str, end: int, size: int) -> str:
    """The URL that shows the demuxer the first ``end`` bytes of the file and nothing more
    (FFmpeg's subfile protocol; options end at ",,:", so any path is safe after it)."""
    return path if end >= size else f"subfile,,start,0,end,{end},,:file:{path}"


def _rebuild(
    source: Any, stream: Any, container: Container, muxer: str, target_path: str, origins: Origins
) -> None:
    """Decode every packet of ``stream`` and copy the ones that decode into a new container,
    noting in ``origins`` where in the upload each came from. The new container sizes itself
    from what was copied.

    FFmpeg's parsers hand on whatever lies after the audio with the last frame (FLAC) or as
    packets of their own (MP3), and the decoders find something to decode in them. So an MP3
    packet is copied only when it is exactly the frame its header describes, and the last FLAC
    packet is cut to the frame the decoder read.
    """
    import av

    options = dict(MUXER_OPTIONS) | EXTRA_OPTIONS.get(muxer, {})
    frames = errors = packets = 0
    with av.open(target_path, "w", format=muxer, container_options=options) as target:
        out = target.add_stream_from_template(stream)
        out.metadata.clear()
        last = None
        held = None  # the packet decoded last: muxed once it is known whether another follows
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
            if container is MP3 and not _is_mp3_frame(bytes(packet)):
                continue
            last = packet.dts
            if held is not None and not _mux(target, out, held, held.pos, origins):
                held = None
                break
            held = packet
        if held is not None:
            pos = held.pos
            if container is FLAC:
                held = _frame_only(held, bytes(stream.codec_context.extradata or b""))
            _mux(target, out, held, pos, origins)
    if frames == 0 or errors > 10 + packets // 100:
        raise BadAudio


def _mux(target: Any, out: Any, packet: Any, pos: int | None, origins: Origins) -> bool:
    """Copy ``packet`` into ``out`` and note where in the upload its bytes came from (``pos``:
    where the demuxer says it read them); False, copying nothing, once a tag came before it."""
    if not origins.add(bytes(packet), pos):
        return False
    packet.stream = out
    target.mux(packet)
    return True


#: How far past the previous packet a packet's bytes are looked for when its position is wrong.
ORIGIN_SEARCH = 1 << 20


class Origins:
    """Where in the upload the copied packets' bytes lie, as merged byte ranges.

    A packet is where the demuxer says when its bytes are there; a parser that resynchronised
    may say otherwise (FFmpeg's FLAC parser does after damage), so the packet is then looked
    for after the previous one. A packet found nowhere near makes the ranges unknown (empty).

    Text between two packets is a tag (audio frames follow one another): what comes after it
    is no longer taken as audio. A damaged tag that was not taken off the end is read by the
    MP3 demuxer as "frames" wherever its bytes (a cover picture) look like one.
    """

    def __init__(self, data: Buffer, watching: bool = True) -> None:
        self.data = data
        self.spans: list[list[int]] = []
        self.known = watching  # only where packets are byte ranges of the upload (WAV, MP3, FLAC)
        self.tags_reached = False

    def add(self, payload: bytes, hint: int | None) -> bool:
        """Note the bytes of one copied packet, read near ``hint``; False, noting nothing now or
        later, when text lies between the previous packet and this one."""
        if self.tags_reached:
            return False
        if not self.known or not payload:
            return True
        at = self._find(payload, hint)
        if at is None:
            self.known = False
        elif self.spans and at > self.spans[-1][1] and _text_runs(self.data, self.spans[-1][1], at):
            self.tags_reached = True
            return False
        elif self.spans and self.spans[-1][1] == at:
            self.spans[-1][1] = at + len(payload)
        else:
            self.spans.append([at, at + len(payload)])
        return True

    def _find(self, payload: bytes, hint: int | None) -> int | None:
        if hint is not None and hint >= 0 and self.data[hint : hint + len(payload)] == payload:
            return hint
        start = self.spans[-1][1] if self.spans else 0
        at = self.data.find(payload, start, start + len(payload) + ORIGIN_SEARCH)
        return None if at == -1 else at

    def ranges(self) -> list[tuple[int, int]]:
        """The byte ranges the copied packets came from, in order; empty when unknown."""
        return [(low, high) for low, high in self.spans] if self.known else []


#: MPEG audio layer III bitrates (kbit/s) by index: MPEG-1, and MPEG-2 and 2.5.
MP3_BITRATES = (
    (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
)
#: Sample rates by version bits (3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5) and index.
MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _is_mp3_frame(packet: bytes) -> bool:
    """Whether ``packet`` is exactly one MPEG layer III frame, as long as its header says (a
    free-format frame, whose header gives no length, is taken as it comes)."""
    if len(packet) < 4 or packet[0] != 0xFF or packet[1] & 0xE0 != 0xE0:
        return False
    version, layer = (packet[1] >> 3) & 3, (packet[1] >> 1) & 3
    bitrate, rate, padding = packet[2] >> 4, (packet[2] >> 2) & 3, (packet[2] >> 1) & 1
    if version == 1 or layer != 1 or bitrate == 15 or rate == 3:
        return False
    if bitrate == 0:
        return True
    kbits = MP3_BITRATES[0 if version == 3 else 1][bitrate]
    return len(packet) == (144 if version == 3 else 72) * kbits * 1000 // MP3_RATES[version][rate] + padding


def _frame_only(packet: Any, extradata: bytes) -> Any:
    """``packet`` cut to the FLAC frame it starts with. A frame cut short fails to decode (the
    decoder would read past its end) and one with bytes after it decodes, so the frame is the
    shortest prefix that decodes: found by halving, a few dozen decodes of one frame."""
    import av

    data = bytes(packet)
    low, high = 0, len(data)  # a prefix of ``high`` bytes decodes, one of ``low`` does not
    while high - low > 1:
        middle = (low + high) // 2
        if _decodes(data[:middle], extradata):
            high = middle
        else:
            low = middle
    if high == len(data):
        return packet
    trimmed = av.Packet(data[:high])
    trimmed.pts, trimmed.dts, trimmed.time_base = packet.pts, packet.dts, packet.time_base
    trimmed.duration = packet.duration
    return trimmed


def _decodes(frame: bytes, extradata: bytes) -> bool:
    """Whether ``frame`` alone decodes as FLAC (with the stream's STREAMINFO)."""
    import av

    decoder = av.CodecContext.create("flac", "r")
    decoder.extradata = extradata
    try:
        return bool(decoder.decode(av.Packet(frame)))
    except av.FFmpegError:
        return False


# --- the text outside the copied packets, for the worker's re-check --------------------------

#: Runs of printable ASCII this long are looked for (the worker's MIN_NEEDLE).
MIN_RUN = 8
#: Runs with fewer distinct bytes ("        ", "UUUUUUUU" padding) identify nobody.
MIN_DISTINCT = 4
#: At most this many runs are handed on, the longest first (text is long, chance runs short).
MAX_RUNS = 256
#: Text runs are collected from this many bytes at a time.
RUN_PIECE = 1 << 20
PRINTABLE = bytes(1 if 0x20 <= byte <= 0x7E else 0 for byte in range(256))


def _outside(
    data: Buffer, copied: list[tuple[int, int]], bounds: Layout, container: Container, offset: int
) -> list[tuple[int, int]]:
    """The byte ranges of the upload that were not copied and are not rebuilt from the codec's
    parameters: headers, tags, trailing chunks, whatever followed the last packet."""
    technical = list(bounds.technical)
    if container is MP3 and offset < copied[0][0]:
        technical.append(_mp3_info_frame(data, offset, copied[0][0]))
    covered = sorted([*copied, *technical])
    gaps: list[tuple[int, int]] = []
    at = 0
    for low, high in covered:
        if low > at:
            gaps.append((at, low))
        at = max(at, high)
    if at < len(data):
        gaps.append((at, len(data)))
    return gaps


def _mp3_info_frame(data: Buffer, offset: int, first: int) -> tuple[int, int]:
    """The Xing/Info/VBRI frame before the first packet (its table of contents is written again
    from the same packets, so it may recur byte for byte); an empty range if it is not one."""
    head = data[offset : min(first, offset + 64)]
    if head[:1] == b"\xff" and any(tag in head for tag in (b"Xing", b"Info", b"VBRI")):
        return offset, first
    return offset, offset


def _text_runs(data: Buffer, low: int, high: int) -> set[bytes]:
    """The runs of at least MIN_RUN printable ASCII bytes in ``data[low:high]`` that use at
    least MIN_DISTINCT byte values (a run cut between two pieces counts as two)."""
    runs: set[bytes] = set()
    for start in range(low, high, RUN_PIECE):
        piece = bytes(data[start : min(high, start + RUN_PIECE)])
        marked = piece.translate(PRINTABLE)
        at = marked.find(b"\x01" * MIN_RUN)
        while at != -1:
            stop = marked.find(b"\x00", at)
            stop = len(marked) if stop == -1 else stop
            run = piece[at:stop]
            if len(set(run)) >= MIN_DISTINCT:
                runs.add(run)
            at = marked.find(b"\x01" * MIN_RUN, stop)
    return runs


def _text_outside(
    data: Buffer,
    copied: list[tuple[int, int]],
    bounds: Layout,
    container: Container,
    offset: int,
    extradata: bytes,
) -> tuple[list[bytes], bool]:
    """The text runs outside the copied packets that the new file must not contain — all of them
    but those that also occur in the packets or the codec's parameters (copying the audio
    copies those too: an encoder's name in MP3 padding, a FLAC STREAMINFO) — and whether any
    text lay between or after the packets where no known tag explains it."""
    runs: set[bytes] = set()
    stray = False
    for low, high in _outside(data, copied, bounds, container, offset):
        found = _text_runs(data, low, high)
        runs |= found
        stray = stray or bool(found and copied[0][0] < low < bounds.end)
    longest = sorted(runs, key=lambda run: (-len(run), run))[:MAX_RUNS]
    inside = _occurring(data, copied, longest)
    return [run for run in longest if run not in inside and run not in extradata], stray


def _occurring(data: Buffer, spans: list[tuple[int, int]], runs: list[bytes]) -> set[bytes]:
    """Which ``runs`` occur inside ``spans`` of ``data``. Every occurrence of a printable run lies
    inside a printable stretch of the data, so only those stretches are looked at, each through
    a table of the runs' first MIN_RUN bytes."""
    by_head: dict[bytes, list[bytes]] = {}
    for run in runs:
        by_head.setdefault(run[:MIN_RUN], []).append(run)
    longest = max((len(run) for run in runs), default=0)
    found: set[bytes] = set()
    for low, high in spans:
        for start in range(low, high, RUN_PIECE):
            piece = bytes(data[start : min(high, start + RUN_PIECE + longest)])
            found |= _occurring_in(piece, by_head)
            if len(found) == len(runs):
                return found
    return found


def _occurring_in(piece: bytes, by_head: dict[bytes, list[bytes]]) -> set[bytes]:
    found: set[bytes] = set()
    marked = piece.translate(PRINTABLE)
    at = marked.find(b"\x01" * MIN_RUN)
    while at != -1:
        stop = marked.find(b"\x00", at)
        stop = len(marked) if stop == -1 else stop
        for i in range(at, stop - MIN_RUN + 1):
            for run in by_head.get(piece[i : i + MIN_RUN], ()):
                if piece.startswith(run, i):
                    found.add(run)
        at = marked.find(b"\x01" * MIN_RUN, stop)
    return found


def _tag_values(source: Any, stream: Any) -> list[str]:
    """The values of the tags FFmpeg read, as the worker's re-check looks for them (UTF-8 bytes
    carried as Latin-1 text)."""
    return [
        str(value).encode("utf-8", "replace").decode("latin-1")
        for key, value in {**source.metadata, **stream.metadata}.items()
        if key.lower() not in TECHNICAL_TAGS
    ]


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
