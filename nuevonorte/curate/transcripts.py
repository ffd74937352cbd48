"""Transcripts of a story's recordings: upload a file, or edit cues in the page."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from nuevonorte import transcripts, withheld_audio
from nuevonorte.curate.auth import actor, curator_required
from nuevonorte.curate.forms import ActionForm, TranscriptUploadForm
from nuevonorte.curate.review import get_story
from nuevonorte.curate.views import bp
from nuevonorte.extensions import db
from nuevonorte.models import MediaFile, MediaKind, Story, StoryStatus
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
) -> tuple[str, int]:
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
    )
    return page, status


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
            )
        )
    language = media.transcript.language if media.transcript else story.original_language
    transcripts.set_cues(
        media, sorted(cues, key=lambda c: c.start_ms), language, actor(), "en" if language == "es" else "es"
    )
    _commit_and_silence(media)
    flash(_("Transcript saved: %(count)d passages.", count=len(cues)), "notice")
    return redirect(url_for("curate.transcript", story_id=story_id, media_id=media_id))


def _commit_and_silence(media: MediaFile) -> None:
    """Commit the new transcript, then make the public copy with its withheld seconds silent
    (after the commit: encoding a long recording must not hold the write lock). Until the copy
    exists the public hears nothing of the recording; the page then says so."""
    public_id = media.public_id
    db.session.commit()
    withheld_audio.make_quietly(public_id)
