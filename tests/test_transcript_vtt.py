"""The public transcript as WebVTT (issue 16): exactly the public cues, while the consent rule
shows the transcript; the same 404 otherwise (A02); text that could end a cue early is escaped."""

from __future__ import annotations

import io
from collections.abc import Callable

import webvtt
from flask import Flask
from flask.testing import FlaskClient

from nuevonorte import stories, transcripts
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import MediaFile, Story, StoryStatus, Visibility
from tests.curate_fixtures import add_audio

MakeStory = Callable[..., Story]


def recording_with_cues(make_story: MakeStory, status: StoryStatus = StoryStatus.PUBLISHED) -> MediaFile:
    story = make_story(status, choices=ConsentChoices(credit_name="Ana", voice_public=True))
    media = add_audio(story)
    cues = [
        transcripts.ParsedCue(0, 400, "Llegamos <de noche> & --> con frío."),
        transcripts.ParsedCue(400, 700, "Mi hermano Joaquín nos esperaba.", restricted=True),
        transcripts.ParsedCue(700, 900, "Y luego amaneció."),
    ]
    transcripts.set_cues(media, cues, "es", None)  # type: ignore[arg-type]
    db.session.commit()
    return media


def test_the_file_holds_the_public_cues_and_a_player_can_read_it(
    app: Flask, client: FlaskClient, make_story: MakeStory
) -> None:
    media = recording_with_cues(make_story)
    response = client.get(f"/media/{media.public_id}/transcript.vtt")
    assert response.status_code == 200
    assert response.mimetype == "text/vtt"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    text = response.get_data(as_text=True)
    assert "Joaquín" not in text
    captions = webvtt.from_buffer(io.StringIO(text)).captions
    assert [(c.start, c.end) for c in captions] == [
        ("00:00:00.000", "00:00:00.400"),
        ("00:00:00.700", "00:00:00.900"),
    ]
    assert captions[0].raw_text == "Llegamos &lt;de noche&gt; &amp; --&gt; con frío."
    page = client.get(f"/es/stories/{media.story.public_id}").get_data(as_text=True)
    assert f"/media/{media.public_id}/transcript.vtt" in page


def test_nothing_but_a_404_while_the_transcript_is_not_public(
    app: Flask, client: FlaskClient, make_story: MakeStory
) -> None:
    """A02: in review, narrowed to curators, the voice kept private (its transcript shows on the
    page, but the recording's id never does), withdrawn, unknown: the same 404, no words."""
    in_review = recording_with_cues(make_story, StoryStatus.SUBMITTED)
    voice_private = recording_with_cues(make_story)
    stories.change_consent(voice_private.story, ConsentChoices(credit_name="Ana"), language="es")
    db.session.commit()
    page = client.get(f"/es/stories/{voice_private.story.public_id}").get_data(as_text=True)
    assert "Y luego amaneció." in page and voice_private.public_id not in page
    narrowed = recording_with_cues(make_story)
    stories.change_consent(narrowed.story, ConsentChoices(visibility=Visibility.CURATORS), language="es")
    withdrawn = recording_with_cues(make_story)
    withdrawn_id = withdrawn.public_id
    stories.withdraw(withdrawn.story)
    db.session.commit()
    for media_id in (in_review.public_id, voice_private.public_id, narrowed.public_id, withdrawn_id, "-"):
        response = client.get(f"/media/{media_id}/transcript.vtt")
        assert response.status_code == 404
        assert "Llegamos" not in response.get_data(as_text=True)
