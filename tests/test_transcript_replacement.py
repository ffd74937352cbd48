"""Re-uploading a transcript keeps what curators decided, and never loses anything silently
(docs/security.md T06): withheld flags and translations of unchanged passages are kept, a
withheld passage whose words changed stays withheld, any loss is shown and must be confirmed,
and a malformed file is refused naming its line."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from nuevonorte import transcripts
from nuevonorte.extensions import db
from nuevonorte.models import Cue, MediaFile, Story, StoryStatus
from tests.curate_fixtures import add_audio, post
from tests.test_curate_transcripts import VTT, cues, upload

MakeStory = Callable[..., Story]


def _decide(media: MediaFile, withheld: int, translation: str) -> None:
    found = db.session.get(MediaFile, media.id)
    assert found is not None and found.transcript is not None
    found.transcript.cues[withheld].restricted = True
    for cue in found.transcript.cues:
        cue.translation = translation
    db.session.commit()


def _flags(media: MediaFile) -> list[tuple[str, bool, str]]:
    db.session.rollback()
    db.session.expire_all()
    found = db.session.get(MediaFile, media.id)
    assert found is not None and found.transcript is not None
    return [(c.text, c.restricted, c.translation) for c in found.transcript.cues]


@pytest.fixture
def decided(curator_client: FlaskClient, make_story: MakeStory) -> tuple[Story, MediaFile]:
    """A published story whose transcript has passage 2 withheld and every passage translated."""
    story = make_story(StoryStatus.PUBLISHED)
    media = add_audio(story)
    assert upload(curator_client, story, media, VTT.encode()).status_code == 302
    _decide(media, 1, "We arrived at night.")
    return story, media


def test_the_same_file_again_keeps_withheld_passages_and_translations_T06(
    curator_client: FlaskClient, decided: tuple[Story, MediaFile]
) -> None:
    story, media = decided
    before = _flags(media)
    assert upload(curator_client, story, media, VTT.encode()).status_code == 302
    assert _flags(media) == before
    page = curator_client.get(f"/es/stories/{story.public_id}").get_data(as_text=True)
    assert "calle Juárez" not in page


def test_a_changed_withheld_passage_stays_withheld_and_the_loss_is_confirmed_T06(
    curator_client: FlaskClient, decided: tuple[Story, MediaFile]
) -> None:
    story, media = decided
    before = _flags(media)
    edited = VTT.replace("en la calle Juárez", "en la esquina de Reforma")
    response = upload(curator_client, story, media, edited.encode(), headers={"Accept-Language": "en"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Check before replacing the transcript" in html
    assert "1 passage of the current transcript has no identical passage" in html
    assert "1 translation will be lost" in html
    assert _flags(media) == before  # nothing changed until confirmed
    url = f"/curate/stories/{story.public_id}/media/{media.public_id}/transcript"
    text = re.search(r'name="text" value="([^"]*)"', html, re.S)
    assert text is not None
    import html as html_lib

    confirm = {"confirm": "1", "language": "es", "text": html_lib.unescape(text.group(1))}
    assert post(curator_client, url + "/upload", confirm, page=url).status_code == 302
    after = _flags(media)
    assert after[0] == before[0]  # unchanged: flag and translation kept
    assert after[1] == ("Mi tía nos esperaba en la esquina de Reforma.", True, "")  # still withheld


def test_fewer_passages_are_never_saved_without_saying_so_T06(
    curator_client: FlaskClient, decided: tuple[Story, MediaFile]
) -> None:
    story, media = decided
    before = _flags(media)
    shorter = "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nLlegamos de noche.\n"
    response = upload(curator_client, story, media, shorter.encode(), headers={"Accept-Language": "es"})
    assert response.status_code == 200
    assert "se quitará" in response.get_data(as_text=True) or "se quitarán" in response.get_data(as_text=True)
    assert _flags(media) == before


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ("WEBVTT\n\n00:00:01.000 -> 00:00:04.000\nLlegamos de noche.\n", 3),
        ("1\n00:00:01,000 -> 00:00:04,000\nLlegamos de noche.\n", 2),
        ("WEBVTT\n\nNOTE only a note\n\nsin tiempos\n", 1),
    ],
)
def test_a_malformed_file_is_refused_naming_its_line_T06(
    curator_client: FlaskClient, decided: tuple[Story, MediaFile], content: str, line: int
) -> None:
    story, media = decided
    before = cues(media)
    response = upload(curator_client, story, media, content.encode(), headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert f"Line {line}" in response.get_data(as_text=True)
    assert cues(media) == before


texts = st.text(alphabet="abcdefg ", min_size=1, max_size=12).filter(str.strip)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.integers(1, 5), texts, st.booleans(), st.text("xyz", max_size=3)),
        max_size=8,
    )
)
def test_replacing_with_the_same_passages_changes_no_decision(
    spec: list[tuple[int, int, str, bool, str]],
) -> None:
    """Property: the same cues uploaded again keep every flag and translation, lose nothing."""
    old, start = [], 0
    for i, (gap, length, text, restricted, translation) in enumerate(spec):
        start += gap * 1000
        old.append(
            Cue(
                id=i + 1,
                start_ms=start,
                end_ms=start + length * 1000,
                text=text,
                restricted=restricted,
                translation=translation,
            )
        )
        start += length * 1000
    new = [transcripts.ParsedCue(c.start_ms, c.end_ms, c.text) for c in old]
    change = transcripts.replacement(old, new)
    assert not change.needs_confirmation
    assert [(c.restricted, c.translation) for c in change.cues] == [
        (c.restricted, c.translation) for c in old
    ]
