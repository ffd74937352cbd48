"""The sensitive-passage assistant (nuevonorte/sensitive.py, decision 0015, docs/security.md T16):
its rules on written passages, and a curator withholding or keeping each flag before publishing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from nuevonorte import ledger, sensitive, stories, transcripts
from nuevonorte.extensions import db
from nuevonorte.jobs import worker
from nuevonorte.models import AuditEvent, CuratorAccount, SensitiveDismissal, Story, StoryStatus
from tests.curate_fixtures import add_audio, post
from tests.sensitive_fresh import FRESH
from tests.sensitive_heldout import HELDOUT
from tests.sensitive_passages import PASSAGES
from tests.sensitive_unseen import UNSEEN

MakeStory = Callable[..., Story]

BODY = (
    "Llegué a la ciudad con mi mamá y vendíamos tamales afuera del metro.\n\n"
    "Si alguien sabe de mi hermano, mi celular es 55 3817 2290.\n\n"
    "El coyote nos dejó solos a medio camino."
)


def codes(text: str) -> set[str]:
    return {rule.code for rule, _start, _end in sensitive.find(text)}


@pytest.mark.parametrize(("lang", "text", "expected"), PASSAGES, ids=[p[1][:40] for p in PASSAGES])
def test_each_written_passage_gets_exactly_its_flags(lang: str, text: str, expected: set[str]) -> None:
    """T16: the passages the rules were written against, dangerous ones and look-alikes."""
    assert codes(text) == expected


@pytest.mark.parametrize(
    ("passages", "recall"),
    [(HELDOUT, 0.95), (UNSEEN, 0.88), (FRESH, 0.78)],
    ids=["heldout", "unseen", "fresh"],
)
def test_the_rules_find_most_of_what_a_separate_author_wrote_and_flag_few_lookalikes(
    passages: list[tuple[str, str, set[str]]], recall: float
) -> None:
    """T16, on passages written by authors who never saw the rules (the figures per rule:
    benchmarks/sensitive.py). Floors just under today's figures, so that a change to a rule that
    loses recall, or flags many harmless passages, fails."""
    found = missed = false = 0
    for _lang, text, expected in passages:
        got = codes(text)
        found += len(got & expected)
        missed += len(expected - got)
        false += len(got - expected)
    assert found / (found + missed) >= recall
    assert false <= 2


def test_a_match_is_reported_where_it_is_in_the_text_as_written() -> None:
    """Folding keeps offsets: the marked words are the narrator's own, accents and case intact."""
    text = "Aquí, el 14 de Febrero de 2016, CRUCÉ EL RÍO con Ñoño."
    spans = {rule.code: text[start:end] for rule, start, end in sensitive.find(text)}
    assert spans["date"] == "14 de Febrero de 2016"
    assert spans["crossing"] == "CRUCÉ EL RÍO"


def flags_of(story: Story) -> list[sensitive.Flag]:
    db.session.rollback()
    fresh = db.session.get(Story, story.id)
    assert fresh is not None
    return sensitive.undecided(fresh)


def review_page(client: FlaskClient, story: Story, lang: str = "es") -> str:
    response = client.get(f"/curate/stories/{story.public_id}", headers={"Accept-Language": lang})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def decide(client: FlaskClient, story: Story, flag: sensitive.Flag, decision: str, revision: int) -> int:
    url = f"/curate/stories/{story.public_id}/passages/{flag.fingerprint}/{decision}"
    response = post(client, url, {"revision": revision}, page=f"/curate/stories/{story.public_id}")
    return int(response.status_code)


def test_a_curator_decides_each_flag_before_publishing(
    curator_client: FlaskClient, make_story: MakeStory, curator: CuratorAccount
) -> None:
    """T16: the review page shows each flagged passage with its words marked and why, in the
    curator's language; publishing is refused until each is withheld or kept; both choices are
    audited; the withheld paragraph never reaches the public, the kept one does."""
    story = make_story(StoryStatus.SUBMITTED, body=BODY)
    es, en = review_page(curator_client, story, "es"), review_page(curator_client, story, "en")
    assert "<mark>55 3817 2290</mark>" in es and "<mark>coyote</mark>" in es
    assert "Pasajes para revisar" in es and "número de teléfono" in es
    assert "Passages to look at" in en and "phone number" in en
    assert "tamales" not in " ".join(f.passage.text for f in flags_of(story))

    refused = post(
        curator_client,
        f"/curate/stories/{story.public_id}/publish",
        {"revision": story.revision},
        headers={"Accept-Language": "en"},
    )
    assert refused.status_code == 409
    assert "may put the narrator at risk" in refused.get_data(as_text=True)
    assert flags_of(story) and db.session.get(Story, story.id).status == StoryStatus.SUBMITTED  # type: ignore[union-attr]

    phone, smuggler = sorted(flags_of(story), key=lambda f: f.passage.ref)
    assert decide(curator_client, story, phone, "withhold", story.revision) == 302
    db.session.refresh(story)
    assert story.restricted_indexes() == {1}
    assert decide(curator_client, story, smuggler, "keep", story.revision) == 302
    assert flags_of(story) == []
    db.session.refresh(story)
    published = post(
        curator_client, f"/curate/stories/{story.public_id}/publish", {"revision": story.revision}
    )
    assert published.status_code == 302
    assert db.session.get(Story, story.id).status == StoryStatus.PUBLISHED  # type: ignore[union-attr]

    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == curator.id)).all()
    assert {"story.passage_withheld", "sensitive.dismissed", "story.published"} <= set(actions)
    public = curator_client.get(f"/es/stories/{story.public_id}").get_data(as_text=True)
    assert "3817" not in public
    assert "El coyote nos dejó solos" in public


def test_a_stale_page_or_a_changed_flag_changes_nothing(
    curator_client: FlaskClient, make_story: MakeStory
) -> None:
    """A curator acting on an old page (another curator decided meanwhile), or on a flag that no
    longer exists, gets a 409 and the story is as it was."""
    story = make_story(StoryStatus.SUBMITTED, body=BODY)
    flag = flags_of(story)[0]
    assert decide(curator_client, story, flag, "keep", story.revision + 5) == 409
    assert decide(curator_client, story, flag, "keep", story.revision) == 302
    db.session.refresh(story)
    assert decide(curator_client, story, flag, "withhold", story.revision) == 409
    db.session.refresh(story)
    assert story.restricted_indexes() == set()
    assert len(flags_of(story)) == 1


def test_a_flagged_cue_is_withheld_with_its_seconds_and_a_kept_one_comes_back_when_its_words_change(
    app: Flask, curator_client: FlaskClient, make_story: MakeStory
) -> None:
    """Withholding a cue withholds it (its translation too) and silences it in the public copy;
    a kept flag lapses when the words that fired it change."""
    story = make_story(StoryStatus.SUBMITTED, body="Un relato tranquilo.")
    media = add_audio(story)
    cues = [
        transcripts.ParsedCue(0, 400, "Me deportaron dos veces.", "I was deported twice."),
        transcripts.ParsedCue(400, 900, "Mi hermana Rosaura me esperaba.", ""),
    ]
    transcripts.set_cues(media, cues, "es", None)  # type: ignore[arg-type]
    db.session.commit()
    removal = [f for f in flags_of(story) if f.rule.code == "removal"]
    assert {f.passage.kind for f in removal} == {sensitive.CUE, sensitive.CUE_TRANSLATION}
    assert decide(curator_client, story, removal[0], "withhold", story.revision) == 302
    db.session.rollback()
    assert [c.restricted for c in media.transcript.cues] == [True, False]  # type: ignore[union-attr]
    assert worker.drain(app) == 1  # the worker makes the public copy
    db.session.rollback()
    assert media.public_audio_key, "the public copy of the recording is silent where the cue was"
    (names,) = flags_of(story)
    assert decide(curator_client, story, names, "keep", story.revision) == 302
    assert flags_of(story) == []
    changed = [replace(cues[0], restricted=True), replace(cues[1], text="Mi hermana Inés me esperaba.")]
    transcripts.set_cues(db.session.get(type(media), media.id), changed, "es", None)  # type: ignore[arg-type, union-attr]
    db.session.commit()
    assert [f.words for f in flags_of(story)] == ["Mi hermana Inés"]


def test_withholding_after_publishing_is_written_to_the_ledger(
    curator_client: FlaskClient, make_story: MakeStory
) -> None:
    """T07, T16: a passage withheld from a published story stays withheld whatever backup is
    restored later: the ledger holds it before the commit."""
    story = make_story(StoryStatus.PUBLISHED, body=BODY)
    before = len(ledger.read())
    flag = next(f for f in flags_of(story) if f.rule.code == "phone")
    assert decide(curator_client, story, flag, "withhold", story.revision) == 302
    entries = ledger.read()[before:]
    assert [(e.kind, e.story_id) for e in entries] == [(ledger.HIDDEN, story.public_id)]


def test_a_withdrawal_takes_the_curators_choices_with_it(
    curator_client: FlaskClient, make_story: MakeStory
) -> None:
    story = make_story(StoryStatus.SUBMITTED, body=BODY)
    for flag in flags_of(story):
        db.session.refresh(story)
        assert decide(curator_client, story, flag, "keep", story.revision) == 302
    count = (
        select(func.count()).select_from(SensitiveDismissal).where(SensitiveDismissal.story_id == story.id)
    )
    assert db.session.scalar(count) == 2
    stories.withdraw(db.session.get(Story, story.id))  # type: ignore[arg-type]
    db.session.commit()
    assert db.session.scalar(count) == 0


def test_the_system_publishes_without_the_assistant_but_a_curator_cannot(make_story: MakeStory) -> None:
    """The demo loader and admin commands publish as the system; a curator never skips a flag."""
    story = make_story(StoryStatus.SUBMITTED, body=BODY)
    with pytest.raises(stories.StoryRefused) as refused:
        stories.publish(story, CuratorAccount(email="c@example.org"))
    assert refused.value.reason == stories.Refusal.SENSITIVE_UNDECIDED
    db.session.rollback()
    stories.publish(db.session.get(Story, story.id), None)  # type: ignore[arg-type]
    assert db.session.get(Story, story.id).status == StoryStatus.PUBLISHED  # type: ignore[union-attr]
