"""The story's body translated paragraph by paragraph (issue 16): shown to visitors in their
language with who made it, withheld wherever the original is (C20), never stale, searchable
only while public, gone with a withdrawal; and the translator role, which reaches only that."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from nuevonorte import description, search, stories, translations
from nuevonorte.curate.auth import TRANSLATOR_MAY
from nuevonorte.description import Description
from nuevonorte.extensions import db
from nuevonorte.models import CuratorAccount, ParagraphTranslation, Provenance, Role, Story, StoryStatus
from tests.conftest import IsolatedClient
from tests.curate_fixtures import PASSWORD, csrf, post, sign_in

MakeStory = Callable[..., Story]
BODY = "Llegué en zqxunoes.\n\nMi tío zqxdoses me esperaba.\n\nTrabajé en zqxtreses."
ENGLISH = {0: "I arrived in zqxunoen.", 1: "My uncle zqxdosen waited.", 2: "I worked in zqxtresen."}


def _text(client: FlaskClient, url: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get(url).get_data(as_text=True)))


def _translated(make_story: MakeStory, provenance: Provenance = Provenance.COMMUNITY) -> Story:
    story = make_story(StoryStatus.PUBLISHED, title="Tres partes", body=BODY, restricted_paragraphs="1")
    translations.save(story, ENGLISH, provenance, None)
    db.session.commit()
    return story


def test_visitors_read_the_translation_with_who_made_it_and_the_same_gaps_C20(
    client: FlaskClient, make_story: MakeStory
) -> None:
    story = _translated(make_story)
    visitor = client
    en = _text(visitor, f"/en/stories/{story.public_id}")
    assert "zqxunoen" in en and "zqxtresen" in en and "Community translation" in en
    assert "zqxdosen" not in en and "zqxdoses" not in en and "[passage withheld]" in en
    assert "zqxunoes" not in en  # the translation, not the original, is what is shown
    told = _text(visitor, f"/en/stories/{story.public_id}?original=1")
    assert "zqxunoes" in told and "zqxunoen" not in told and "zqxdoses" not in told
    assert "Read the translation" in told
    es = _text(visitor, f"/es/stories/{story.public_id}")
    assert "zqxunoes" in es and "zqxunoen" not in es and "zqxdoses" not in es


def test_an_untranslated_paragraph_is_shown_as_told_with_its_language(
    client: FlaskClient, make_story: MakeStory
) -> None:
    story = make_story(StoryStatus.PUBLISHED, body=BODY)
    translations.save(story, {0: "I arrived in zqxunoen."}, Provenance.MACHINE, None)
    db.session.commit()
    page = client.get(f"/en/stories/{story.public_id}").get_data(as_text=True)
    assert "Machine draft, not yet reviewed" in page
    assert '<p lang="es">Trabajé en zqxtreses.</p>' in page and "<p>I arrived in zqxunoen.</p>" in page


def test_a_changed_original_hides_its_old_translation_until_checked(
    app: Flask, curator_client: FlaskClient, make_story: MakeStory
) -> None:
    story = _translated(make_story)
    story.body = BODY.replace("zqxunoes", "Tijuana")  # a correction of the original
    db.session.commit()
    en = _text(app.test_client(), f"/en/stories/{story.public_id}")
    assert "zqxunoen" not in en and "Tijuana" in en and "zqxtresen" in en
    page = curator_client.get(f"/curate/stories/{story.public_id}/translation").get_data(as_text=True)
    assert (
        "The original changed after this was translated"
        in _text(curator_client, f"/curate/stories/{story.public_id}/translation")
        or "El original cambió" in page
    )
    assert translations.stale(story) == [0]


def test_translations_are_searched_only_while_public(app: Flask, make_story: MakeStory) -> None:
    story = _translated(make_story)
    search.rebuild()
    found = lambda word: {h.public_id for h in search.search_public(word, "en").hits}  # noqa: E731
    assert story.public_id in found("zqxunoen")
    assert story.public_id not in found("zqxdosen")  # its paragraph is withheld
    description.describe(story, Description(title_es=story.title_es, restricted_paragraphs=[0, 1]), None)  # type: ignore[arg-type]
    db.session.commit()
    assert story.public_id not in found("zqxunoen")
    assert story.public_id in {h.public_id for h in search.search_staff("zqxdosen", "en").hits}


def test_a_withdrawal_takes_every_translation_down_to_the_file_bytes(
    app: Flask, make_story: MakeStory
) -> None:
    story = _translated(make_story)
    stories.withdraw(story)
    db.session.commit()
    assert db.session.scalars(select(ParagraphTranslation)).all() == []
    if db.engine.url.get_backend_name() == "sqlite":
        main = Path(str(db.engine.url.database))
        for path in (main, Path(f"{main}-wal")):
            if path.exists():
                data = path.read_bytes()
                assert not [w for w in ("zqxunoen", "zqxdosen", "zqxtresen") if w.encode() in data], path.name


def test_the_translation_form_saves_refuses_stale_pages_and_keeps_the_typing(
    curator_client: FlaskClient, make_story: MakeStory
) -> None:
    story = make_story(StoryStatus.SUBMITTED, body=BODY)
    url = f"/curate/stories/{story.public_id}/translation"
    data = {
        "revision": str(story.revision),
        "provenance": "reviewed",
        "p-0": "I arrived.",
        "p-2": "I worked.",
    }
    assert post(curator_client, url, data, page=url).status_code == 302
    db.session.refresh(story)
    assert {t.position: (t.text, t.provenance) for t in story.translations} == {
        0: ("I arrived.", Provenance.REVIEWED),
        2: ("I worked.", Provenance.REVIEWED),
    }
    stale = post(curator_client, url, data | {"p-0": "Typed on an old page."}, page=url)
    assert stale.status_code == 409 and "Typed on an old page." in stale.get_data(as_text=True)
    too_long = post(
        curator_client, url, data | {"revision": str(story.revision), "p-1": "x" * 20_001}, page=url
    )
    assert too_long.status_code == 400
    emptied = post(
        curator_client,
        url,
        {"revision": str(story.revision), "provenance": "reviewed", "p-2": "I worked."},
        page=url,
    )
    assert emptied.status_code == 302
    db.session.refresh(story)
    assert [t.position for t in story.translations] == [2]  # an emptied paragraph is deleted


def _translator(app: Flask) -> tuple[FlaskClient, CuratorAccount]:
    from nuevonorte.accounts import create_curator

    account = create_curator("voluntaria@example.org", PASSWORD, Role.TRANSLATOR)
    db.session.commit()
    app.test_client_class = IsolatedClient
    client = app.test_client()
    assert sign_in(client, account.email).status_code == 302
    return client, account


def test_a_translator_reaches_only_what_translating_needs(
    app: Flask, make_story: MakeStory, curator: CuratorAccount
) -> None:
    """A25: every curator route as a translator: only ``TRANSLATOR_MAY`` answers; everything else is
    a 403 that changes nothing (no publishing, consent, notes, bulk actions, descriptions)."""
    from tests.test_curate_routes import routes, url_for_rule

    story = make_story(StoryStatus.SUBMITTED, body=BODY)
    client, _account = _translator(app)
    token = csrf(client, "/curate/")
    world = {"story_id": story.public_id, "lang": "es", "media_id": "x", "variant": "display"}
    reached = set()
    for method, rule, endpoint in routes(app):
        if not rule.startswith("/curate/") or endpoint in (
            "curate.sign_in",
            "curate.sign_out",
            "curate.language",
            "curate.own_password",
            "curate.static",
        ):
            continue
        url = re.sub(r"<(?:\w+:)?\w+>", "1", url_for_rule(rule, world))  # any other part: "1"
        response = client.open(url, method=method, data={"csrf_token": token, "revision": "1"})
        db.session.rollback()
        if endpoint in TRANSLATOR_MAY:
            reached.add(endpoint)
            assert response.status_code != 403, (method, rule)
        else:
            assert response.status_code == 403, (method, rule, response.status_code)
    assert {"curate.queue", "curate.review", "curate.translation"} <= reached
    db.session.refresh(story)
    assert story.status == StoryStatus.SUBMITTED


def test_a_translator_translates_but_sees_no_action_and_no_sealed_story(
    app: Flask, make_story: MakeStory
) -> None:
    from nuevonorte.consent import ConsentChoices
    from nuevonorte.models import Visibility

    story = make_story(StoryStatus.SUBMITTED, body=BODY)
    sealed = make_story(StoryStatus.SUBMITTED, choices=ConsentChoices(visibility=Visibility.CONTRIBUTOR))
    client, _account = _translator(app)
    review = client.get(f"/curate/stories/{story.public_id}").get_data(as_text=True)
    assert "Traducir el texto" in review
    for absent in ("Publicar", "Notas para el equipo", "Restringir el consentimiento", "curate/bulk"):
        assert absent not in review, absent
    assert client.get(f"/curate/stories/{sealed.public_id}").status_code == 403
    assert client.get(f"/curate/stories/{sealed.public_id}/translation").status_code == 403
    url = f"/curate/stories/{story.public_id}/translation"
    response = post(
        client,
        url,
        {"revision": str(story.revision), "provenance": "community", "p-0": "I arrived."},
        page=url,
    )
    assert response.status_code == 302
    db.session.refresh(story)
    assert [t.text for t in story.translations] == ["I arrived."]


def test_a_translation_that_says_too_much_is_flagged_and_withholding_it_withholds_the_paragraph_T16(
    client: FlaskClient, make_story: MakeStory
) -> None:
    """The sensitive-passage assistant reads translations too: a phone number only in the English
    is flagged, and withholding it withholds the paragraph in both languages."""
    from nuevonorte import sensitive
    from nuevonorte.models import CuratorAccount as Account

    story = make_story(StoryStatus.SUBMITTED, body="Llegué en zqxunoes.\n\nTrabajé en zqxtreses.")
    translations.save(
        story, {0: "I arrived in zqxunoen. Call me at 55 3817 2290."}, Provenance.COMMUNITY, None
    )
    db.session.commit()
    (flag,) = sensitive.undecided(story)
    assert flag.passage.kind == sensitive.PARAGRAPH_TRANSLATION and flag.passage.ref == "0"
    curator = Account(email="c@example.org", password_hash="-", role=Role.CURATOR)
    db.session.add(curator)
    assert sensitive.withhold(story, flag.fingerprint, curator) is not None
    stories.publish(story, curator)
    db.session.commit()
    en = _text(client, f"/en/stories/{story.public_id}")
    assert "3817" not in en and "zqxunoen" not in en and "[passage withheld]" in en
