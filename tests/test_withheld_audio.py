"""Withheld passages are silent in the public recording (docs/security.md T05).

The recordings are real files in every stored format, cleaned by the real sandbox; the public
copy is fetched through the public media handler (GET, HEAD, Range), decoded with PyAV and its
loudness measured inside and outside the withheld seconds.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from nuevonorte import transcripts, withheld_audio
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.jobs import worker
from nuevonorte.media.ingest import ingest_upload
from nuevonorte.models import Job, JobKind, JobState, MediaFile, Story, StoryStatus
from nuevonorte.storage import get_storage
from tests import media_samples
from tests.curate_fixtures import post
from tests.media_samples import LOUD, SILENT, fetched, loudness

MakeStory = Callable[..., Story]

#: Two passages; the second one, 2.0–4.0 s, is withheld.
VTT = (
    "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nLlegamos de noche.\n\n"
    "00:00:02.000 --> 00:00:04.000\nMi tía vive en la calle Juárez.\n"
)


def recording_story(make_story: MakeStory, data: bytes) -> tuple[Story, MediaFile]:
    """A published story whose contributor lets their voice be heard, with ``data`` ingested."""
    story = make_story(choices=ConsentChoices(credit_name="Ana", voice_public=True))
    media, _report = ingest_upload(story, io.BytesIO(data))
    transcripts.set_cues(media, transcripts.parse(VTT), "es", None)  # type: ignore[arg-type]
    db.session.commit()
    return story, media


def save_cues(client: FlaskClient, story: Story, media: MediaFile, withheld: set[int]) -> None:
    """The curator saves the two passages in the transcript editor, withholding ``withheld``."""
    url = f"/curate/stories/{story.public_id}/media/{media.public_id}/transcript"
    rows = transcripts.parse(VTT)
    data: dict[str, str] = {"rows": str(len(rows))}
    for i, cue in enumerate(rows):
        data |= {
            f"start_{i}": transcripts.format_clock(cue.start_ms),
            f"end_{i}": transcripts.format_clock(cue.end_ms),
            f"text_{i}": cue.text,
        }
        if i in withheld:
            data[f"restricted_{i}"] = "1"
    response = post(client, url, data, page=url)
    assert response.status_code == 302
    worker.drain(current_app._get_current_object())  # the worker makes the public copy


def public_recording(client: FlaskClient, media: MediaFile) -> bytes:
    status, data = fetched(client, f"/media/{media.public_id}/original")
    assert status == 200
    return data


def media_files(app: Flask) -> set[str]:
    return {p.name for p in Path(app.config["MEDIA_DIR"]).rglob("*") if p.is_file() and "." in p.name}


@pytest.mark.parametrize("kind", ["wav", "mp3", "m4a", "opus", "vorbis", "webm", "flac"])
def test_a_withheld_passage_is_silent_in_the_public_recording(
    app: Flask, curator_client: FlaskClient, make_story: MakeStory, kind: str
) -> None:
    """T05: after the curator withholds 2–4 s, the public copy is silent there and only there."""
    story, media = recording_story(make_story, media_samples.encoded(kind, seconds=5.0))
    before = public_recording(curator_client, media)
    assert loudness(before, 2.1, 3.9) > LOUD

    save_cues(curator_client, story, media, withheld={1})

    heard = public_recording(curator_client, media)
    assert loudness(heard, 2.05, 3.95) < SILENT
    assert loudness(heard, 0.2, 1.8) > LOUD
    assert loudness(heard, 4.2, 4.8) > LOUD
    # Curators still hear the whole recording.
    status, curator_copy = fetched(curator_client, f"/curate/media/{media.public_id}/original")
    assert status == 200
    assert loudness(curator_copy, 2.1, 3.9) > LOUD


def test_head_and_range_requests_get_the_silenced_copy_too(
    app: Flask, curator_client: FlaskClient, make_story: MakeStory
) -> None:
    """T05: a player asks for byte ranges; every range comes from the silenced copy."""
    story, media = recording_story(make_story, media_samples.encoded("wav", seconds=5.0))
    save_cues(curator_client, story, media, withheld={1})
    whole = public_recording(curator_client, media)
    head = curator_client.head(f"/media/{media.public_id}/original")
    head.close()
    assert head.status_code == 200 and int(head.headers["Content-Length"]) == len(whole)
    url, part = f"/media/{media.public_id}/original", {"Range": f"bytes=100-{len(whole) - 1}"}
    assert fetched(curator_client, url, headers=part) == (206, whole[100:])
    original = get_storage().path(db.session.get(MediaFile, media.id).storage_key).read_bytes()  # type: ignore[union-attr]
    assert whole != original


def test_releasing_the_passage_serves_the_original_and_removes_the_copy(
    app: Flask, curator_client: FlaskClient, make_story: MakeStory
) -> None:
    """T05: the silenced copy lives only while passages are withheld; no file is left behind."""
    story, media = recording_story(make_story, media_samples.encoded("mp3", seconds=5.0))
    files_before = media_files(app)
    save_cues(curator_client, story, media, withheld={1})
    copy = db.session.get(MediaFile, media.id).public_audio_key  # type: ignore[union-attr]
    assert copy and media_files(app) == files_before | {copy}

    save_cues(curator_client, story, media, withheld={0})
    moved = public_recording(curator_client, media)
    assert loudness(moved, 0.05, 1.95) < SILENT and loudness(moved, 2.1, 3.9) > LOUD
    newer = db.session.get(MediaFile, media.id).public_audio_key  # type: ignore[union-attr]
    assert media_files(app) == files_before | {newer}

    save_cues(curator_client, story, media, withheld=set())
    original = get_storage().path(db.session.get(MediaFile, media.id).storage_key).read_bytes()  # type: ignore[union-attr]
    assert public_recording(curator_client, media) == original
    assert media_files(app) == files_before


def test_a_withheld_passage_without_times_keeps_the_whole_recording_silent(
    app: Flask, curator_client: FlaskClient, make_story: MakeStory
) -> None:
    """T05: plain-text passages have no times, so nothing of the recording may be heard."""
    story, media = recording_story(make_story, media_samples.encoded("wav", seconds=5.0))
    stored = db.session.get(MediaFile, media.id)
    assert stored is not None
    untimed = [transcripts.ParsedCue(0, 0, "Llegamos de noche.", "", True)]
    transcripts.set_cues(stored, untimed, "es", None)  # type: ignore[arg-type]
    db.session.commit()
    assert withheld_audio.make(media.public_id) is False
    assert fetched(curator_client, f"/media/{media.public_id}/original")[0] == 404
    for lang, said in (("es", "Una parte de esta grabación"), ("en", "Part of this recording is withheld")):
        page = curator_client.get(f"/{lang}/stories/{story.public_id}").get_data(as_text=True)
        assert said in page and f"/media/{media.public_id}/original" not in page
    editor = curator_client.get(f"/curate/stories/{story.public_id}/media/{media.public_id}/transcript")
    assert "no tiene tiempos" in editor.get_data(as_text=True)


def test_until_the_copy_is_made_the_public_hears_nothing_and_check_repairs_it(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, make_story: MakeStory
) -> None:
    """T05, F02: a crash between the transcript's commit and the copy leaves the recording
    unheard (never heard whole); ``check`` reports it and ``check --repair`` makes the copy."""
    _story, media = recording_story(make_story, media_samples.encoded("wav", seconds=5.0))
    assert runner.invoke(args=["reindex"]).exit_code == 0
    stored = db.session.get(MediaFile, media.id)
    assert stored is not None
    withheld = [
        transcripts.ParsedCue(c.start_ms, c.end_ms, c.text, "", i == 1)
        for i, c in enumerate(transcripts.parse(VTT))
    ]
    transcripts.set_cues(stored, withheld, "es", None)  # type: ignore[arg-type]
    db.session.commit()  # ... and the process dies here, before the job for its copy is asked

    assert fetched(client, f"/media/{media.public_id}/original")[0] == 404
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1 and f"silenced-copy-missing: media {media.public_id}" in result.output
    repaired = runner.invoke(args=["check", "--repair"])
    assert repaired.exit_code == 0, repaired.output
    db.session.rollback()
    assert loudness(public_recording(client, media), 2.05, 3.95) < SILENT
    assert runner.invoke(args=["check"]).exit_code == 0


def test_withdrawing_the_story_deletes_the_silenced_copy(
    app: Flask, curator_client: FlaskClient, make_story: MakeStory
) -> None:
    """T05, C06: the copy is a file of the story like any other and goes with it."""
    story, media = recording_story(make_story, media_samples.encoded("wav", seconds=5.0))
    save_cues(curator_client, story, media, withheld={1})
    assert db.session.get(MediaFile, media.id).public_audio_key  # type: ignore[union-attr]
    from nuevonorte import stories

    stories.withdraw(db.session.get(Story, story.id))  # type: ignore[arg-type]
    db.session.commit()
    assert db.session.get(Story, story.id).status == StoryStatus.WITHDRAWN  # type: ignore[union-attr]
    assert media_files(app) == set()


def test_a_copy_made_for_other_ranges_is_never_served(
    app: Flask, curator_client: FlaskClient, make_story: MakeStory
) -> None:
    """T05: if the withheld passages change while a copy is being made, that copy is dropped."""
    story, media = recording_story(make_story, media_samples.encoded("wav", seconds=5.0))
    save_cues(curator_client, story, media, withheld={1})
    stored = db.session.get(MediaFile, media.id)
    assert stored is not None
    old_copy = stored.public_audio_key
    both = [transcripts.ParsedCue(c.start_ms, c.end_ms, c.text, "", True) for c in transcripts.parse(VTT)]
    transcripts.set_cues(stored, both, "es", None)  # type: ignore[arg-type]
    db.session.commit()
    stored = db.session.get(MediaFile, media.id)
    assert stored is not None and stored.public_audio_key is None
    assert old_copy not in media_files(app)
    assert fetched(curator_client, f"/media/{media.public_id}/original")[0] == 404
    assert withheld_audio.make(media.public_id) is True
    assert loudness(public_recording(curator_client, media), 0.05, 3.95) < SILENT


def test_the_page_answers_at_once_and_the_public_hears_nothing_until_the_worker_made_the_copy(
    app: Flask, client: FlaskClient, curator_client: FlaskClient, make_story: MakeStory
) -> None:
    """T05 and issue 18: saving a withheld passage queues the copy instead of encoding it in the
    request; meanwhile the recording is not heard at all (never whole) and the editor says the
    worker is making it; the worker's copy is then served, its withheld seconds silent."""
    story, media = recording_story(make_story, media_samples.encoded("wav", seconds=5.0))
    url = f"/curate/stories/{story.public_id}/media/{media.public_id}/transcript"
    data: dict[str, str] = {"rows": "2"}
    for i, cue in enumerate(transcripts.parse(VTT)):
        data |= {
            f"start_{i}": transcripts.format_clock(cue.start_ms),
            f"end_{i}": transcripts.format_clock(cue.end_ms),
            f"text_{i}": cue.text,
        }
    data["restricted_1"] = "1"
    assert post(curator_client, url, data, page=url).status_code == 302
    job = db.session.scalar(select(Job).where(Job.media_id == media.id))
    assert job is not None and (job.kind, job.state) == (JobKind.SILENCED_COPY, JobState.QUEUED)
    assert fetched(client, f"/media/{media.public_id}/original")[0] == 404
    page = curator_client.get(url).get_data(as_text=True)  # Spanish, the default
    assert "haciendo la copia con los segundos retenidos en silencio" in page

    assert worker.drain(app) == 1
    db.session.rollback()
    assert db.session.get(Job, job.id).state == JobState.DONE  # type: ignore[union-attr]
    assert loudness(public_recording(client, media), 2.05, 3.95) < SILENT
    assert worker.drain(app) == 0  # nothing left to do
