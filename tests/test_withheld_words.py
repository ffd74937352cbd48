"""Words withheld inside a paragraph (issue 16, docs/security.md C23): a street or a phone number
hidden while the rest of the paragraph stays public; never on a page, in the index files, in a
public export or in a translation; refused with nothing changed when the words are not there."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from nuevonorte import ledger, search, sensitive, stories, translations, withheld_words
from nuevonorte.extensions import db
from nuevonorte.models import Provenance, Story, StoryStatus
from nuevonorte.withheld_words import MARK, TOLD, TRANSLATION
from tests import index_bytes
from tests.curate_fixtures import post

MakeStory = Callable[..., Story]
BODY = "Vivíamos en la calle Zqxmoneda 12 con zqxtia.\n\nDespués trabajé en zqxfabrica."


def _text(client: FlaskClient, url: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get(url).get_data(as_text=True)))


def _withhold(story: Story, passage: str, index: int = 0, layer: str = TOLD) -> None:
    text = story.paragraphs()[index] if layer == TOLD else translations.for_staff(story)[index].text
    withheld_words.add(story, layer, index, text, passage)
    db.session.commit()


@pytest.mark.parametrize(
    ("passages", "expected"),
    [
        (["calle zqxmoneda 12"], f"Vivíamos en la {MARK} con zqxtia."),  # any capitals
        (["calle   Zqxmoneda\n12"], f"Vivíamos en la {MARK} con zqxtia."),  # any spacing
        (["Zqxmoneda", "calle Zqxmoneda"], f"Vivíamos en la {MARK} 12 con zqxtia."),  # overlaps merge
        (["zqxtia", "Vivíamos"], f"{MARK} en la calle Zqxmoneda 12 con {MARK}."),
        (["Tijuana"], None),  # not there: the whole paragraph is withheld
    ],
)
def test_mask_replaces_every_occurrence_or_fails_closed(passages: list[str], expected: str | None) -> None:
    assert withheld_words.mask("Vivíamos en la calle Zqxmoneda 12 con zqxtia.", passages) == expected


def test_withheld_words_are_on_no_page_in_no_index_file_and_in_no_public_export_C23(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, make_story: MakeStory, tmp_path: Path
) -> None:
    story = make_story(StoryStatus.PUBLISHED, body=BODY)
    search.rebuild()
    assert story.public_id in {h.public_id for h in search.search_public("zqxmoneda", "es").hits}
    _withhold(story, "calle zqxmoneda 12")  # after publishing, as a curator would

    for lang in ("es", "en"):
        page = client.get(f"/{lang}/stories/{story.public_id}").get_data(as_text=True)
        assert "Zqxmoneda" not in page and "zqxtia" in page
        assert 'class="withheld-words"' in page and MARK in page
    assert story.public_id not in {h.public_id for h in search.search_public("zqxmoneda", "es").hits}
    assert story.public_id in {h.public_id for h in search.search_public("zqxtia", "es").hits}
    assert story.public_id in {h.public_id for h in search.search_staff("zqxmoneda", "es").hits}
    for build in (Path(app.config["INDEX_DIR"]) / "builds").glob("*/public"):
        assert index_bytes.files_holding(build, "zqxmoneda") == [], build

    dest = tmp_path / "public-export"
    assert runner.invoke(args=["export", "--public", str(dest)]).exit_code == 0
    exported = b"".join(p.read_bytes() for p in dest.rglob("*") if p.is_file())
    assert b"zqxtia" in exported and b"Zqxmoneda" not in exported and b"zqxmoneda" not in exported
    # A restore of an older backup cannot show them again: the ledger holds the change.
    hidden = [e for e in ledger.read() if e.kind == ledger.HIDDEN and e.story_id == story.public_id]
    assert hidden


def test_a_translation_is_shown_only_once_its_paragraph_withholds_as_many_words_C23(
    client: FlaskClient, make_story: MakeStory
) -> None:
    story = make_story(StoryStatus.PUBLISHED, body=BODY)
    english = {0: "We lived at Zqxmoneda Street 12 with zqxaunt.", 1: "Then I worked at zqxfactory."}
    translations.save(story, english, Provenance.COMMUNITY, None)
    db.session.commit()
    _withhold(story, "calle zqxmoneda 12")

    en = _text(client, f"/en/stories/{story.public_id}")
    assert "Zqxmoneda" not in en and "zqxaunt" not in en  # the original with its marker instead
    assert "zqxtia" in en and "zqxfactory" in en  # the other paragraph is still translated

    _withhold(story, "Zqxmoneda Street 12", layer=TRANSLATION)
    en = _text(client, f"/en/stories/{story.public_id}")
    assert "zqxaunt" in en and "Zqxmoneda" not in en and "zqxtia" not in en
    search.rebuild()
    assert story.public_id in {h.public_id for h in search.search_public("zqxaunt", "en").hits}
    assert story.public_id not in {h.public_id for h in search.search_public("zqxmoneda", "en").hits}


def test_the_describe_form_withholds_words_or_refuses_words_that_are_not_there_C23(
    curator_client: FlaskClient, make_story: MakeStory
) -> None:
    story = make_story(StoryStatus.PUBLISHED, body=BODY)
    page = f"/curate/stories/{story.public_id}/describe"
    form = {
        "title_es": story.title_es,
        "revision": str(story.revision),
        "words-0": "calle Zqxmoneda 12\nTijuana",
    }
    response = post(curator_client, page, form, page=page, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "Paragraph 1: “Tijuana” is not in that text" in response.get_data(as_text=True)
    db.session.refresh(story)
    assert story.withheld_words == ""  # nothing changed
    assert "Zqxmoneda" in _text(curator_client, f"/es/stories/{story.public_id}")

    form["words-0"] = "calle Zqxmoneda 12\n\ncalle zqxmoneda 12"  # a blank line and a repeat
    assert post(curator_client, page, form, page=page).status_code == 302
    db.session.refresh(story)
    assert withheld_words.withheld(story, TOLD, 0) == ["calle Zqxmoneda 12"]
    assert "calle Zqxmoneda 12" in curator_client.get(page).get_data(as_text=True)  # shown to edit
    assert "Zqxmoneda" not in _text(curator_client, f"/es/stories/{story.public_id}")

    form |= {"revision": str(story.revision), "words-0": ""}  # and given back
    assert post(curator_client, page, form, page=page).status_code == 302
    db.session.refresh(story)
    assert story.withheld_words == ""


@pytest.mark.parametrize("words", ["x", "y" * 301, "\n".join(f"w{i}" for i in range(31))])
def test_too_short_too_long_or_too_many_passages_are_refused(
    curator_client: FlaskClient, make_story: MakeStory, words: str
) -> None:
    story = make_story(
        StoryStatus.SUBMITTED, body=BODY + " " + " ".join(f"w{i}" for i in range(31)) + " x " + "y" * 301
    )
    page = f"/curate/stories/{story.public_id}/describe"
    form = {"title_es": story.title_es, "revision": str(story.revision), "words-1": words}
    assert post(curator_client, page, form, page=page).status_code == 400
    db.session.refresh(story)
    assert story.withheld_words == ""


def test_a_flag_goes_once_its_words_are_withheld_T16(make_story: MakeStory) -> None:
    story = make_story(StoryStatus.SUBMITTED, body="Llámame al 55 1234 5678 cuando llegues.\n\nGracias.")
    assert [f.passage.text[f.start : f.end] for f in sensitive.undecided(story)] == ["55 1234 5678"]
    _withhold(story, "55 1234 5678")
    assert sensitive.undecided(story) == []


def test_an_unreadable_value_withholds_every_paragraph_and_is_never_overwritten(
    client: FlaskClient, make_story: MakeStory
) -> None:
    story = make_story(StoryStatus.PUBLISHED, body=BODY)
    story.withheld_words = "{not json"
    db.session.commit()
    page = _text(client, f"/es/stories/{story.public_id}")
    assert "zqxtia" not in page and "zqxfabrica" not in page
    with pytest.raises(withheld_words.WordsRefused):
        withheld_words.add(story, TOLD, 0, story.paragraphs()[0], "zqxtia")
    db.session.rollback()


def test_a_withdrawal_drops_the_withheld_words_with_the_text(make_story: MakeStory) -> None:
    story = make_story(StoryStatus.PUBLISHED, body=BODY)
    _withhold(story, "calle Zqxmoneda 12")
    stories.withdraw(story)
    db.session.commit()
    assert story.withheld_words == ""


def test_the_review_page_withholds_only_a_flags_words_T16_C23(
    curator_client: FlaskClient, make_story: MakeStory
) -> None:
    story = make_story(StoryStatus.SUBMITTED, body="Llámame al 55 1234 5678 cuando llegues a zqxcasa.")
    review = f"/curate/stories/{story.public_id}"
    html = curator_client.get(review, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Withhold only “55 1234 5678”" in html
    (flag,) = sensitive.undecided(story)
    url = f"{review}/passages/{flag.fingerprint}/words"
    assert post(curator_client, url, {"revision": str(story.revision)}, page=review).status_code == 302
    db.session.refresh(story)
    assert withheld_words.withheld(story, TOLD, 0) == ["55 1234 5678"] and not sensitive.undecided(story)
    assert story.restricted_indexes() == set()  # the paragraph itself stays public
    stories.publish(story, None)
    db.session.commit()
    page = _text(curator_client, f"/es/stories/{story.public_id}")
    assert "zqxcasa" in page and "5678" not in page
    # The same flag again (a reloaded page) changes nothing.
    assert post(curator_client, url, {"revision": str(story.revision)}, page=review).status_code == 409
