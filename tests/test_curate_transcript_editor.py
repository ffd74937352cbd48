"""The curators' transcript editor (issue 16): speaker labels per passage, OHMS-style parts
(segments) of a recording, and what the public sees of both (docs/security.md C22).

A label can name a person: under anonymous credit the public sees "Speaker 1", "Speaker 2"; a
withheld passage shows no label; labels and parts are never indexed. A part is shown only while
the recording may be heard, and never one that starts inside a withheld passage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from flask.testing import FlaskClient

from nuevonorte import demo, search, stories, transcripts
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import AuditEvent, Credit, MediaFile, Story, StoryStatus, TranscriptSegment
from tests.curate_fixtures import post

MakeStory = Callable[..., Story]
LABEL = "Zqxrosalabel"  # a word found nowhere else
OTHER = "Zqxmarialabel"


def audio(story: Story, seconds: int = 10) -> MediaFile:
    """A generated recording of ``seconds`` attached to ``story``; committed."""
    media = demo.generated_audio(story, 3, len(story.media), seconds=seconds, rate=8000)
    db.session.commit()
    return media


def editor(story: Story, media: MediaFile) -> str:
    return f"/curate/stories/{story.public_id}/media/{media.public_id}/transcript"


def english(client: FlaskClient) -> FlaskClient:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def save_cues(client: FlaskClient, story: Story, media: MediaFile, rows: list[dict[str, str]]) -> Any:
    data = {"rows": str(len(rows))}
    for i, row in enumerate(rows):
        data |= {f"{name}_{i}": value for name, value in row.items()}
    return post(client, editor(story, media), data, page=editor(story, media))


def spoken(media: MediaFile, withheld: int | None = None) -> None:
    """Four passages: Rosa, Rosa, María, Rosa (the ``withheld``-th withheld); committed."""
    speakers = [LABEL, LABEL, OTHER, LABEL]
    cues = [
        transcripts.ParsedCue(2000 * i, 2000 * i + 2000, f"Frase {i}.", restricted=i == withheld, speaker=s)
        for i, s in enumerate(speakers)
    ]
    transcripts.set_cues(media, cues, "es", None)  # type: ignore[arg-type]
    db.session.commit()


def fresh(media: MediaFile) -> MediaFile:
    db.session.rollback()
    db.session.expire_all()
    found = db.session.get(MediaFile, media.id)
    assert found is not None
    return found


def page(client: FlaskClient, story: Story, lang: str = "en") -> str:
    response = client.get(f"/{lang}/stories/{story.public_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def vtt(client: FlaskClient, media: MediaFile) -> str:
    response = client.get(f"/media/{media.public_id}/transcript.vtt")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def anonymous(story: Story) -> None:
    consent = story.current_consent
    assert consent is not None
    choices = replace(ConsentChoices.of(consent), credit=Credit.ANONYMOUS, credit_name="")
    stories.change_consent(story, choices, language="es")
    db.session.commit()


VOICE = ConsentChoices(credit_name="Ana", voice_public=True)


# --- speaker labels -------------------------------------------------------------------------


def test_a_curator_gives_each_passage_a_speaker(curator_client: FlaskClient, make_story: MakeStory) -> None:
    story = make_story(StoryStatus.SUBMITTED)
    media = audio(story)
    rows = [
        {"start": "0:00", "end": "0:02", "text": "Llegamos.", "speaker": f"  {LABEL}  "},
        {"start": "0:02", "end": "0:04", "text": "Sí.", "speaker": ""},
    ]
    assert save_cues(curator_client, story, media, rows).status_code == 302
    found = fresh(media)
    assert found.transcript is not None
    assert [c.speaker for c in found.transcript.cues] == [LABEL, ""]
    assert f'value="{LABEL}"' in curator_client.get(editor(story, media)).get_data(as_text=True)


def test_a_speaker_name_too_long_is_refused_and_nothing_changes(
    curator_client: FlaskClient, make_story: MakeStory
) -> None:
    story = make_story(StoryStatus.SUBMITTED)
    media = audio(story)
    spoken(media)
    rows = [{"start": "0:00", "end": "0:02", "text": "Otra.", "speaker": "x" * 81}]
    response = save_cues(english(curator_client), story, media, rows)
    assert response.status_code == 422
    assert "Passage 1: the speaker&#39;s name is too long" in response.get_data(as_text=True)
    found = fresh(media)
    assert found.transcript is not None and found.transcript.cues[0].text == "Frase 0."


def test_uploading_the_same_words_again_keeps_the_speakers(make_story: MakeStory, app: Any) -> None:
    story = make_story(StoryStatus.SUBMITTED)
    media = audio(story)
    spoken(media)
    assert media.transcript is not None
    parsed = [transcripts.ParsedCue(c.start_ms, c.end_ms, c.text) for c in media.transcript.cues]
    change = transcripts.replacement(media.transcript.cues, parsed)
    assert [c.speaker for c in change.cues] == [LABEL, LABEL, OTHER, LABEL]


def test_the_public_page_shows_a_label_where_the_speaker_changes(
    client: FlaskClient, make_story: MakeStory
) -> None:
    story = make_story(StoryStatus.PUBLISHED, choices=VOICE)
    media = audio(story)
    spoken(media)
    html = page(client, story)
    assert html.count(f'<span class="speaker">{LABEL}:</span>') == 2  # Rosa, (Rosa), María, Rosa
    assert html.count(f'<span class="speaker">{OTHER}:</span>') == 1
    text = vtt(client, media)
    assert text.count(f"<v {LABEL}>") == 3 and text.count(f"<v {OTHER}>") == 1


def test_under_anonymous_credit_the_public_sees_numbered_speakers(
    client: FlaskClient, make_story: MakeStory
) -> None:
    story = make_story(StoryStatus.PUBLISHED, choices=VOICE)
    media = audio(story)
    spoken(media)
    anonymous(story)
    for lang in ("es", "en"):
        assert LABEL not in page(client, story, lang) and OTHER not in page(client, story, lang)
    html = page(client, story, "en")
    assert '<span class="speaker">Speaker 1:</span>' in html
    assert '<span class="speaker">Speaker 2:</span>' in html
    text = vtt(client, media)
    assert LABEL not in text and OTHER not in text
    assert text.count("<v Voz 1>") == 3 and text.count("<v Voz 2>") == 1  # the default language, Spanish


def test_a_withheld_passage_shows_no_speaker(client: FlaskClient, make_story: MakeStory) -> None:
    story = make_story(StoryStatus.PUBLISHED, choices=VOICE)
    media = audio(story)
    spoken(media, withheld=2)  # María's only passage
    assert OTHER not in page(client, story)
    assert OTHER not in vtt(client, media)
    anonymous(story)
    html = page(client, story)
    assert "Voz 2" not in html  # numbered among what the public sees: María is not counted
    assert transcripts.public_speakers(fresh(media)) == ["Voz 1", "Voz 1", "", "Voz 1"]


def test_a_label_is_escaped_in_the_webvtt_file(client: FlaskClient, make_story: MakeStory) -> None:
    story = make_story(StoryStatus.PUBLISHED, choices=VOICE)
    media = audio(story)
    cue = transcripts.ParsedCue(0, 2000, "Hola.", speaker="Ana <b>&</b> --> Luis")
    transcripts.set_cues(media, [cue], "es", None)  # type: ignore[arg-type]
    db.session.commit()
    assert "<v Ana &lt;b&gt;&amp;&lt;/b&gt; --&gt; Luis>Hola." in vtt(client, media)


@pytest.mark.usefixtures("index")
def test_labels_and_parts_are_never_indexed(client: FlaskClient, make_story: MakeStory) -> None:
    story = make_story(StoryStatus.PUBLISHED, choices=VOICE)
    media = audio(story)
    spoken(media)
    transcripts.add_segment(media, 0, transcripts.SegmentText(title_es="Zqxparttitle"), None)
    db.session.commit()
    search.rebuild()
    assert "Frase" in page(client, story)  # public, and its cues are found
    assert story.public_id in {h.public_id for h in search.search_public("Frase", "es").hits}
    for word in (LABEL, OTHER, "Zqxparttitle"):
        assert search.search_public(word, "es").hits == []
        assert search.search_public(word, "en").hits == []


# --- parts (segments) -------------------------------------------------------------------------


def segment_url(story: Story, media: MediaFile, segment: TranscriptSegment | None = None) -> str:
    base = editor(story, media) + "/segments"
    return base if segment is None else f"{base}/{segment.id}"


def segments(media: MediaFile) -> list[tuple[int, str, str, str, str]]:
    found = fresh(media)
    parts = found.transcript.segments if found.transcript else []
    return [(s.start_ms, s.title_es, s.title_en, s.keywords_es, s.synopsis_en) for s in parts]


PART = {
    "start": "0:04",
    "title_es": "La llegada",
    "title_en": "Arriving",
    "keywords_es": "frontera; noche",
    "keywords_en": "border; night",
    "synopsis_es": "Cómo llegaron.",
    "synopsis_en": "How they arrived.",
}


def test_a_curator_adds_edits_and_deletes_a_part(curator_client: FlaskClient, make_story: MakeStory) -> None:
    story = make_story(StoryStatus.SUBMITTED)
    media = audio(story)
    response = post(curator_client, segment_url(story, media), PART, page=editor(story, media))
    assert response.status_code == 302 and response.location.endswith("#segments")
    assert segments(media) == [(4000, "La llegada", "Arriving", "frontera; noche", "How they arrived.")]
    part = fresh(media).transcript.segments[0]  # type: ignore[union-attr]
    edited = PART | {"start": "0:00:07.250", "title_en": "", "synopsis_en": ""}
    assert (
        post(curator_client, segment_url(story, media, part), edited, page=editor(story, media)).status_code
        == 302
    )
    assert segments(media) == [(7250, "La llegada", "", "frontera; noche", "")]
    html = curator_client.get(editor(story, media)).get_data(as_text=True)
    assert 'value="0:00:07.250"' in html and "La llegada" in html
    audits = db.session.query(AuditEvent).filter_by(action="transcript.changed").count()
    assert audits == 2
    delete = segment_url(story, media, part) + "/delete"
    assert post(curator_client, delete, page=editor(story, media)).status_code == 302
    assert segments(media) == []
    assert post(curator_client, delete, page=editor(story, media)).status_code == 302  # already gone


@pytest.mark.parametrize(
    ("changed", "says"),
    [
        ({"start": "0:11"}, "cannot start after its end"),  # the recording lasts 10 seconds
        ({"start": "-0:01"}, "Write the start of the part as 0:01:02.500 or 01:02."),
        ({"start": "ocho"}, "Write the start of the part as 0:01:02.500 or 01:02."),
        ({"start": "100:00:00"}, "Write the start of the part as 0:01:02.500 or 01:02."),
        ({"start": ""}, "Starts at"),
        ({"title_es": "t" * 201}, "Title in Spanish"),
        ({"keywords_en": "k" * 501}, "Keywords in English"),
        ({"synopsis_es": "s" * 4001}, "Synopsis in Spanish"),
        ({"title_es": " ", "title_en": ""}, "Give the part a title in Spanish or English."),
    ],
)
def test_a_bad_part_is_refused_with_a_message_and_changes_nothing(
    curator_client: FlaskClient, make_story: MakeStory, changed: dict[str, str], says: str
) -> None:
    story = make_story(StoryStatus.SUBMITTED)
    media = audio(story)
    client = english(curator_client)
    assert post(client, segment_url(story, media), PART, page=editor(story, media)).status_code == 302
    before = segments(media)
    part = fresh(media).transcript.segments[0]  # type: ignore[union-attr]
    for url in (segment_url(story, media), segment_url(story, media, part)):
        response = post(client, url, PART | changed, page=editor(story, media))
        assert response.status_code == 422, url
        html = response.get_data(as_text=True)
        assert says in html, html
        assert 'id="segments"' in html  # the editor again, with what was typed
        assert segments(media) == before


def test_a_part_of_another_recording_is_not_found(curator_client: FlaskClient, make_story: MakeStory) -> None:
    story = make_story(StoryStatus.SUBMITTED)
    first, second = audio(story), audio(story)
    part = transcripts.add_segment(first, 0, transcripts.SegmentText(title_es="Uno"), None)
    db.session.commit()
    url = segment_url(story, second, part)
    assert post(curator_client, url, PART, page=editor(story, second)).status_code == 404
    assert post(curator_client, url + "/delete", page=editor(story, second)).status_code == 302  # as if gone
    assert segments(first) == [(0, "Uno", "", "", "")]


def test_without_a_csrf_token_nothing_changes(curator_client: FlaskClient, make_story: MakeStory) -> None:
    story = make_story(StoryStatus.SUBMITTED)
    media = audio(story)
    assert curator_client.post(segment_url(story, media), data=PART).status_code == 400
    assert segments(media) == []


def add_part(media: MediaFile, start_ms: int, title_es: str, title_en: str = "") -> TranscriptSegment:
    text = transcripts.SegmentText(
        title_es=title_es, title_en=title_en, keywords_es="llave", synopsis_es="Sinopsis."
    )
    segment = transcripts.add_segment(media, start_ms, text, None)
    db.session.commit()
    return segment


def test_the_public_page_lists_the_parts_with_links_that_play_from_their_start(
    client: FlaskClient, make_story: MakeStory
) -> None:
    story = make_story(StoryStatus.PUBLISHED, choices=VOICE)
    media = audio(story)
    spoken(media)
    add_part(media, 4000, "La llegada", "Arriving")
    add_part(media, 0, "El principio")  # no English title: the Spanish one, marked as such
    html = page(client, story, "en")
    assert '<ol class="segments"' in html and 'data-player="player-1"' in html
    assert html.index("El principio") < html.index("Arriving")  # in order of their start
    assert '<strong lang="es">El principio</strong>' in html
    assert f"/en/stories/{story.public_id}?t=4.0#player-1" in html
    assert "Keywords:" in html and "Sinopsis." in html
    assert "La llegada" in page(client, story, "es")


def test_parts_are_not_shown_while_the_voice_is_private(client: FlaskClient, make_story: MakeStory) -> None:
    story = make_story(StoryStatus.PUBLISHED)  # the narrator keeps their voice to themselves
    media = audio(story)
    spoken(media)
    add_part(media, 0, "Zqxhiddenpart")
    html = page(client, story)
    assert "Frase 0." in html  # the transcript is public with the story ...
    assert "Zqxhiddenpart" not in html  # ... the parts only with the recording


def test_a_part_starting_inside_a_withheld_passage_is_not_shown(
    client: FlaskClient, make_story: MakeStory
) -> None:
    story = make_story(StoryStatus.PUBLISHED, choices=VOICE)
    media = audio(story)
    spoken(media, withheld=1)  # 2.000–4.000 s withheld
    add_part(media, 2500, "Zqxinsidepart")
    add_part(media, 4000, "Zqxafterpart")  # starts where the withheld passage ends
    html = page(client, story)
    assert "Zqxinsidepart" not in html and "Zqxafterpart" in html


def test_nothing_is_shown_for_a_story_that_is_not_public(client: FlaskClient, make_story: MakeStory) -> None:
    story = make_story(StoryStatus.SUBMITTED, choices=VOICE)
    media = audio(story)
    spoken(media)
    add_part(media, 0, "Zqxpart")
    assert client.get(f"/en/stories/{story.public_id}").status_code == 404
    assert client.get(f"/media/{media.public_id}/transcript.vtt").status_code == 404
    assert transcripts.public_segments(media) == [] and transcripts.public_speakers(media) == []


def test_withdrawing_the_recording_deletes_its_parts(make_story: MakeStory) -> None:
    story = make_story(StoryStatus.PUBLISHED, choices=VOICE)
    media = audio(story)
    add_part(media, 0, "Zqxpart")
    stories.withdraw_media(story, media)
    db.session.commit()
    assert db.session.query(TranscriptSegment).count() == 0


def test_the_editor_has_the_player_buttons_and_the_shortcuts(
    curator_client: FlaskClient, make_story: MakeStory
) -> None:
    story = make_story(StoryStatus.SUBMITTED)
    media = audio(story)
    spoken(media)
    html = english(curator_client).get(editor(story, media)).get_data(as_text=True)
    assert 'id="editor-player"' in html and f"/curate/media/{media.public_id}/original" in html
    assert html.count("Set start from player") >= 5 and html.count("Set end from player") == 5
    for keys in ("<kbd>Alt</kbd>+<kbd>K</kbd>", "<kbd>Alt</kbd>+<kbd>[</kbd>", "<kbd>Alt</kbd>+<kbd>]</kbd>"):
        assert keys in html
    assert "transcript-editor.js" in html
