"""Curators' corrections of a story's text (issue 16, docs/security.md C24): the archive shows
and indexes the correction, the narrator and curators keep the words as told, withheld
paragraphs and words stay withheld, and a correction that would move them is refused."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from nuevonorte import corrections, ledger, search, stories, translations, withheld_words
from nuevonorte.extensions import db
from nuevonorte.models import CuratorAccount, Provenance, Role, Story, StoryStatus
from tests.conftest import POSTGRES_URL
from tests.contribute_fixtures import contribute, receipt_code
from tests.curate_fixtures import csrf, post, sign_in

MakeStory = Callable[..., Story]
BODY = "Llegé a Tijuana con zqxprimmo.\n\nVivíamos en la calle Zqxmoneda 12."
FIXED = ["Llegué a Tijuana con zqxprimo.", "Vivíamos en la calle Zqxmoneda 12."]


def _text(client: FlaskClient, url: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get(url).get_data(as_text=True)))


def _form(story: Story, paragraphs: list[str]) -> dict[str, str]:
    return {"revision": str(story.revision)} | {f"c-{i}": p for i, p in enumerate(paragraphs)}


def test_the_public_reads_the_correction_and_curators_keep_the_words_as_told_C24(
    app: Flask, curator_client: FlaskClient, client: FlaskClient, make_story: MakeStory
) -> None:
    story = make_story(StoryStatus.PUBLISHED, body=BODY)
    page = f"/curate/stories/{story.public_id}/correct"
    assert post(curator_client, page, _form(story, FIXED), page=page).status_code == 302
    db.session.refresh(story)
    assert (
        story.body == BODY and story.paragraphs() == FIXED and story.told_paragraphs()[0].startswith("Llegé")
    )

    public = _text(client, f"/es/stories/{story.public_id}")
    assert "Llegué a Tijuana" in public and "Llegé" not in public
    review = _text(curator_client, f"/curate/stories/{story.public_id}")
    assert "Llegué a Tijuana" in review and "Llegé a Tijuana" in review  # both, for curators
    search.rebuild()
    assert story.public_id in {h.public_id for h in search.search_public("zqxprimo", "es").hits}
    assert story.public_id not in {h.public_id for h in search.search_public("zqxprimmo", "es").hits}
    assert story.public_id in {h.public_id for h in search.search_staff("zqxprimmo", "es").hits}
    # After publishing, an older backup holds the story back rather than show the old words.
    assert [e for e in ledger.read() if e.kind == ledger.HIDDEN and e.story_id == story.public_id]

    as_told = {"revision": str(story.revision), "as_told": "1"}
    assert post(curator_client, page, as_told, page=page).status_code == 302
    db.session.refresh(story)
    assert story.body_corrected == "" and "Llegé" in _text(client, f"/es/stories/{story.public_id}")


def test_the_narrator_reads_their_own_words_in_my_stories_C24(app: Flask, client: FlaskClient) -> None:
    code = receipt_code(contribute(client, "es", title="Mía", body=BODY))
    token = csrf(client, "/es/my-stories")
    assert client.post("/es/my-stories", data={"csrf_token": token, "code": code}).status_code == 303
    db.session.rollback()
    story = db.session.scalars(select(Story)).one()
    corrections.correct(story, FIXED, None)
    db.session.commit()
    mine = _text(client, f"/es/my-stories/{story.public_id}")
    assert "zqxprimmo" in mine and "Llegué" not in mine


REFUSED = [
    (FIXED[:1], "keeps the 2 paragraphs"),
    ([*FIXED, "Otro párrafo."], "keeps the 2 paragraphs"),
    (["Llegué a Tijuana.\n\nCon zqxprimo.", FIXED[1]], "has a blank line inside"),
    ([FIXED[0], "   "], "is empty"),
    ([FIXED[0], "Vivíamos en la calle 12."], "no longer has the withheld words"),
]


@pytest.mark.parametrize(("paragraphs", "says"), REFUSED)
def test_a_correction_that_would_move_what_is_withheld_is_refused_with_nothing_changed_C24(
    app: Flask, make_story: MakeStory, paragraphs: list[str], says: str
) -> None:
    story = make_story(StoryStatus.PUBLISHED, body=BODY, restricted_paragraphs="0")
    withheld_words.add(story, withheld_words.TOLD, 1, story.paragraphs()[1], "calle Zqxmoneda 12")
    db.session.commit()
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(corrections.CorrectionRefused) as refused:
            corrections.correct(story, paragraphs, None)
        assert says in refused.value.message
    db.session.rollback()
    assert db.session.get(Story, story.id).body_corrected == ""


@pytest.mark.parametrize(("paragraphs", "says"), REFUSED[2:])
def test_the_form_says_why_a_correction_is_refused_C24(
    curator_client: FlaskClient, make_story: MakeStory, paragraphs: list[str], says: str
) -> None:
    story = make_story(StoryStatus.PUBLISHED, body=BODY)
    withheld_words.add(story, withheld_words.TOLD, 1, story.paragraphs()[1], "calle Zqxmoneda 12")
    db.session.commit()
    page = f"/curate/stories/{story.public_id}/correct"
    en = {"Accept-Language": "en"}
    response = post(curator_client, page, _form(story, paragraphs), page=page, headers=en)
    assert response.status_code == 400 and says in response.get_data(as_text=True)
    db.session.refresh(story)
    assert story.body_corrected == ""


def test_withheld_paragraphs_and_words_stay_withheld_in_the_correction_C24(
    client: FlaskClient, make_story: MakeStory
) -> None:
    story = make_story(StoryStatus.PUBLISHED, body=BODY, restricted_paragraphs="0")
    withheld_words.add(story, withheld_words.TOLD, 1, story.paragraphs()[1], "calle Zqxmoneda 12")
    corrections.correct(
        story, ["Llegué a Tijuana con zqxprimo.", "Vivíamos en la calle zqxmoneda 12, zqxbarrio."], None
    )
    db.session.commit()
    public = _text(client, f"/es/stories/{story.public_id}")
    assert "zqxprimo" not in public and "zqxmoneda" not in public.lower() and "zqxbarrio" in public


def test_a_translation_of_a_corrected_paragraph_waits_until_someone_checks_it_C20_C24(
    client: FlaskClient, make_story: MakeStory
) -> None:
    story = make_story(StoryStatus.PUBLISHED, body=BODY)
    translations.save(
        story, {0: "I arrived zqxenglish.", 1: "We lived zqxstreet."}, Provenance.COMMUNITY, None
    )
    corrections.correct(story, FIXED, None)
    db.session.commit()
    en = _text(client, f"/en/stories/{story.public_id}")
    assert "zqxenglish" not in en and "Llegué a Tijuana" in en  # the corrected paragraph, as told
    assert "zqxstreet" in en  # the paragraph left as it was keeps its translation
    assert translations.stale(story) == [0]


def test_a_stale_page_keeps_what_was_typed_and_a_translator_may_not_correct_C24(
    app: Flask,
    curator_client: FlaskClient,
    make_curator: Callable[..., CuratorAccount],
    make_story: MakeStory,
) -> None:
    story = make_story(StoryStatus.PUBLISHED, body=BODY)
    page = f"/curate/stories/{story.public_id}/correct"
    form = _form(story, [FIXED[0], "Vivíamos en zqxtyped."])
    corrections.correct(story, FIXED, None)  # someone else, meanwhile
    db.session.commit()
    response = post(curator_client, page, form, page=page)
    assert response.status_code == 409 and "zqxtyped" in response.get_data(as_text=True)
    db.session.refresh(story)
    assert story.paragraphs() == FIXED

    translator = app.test_client()
    sign_in(translator, make_curator(Role.TRANSLATOR).email)
    assert translator.get(page).status_code == 403
    token = csrf(translator, f"/curate/stories/{story.public_id}/translation")
    assert translator.post(page, data={**_form(story, FIXED), "csrf_token": token}).status_code == 403


def test_a_withdrawal_takes_the_correction_with_it_down_to_the_database_file_C24(
    make_story: MakeStory,
) -> None:
    story = make_story(StoryStatus.PUBLISHED, body=BODY)
    corrections.correct(story, ["Llegué a Tijuana con zqxcorregido.", FIXED[1]], None)
    db.session.commit()
    stories.withdraw(story)
    db.session.commit()
    assert story.body_corrected == "" and story.body == ""
    if not POSTGRES_URL:
        main = Path(str(db.engine.url.database))
        for path in (main, Path(f"{main}-wal"), Path(f"{main}-journal")):
            if path.exists():
                assert b"zqxcorregido" not in path.read_bytes(), path.name
