"""The review queue at volume (issue 16): counts, filters, sorting, excerpts, bulk actions with a
result per story, assignment, internal notes, a message the narrator reads, and the consent diff."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from nuevonorte import curation, receipts, search, stories, transcripts
from nuevonorte.accounts import create_curator
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import (
    AuditEvent,
    CuratorAccount,
    Place,
    PlaceLevel,
    Role,
    Story,
    StoryNote,
    StoryStatus,
    Theme,
    Visibility,
)
from tests.contribute_fixtures import csrf_token as contributor_csrf
from tests.curate_fixtures import PASSWORD, add_audio, add_image, post

MakeStory = Callable[..., Story]


def _ids(page: str, stories_: list[Story]) -> set[str]:
    """Which of ``stories_`` a queue page lists (by their checkbox)."""
    return {s.public_id for s in stories_ if f'value="{s.public_id}:' in page}


def _queue(client: FlaskClient, query: str = "") -> str:
    response = client.get(f"/curate/?{query}")
    assert response.status_code == 200, query
    return response.get_data(as_text=True)


def test_every_filter_finds_exactly_the_stories_it_names(
    curator_client: FlaskClient, curator: CuratorAccount, make_story: MakeStory
) -> None:
    """Place, dates, translation per field, transcript, withheld passages, consent changed since
    the last review and assignment each narrow the list to exactly the stories they name."""
    tijuana = Place(
        slug="tijuana", name_es="Tijuana", name_en="Tijuana", country_code="MX", level=PlaceLevel.CITY
    )
    db.session.add(tijuana)
    old = make_story(StoryStatus.SUBMITTED, title="Viejo", submitted_on=date(2026, 1, 10))
    placed = make_story(StoryStatus.SUBMITTED, title="En Tijuana", places=[tijuana])
    titled_en = make_story(StoryStatus.SUBMITTED, title="Solo título", title_en="", summary_es="Resumen")
    translated = make_story(StoryStatus.SUBMITTED, title="Traducido", title_en="Translated")
    heard = make_story(StoryStatus.SUBMITTED, title="Con grabación")
    recording = add_audio(heard)
    transcripts.set_cues(recording, transcripts.parse("Primera parte.\n\nSegunda parte."), "es", curator)
    silent = make_story(StoryStatus.SUBMITTED, title="Grabación sin transcripción")
    add_audio(silent)
    withheld = make_story(StoryStatus.SUBMITTED, title="Con párrafo retenido", restricted_paragraphs="0")
    mine = make_story(StoryStatus.SUBMITTED, title="Mía", assigned_to=curator)
    widened = make_story(StoryStatus.PUBLISHED, title="Ampliada", choices=ConsentChoices(credit_name="Ana"))
    stories.change_consent(widened, ConsentChoices(credit_name="Ana", voice_public=True), language="es")
    db.session.commit()
    everyone = [old, placed, titled_en, translated, heard, silent, withheld, mine, widened]

    expected = {
        "place=tijuana": {placed},
        "since=2026-01-01&until=2026-01-31": {old},
        "needs=title_en": set(everyone) - {translated},
        "needs=summary_en": {titled_en},
        "needs=summary_es": set(),
        "transcript=with": {heard},
        "transcript=without": {silent},
        "withheld=yes": {withheld},
        "consent=changed&status=any": {widened},
        "assigned=me": {mine},
    }
    for query, wanted in expected.items():
        page = _queue(curator_client, query + ("" if "status" in query else "&status=any"))
        assert _ids(page, everyone) == {s.public_id for s in wanted}, query
    nobody = _ids(_queue(curator_client, "assigned=nobody&status=any"), everyone)
    assert mine.public_id not in nobody and old.public_id in nobody


def test_counts_sorting_and_excerpts(curator_client: FlaskClient, make_story: MakeStory) -> None:
    """Counts per status; newest first and by title (untitled last); an untitled story shows the
    beginning of its text, cut at a word."""
    first = make_story(StoryStatus.SUBMITTED, title="Zapata", submitted_on=date(2026, 3, 1))
    second = make_story(StoryStatus.SUBMITTED, title="Álamo", submitted_on=date(2026, 3, 2))
    body = "Llegué a la ciudad un martes de lluvia " + "y caminé mucho " * 20
    untitled = make_story(StoryStatus.SUBMITTED, title="", body=body, submitted_on=date(2026, 3, 3))
    make_story(StoryStatus.PUBLISHED)
    make_story(StoryStatus.REJECTED)
    page = _queue(curator_client)
    counts = dict(re.findall(r'status=(\w+)"[^>]*>[^<]+<span class="count">(\d+)</span>', page))
    assert counts == {"submitted": "3", "published": "1", "private": "0", "rejected": "1", "any": "5"}
    assert "3 historias coinciden." in page
    assert page.index(first.public_id) < page.index(second.public_id) < page.index(untitled.public_id)
    newest = _queue(curator_client, "sort=newest")
    assert newest.index(untitled.public_id) < newest.index(second.public_id) < newest.index(first.public_id)
    by_title = _queue(curator_client, "sort=title")
    assert (
        by_title.index(second.public_id)
        < by_title.index(first.public_id)
        < by_title.index(untitled.public_id)
    )
    assert "Llegué a la ciudad un martes de lluvia y caminé mucho" in page
    (excerpt,) = [e for e in re.findall(r'<span class="muted excerpt">([^<]+)</span>', page) if "Llegué" in e]
    assert excerpt and excerpt.endswith("mucho…") and len(excerpt) <= 161


def test_a_date_written_otherwise_is_named_and_the_list_still_shows(
    curator_client: FlaskClient, make_story: MakeStory
) -> None:
    story = make_story(StoryStatus.SUBMITTED)
    response = curator_client.get("/curate/?since=30/11/2026")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Escribe las fechas como AAAA-MM-DD" in page and story.public_id in page


def test_queue_values_that_mean_nothing_are_read_as_any(
    curator_client: FlaskClient, make_story: MakeStory
) -> None:
    story = make_story(StoryStatus.SUBMITTED)
    for query in (
        "sort=drop",
        "needs=body",
        "assigned=-1",
        "transcript=maybe",
        "status=withdrawn",
        "kind=video",
    ):
        assert story.public_id in _queue(curator_client, query), query


def _bulk(client: FlaskClient, picks: list[str], **data: str) -> tuple[int, str]:
    response = post(client, "/curate/bulk", {"pick": picks, **data})
    return response.status_code, response.get_data(as_text=True)


def test_bulk_publish_skips_a_story_changed_meanwhile_and_says_why_for_each(
    curator_client: FlaskClient, make_story: MakeStory
) -> None:
    """F19 (bad input): a story changed since the list was loaded is skipped (409 reason), a story the
    consent rule refuses is skipped with the rule's words, the others are published."""
    ready = [make_story(StoryStatus.SUBMITTED, title=f"Lista {n}") for n in range(3)]
    changed = make_story(StoryStatus.SUBMITTED, title="Cambiada")
    curators_only = make_story(
        StoryStatus.SUBMITTED, title="Solo equipo", choices=ConsentChoices(visibility=Visibility.CURATORS)
    )
    picks = [f"{s.public_id}:{s.revision}" for s in [*ready, changed, curators_only]]
    changed.summary_es = "Otro curador escribió esto mientras tanto."
    db.session.commit()
    assert changed.revision == 2

    status, page = _bulk(curator_client, picks, action="publish")
    assert status == 200
    for s in ready:
        db.session.refresh(s)
        assert s.status == StoryStatus.PUBLISHED
    for s in (changed, curators_only):
        db.session.refresh(s)
        assert s.status == StoryStatus.SUBMITTED
    assert page.count("Listo.") == 3
    assert "Se omitió: cambió desde que cargaste la lista" in page
    assert "no ha aceptado que esta historia sea pública" in page

    # Nothing applied at all: the answer says so with 409.
    status, page = _bulk(curator_client, [f"{changed.public_id}:1"], action="publish")
    assert status == 409 and "Se omitió" in page


def test_a_story_its_narrator_keeps_to_themselves_is_not_touched_by_a_bulk_action(
    curator_client: FlaskClient, make_story: MakeStory
) -> None:
    sealed = make_story(
        StoryStatus.SUBMITTED, title="Solo mía", choices=ConsentChoices(visibility=Visibility.CONTRIBUTOR)
    )
    theme = Theme(slug="trabajo", name_es="Trabajo", name_en="Work")
    db.session.add(theme)
    db.session.commit()
    status, page = _bulk(
        curator_client, [f"{sealed.public_id}:{sealed.revision}"], action="add-theme", theme=str(theme.id)
    )
    db.session.refresh(sealed)
    assert status == 409 and sealed.themes == [] and "Solo mía" not in page


def test_bulk_add_theme_and_place_make_a_new_revision(
    curator_client: FlaskClient, make_story: MakeStory
) -> None:
    """Adding a theme changes the story: a description form loaded before it is stale (409)."""
    theme = Theme(slug="familia", name_es="Familia", name_en="Family")
    place = Place(
        slug="oaxaca", name_es="Oaxaca", name_en="Oaxaca", country_code="MX", level=PlaceLevel.STATE
    )
    db.session.add_all([theme, place])
    picked = [make_story(StoryStatus.SUBMITTED, title=f"Historia {n}") for n in range(2)]
    db.session.commit()
    before = picked[0].revision
    picks = [f"{s.public_id}:{s.revision}" for s in picked]
    assert _bulk(curator_client, picks, action="add-theme", theme=str(theme.id))[0] == 200
    picks = [f"{s.public_id}:{s.revision}" for s in picked]
    assert all(int(p.split(":")[1]) == before + 1 for p in picks)
    assert _bulk(curator_client, picks, action="add-place", place=str(place.id))[0] == 200
    for s in picked:
        db.session.refresh(s)
        assert s.themes == [theme] and s.places == [place]
    stale = post(
        curator_client,
        f"/curate/stories/{picked[0].public_id}/describe",
        {"revision": str(before), "title_es": "Otro título"},
    )
    assert stale.status_code == 409


def test_bulk_form_problems_change_nothing(curator_client: FlaskClient, make_story: MakeStory) -> None:
    story = make_story(StoryStatus.SUBMITTED)
    pick = [f"{story.public_id}:{story.revision}"]
    cases = [
        ([], {"action": "publish"}, "Marca al menos una historia"),
        (pick, {"action": "return", "message": "  "}, "Escribe el mensaje"),
        (pick, {"action": "add-theme", "theme": "999"}, "Elige qué agregar"),
        (pick, {"action": "assign", "curator": "999"}, "Elige qué agregar"),
        (pick, {"action": "explode"}, "Revisa el formulario"),
        (["no-colon", "a:b", "x" * 40 + ":1"], {"action": "publish"}, "Marca al menos una historia"),
    ]
    for picks, data, words in cases:
        status, page = _bulk(curator_client, picks, **data)
        assert status == 400 and words in page and "No se cambió nada." in page, data
    db.session.refresh(story)
    assert story.status == StoryStatus.SUBMITTED and story.revision == 1


def test_returned_with_a_message_the_narrator_reads_it_in_my_stories(
    app: Flask, curator_client: FlaskClient
) -> None:
    contributor, code = receipts.issue("es")
    story = stories.submit(
        contributor, body="Mi historia.", title="La mía", choices=ConsentChoices(), consent_language="es"
    )
    db.session.commit()
    message = "Gracias. ¿Nos dejas quitar el nombre de tu tío? Escríbenos al taller."
    status, _page = _bulk(
        curator_client, [f"{story.public_id}:{story.revision}"], action="return", message=message
    )
    assert status == 200
    db.session.refresh(story)
    assert story.status == StoryStatus.PRIVATE and story.note_to_narrator == message
    narrator = app.test_client()
    token = contributor_csrf(narrator, "/es/my-stories")
    assert narrator.post("/es/my-stories", data={"csrf_token": token, "code": code}).status_code == 303
    listing = narrator.get("/es/my-stories").get_data(as_text=True)
    assert "Un mensaje del taller:" in listing and "¿Nos dejas quitar el nombre de tu tío?" in listing
    own = narrator.get(f"/es/my-stories/{story.public_id}").get_data(as_text=True)
    assert "Un mensaje del taller" in own and "Escríbenos al taller." in own
    assert message not in app.test_client().get(f"/es/stories/{story.public_id}").get_data(as_text=True)
    actions = set(
        db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == story.public_id))
    )
    assert {"story.narrator_message", "story.kept_private"} <= actions


def test_the_review_page_saves_the_message_with_any_action(
    curator_client: FlaskClient, make_story: MakeStory
) -> None:
    story = make_story(StoryStatus.SUBMITTED)
    url = f"/curate/stories/{story.public_id}"
    assert (
        post(
            curator_client, f"{url}/reject", {"revision": "1", "message": "No es para el archivo."}, page=url
        ).status_code
        == 302
    )
    db.session.refresh(story)
    assert story.status == StoryStatus.REJECTED and story.note_to_narrator == "No es para el archivo."
    page = curator_client.get(url).get_data(as_text=True)
    assert "No es para el archivo.</textarea>" in page  # kept unless the curator changes it
    too_long = post(
        curator_client, f"{url}/message", {"revision": str(story.revision), "message": "x" * 1001}, page=url
    )
    assert too_long.status_code == 400 and "demasiado largo" in too_long.get_data(as_text=True)
    db.session.refresh(story)
    assert story.note_to_narrator == "No es para el archivo."


def test_assignment_from_the_review_page_and_in_bulk(
    curator_client: FlaskClient, make_story: MakeStory
) -> None:
    other = create_curator("lucia@example.org", PASSWORD, Role.CURATOR)
    switched_off = create_curator("ya-no@example.org", PASSWORD, Role.CURATOR)
    switched_off.is_active = False
    story, second = make_story(StoryStatus.SUBMITTED), make_story(StoryStatus.SUBMITTED)
    db.session.commit()
    url = f"/curate/stories/{story.public_id}"
    assert (
        post(
            curator_client, f"{url}/assign", {"revision": "1", "curator": str(other.id)}, page=url
        ).status_code
        == 302
    )
    db.session.refresh(story)
    assert story.assigned_to == other
    refused = post(
        curator_client,
        f"{url}/assign",
        {"revision": str(story.revision), "curator": str(switched_off.id)},
        page=url,
    )
    assert refused.status_code == 400
    assert (
        post(curator_client, f"{url}/assign", {"revision": "1", "curator": "0"}, page=url).status_code == 409
    )  # stale
    status, _page = _bulk(curator_client, [f"{second.public_id}:1"], action="assign", curator=str(other.id))
    assert status == 200
    listed = _queue(curator_client, f"assigned={other.id}")
    assert _ids(listed, [story, second]) == {story.public_id, second.public_id}
    assert "La atiende lucia@example.org" in listed


def test_internal_notes_stay_with_curators_and_go_with_a_withdrawal(
    app: Flask, curator_client: FlaskClient, make_story: MakeStory
) -> None:
    """T17: notes are on the review page only: not on the public page, in search, or in the API; a
    withdrawal deletes them, down to the database file's bytes (T04)."""
    story = make_story(StoryStatus.PUBLISHED, title="Con notas")
    url = f"/curate/stories/{story.public_id}"
    words = "zqxnotaprivadavwk"
    assert (
        post(curator_client, f"{url}/notes", {"body": f"Hablar con {words} antes"}, page=url).status_code
        == 302
    )
    assert post(curator_client, f"{url}/notes", {"body": "   "}, page=url).status_code == 400
    assert post(curator_client, f"{url}/notes", {"body": "x" * 4001}, page=url).status_code == 400
    assert words in curator_client.get(url).get_data(as_text=True)
    search.rebuild()
    visitor = app.test_client()
    for address in (f"/es/stories/{story.public_id}", f"/en/stories/{story.public_id}"):
        assert words not in visitor.get(address).get_data(as_text=True), address
    assert visitor.get(f"/api/v1/search?q={words}&lang=es").get_json()["total"] == 0
    assert story.public_id not in visitor.get(f"/es/search?q={words}").get_data(as_text=True)
    assert story.public_id in visitor.get("/es/search?q=notas").get_data(as_text=True)  # the search works
    db.session.rollback()
    assert len(db.session.scalars(select(StoryNote).where(StoryNote.story_id == story.id)).all()) == 1
    stories.withdraw(story)
    db.session.commit()
    assert db.session.scalars(select(StoryNote)).all() == []
    if db.engine.url.get_backend_name() == "sqlite":
        main = Path(str(db.engine.url.database))
        for path in (main, Path(f"{main}-wal"), Path(f"{main}-journal")):
            if path.exists():
                assert words.encode() not in path.read_bytes(), path.name


def test_a_deleted_note_is_gone_and_deleting_it_again_changes_nothing(
    curator_client: FlaskClient, curator: CuratorAccount, make_story: MakeStory
) -> None:
    story = make_story(StoryStatus.SUBMITTED)
    note = curation.add_note(story, curator, "Borrar después.")
    db.session.commit()
    url = f"/curate/stories/{story.public_id}/notes/{note.id}/delete"
    for _attempt in range(2):
        assert post(curator_client, url, page=f"/curate/stories/{story.public_id}").status_code == 302
    assert db.session.scalars(select(StoryNote)).all() == []


def test_a_widened_consent_shows_exactly_what_is_newly_exposed(
    curator_client: FlaskClient, make_story: MakeStory
) -> None:
    """C19: back for review after the narrator widened it, the story says what the wider consent
    exposes, and nothing else; after a curator decides again, the note is gone."""
    story = make_story(StoryStatus.PUBLISHED, choices=ConsentChoices(credit_name="Ana"))
    add_image(story)
    add_audio(story)
    url = f"/curate/stories/{story.public_id}"
    assert "Lo que queda expuesto desde la última revisión" not in curator_client.get(url).get_data(
        as_text=True
    )
    stories.change_consent(
        story, ConsentChoices(credit_name="Ana", voice_public=True, photos_public=False), language="es"
    )
    db.session.commit()
    assert story.status == StoryStatus.SUBMITTED
    page = curator_client.get(url).get_data(as_text=True)
    section = page[page.index("Lo que queda expuesto desde la última revisión") :][:1500]
    assert "Ahora se puede escuchar la voz de quien narra en las grabaciones." in section
    assert "fotos" not in section.split("</section>")[0]
    post(curator_client, "/curate/language", {"lang": "en"})
    assert "The narrator&#39;s voice may now be heard" in curator_client.get(url).get_data(as_text=True)
    story.summary_es = story.summary_en = "Resumen"
    db.session.commit()
    assert (
        post(curator_client, f"{url}/publish", {"revision": str(story.revision)}, page=url).status_code == 302
    )
    assert "Newly exposed since the last review" not in curator_client.get(url).get_data(as_text=True)


def test_previous_and_next_follow_the_queue_the_curator_came_from(
    curator_client: FlaskClient, make_story: MakeStory
) -> None:
    a, b, c = (
        make_story(StoryStatus.SUBMITTED, title=t, language=lang)
        for t, lang in (("A", "es"), ("B", "en"), ("C", "es"))
    )
    page = curator_client.get(f"/curate/stories/{a.public_id}").get_data(as_text=True)
    assert re.search(rf'rel="next" href="/curate/stories/{b.public_id}', page)
    filtered = curator_client.get(f"/curate/stories/{a.public_id}?language=es&status=submitted").get_data(
        as_text=True
    )
    assert re.search(rf'rel="next" href="/curate/stories/{c.public_id}\?', filtered)
    assert 'rel="prev"' not in filtered
    # Arguments that are not the queue's are ignored, never an error.
    assert curator_client.get(f"/curate/stories/{a.public_id}?story_id=x&since=nope").status_code == 200
