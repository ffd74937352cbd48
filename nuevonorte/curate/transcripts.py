"""Transcripts of a story's recordings: upload a file, or edit cues in the page."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from nuevonorte import consent, transcripts, withheld_audio, withheld_words
from nuevonorte.curate import drafts as kept_drafts
from nuevonorte.curate.auth import actor, curator_required, signed_in
from nuevonorte.curate.forms import ActionForm, SegmentForm, TranscriptUploadForm
from nuevonorte.curate.review import get_story
from nuevonorte.curate.views import bp
from nuevonorte.extensions import db
from nuevonorte.jobs import records as jobs
from nuevonorte.jobs.messages import progress_text, refusal_text
from nuevonorte.models import Cue, CuratorDraft, MediaFile, MediaKind, Story, StoryStatus, TranscriptSegment
from nuevonorte.safe_input import number

MAX_CUES = 2000


def _audio(story: Story, media_id: str) -> MediaFile:
    found = next((m for m in story.media if m.public_id == media_id and m.kind == MediaKind.AUDIO), None)
    if found is None or story.status == StoryStatus.WITHDRAWN:
        abort(404)
    return found


@dataclass(frozen=True)
class Row:
    """One passage as the editor shows it: from the saved cue, or as typed (a refused save, or a
    draft kept after the session expired)."""

    start: str = ""
    end: str = ""
    speaker: str = ""
    text: str = ""
    translation: str = ""
    restricted: bool = False
    words: str = ""  # the passages withheld in the text, one per line
    twords: str = ""  # ... and in the translation
    #: For a translator: a passage a curator withheld (whole or in part), of which only the
    #: translation may change.
    locked: bool = False


def _saved_rows(cues: list[Cue], translator: bool) -> list[Row]:
    rows = []
    for cue in cues:
        words = withheld_words.of_cue(cue) or withheld_words.NO_WORDS
        rows.append(
            Row(
                transcripts.format_clock(cue.start_ms),
                transcripts.format_clock(cue.end_ms),
                cue.speaker,
                cue.text,
                cue.translation,
                cue.restricted,
                "\n".join(words.text),
                "\n".join(words.translation),
                translator and consent.cue_withheld(cue),
            )
        )
    return rows


def _typed_rows(formdata: MultiDict[str, str], cues: list[Cue], translator: bool) -> list[Row]:
    """The rows as sent; a translator's locked rows show the saved passage, not the form."""
    saved = _saved_rows(cues, translator)
    rows = []
    for i in range(min(number(formdata.get("rows")) or 0, MAX_CUES + 1)):
        if i < len(saved) and saved[i].locked:
            rows.append(replace(saved[i], translation=formdata.get(f"translation_{i}", "")))
            continue
        rows.append(_typed_row(formdata, i))
    while rows and rows[-1] == Row():
        rows.pop()
    return rows


def _typed_row(formdata: MultiDict[str, str], i: int) -> Row:
    def get(name: str) -> str:
        return formdata.get(f"{name}_{i}", "")

    return Row(
        get("start"),
        get("end"),
        get("speaker"),
        get("text"),
        get("translation"),
        bool(get("restricted")),
        get("words"),
        get("twords"),
    )


def cues_digest(media: MediaFile) -> str:
    """A fingerprint of the saved passages: a page sent from an older version of the
    transcript is refused, not saved over a colleague's change (a withheld passage included)."""
    cues = media.transcript.cues if media.transcript else []
    value = [
        [c.id, c.start_ms, c.end_ms, c.text, c.translation, c.restricted, c.speaker, c.withheld_words]
        for c in cues
    ]
    return hashlib.sha256(json.dumps(value, ensure_ascii=False).encode()).hexdigest()[:32]


def _segment_form(segment: TranscriptSegment) -> SegmentForm:
    """The edit form of a saved segment, filled in."""
    return SegmentForm(
        formdata=None,
        data={"start": transcripts.format_clock(segment.start_ms)}
        | {name: getattr(segment, name) for name in _SEGMENT_TEXT},
    )


def _stale_draft_message() -> str:
    return str(
        _(
            "Someone saved this transcript after you typed the changes that were kept for you, so "
            "they are not in the form: they are below the transcript, to copy from."
        )
    )


def _render(
    story: Story,
    media: MediaFile,
    error: str | None = None,
    status: int = 200,
    pending: tuple[transcripts.Replacement, str, str] | None = None,
    segment_form: SegmentForm | None = None,
    segment: TranscriptSegment | None = None,
    typed: MultiDict[str, str] | None = None,
    draft: CuratorDraft | None = None,
    unsaved: MultiDict[str, str] | None = None,
) -> tuple[str, int]:
    """The editor; ``segment_form`` (with what the curator typed) stands in for the form of
    ``segment``, or for the new-segment form when ``segment`` is None; ``typed`` (a refused save
    or a kept draft) stands in for the saved passages; ``unsaved`` (typed against an older
    version of the transcript) is shown apart, to copy from, never as the form."""
    segments = media.transcript.segments if media.transcript else []
    forms = {s.id: _segment_form(s) for s in segments}
    new_form = SegmentForm(formdata=None)
    if segment_form is not None and segment is not None:
        forms[segment.id] = segment_form
    elif segment_form is not None:
        new_form = segment_form
    cues = list(media.transcript.cues) if media.transcript else []
    translator = signed_in().is_translator
    rows = _saved_rows(cues, translator) if typed is None else _typed_rows(typed, cues, translator)
    digest = typed.get("cues", "") if typed is not None else cues_digest(media)
    page = render_template(
        "curate/transcript.html",
        story=story,
        media=media,
        rows=[*rows, Row()],
        unsaved=[r for r in _typed_rows(unsaved, cues, translator) if r.text] if unsaved else [],
        cues_digest=digest,
        translator=translator,
        upload_form=TranscriptUploadForm(formdata=None),
        edit_form=ActionForm(formdata=None),
        format_clock=transcripts.format_clock,
        error=error,
        pending=pending,
        heard=withheld_audio.state(media),
        job=jobs.latest_job(media),
        model_installed=jobs.model_installed(),
        segment_forms=forms,
        new_segment_form=new_form,
        **kept_drafts.template_values(draft),
    )
    return page, status


_SEGMENT_TEXT = ("title_es", "title_en", "keywords_es", "keywords_en", "synopsis_es", "synopsis_en")


@bp.get("/stories/<story_id>/media/<media_id>/transcript")
@curator_required
def transcript(story_id: str, media_id: str) -> tuple[str, int]:
    """The transcript editor of one recording."""
    story = get_story(story_id)
    media = _audio(story, media_id)
    draft = kept_drafts.waiting()
    kept = kept_drafts.fields(draft)
    if kept is not None and kept.get("cues") != cues_digest(media):
        return _render(story, media, _stale_draft_message(), draft=draft, unsaved=kept)
    return _render(story, media, typed=kept, draft=draft)


@bp.post("/stories/<story_id>/media/<media_id>/transcript/upload")
@curator_required
def upload_transcript(story_id: str, media_id: str) -> Response | tuple[str, int]:
    """Replace the cues with those of an uploaded WebVTT, SRT or plain-text file.

    Withheld flags and translations of unchanged passages are kept; when anything would be
    lost the curator sees what and confirms (the file's text comes back in a hidden field).
    """
    story = get_story(story_id)
    media = _audio(story, media_id)
    confirming = request.form.get("confirm") == "1"
    form = ActionForm() if confirming else TranscriptUploadForm()
    if not form.validate_on_submit() or (not confirming and form.file.data is None):
        return _render(story, media, _("Choose a transcript file to upload."), 400)
    language = request.form.get("language", "")
    language = language if language in ("es", "en") else story.original_language
    try:
        if confirming:
            text = request.form.get("text", "")[: transcripts.MAX_TRANSCRIPT_BYTES]
        else:
            text = transcripts.decode(form.file.data.read(transcripts.MAX_TRANSCRIPT_BYTES + 1))
        old = media.transcript.cues if media.transcript else []
        change = transcripts.replacement(old, transcripts.parse(text))
    except transcripts.TranscriptError as e:
        return _render(story, media, e.message, 422)
    if change.needs_confirmation and not confirming:
        return _render(story, media, pending=(change, text, language))
    transcripts.set_cues(media, change.cues, language, actor())
    transcripts.mark_reviewed(media, actor(), uploaded=True)  # a curator's own file, not a draft
    _commit_and_silence(media)
    flash(_("Transcript saved: %(count)d passages.", count=len(change.cues)), "notice")
    return redirect(url_for("curate.transcript", story_id=story_id, media_id=media_id))


@bp.post("/stories/<story_id>/media/<media_id>/transcript")
@curator_required
def save_cues(story_id: str, media_id: str) -> Response | tuple[str, int]:
    """Save the passages edited in the page; an empty row is skipped, a new row adds one.

    A translator (``TRANSLATOR_MAY``) edits the words, times and speakers of passages, but
    cannot withhold or release anything: a passage a curator withheld, whole or in part, keeps
    all but its translation, cannot be deleted, and no withheld field of the form is read.
    """
    story = get_story(story_id)
    media = _audio(story, media_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    typed = request.form
    if typed.get("cues", "") != cues_digest(media):
        message = _(
            "Someone saved this transcript after you opened it, so your changes were not saved. "
            "This is the transcript as it is now; what you typed is below it, to copy from."
        )
        return _render(story, media, message, 409, unsaved=typed)
    try:
        cues = _cues_from(typed, list(media.transcript.cues) if media.transcript else [])
    except transcripts.TranscriptError as refused:
        return _render(story, media, refused.message, 422, typed=typed)
    language = media.transcript.language if media.transcript else story.original_language
    transcripts.set_cues(
        media, sorted(cues, key=lambda c: c.start_ms), language, actor(), "en" if language == "es" else "es"
    )
    kept_drafts.saved()
    _commit_and_silence(media)
    flash(_("Transcript saved: %(count)d passages.", count=len(cues)), "notice")
    return redirect(url_for("curate.transcript", story_id=story_id, media_id=media_id))


def _cues_from(typed: MultiDict[str, str], saved: list[Cue]) -> list[transcripts.ParsedCue]:
    """The passages of a sent editor page, checked; ``TranscriptError`` names the first wrong
    one (its number on the page)."""
    translator = signed_in().is_translator
    cues = []
    for i in range(min(number(typed.get("rows")) or 0, MAX_CUES)):
        if translator and i < len(saved) and consent.cue_withheld(saved[i]):
            cues.append(_locked(saved[i], typed.get(f"translation_{i}", "").strip()))
            continue
        text = typed.get(f"text_{i}", "").strip()
        if not text or typed.get(f"delete_{i}"):
            continue
        cues.append(_typed_cue(typed, i, text, translator))
    return cues


def _locked(cue: Cue, translation: str) -> transcripts.ParsedCue:
    """A withheld passage as a translator may send it: only its translation changes (words
    withheld in the translation that are no longer there hide the translation, not more)."""
    words = withheld_words.of_cue(cue)
    restricted = cue.restricted or words is None  # unreadable words: withheld whole
    return transcripts.ParsedCue(
        cue.start_ms,
        cue.end_ms,
        cue.text,
        translation,
        restricted,
        cue.speaker,
        words or withheld_words.NO_WORDS,
    )


def _typed_cue(typed: MultiDict[str, str], i: int, text: str, translator: bool) -> transcripts.ParsedCue:
    n = i + 1
    speaker = " ".join(typed.get(f"speaker_{i}", "").split())
    if len(speaker) > transcripts.MAX_SPEAKER:
        raise transcripts.TranscriptError(
            _(
                "Passage %(n)d: the speaker's name is too long (at most %(max)d characters).",
                n=n,
                max=transcripts.MAX_SPEAKER,
            )
        )
    try:
        start = transcripts.parse_clock(typed.get(f"start_{i}", "0:00") or "0:00")
        end = transcripts.parse_clock(typed.get(f"end_{i}", "0:00") or "0:00")
    except ValueError:
        raise transcripts.TranscriptError(
            _("Passage %(n)d: write times as 0:01:02.500 or 01:02.", n=n)
        ) from None
    if end < start:
        raise transcripts.TranscriptError(_("Passage %(n)d ends before it starts.", n=n))
    translation = typed.get(f"translation_{i}", "").strip()
    words = withheld_words.NO_WORDS
    if not translator:
        try:
            words = withheld_words.cue_words(
                text,
                translation,
                typed.get(f"words_{i}", "").splitlines(),
                typed.get(f"twords_{i}", "").splitlines(),
            )
        except withheld_words.WordsRefused as refused:
            raise transcripts.TranscriptError(
                _("Passage %(n)d: %(problem)s", n=n, problem=refused.message)
            ) from refused
    restricted = not translator and bool(typed.get(f"restricted_{i}"))
    return transcripts.ParsedCue(start, end, text, translation, restricted, speaker, words)


def _segment_input(media: MediaFile, form: SegmentForm) -> tuple[int, transcripts.SegmentText] | str:
    """The start and words of a valid segment form, or what is wrong with it (localized)."""
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return " ".join(
            f"{getattr(form, name).label.text}: {errors[0]}" for name, errors in form.errors.items()
        )
    try:
        start_ms = transcripts.parse_clock(form.start.data or "")
    except ValueError:
        return str(_("Write the start of the part as 0:01:02.500 or 01:02."))
    refusal = transcripts.segment_refusal(media, start_ms)
    if refusal is not None:
        return refusal
    return start_ms, transcripts.SegmentText(
        **{name: getattr(form, name).data or "" for name in _SEGMENT_TEXT}
    )


def _segments_page(story_id: str, media_id: str) -> Response:
    return redirect(url_for("curate.transcript", story_id=story_id, media_id=media_id, _anchor="segments"))


@bp.post("/stories/<story_id>/media/<media_id>/transcript/segments")
@curator_required
def add_segment(story_id: str, media_id: str) -> Response | tuple[str, int]:
    """Add a part (segment) to the recording's table of contents."""
    story = get_story(story_id)
    media = _audio(story, media_id)
    form = SegmentForm()
    given = _segment_input(media, form)
    if isinstance(given, str):
        return _render(story, media, given, 422, segment_form=form)
    transcripts.add_segment(media, *given, actor())
    db.session.commit()
    flash(_("Part added."), "notice")
    return _segments_page(story_id, media_id)


@bp.post("/stories/<story_id>/media/<media_id>/transcript/segments/<int:segment_id>")
@curator_required
def save_segment(story_id: str, media_id: str, segment_id: int) -> Response | tuple[str, int]:
    """Change a part's start, title, keywords or synopsis."""
    story = get_story(story_id)
    media = _audio(story, media_id)
    segment = transcripts.find_segment(media, segment_id)
    if segment is None:
        abort(404)
    form = SegmentForm()
    given = _segment_input(media, form)
    if isinstance(given, str):
        return _render(story, media, given, 422, segment_form=form, segment=segment)
    transcripts.update_segment(segment, *given, actor())
    db.session.commit()
    flash(_("Part saved."), "notice")
    return _segments_page(story_id, media_id)


@bp.post("/stories/<story_id>/media/<media_id>/transcript/segments/<int:segment_id>/delete")
@curator_required
def delete_segment(story_id: str, media_id: str, segment_id: int) -> Response:
    """Delete a part; deleting one already gone changes nothing."""
    story = get_story(story_id)
    media = _audio(story, media_id)
    if not ActionForm().validate_on_submit():  # its CSRF token
        abort(400)
    segment = transcripts.find_segment(media, segment_id)
    if segment is not None:
        transcripts.delete_segment(segment, actor())
        db.session.commit()
        flash(_("Part deleted."), "notice")
    return _segments_page(story_id, media_id)


def _commit_and_silence(media: MediaFile) -> None:
    """Commit the new transcript with, when its withheld passages changed, a job for the public
    copy with their seconds silent (the worker encodes it; a long recording must not hold the
    page). Until the copy exists the public hears nothing of the recording; the page says so."""
    jobs.request_silenced_copy(media, actor())
    db.session.commit()


# --- draft transcripts made by the archive (nuevonorte.jobs) ----------------------------------


@bp.post("/stories/<story_id>/media/<media_id>/transcript/draft")
@curator_required
def request_machine_draft(story_id: str, media_id: str) -> Response | tuple[str, int]:
    """Queue a draft transcript of the recording, in the language chosen (or found out); not for
    translators (``TRANSLATOR_MAY``)."""
    story = get_story(story_id)
    media = _audio(story, media_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if not jobs.model_installed():
        return _render(
            story, media, _("Draft transcripts are not available: no speech model is installed."), 409
        )
    try:
        jobs.request_draft(media, request.form.get("language", ""), actor())
    except jobs.Refused as refused:
        return _render(story, media, refusal_text(refused.code), 409)
    db.session.commit()
    flash(_("The draft transcript is on its way. This page shows how far it got."), "notice")
    return redirect(
        url_for("curate.transcript", story_id=story_id, media_id=media_id, _anchor="machine-draft")
    )


@bp.get("/stories/<story_id>/media/<media_id>/transcript/draft.json")
@curator_required
def machine_draft_status(story_id: str, media_id: str) -> Response:
    """How far the recording's newest draft job got, for the page's status line (job-status.js)."""
    story = get_story(story_id)
    media = _audio(story, media_id)
    job = jobs.latest_job(media)
    response = jsonify(
        {
            "active": job is not None and job.active,
            "state": job.state.value if job is not None else None,
            "progress": job.progress if job is not None else 0,
            "label": progress_text(job.state, job.progress) if job is not None else "",
        }
    )
    response.cache_control.no_store = True
    return response


@bp.post("/stories/<story_id>/media/<media_id>/transcript/reviewed")
@curator_required
def review_machine_draft(story_id: str, media_id: str) -> Response | tuple[str, int]:
    """A curator vouches for the machine draft: it becomes a transcript like any other."""
    story = get_story(story_id)
    media = _audio(story, media_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        reviewed = transcripts.mark_reviewed(media, actor())
    except transcripts.TranscriptError as refused:
        db.session.rollback()
        return _render(story, media, refused.message, 409)
    db.session.commit()
    if reviewed:
        flash(_("Transcript marked reviewed. It is public as the narrator's consent allows."), "notice")
    return redirect(url_for("curate.transcript", story_id=story_id, media_id=media_id))
