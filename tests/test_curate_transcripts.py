"""Transcripts: WebVTT, SRT and plain uploads, malformed lines named, cue editing, restricted cues."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from nuevonorte.extensions import db
from nuevonorte.models import MediaFile, Story, StoryStatus
from tests.curate_fixtures import add_audio, add_image, post

MakeStory = Callable[..., Story]

VTT = "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nLlegamos de noche.\n\n00:00:04.500 --> 00:00:08.000\nMi tía nos esperaba en la calle Juárez.\n"  # noqa: E501
SRT = "1\n00:00:01,000 --> 00:00:04,000\nLlegamos de noche.\n\n2\n00:00:04,500 --> 00:00:08,000\nMi tía nos esperaba.\n"  # noqa: E501
PLAIN = "Llegamos de noche.\n\nMi tía nos esperaba."


def upload(client: FlaskClient, story: Story, media: MediaFile, content: bytes, name: str = "t.vtt", **kw):  # type: ignore[no-untyped-def]
    url = f"/curate/stories/{story.public_id}/media/{media.public_id}/transcript"
    return post(
        client,
        url + "/upload",
        {"file": (io.BytesIO(content), name), "language": "es"},
        page=url,
        content_type="multipart/form-data",
        **kw,
    )


def cues(media: MediaFile) -> list[tuple[int, int, str, bool]]:
    db.session.rollback()
    db.session.expire_all()
    found = db.session.get(MediaFile, media.id)
    assert found is not None
    return [
        (c.start_ms, c.end_ms, c.text, c.restricted)
        for c in (found.transcript.cues if found.transcript else [])
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            VTT,
            [
                (1000, 4000, "Llegamos de noche.", False),
                (4500, 8000, "Mi tía nos esperaba en la calle Juárez.", False),
            ],
        ),
        (SRT, [(1000, 4000, "Llegamos de noche.", False), (4500, 8000, "Mi tía nos esperaba.", False)]),
        (PLAIN, [(0, 0, "Llegamos de noche.", False), (0, 0, "Mi tía nos esperaba.", False)]),
    ],
)
def test_upload_webvtt_srt_and_plain_text(
    curator_client: FlaskClient, make_story: MakeStory, content: str, expected: list
) -> None:  # type: ignore[type-arg]
    story = make_story(StoryStatus.SUBMITTED)
    media = add_audio(story)
    assert upload(curator_client, story, media, content.encode()).status_code == 302
    assert cues(media) == expected


@pytest.mark.parametrize(
    ("content", "line", "lang", "words"),
    [
        (
            "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nbien\n\n00:00:0x.000 --> 00:00:05.000\nmal\n",
            6,
            "en",
            "Line 6",
        ),
        ("WEBVTT\n\n00:00:05.000 --> 00:00:04.000\nal revés\n", 3, "es", "Línea 3"),
        (
            "1\n00:00:01,000 --> 00:00:02,000\nbien\n\n2\n00:00:0x,000 --> 00:00:03,000\nmal\n",
            5,
            "en",
            "Line 5",
        ),
    ],
)
def test_malformed_file_names_the_line_and_changes_nothing(
    curator_client: FlaskClient, make_story: MakeStory, content: str, line: int, lang: str, words: str
) -> None:
    story = make_story(StoryStatus.SUBMITTED)
    media = add_audio(story)
    upload(curator_client, story, media, VTT.encode())
    before = cues(media)
    response = upload(curator_client, story, media, content.encode(), headers={"Accept-Language": lang})
    assert response.status_code == 422
    assert words in response.get_data(as_text=True)
    assert cues(media) == before


def test_not_utf8_and_not_a_recording(curator_client: FlaskClient, make_story: MakeStory) -> None:
    story = make_story(StoryStatus.SUBMITTED)
    media = add_audio(story)
    response = upload(
        curator_client, story, media, b"WEBVTT\n\n\xff\xfe bad", headers={"Accept-Language": "en"}
    )
    assert response.status_code == 422 and "Line 3 is not UTF-8" in response.get_data(as_text=True)
    image = add_image(story)
    assert (
        curator_client.get(
            f"/curate/stories/{story.public_id}/media/{image.public_id}/transcript"
        ).status_code
        == 404
    )


def test_edit_cues_in_the_page_and_restricted_cue_is_withheld_by_the_consent_rule(
    curator_client: FlaskClient, make_story: MakeStory
) -> None:
    story = make_story(StoryStatus.PUBLISHED)
    media = add_audio(story)
    upload(curator_client, story, media, VTT.encode())
    url = f"/curate/stories/{story.public_id}/media/{media.public_id}/transcript"
    data = {
        "rows": "3",
        "start_0": "0:00:01.000",
        "end_0": "0:00:04.000",
        "text_0": "Llegamos de noche.",
        "translation_0": "We arrived at night.",
        "start_1": "00:04.5",
        "end_1": "00:08",
        "text_1": "Mi tía nos esperaba en la calle Juárez.",
        "restricted_1": "1",
        "start_2": "0:00:09",
        "end_2": "0:00:10",
        "text_2": "Nuevo pasaje.",
    }
    assert post(curator_client, url, data, page=url).status_code == 302
    assert cues(media) == [
        (1000, 4000, "Llegamos de noche.", False),
        (4500, 8000, "Mi tía nos esperaba en la calle Juárez.", True),
        (9000, 10000, "Nuevo pasaje.", False),
    ]
    from nuevonorte.consent import public_cues

    shown = public_cues(db.session.get(MediaFile, media.id))  # what public pages render
    assert [c.text if c else None for c in shown] == ["Llegamos de noche.", None, "Nuevo pasaje."]
    bad = post(
        curator_client,
        url,
        {"rows": "1", "start_0": "ayer", "end_0": "1:00", "text_0": "x"},
        page=url,
        headers={"Accept-Language": "en"},
    )
    assert bad.status_code == 422 and "Passage 1" in bad.get_data(as_text=True)
    assert len(cues(media)) == 3


def test_transcript_is_audited(curator_client: FlaskClient, make_story: MakeStory, curator) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from nuevonorte.models import AuditEvent

    story = make_story(StoryStatus.SUBMITTED)
    media = add_audio(story)
    upload(curator_client, story, media, SRT.encode())
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "transcript.changed"))
    assert event is not None and event.object_id == media.public_id and event.actor_id == curator.id
