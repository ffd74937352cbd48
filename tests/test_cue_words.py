"""Words withheld inside a transcript passage (issue 16, docs/security.md C23): a street name
hidden while the rest of the passage stays readable; never on a page, in the WebVTT file, in
the index files or in a public export; the passage's seconds silent (where in it the words are
said is not known); refused with nothing changed when the words are not there.

And who may change what in the editor: a translator edits passages but never what a curator
withheld, and a page sent from an older version of the transcript is refused (409).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from nuevonorte import consent, ledger, search, sensitive, transcripts, withheld_words
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import Cue, CuratorAccount, MediaFile, Role, Story, StoryStatus
from nuevonorte.withheld_words import MARK, CueWords
from tests import index_bytes
from tests.curate_fixtures import PASSWORD, add_audio, page_tokens, post, sign_in

MakeStory = Callable[..., Story]
VOICE = ConsentChoices(credit_name="Ana", voice_public=True)
TOLD = "Vivíamos en la calle Zqxmoneda 12 con zqxtia."
TRANSLATED = "We lived on Zqxmoneda Street 12 with zqxaunt."


def editor(story: Story, media: MediaFile) -> str:
    return f"/curate/stories/{story.public_id}/media/{media.public_id}/transcript"


def two_passages(
    media: MediaFile, first: CueWords = withheld_words.NO_WORDS, restricted: bool = False
) -> None:
    """Passage 1 (0-2 s) names a street, passage 2 (2-4 s) does not; committed."""
    cues = [
        transcripts.ParsedCue(0, 2000, TOLD, TRANSLATED, restricted, "Ana", first),
        transcripts.ParsedCue(2000, 4000, "Después llegó zqxotra.", "Then zqxother came."),
    ]
    transcripts.set_cues(media, cues, "es", None, "en")  # type: ignore[arg-type]
    db.session.commit()


def rows(media: MediaFile) -> list[tuple[str, bool, str]]:
    db.session.expire_all()
    fresh = db.session.get(MediaFile, media.id)
    assert fresh is not None and fresh.transcript is not None
    return [(c.text, c.restricted, c.withheld_words) for c in fresh.transcript.cues]


def form(media: MediaFile, **changes: str) -> dict[str, str]:
    """The editor's fields for the saved passages, as the page fills them, with ``changes``."""
    assert media.transcript is not None
    data = {"rows": str(len(media.transcript.cues))}
    for i, cue in enumerate(media.transcript.cues):
        data |= {
            f"start_{i}": transcripts.format_clock(cue.start_ms),
            f"end_{i}": transcripts.format_clock(cue.end_ms),
            f"text_{i}": cue.text,
            f"translation_{i}": cue.translation,
            f"speaker_{i}": cue.speaker,
        }
        if cue.restricted:
            data[f"restricted_{i}"] = "1"
    return data | changes


def test_words_withheld_in_a_passage_are_on_no_surface_and_its_seconds_are_silent_C23(
    app: Flask,
    client: FlaskClient,
    curator_client: FlaskClient,
    runner: FlaskCliRunner,
    make_story: MakeStory,
    tmp_path: Path,
) -> None:
    story = make_story(StoryStatus.PUBLISHED, choices=VOICE)
    media = add_audio(story)
    two_passages(media)
    search.rebuild()
    assert story.public_id in {h.public_id for h in search.search_public("zqxmoneda", "es").hits}
    assert consent.withheld_ranges(media) == ()

    # After publishing, as a curator would: in the editor, the street in both languages.
    url = editor(story, media)
    sent = form(media, words_0="calle zqxmoneda 12", twords_0="Zqxmoneda Street 12")
    assert post(curator_client, url, sent, page=url).status_code == 302
    assert rows(media)[0][2]  # stored with the passage

    for lang in ("es", "en"):
        page = client.get(f"/{lang}/stories/{story.public_id}").get_data(as_text=True)
        assert "Zqxmoneda" not in page and "zqxtia" in page and "zqxotra" in page
        assert 'class="withheld-words"' in page
    vtt = client.get(f"/media/{media.public_id}/transcript.vtt").get_data(as_text=True)
    assert "Zqxmoneda" not in vtt and f"en la {MARK} con zqxtia" in vtt
    # The whole passage is silent for the public; the next one is heard.
    db.session.expire_all()
    assert consent.withheld_ranges(db.session.get(MediaFile, media.id)) == ((0, 2000),)

    assert story.public_id not in {h.public_id for h in search.search_public("zqxmoneda", "es").hits}
    assert story.public_id in {h.public_id for h in search.search_public("zqxtia", "es").hits}
    assert story.public_id in {h.public_id for h in search.search_staff("zqxmoneda", "es").hits}
    for build in (Path(app.config["INDEX_DIR"]) / "builds").glob("*/public"):
        assert index_bytes.files_holding(build, "zqxmoneda") == [], build

    dest = tmp_path / "public-export"
    assert runner.invoke(args=["export", "--public", str(dest)]).exit_code == 0
    exported = b"".join(p.read_bytes() for p in dest.rglob("*") if p.is_file() and p.suffix != ".wav")
    assert b"zqxtia" in exported and b"zqxmoneda" not in exported.lower()
    # A restore of an older backup cannot show them again: the ledger holds the change.
    assert [e for e in ledger.read() if e.kind == ledger.HIDDEN and e.story_id == story.public_id]


def test_a_passages_translation_is_shown_only_once_it_withholds_as_many_words_C23(
    make_story: MakeStory,
) -> None:
    story = make_story(StoryStatus.PUBLISHED, choices=VOICE)
    media = add_audio(story)
    two_passages(media, CueWords(("calle Zqxmoneda 12",)))
    first = consent.public_cues(media)[0]
    assert (
        first is not None and first.text == f"Vivíamos en la {MARK} con zqxtia." and first.translation == ""
    )
    two_passages(media, CueWords(("calle Zqxmoneda 12",), ("Zqxmoneda Street 12",)))
    first = consent.public_cues(media)[0]
    assert first is not None and first.translation == f"We lived on {MARK} with zqxaunt."


def test_words_that_are_not_in_the_passage_are_refused_and_nothing_changes(
    curator_client: FlaskClient, make_story: MakeStory
) -> None:
    story = make_story(StoryStatus.SUBMITTED)
    media = add_audio(story)
    two_passages(media)
    before = rows(media)
    url = editor(story, media)
    for field, where in (("words_1", "In the text"), ("twords_1", "In the translation")):
        sent = form(media, **{field: "Tijuana", "text_0": "Otra cosa que escribí."})
        response = post(curator_client, url, sent, page=url, headers={"Accept-Language": "en"})
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert f"Passage 2: {where}: “Tijuana” is not in that text" in html
        assert "Otra cosa que escribí." in html  # what was typed is still on the page
        assert rows(media) == before


def test_a_passage_whose_words_cannot_be_applied_is_withheld_whole_and_silent(make_story: MakeStory) -> None:
    story = make_story(StoryStatus.PUBLISHED, choices=VOICE)
    media = add_audio(story)
    two_passages(media)
    assert media.transcript is not None
    first: Cue = media.transcript.cues[0]
    for stored in ("{not json", '{"text": "calle"}', '{"text": ["Tijuana"]}'):
        first.withheld_words = stored
        db.session.flush()
        shown = consent.public_cues(media)
        assert shown[0] is None and shown[1] is not None, stored
        assert consent.withheld_ranges(media) == ((0, 2000),)
        assert transcripts.public_speakers(media)[0] == ""
    db.session.rollback()


def test_uploading_the_same_words_keeps_the_withheld_words_and_changed_ones_stay_withheld_whole(
    make_story: MakeStory,
) -> None:
    story = make_story(StoryStatus.SUBMITTED)
    media = add_audio(story)
    two_passages(media, CueWords(("calle Zqxmoneda 12",)))
    same = transcripts.parse(f"WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n{TOLD}\n")
    kept = transcripts.replacement(media.transcript.cues, same).cues  # type: ignore[union-attr]
    assert kept[0].words == CueWords(("calle Zqxmoneda 12",)) and not kept[0].restricted
    changed = transcripts.parse("WEBVTT\n\n00:00:00.500 --> 00:00:01.500\nVivíamos en otra calle.\n")
    change = transcripts.replacement(media.transcript.cues, changed)  # type: ignore[union-attr]
    assert change.cues[0].restricted and change.withheld_kept == 1  # the same seconds


def test_the_review_page_withholds_only_a_flags_words_inside_a_passage_T16_C23(
    curator_client: FlaskClient, make_story: MakeStory
) -> None:
    story = make_story(StoryStatus.PUBLISHED, choices=VOICE)
    media = add_audio(story)
    said = "Llámame al 55 1234 5678 cuando llegues a zqxcasa."
    transcripts.set_cues(media, [transcripts.ParsedCue(0, 2000, said)], "es", None)  # type: ignore[arg-type]
    db.session.commit()
    review = f"/curate/stories/{story.public_id}"
    (flag,) = [f for f in sensitive.undecided(story) if f.passage.kind == sensitive.CUE]
    url = f"{review}/passages/{flag.fingerprint}/words"
    assert post(curator_client, url, {"revision": str(story.revision)}, page=review).status_code == 302
    db.session.expire_all()
    media = db.session.get(MediaFile, media.id)  # type: ignore[assignment]
    assert media.transcript is not None
    assert withheld_words.of_cue(media.transcript.cues[0]) == CueWords(("55 1234 5678",))
    assert not media.transcript.cues[0].restricted  # the passage stays readable
    (shown,) = consent.public_cues(media)
    assert shown is not None and "5678" not in shown.text and "zqxcasa" in shown.text
    assert consent.withheld_ranges(media) == ((0, 2000),)
    assert [e for e in ledger.read() if e.kind == ledger.HIDDEN and e.story_id == story.public_id]
    assert not [f for f in sensitive.undecided(story) if f.passage.kind == sensitive.CUE]


def test_a_page_from_an_older_transcript_is_refused_and_changes_nothing(
    curator_client: FlaskClient, make_story: MakeStory
) -> None:
    story = make_story(StoryStatus.SUBMITTED)
    media = add_audio(story)
    two_passages(media)
    url = editor(story, media)
    opened = page_tokens(curator_client, url)
    # Meanwhile a colleague withholds the first passage.
    two_passages(media, restricted=True)
    before = rows(media)
    stale = opened | form(media) | {"restricted_0": "", "text_1": "Zqxtyped otra vez."}
    response = curator_client.post(url, data=stale, headers={"Accept-Language": "en"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Someone saved this transcript after you opened it" in html
    assert rows(media) == before and before[0][1]
    # What was typed is shown apart, to copy from; the form holds the transcript as it is now.
    unsaved, form_part = html.split('id="unsaved"')[1].split('<form id="cues"')
    assert "Zqxtyped otra vez." in unsaved and "Zqxtyped" not in form_part


def test_a_translator_edits_passages_but_never_what_a_curator_withheld(
    client: FlaskClient, make_story: MakeStory, make_curator: Callable[..., CuratorAccount]
) -> None:
    story = make_story(StoryStatus.SUBMITTED)
    media = add_audio(story)
    cues = [
        transcripts.ParsedCue(0, 2000, TOLD, "", True),
        transcripts.ParsedCue(2000, 4000, "Después llegó zqxotra.", "", False, "", CueWords(("zqxotra",))),
        transcripts.ParsedCue(4000, 6000, "Y nos quedamos.", ""),
    ]
    transcripts.set_cues(media, cues, "es", None, "en")  # type: ignore[arg-type]
    db.session.commit()
    translator = client
    sign_in(translator, make_curator(Role.TRANSLATOR, PASSWORD).email)
    url = editor(story, media)
    page = translator.get(url).get_data(as_text=True)
    assert 'name="restricted_' not in page and 'name="words_' not in page and "/upload" not in page
    assert 'name="text_0"' not in page and 'name="translation_0"' in page  # locked, but translatable

    sent = {
        "rows": "3",
        # A withheld passage: only its translation is read.
        "text_0": "Otra cosa.",
        "translation_0": "We lived on a street.",
        "delete_0": "1",
        # Words withheld in passage 2: the same.
        "start_1": "0:00",
        "text_1": "Después llegó zqxotra.",
        "translation_1": "Then [someone] came.",
        "delete_1": "1",
        # A passage nothing is withheld in: edited; no withheld field is read.
        "start_2": "0:04",
        "end_2": "0:06",
        "text_2": "Y nos quedamos aquí.",
        "translation_2": "And we stayed here.",
        "restricted_2": "1",
        "words_2": "aquí",
    }
    assert post(translator, url, sent, page=url).status_code == 302
    db.session.expire_all()
    fresh = db.session.get(MediaFile, media.id)
    assert fresh is not None and fresh.transcript is not None
    saved = [
        (c.start_ms, c.text, c.translation, c.restricted, c.withheld_words) for c in fresh.transcript.cues
    ]
    assert saved[0] == (0, TOLD, "We lived on a street.", True, "")
    assert saved[1][:4] == (2000, "Después llegó zqxotra.", "Then [someone] came.", False)
    assert withheld_words.of_cue(fresh.transcript.cues[1]) == CueWords(("zqxotra",))
    assert saved[2] == (4000, "Y nos quedamos aquí.", "And we stayed here.", False, "")
    # Replacing the transcript from a file, or its parts, is the curators' (403).
    upload = {"file": (io.BytesIO(b"WEBVTT\n"), "t.vtt"), "language": "es"}
    assert (
        post(translator, f"{url}/upload", upload, page=url, content_type="multipart/form-data").status_code
        == 403
    )


def test_the_queue_query_and_the_rule_agree_on_which_passages_are_withheld(make_story: MakeStory) -> None:
    """``consent.cue_withheld_clause`` (the curators' "has withheld passages" filter) picks out
    exactly the passages ``consent.cue_withheld`` says are withheld: whole, with words in them
    (readable or not), or both; a passage with neither is not."""
    story = make_story(StoryStatus.PUBLISHED, choices=VOICE)
    media = add_audio(story)
    states = [(False, ""), (True, ""), (False, '{"text": ["calle"], "translation": []}'), (True, "{not json")]
    cues = [transcripts.ParsedCue(i * 1000, i * 1000 + 900, f"zqx{i}") for i in range(len(states))]
    transcripts.set_cues(media, cues, "es", None, "en")  # type: ignore[arg-type]
    assert media.transcript is not None
    for cue, (restricted, words) in zip(media.transcript.cues, states, strict=True):
        cue.restricted, cue.withheld_words = restricted, words
    db.session.commit()
    by_rule = {cue.id for cue in media.transcript.cues if consent.cue_withheld(cue)}
    by_query = set(db.session.scalars(select(Cue.id).where(consent.cue_withheld_clause())))
    assert by_query == by_rule and len(by_rule) == 3
