"""Transcripts of a story's recordings: upload a file, or edit cues in the page."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from nuevonorte import transcripts, withheld_audio
from nuevonorte.curate.auth import actor, curator_required
from nuevonorte.curate.forms import ActionForm, SegmentForm, TranscriptUploadForm
from nuevonorte.curate.review import get_story
from nuevonorte.curate.views import bp
from nuevonorte.extensions import db
from nuevonorte.models import MediaFile, MediaKind, Story, StoryStatus, TranscriptSegment
from nuevonorte.safe_input import number

MAX_CUES = 2000


def _audio(story: Story, media_id: str) -> MediaFile:
    found = next((m for m in story.media if m.public_id == media_id and m.kind == MediaKind.AUDIO), None)
    if found is None or story.status == StoryStatus.WITHDRAWN:
        abort(404)
    return found


def _render(
    story: Story,
    media: MediaFile,
    error: str | None = None,
    status: int = 200,
    pending: tuple[transcripts.Replacement, str, str] | None = None,
    segment_form: SegmentForm | None = None,
    segment: TranscriptSegment | None = None,
) -> tuple[str, int]:
    """The editor; ``segment_form`` (with what the curator typed) stands in for the form of
    ``segment``, or for the new-segment form when ``segment`` is None."""
    segments = media.transcript.segments if media.transcript else []
    forms = {s.id: _segment_form(s) for s in segments}
    new_form = SegmentForm(formdata=None)
    if segment_form is not None and segment is not None:
        forms[segment.id] = segment_form
    elif segment_form is not None:
        new_form = segment_form
    page = render_template(
        "curate/transcript.html",
        story=story,
        media=media,
        upload_form=TranscriptUploadForm(formdata=None),
        edit_form=ActionForm(formdata=None),
        format_clock=transcripts.format_clock,
        error=error,
        pending=pending,
        heard=withheld_audio.state(media),
        segment_forms=forms,
        new_segment_form=new_form,
    )
    return page, status


def _segment_form(segment: TranscriptSegment) -> SegmentForm:
    """The edit form of a saved segment, filled in."""
    return SegmentForm(
        formdata=None,
        data={"start": transcripts.format_clock(segment.start_ms)}
        | {name: getattr(segment, name) for name in _SEGMENT_TEXT},
    )


_SEGMENT_TEXT = ("title_es", "title_en", "keywords_es", "keywords_en", "synopsis_es", "synopsis_en")


@bp.get("/stories/<story_id>/media/<media_id>/transcript")
@curator_required
def transcript(story_id: str, media_id: str) -> tuple[str, int]:
    """The transcript editor of one recording."""
    story = get_story(story_id)
    return _render(story, _audio(story, media_id))


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
    _commit_and_silence(media)
    flash(_("Transcript saved: %(count)d passages.", count=len(change.cues)), "notice")
    return redirect(url_for("curate.transcript", story_id=story_id, media_id=media_id))


@bp.post("/stories/<story_id>/media/<media_id>/transcript")
@curator_required
def save_cues(story_id: str, media_id: str) -> Response | tuple[str, int]:
    """Save the cues edited in the page; an empty row is skipped, a new row adds a cue."""
    story = get_story(story_id)
    media = _audio(story, media_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    cues = []
    for i in range(min(number(request.form.get("rows")) or 0, MAX_CUES)):
        text = request.form.get(f"text_{i}", "").strip()
        if not text or request.form.get(f"delete_{i}"):
            continue
        speaker = " ".join(request.form.get(f"speaker_{i}", "").split())
        if len(speaker) > transcripts.MAX_SPEAKER:
            message = _(
                "Passage %(n)d: the speaker's name is too long (at most %(max)d characters).",
                n=i + 1,
                max=transcripts.MAX_SPEAKER,
            )
            return _render(story, media, message, 422)
        try:
            start = transcripts.parse_clock(request.form.get(f"start_{i}", "0:00") or "0:00")
            end = transcripts.parse_clock(request.form.get(f"end_{i}", "0:00") or "0:00")
        except ValueError:
            return _render(
                story, media, _("Passage %(n)d: write times as 0:01:02.500 or 01:02.", n=i + 1), 422
            )
        if end < start:
            return _render(story, media, _("Passage %(n)d ends before it starts.", n=i + 1), 422)
        cues.append(
            transcripts.ParsedCue(
                start,
                end,
                text,
                request.form.get(f"translation_{i}", "").strip(),
                bool(request.form.get(f"restricted_{i}")),
                speaker,
            )
        )
    language = media.transcript.language if media.transcript else story.original_language
    transcripts.set_cues(
        media, sorted(cues, key=lambda c: c.start_ms), language, actor(), "en" if language == "es" else "es"
    )
    _commit_and_silence(media)
    flash(_("Transcript saved: %(count)d passages.", count=len(cues)), "notice")
    return redirect(url_for("curate.transcript", story_id=story_id, media_id=media_id))


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
    """Commit the new transcript, then make the public copy with its withheld seconds silent
    (after the commit: encoding a long recording must not hold the write lock). Until the copy
    exists the public hears nothing of the recording; the page then says so."""
    public_id = media.public_id
    db.session.commit()
    withheld_audio.make_quietly(public_id)
