"""Transcripts: parsing WebVTT, SRT and plain text, and replacing an audio file's cues."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

import srt
import webvtt
from flask_babel import gettext as _

from nuevonorte import audit, consent, ledger, withheld_audio, withheld_words
from nuevonorte.extensions import db
from nuevonorte.models import (
    Credit,
    Cue,
    CuratorAccount,
    MediaFile,
    MediaKind,
    StoryStatus,
    Transcript,
    TranscriptSegment,
)
from nuevonorte.transcribe.cues import Passage

MAX_TRANSCRIPT_BYTES = 2 * 1024 * 1024
_VTT_TIME = r"(?:\d{2,}:)?[0-5]\d:[0-5]\d\.\d{3}"
_VTT_TIMING = re.compile(rf"^\s*({_VTT_TIME})\s+-->\s+({_VTT_TIME})(?:\s+.*)?$")
#: A line that starts like a cue timing ("00:00:01,000 ->", "0:01.000 - ") and may be a broken one.
_TIMING_LIKE = re.compile(r"^\s*(?:\d+:)?\d{1,2}:[0-5]\d[.,]\d{1,3}\s*[-=–—>]")
_CLOCK = re.compile(r"^(?:(\d+):)?([0-5]?\d):([0-5]?\d)(?:[.,](\d{1,3}))?$")
#: No recording lasts longer; the cues' ``integer`` millisecond columns end at about 596 hours (A23).
MAX_HOURS = 99
_HOURS = re.compile(r"(\d+):[0-5]?\d:[0-5]?\d")


class TranscriptError(Exception):
    """A transcript that cannot be read; ``message`` is localized and names the line."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ParsedCue:
    """One cue read from a file or a form."""

    start_ms: int
    end_ms: int
    text: str
    translation: str = ""
    restricted: bool = False
    speaker: str = ""
    #: Words withheld inside the passage (``withheld_words.CueWords``).
    words: withheld_words.CueWords = withheld_words.NO_WORDS


#: The longest speaker label (the ``cue.speaker`` column).
MAX_SPEAKER = 80


def parse_clock(value: str) -> int:
    """Milliseconds from "h:mm:ss.mmm", "mm:ss.mmm" or "mm:ss"; ValueError otherwise, and past
    ``MAX_HOURS``."""
    m = _CLOCK.match(value.strip())
    if not m or _past_any_recording(value):
        raise ValueError(value)
    hours, minutes, seconds, millis = m.groups()
    return ((int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(
        (millis or "0").ljust(3, "0")
    )


def _past_any_recording(text: str) -> bool:
    """Whether ``text`` holds a clock time of more than ``MAX_HOURS`` hours."""
    return any(len(h.lstrip("0")) > len(str(MAX_HOURS)) or int(h) > MAX_HOURS for h in _HOURS.findall(text))


def format_clock(ms: int) -> str:
    """ "h:mm:ss.mmm" for a number of milliseconds."""
    seconds, millis = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def decode(data: bytes) -> str:
    """The text of an uploaded transcript (UTF-8, BOM allowed)."""
    if len(data) > MAX_TRANSCRIPT_BYTES:
        raise TranscriptError(_("The transcript file is too large (at most 2 MB)."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise TranscriptError(
            _("Line %(line)d is not UTF-8 text. Save the file as UTF-8 and try again.", line=line)
        ) from None
    if "\x00" in text:  # the database cannot keep it (A23)
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise TranscriptError(
            _(
                "Line %(line)d holds an invisible character (a null byte). Save the file as plain UTF-8 text and try again.",  # noqa: E501
                line=line,
            )
        )
    return text


def parse(text: str) -> list[ParsedCue]:
    """Cues from WebVTT (starts with WEBVTT), SRT (has "-->" timings) or plain paragraphs.

    A timing line that is not quite right ("->" for "-->") is refused naming its line, and so
    is a file with text but no passage: either would otherwise replace a transcript with less.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for number, line in enumerate(text.split("\n"), start=1):
        if _TIMING_LIKE.match(line) and "-->" not in line:
            raise TranscriptError(
                _("Line %(line)d: the timing must read like 00:00:01.000 --> 00:00:04.000.", line=number)
            )
        if "-->" in line and _past_any_recording(line):
            raise TranscriptError(
                _(
                    "Line %(line)d: this time is longer than any recording (at most %(hours)d hours).",
                    line=number,
                    hours=MAX_HOURS,
                )
            )
    if text.lstrip().startswith("WEBVTT"):
        cues = _parse_vtt(text)
    elif "-->" in text:
        cues = _parse_srt(text)
    else:
        cues = [ParsedCue(0, 0, p.strip()) for p in text.split("\n\n") if p.strip()]
    if not cues and text.strip() and text.strip() != "WEBVTT":
        raise TranscriptError(_("Line %(line)d: no passage could be read from this file.", line=1))
    return cues


@dataclass(frozen=True)
class Replacement:
    """What uploading a new transcript over an existing one would change."""

    cues: list[ParsedCue]  # the new cues, with withheld flags and translations carried over
    removed: int  # old passages with no identical new one
    translations_lost: int  # translations of old passages that will be gone
    withheld_kept: int  # new passages kept withheld because they overlap a withheld old one

    @property
    def needs_confirmation(self) -> bool:
        """Whether anything is lost, so the curator must see it before it happens."""
        return bool(self.removed or self.translations_lost)


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _overlap(start: int, end: int, cue: Cue) -> bool:
    return start < max(cue.end_ms, cue.start_ms + 1) and cue.start_ms < max(end, start + 1)


def replacement(old: Sequence[Cue], new: Sequence[ParsedCue]) -> Replacement:
    """Carry what curators decided about the old passages over to the new ones (T06).

    A new passage with the same text as an old one, overlapping it in time, keeps its withheld
    flag, withheld words and translation. Failing safe: a new passage overlapping in time any old
    passage that is withheld, or has withheld words, stays withheld whole even if its words
    changed (the withheld seconds are the same seconds).
    """
    out, used, withheld_kept = [], set(), 0
    for cue in new:
        same = [o for o in old if o.id not in used and _same(o.text, cue.text)]
        # Prefer the twin at the same time; plain text has no times, so then any with the words.
        twin = next((o for o in same if _overlap(cue.start_ms, cue.end_ms, o)), same[0] if same else None)
        restricted = cue.restricted or (twin is not None and twin.restricted)
        words = cue.words
        if twin is not None and not words:
            # Unreadable words withhold the cue whole (fail closed).
            twin_words = withheld_words.of_cue(twin)
            restricted, words = (True, words) if twin_words is None else (restricted, twin_words)
        overlapping = [o for o in old if o is not twin and _overlap(cue.start_ms, cue.end_ms, o)]
        if not restricted and any(consent.cue_withheld(o) for o in overlapping):
            restricted, withheld_kept = True, withheld_kept + 1
        translation = cue.translation or (twin.translation if twin is not None else "")
        speaker = cue.speaker or (twin.speaker if twin is not None else "")
        if twin is not None:
            used.add(twin.id)
        out.append(ParsedCue(cue.start_ms, cue.end_ms, cue.text, translation, restricted, speaker, words))
    removed = [o for o in old if o.id not in used]
    return Replacement(out, len(removed), sum(1 for o in removed if o.translation), withheld_kept)


def _parse_vtt(text: str) -> list[ParsedCue]:
    # webvtt-py skips a cue whose timing it cannot read; we refuse it and name the line.
    for number, line in enumerate(text.split("\n"), start=1):
        if "-->" in line:
            m = _VTT_TIMING.match(line)
            if not m:
                raise TranscriptError(
                    _(
                        "Line %(line)d: the cue timing is not valid WebVTT (expected 00:00:01.000 --> 00:00:04.000).",  # noqa: E501
                        line=number,
                    )
                )
            if parse_clock(m.group(2)) < parse_clock(m.group(1)):
                raise TranscriptError(_("Line %(line)d: the cue ends before it starts.", line=number))
    try:
        captions = webvtt.from_buffer(io.StringIO(text))
    except Exception:
        raise TranscriptError(_("Line %(line)d: this is not a valid WebVTT file.", line=1)) from None
    return [ParsedCue(parse_clock(c.start), parse_clock(c.end), c.text.strip()) for c in captions.captions]


def _parse_srt(text: str) -> list[ParsedCue]:
    try:
        subtitles = list(srt.parse(text))
    except srt.SRTParseError as e:
        line = text.count("\n", 0, e.expected_start) + 1
        raise TranscriptError(
            _(
                "Line %(line)d: this part of the SRT file could not be read (check the number and timing line).",  # noqa: E501
                line=line,
            )
        ) from None
    cues = []
    for sub in subtitles:
        start, end = int(sub.start.total_seconds() * 1000), int(sub.end.total_seconds() * 1000)
        if end < start:
            line = text.count("\n", 0, text.find(srt.timedelta_to_srt_timestamp(sub.start))) + 1
            raise TranscriptError(_("Line %(line)d: the cue ends before it starts.", line=line))
        cues.append(ParsedCue(start, end, sub.content.strip()))
    return cues


def _withheld(cues: Sequence[Cue] | Sequence[ParsedCue]) -> set[tuple[int, int, str, str]]:
    """What is withheld in ``cues``: each withheld cue's times, and each withheld passage in a
    cue with its times and layer (to tell what is newly withheld)."""
    found: set[tuple[int, int, str, str]] = set()
    for c in cues:
        if c.restricted:
            found.add((c.start_ms, c.end_ms, "", ""))
        words = c.words if isinstance(c, ParsedCue) else withheld_words.of_cue(c)
        found |= {(c.start_ms, c.end_ms, *p) for p in (words.folded() if words else ())}
    return found


def set_cues(
    media: MediaFile,
    cues: Sequence[ParsedCue],
    language: str,
    curator: CuratorAccount | None,
    translation_language: str | None = None,
) -> Transcript:
    """Replace the transcript of an audio file with ``cues``; the caller then asks
    ``jobs.records.request_silenced_copy`` and commits (the worker makes the public copy with
    the withheld seconds silent)."""
    if media.kind != MediaKind.AUDIO:
        raise TranscriptError(_("Only recordings have transcripts."))
    transcript = media.transcript
    withheld_before = _withheld(transcript.cues if transcript is not None else [])
    if media.story.status == StoryStatus.PUBLISHED and _withheld(cues) - withheld_before:
        ledger.record(ledger.HIDDEN, media.story)  # a passage withheld after publishing stays so
    if transcript is None:
        transcript = Transcript(media=media, language=language)
        db.session.add(transcript)
    transcript.language = language
    transcript.translation_language = translation_language
    transcript.cues = [
        Cue(
            position=i,
            start_ms=c.start_ms,
            end_ms=c.end_ms,
            text=c.text,
            translation=c.translation,
            restricted=c.restricted,
            speaker=c.speaker,
            withheld_words=c.words.stored(),
        )
        for i, c in enumerate(cues)
    ]
    db.session.flush()
    withheld_audio.forget_stale(media)
    audit.record("transcript.changed", "media", media.public_id, actor=curator)
    return transcript


def save_machine_draft(media: MediaFile, passages: Sequence[Passage], language: str) -> Transcript:
    """Save what speech recognition heard as the recording's transcript, marked as a machine
    draft: never public until a curator reviews it (``mark_reviewed``). The caller holds the
    recording's row and has checked that it has no transcript; the caller commits."""
    cues = [ParsedCue(p.start_ms, p.end_ms, p.text) for p in passages]
    transcript = set_cues(media, cues, language, None)
    transcript.machine_draft = True
    db.session.flush()
    return transcript


def mark_reviewed(media: MediaFile, curator: CuratorAccount, *, uploaded: bool = False) -> bool:
    """A curator read the machine draft and vouches for it: from now on it is a transcript like
    any other, public as the consent rule says. False (nothing changed) when there is no draft.
    ``TranscriptError`` while the sensitive-passage assistant has undecided flags on its passages
    (they are decided on the review page first, as before publishing); a curator's uploaded file
    replacing the draft is theirs, and is checked like any transcript. The caller commits."""
    from nuevonorte import sensitive

    if media.transcript is None or not media.transcript.machine_draft:
        return False
    cue_ids = {str(cue.id) for cue in media.transcript.cues}
    flagged = [f for f in sensitive.undecided(media.story) if f.passage.kind in sensitive.CUE_KINDS]
    if not uploaded and any(f.passage.ref in cue_ids for f in flagged):
        raise TranscriptError(
            _(
                "Some passages of this draft may put someone at risk (a name, a number, a place). "
                "Decide them on the story's review page first, then mark the transcript reviewed."
            )
        )
    media.transcript.machine_draft = False
    db.session.flush()
    audit.record("transcript.reviewed", "media", media.public_id, actor=curator)
    return True


def withhold_cue(cue: Cue, curator: CuratorAccount | None) -> None:
    """Withhold one cue from the public; the caller asks ``jobs.records.request_silenced_copy``
    and commits (its seconds go silent in the public copy the worker makes)."""
    media = cue.transcript.media
    if cue.restricted:
        return
    if media.story.status == StoryStatus.PUBLISHED:
        ledger.record(ledger.HIDDEN, media.story)  # a passage withheld after publishing stays so
    cue.restricted = True
    db.session.flush()
    withheld_audio.forget_stale(media)
    audit.record("transcript.changed", "media", media.public_id, actor=curator)


def withhold_cue_words(
    cue: Cue, passage: str, *, in_translation: bool, curator: CuratorAccount | None
) -> None:
    """Withhold one more passage of words inside ``cue``'s text (or its translation); refused
    with ``withheld_words.WordsRefused`` when it is not there. The caller asks
    ``jobs.records.request_silenced_copy`` and commits: the cue's seconds go silent in the public
    copy the worker makes."""
    current = withheld_words.of_cue(cue)
    if current is None:  # never overwrite what cannot be read: it may withhold more
        raise withheld_words.WordsRefused(
            _("The withheld words of this passage cannot be read. Nothing was changed.")
        )
    told, translated = list(current.text), list(current.translation)
    (translated if in_translation else told).append(passage)
    words = withheld_words.cue_words(cue.text, cue.translation, told, translated)
    if not words.folded() - current.folded():
        return
    media = cue.transcript.media
    if media.story.status == StoryStatus.PUBLISHED:
        ledger.record(ledger.HIDDEN, media.story)  # a passage withheld after publishing stays so
    cue.withheld_words = words.stored()
    db.session.flush()
    withheld_audio.forget_stale(media)
    audit.record("transcript.changed", "media", media.public_id, actor=curator)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(cues: Sequence[consent.PublicCue], language: str, speakers: Sequence[str] = ()) -> str:
    """``cues`` as a WebVTT file (webvtt-py writes and checks it). Text is escaped (``&``, ``<``,
    ``>``, so no cue can end early with ``-->``); a cue without times lasts a second from its start.
    ``speakers`` (one label per cue, "" for none) become ``<v Label>`` voice spans."""
    captions = []
    for n, cue in enumerate(cues):
        lines = [line.strip() for line in _vtt_escape(cue.text).splitlines() if line.strip()]
        if not lines:
            continue
        label = " ".join(speakers[n].split()) if n < len(speakers) else ""
        if label:
            lines[0] = f"<v {_vtt_escape(label)}>{lines[0]}"
        end = cue.end_ms if cue.end_ms > cue.start_ms else cue.start_ms + 1000
        captions.append(webvtt.Caption(_vtt_time(cue.start_ms), _vtt_time(end), "\n".join(lines)))
    document = webvtt.WebVTT(captions=captions, header_comments=[f"Language: {language}"])
    return str(document.content)


def _vtt_time(ms: int) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


# --- speakers and segments as the public may see them ---------------------------------------


def public_speakers(media: MediaFile) -> list[str]:
    """The speaker label of each cue of ``media`` as the public may see it ("" for none), in
    the order of ``consent.public_cues``: never on a withheld cue, and while the story's credit
    is anonymous "Speaker 1", "Speaker 2"... (numbered by first appearance) instead of the
    labels, which can name a person. The one rule for labels; callers show only what it gives."""
    if media.transcript is None or not consent.transcript_is_public(media):
        return []
    current = media.story.current_consent
    anonymous = current is None or current.credit == Credit.ANONYMOUS
    numbers: dict[str, int] = {}
    shown = []
    for cue, public in zip(media.transcript.cues, consent.public_cues(media), strict=True):
        label = "" if public is None else " ".join(cue.speaker.split())
        if label and anonymous:
            number = numbers.setdefault(label.casefold(), len(numbers) + 1)
            label = str(_("Speaker %(number)d", number=number))
        shown.append(label)
    return shown


def speaker_turns(labels: Sequence[str], cues: Sequence[consent.PublicCue | None]) -> list[str]:
    """``labels`` kept only where the speaker changes (a withheld cue in between does not count
    as a change), "" elsewhere: what the public transcript shows beside each cue."""
    turns, previous = [], ""
    for label, cue in zip(labels, cues, strict=False):
        if cue is None:
            turns.append("")
            continue
        turns.append(label if label and label != previous else "")
        previous = label or previous
    return turns


def _inside_withheld(start_ms: int, cues: Sequence[Cue]) -> bool:
    return any(c.restricted and c.start_ms <= start_ms < max(c.end_ms, c.start_ms + 1) for c in cues)


def public_segments(media: MediaFile) -> list[TranscriptSegment]:
    """The segments of ``media`` the public may see: only while the recording itself is public
    (the story is, and its narrator lets their voice be heard), and never one that starts inside
    a withheld passage. The one rule for segments."""
    if media.transcript is None or not consent.media_is_public(media):
        return []
    cues = media.transcript.cues
    return [s for s in media.transcript.segments if not _inside_withheld(s.start_ms, cues)]


# --- editing segments -----------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentText:
    """What a curator writes about one segment, in both languages."""

    title_es: str = ""
    title_en: str = ""
    keywords_es: str = ""
    keywords_en: str = ""
    synopsis_es: str = ""
    synopsis_en: str = ""


def segment_refusal(media: MediaFile, start_ms: int) -> str | None:
    """Why a segment may not start at ``start_ms`` of ``media`` (localized), or None."""
    if start_ms < 0:
        return str(_("A part cannot start before the recording does."))
    if media.duration_seconds is not None and start_ms > media.duration_seconds * 1000:
        return str(
            _(
                "The recording lasts %(length)s: a part cannot start after its end.",
                length=format_clock(int(media.duration_seconds * 1000)),
            )
        )
    return None


def _transcript_of(media: MediaFile) -> Transcript:
    if media.transcript is None:
        media.transcript = Transcript(media=media, language=media.story.original_language)
        db.session.add(media.transcript)
    return media.transcript


def _fill(segment: TranscriptSegment, start_ms: int, text: SegmentText) -> None:
    segment.start_ms = start_ms
    for name, value in vars(text).items():
        setattr(segment, name, value.strip())


def add_segment(
    media: MediaFile, start_ms: int, text: SegmentText, curator: CuratorAccount | None
) -> TranscriptSegment:
    """Add a segment to ``media``'s transcript (made empty if it has none); the caller commits.
    ``segment_refusal`` must have said yes."""
    if media.kind != MediaKind.AUDIO:
        raise TranscriptError(_("Only recordings have transcripts."))
    segment = TranscriptSegment()
    _fill(segment, start_ms, text)
    _transcript_of(media).segments.append(segment)
    db.session.flush()
    audit.record("transcript.changed", "media", media.public_id, actor=curator)
    return segment


def find_segment(media: MediaFile, segment_id: int) -> TranscriptSegment | None:
    """The segment ``segment_id`` of ``media``'s transcript, or None (another recording's too)."""
    segments = media.transcript.segments if media.transcript is not None else []
    return next((s for s in segments if s.id == segment_id), None)


def update_segment(
    segment: TranscriptSegment, start_ms: int, text: SegmentText, curator: CuratorAccount | None
) -> None:
    """Change a segment's start and words; the caller commits."""
    _fill(segment, start_ms, text)
    db.session.flush()
    audit.record("transcript.changed", "media", segment.transcript.media.public_id, actor=curator)


def delete_segment(segment: TranscriptSegment, curator: CuratorAccount | None) -> None:
    """Delete a segment; the caller commits."""
    media = segment.transcript.media
    segment.transcript.segments.remove(segment)
    db.session.flush()
    audit.record("transcript.changed", "media", media.public_id, actor=curator)
