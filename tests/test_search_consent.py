"""Nothing non-public is ever returned by public search or present in the public index
(docs/security.md M19, C02, C03, C05, F09). The index itself is read: stored fields and lexicon."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient
from freezegun import freeze_time

from nuevonorte import search, stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import Credit, Story, StoryStatus, Visibility
from tests.search_fixtures import (
    add_transcribed_audio,
    public_lexicon,
    public_sids,
    public_stored_text,
)

pytestmark = pytest.mark.usefixtures("index")

SECRET = "xilofonista"  # a word found nowhere else, so its presence anywhere is a leak


def found(q: str = SECRET, lang: str = "es") -> set[str]:
    return {hit.public_id for hit in search.search_public(q, lang).hits}


def forms(word: str) -> set[str]:
    """The word and every form the analysers index it as (folded, stemmed in each language)."""
    from nuevonorte.search.schema import ANALYZERS, fold

    return {fold(word)} | {t.text for analyzer in ANALYZERS.values() for t in analyzer(word)}


def assert_absent(story: Story, word: str = SECRET, whole: bool = True) -> None:
    """``word`` is in no result, stored field or lexicon; with ``whole``, the story neither."""
    assert story.public_id not in found(word)
    if whole:
        assert str(story.id) not in public_sids()
    assert word not in public_stored_text()
    assert not forms(word) & public_lexicon()


@pytest.mark.parametrize(
    "status,choices",
    [
        (StoryStatus.SUBMITTED, ConsentChoices()),
        (StoryStatus.PRIVATE, ConsentChoices()),
        (StoryStatus.REJECTED, ConsentChoices()),
        (StoryStatus.WITHDRAWN, ConsentChoices()),
        (StoryStatus.PUBLISHED, ConsentChoices(visibility=Visibility.CURATORS)),
        (StoryStatus.PUBLISHED, ConsentChoices(visibility=Visibility.CONTRIBUTOR)),
        (StoryStatus.PUBLISHED, ConsentChoices(embargo_until=date.today() + timedelta(days=30))),
    ],
    ids=["submitted", "private", "rejected", "withdrawn", "curators-only", "contributor-only", "embargoed"],
)
def test_non_public_states_never_indexed_publicly(
    make_story: Callable[..., Story], status: StoryStatus, choices: ConsentChoices
) -> None:
    """M19/C02: every non-public state stays out of the public index; the staff one holds what
    curators may read (not a tombstone, not a story kept to its contributor: hole 7)."""
    story = make_story(status=status, choices=choices, title=f"Relato {SECRET}", body=f"El {SECRET} cantaba.")
    assert_absent(story)
    staff = {h.public_id for h in search.search_staff(SECRET).hits}
    closed = status == StoryStatus.WITHDRAWN or choices.visibility == Visibility.CONTRIBUTOR
    assert (story.public_id in staff) == (not closed)


def test_public_story_is_indexed(make_story: Callable[..., Story]) -> None:
    story = make_story(body=f"El {SECRET} cantaba.")
    assert story.public_id in found()
    assert forms(SECRET) & public_lexicon()


def test_restricted_paragraph_never_indexed(make_story: Callable[..., Story]) -> None:
    story = make_story(
        body=f"Crecí en Morelia.\n\nMi {SECRET} secreto.\n\nLuego crucé.", restricted_paragraphs="1"
    )
    assert story.public_id in found("morelia")
    assert_absent(story, whole=False)
    assert story.public_id in {h.public_id for h in search.search_staff(SECRET).hits}


def test_restricted_cue_never_indexed_public_cue_links_to_moment(
    make_story: Callable[..., Story], client: FlaskClient
) -> None:
    """A public cue is found with its time and a ?t= link; a restricted cue never is."""
    story = make_story(body="Un relato con grabación.")
    add_transcribed_audio(
        story, [(5_000, "Llegamos a Mexicali de noche.", False), (65_000, f"El {SECRET} nos ayudó.", True)]
    )
    hits = search.search_public("mexicali", "es").hits
    assert [h.public_id for h in hits] == [story.public_id]
    assert hits[0].cues[0].start_seconds == 5
    assert "<mark" in str(hits[0].cues[0].text_html)
    cue = client.get("/api/v1/search?q=mexicali&lang=en").get_json()["hits"][0]["cues"][0]
    assert cue["url"] == f"/en/stories/{story.public_id}?t=5" and cue["start_seconds"] == 5
    page = client.get("/es/search?q=mexicali").get_data(as_text=True)
    assert f"/es/stories/{story.public_id}?t=5" in page and "0:05" in page
    assert_absent(story, whole=False)


def test_transcript_searchable_when_voice_not_public(make_story: Callable[..., Story]) -> None:
    """The voice may be private; the transcript of a public story is still public (consent.py)."""
    story = make_story(choices=ConsentChoices(credit_name="Ana", voice_public=False), body="Sin voz.")
    add_transcribed_audio(story, [(1_000, "Trabajé en las maquiladoras de Juárez.", False)])
    hits = search.search_public("maquiladoras", "es").hits
    assert hits and hits[0].public_id == story.public_id
    assert hits[0].cues
    assert dict(search.search_public("maquiladoras", "es").facets["media"]).get("audio") is None


def test_anonymous_credit_name_never_indexed(make_story: Callable[..., Story]) -> None:
    """M19: a name the contributor did not allow to be shown is not in the public index."""
    story = make_story(choices=ConsentChoices(credit=Credit.ANONYMOUS, credit_name="Zacarías"), body="Texto.")
    assert story.public_id not in found("zacarias")
    assert not forms("Zacarías") & public_lexicon()
    assert "Zacarías" not in public_stored_text()


def test_pseudonym_is_searchable(make_story: Callable[..., Story]) -> None:
    story = make_story(choices=ConsentChoices(credit=Credit.PSEUDONYM, credit_name="La Güera"), body="Texto.")
    assert story.public_id in found("guera")


def test_every_state_change_is_reflected_at_once(make_story: Callable[..., Story]) -> None:
    """Publish, unpublish, narrow consent, edit, withdraw: each commit updates the index."""
    story = make_story(status=StoryStatus.SUBMITTED, body=f"El {SECRET} cantaba en Tijuana.")
    assert story.public_id not in found()
    stories.publish(story, None)
    db.session.commit()
    assert story.public_id in found()
    stories.unpublish(story, None)
    db.session.commit()
    assert_absent(story)
    stories.return_to_review(story, None)
    stories.publish(story, None)
    db.session.commit()
    assert story.public_id in found()
    story.title_en = "The whistler"
    db.session.commit()
    assert story.public_id in found("whistler", "en")
    stories.change_consent(story, ConsentChoices(visibility=Visibility.CURATORS), language="es")
    db.session.commit()
    assert_absent(story)


def test_withdrawal_removes_terms_from_the_lexicon(make_story: Callable[..., Story]) -> None:
    """C05: withdrawn — gone from results AND from the index files' lexicon (segment rewritten)."""
    keep = make_story(body="Una historia que se queda en Oaxaca.")
    story = make_story(title=f"El {SECRET}", body=f"El {SECRET} cantaba.", summary_en="whistling")
    assert forms(SECRET) & public_lexicon()
    stories.withdraw(story)
    db.session.commit()
    assert_absent(story)
    assert "whistl" not in public_lexicon()
    assert keep.public_id in found("oaxaca")


def test_embargo_lifts_without_a_curator(make_story: Callable[..., Story]) -> None:
    """C03: before the date, invisible everywhere incl. suggestions; after it, found."""
    lift = date(2030, 6, 1)
    with freeze_time("2030-05-01"):
        story = make_story(
            choices=ConsentChoices(credit_name="Ana", embargo_until=lift), body=f"El {SECRET}."
        )
        assert_absent(story)
        assert search.search_public("xilofonistas", "es").suggestion is None
        assert search.index_due_embargoes(force=True) == 0
    with freeze_time("2030-06-01"):
        # The first search of the day in this worker indexes lifted embargoes (GET-safe: index only).
        assert search.index_due_embargoes() == 1
        assert story.public_id in found()


def test_did_you_mean_uses_only_public_vocabulary(make_story: Callable[..., Story]) -> None:
    make_story(title="Años en Hermosillo", body="Trabajé en Hermosillo muchos años.")
    make_story(status=StoryStatus.PRIVATE, title=f"El {SECRET}", body=f"El {SECRET} de Hermosillo.")
    results = search.search_public("hermosiyo", "es")
    assert results.total == 0 and results.suggestion == "hermosillo"
    assert search.search_public("xilofonistx", "es").suggestion is None


def test_check_removes_what_is_not_public_p0(make_story: Callable[..., Story]) -> None:
    """F09: a story in the public index that is no longer public is reported as P0 and removed;
    a public story missing from the index is reported and added."""
    from nuevonorte.search import store
    from nuevonorte.search.documents import public_document

    story = make_story(body=f"El {SECRET} cantaba.")
    doc = public_document(story)
    missing = make_story(body="Historia de Sonora.")
    # Simulate drift: the DB says private (committed without the hooks), the index still has it.
    db.session.execute(db.update(Story).where(Story.id == story.id).values(status=StoryStatus.PRIVATE))
    db.session.execute(db.text("DELETE FROM search_log"))
    db.session.commit()
    store.write_public([], [str(missing.id)])
    store.write_public([doc], [])
    db.session.expire_all()
    kinds = {(f.kind, f.detail, f.urgent) for f in search.index_findings()}
    assert ("public-index-not-public", f"story id {story.id}", True) in kinds
    assert ("public-index-missing", f"story id {missing.id}", False) in kinds
    assert_absent(story)
    assert missing.public_id in found("sonora")
    assert search.index_findings() == []
