"""The counts of themes and places as sequences (issue 20, decision 0030): random walks of what
narrators, curators and the calendar do, with every list of terms checked after every step
against the stories themselves (docs/security.md C28).

What happens in a walk: stories are sent with some themes and places and published (some with an
embargo of a day or two), left in review, kept private or kept for curators; a curator publishes,
unpublishes, or describes a story again with other themes and places; a narrator narrows consent,
makes it public again (back to review), asks it to wait a day or two, or withdraws it; a day
passes (embargoes end with no write).

What must hold after every step, today and on each of the next three days:

- the kept counts (``term_counts.in_public_use``) are the stories' own: each theme and place that
  names at least one story the consent rule shows that day, with how many, counted by the rule's
  SQL twin over every story (``consent.public_stories``); a term of hidden stories only is absent;
- ``nuevonorte check`` finds nothing to say about them;
- today, the public lists say so too: the themes and places pages in both languages name exactly
  those terms, the API gives the same counts, and each theme's page its total and its stories.

Then two writers at once (a story hidden while a curator describes it, a narrowing while a
publication commits, a withdrawal while ``check --repair`` counts again), a process SIGKILLed
before and after its commit, and ``check`` finding and repairing counts that disagree.
"""

from __future__ import annotations

import itertools
import os
import re
import threading
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import OperationalError

from nuevonorte import checks, consent, faults, stories, term_counts
from nuevonorte.consent import ConsentChoices
from nuevonorte.database import write_intent
from nuevonorte.description import Description, describe
from nuevonorte.extensions import db
from nuevonorte.models import (
    CountedTerm,
    CuratorAccount,
    Place,
    PlaceLevel,
    Role,
    Story,
    StoryStatus,
    TermCount,
    Theme,
    Visibility,
)
from nuevonorte.models.base import today
from nuevonorte.models.vocabulary import story_place, story_theme
from tests.calendar_walk import CalendarWalk, run_walk

EXAMPLES = int(os.environ.get("NUEVONORTE_TERM_COUNT_EXAMPLES", "25"))
FIRST = ConsentChoices(credit_name="Ana")
THEMES = (("frontera", "border", "Frontera", "Border"), ("trabajo", "work", "Trabajo", "Work"))
THEMES += (("familia", "family", "Familia", "Family"),)
PLACES = (("tijuana", "tijuana", "Tijuana", "Tijuana"), ("oaxaca", "oaxaca", "Oaxaca", "Oaxaca"))
FATES = ["published", "wait a day", "wait two days", "submitted", "private", "curators"]
subsets = st.lists(st.integers(0, 2), max_size=3, unique=True)


def shown_terms(model: type[Theme] | type[Place], on: date) -> list[tuple[str, int]]:
    """What the stories themselves say: the terms naming stories the rule shows on day ``on``."""
    link = story_theme if model is Theme else story_place
    term = link.c.theme_id if model is Theme else link.c.place_id
    shown = consent.public_stories(on).with_only_columns(Story.id).scalar_subquery()
    rows = db.session.execute(
        select(model.slug, func.count(link.c.story_id))
        .join(link, term == model.id)
        .where(link.c.story_id.in_(shown))
        .group_by(model.slug)
        .order_by(model.slug)
    ).all()
    return [(slug, int(n)) for slug, n in rows]


class TermCountWalk(CalendarWalk):
    """One archive driven through the domain layer; its lists of terms read after every step."""

    stories_ = CalendarWalk.stories_

    def __init__(self) -> None:
        super().__init__()
        self.curator = CuratorAccount(email="counts@example.org", password_hash="-", role=Role.CURATOR)
        db.session.add(self.curator)
        for slug, slug_en, name_es, name_en in THEMES:
            db.session.add(Theme(slug=slug, slug_en=slug_en, name_es=name_es, name_en=name_en))
        for slug, slug_en, name_es, name_en in PLACES:
            place = Place(
                slug=slug,
                slug_en=slug_en,
                name_es=name_es,
                name_en=name_en,
                country_code="MX",
                level=PlaceLevel.CITY,
            )
            db.session.add(place)
        db.session.commit()
        self.names = itertools.count(1)

    # --- what people (and the calendar) do -----------------------------------------------

    @rule(
        target=stories_,
        themes=subsets,
        places=subsets,
        fate=st.sampled_from(
            ["published", "wait a day", "wait two days", "submitted", "private", "curators"]
        ),
    )
    def a_story_is_sent(self, themes: list[int], places: list[int], fate: str) -> int:
        """Sent with themes and places (as a workshop's import sends them), then published
        (perhaps under an embargo) or not."""
        wait = {"wait a day": 1, "wait two days": 2}.get(fate)
        choices = replace(FIRST, embargo_until=today() + timedelta(days=wait) if wait else None)
        if fate == "curators":
            choices = replace(choices, visibility=Visibility.CURATORS)
        n = next(self.names)
        story = stories.submit(
            None,
            body=f"Texto {n}",
            title=f"Historia {n}",
            choices=choices,
            consent_language="es",
            themes=self._terms(Theme, themes),
            places=self._terms(Place, places),
        )
        if fate in ("published", "wait a day", "wait two days"):
            stories.publish(story, None)
        elif fate == "private":
            stories.keep_private(story, None)
        db.session.commit()
        return story.id

    @rule(sid=stories_, themes=subsets, places=subsets)
    def a_curator_describes_it_again(self, sid: int, themes: list[int], places: list[int]) -> None:
        """Other themes and places, whatever its state (a withdrawn story is refused)."""
        story = self._story(sid)
        if story.status == StoryStatus.WITHDRAWN:
            return
        found = Description(
            title_es=story.title_es, themes=self._terms(Theme, themes), places=self._terms(Place, places)
        )
        describe(story, found, self.curator)
        db.session.commit()

    @rule(sid=stories_, action=st.sampled_from(["publish", "unpublish"]))
    def a_curator_acts(self, sid: int, action: str) -> None:
        story = self._story(sid)
        if story.status == StoryStatus.WITHDRAWN:
            return
        try:
            if action == "publish":
                stories.publish(story, self.curator)
            elif story.status == StoryStatus.PUBLISHED:
                stories.unpublish(story, self.curator)
        except stories.StoryRefused:
            db.session.rollback()  # consent narrower than public: nothing changes
            return
        db.session.commit()

    # --- what must hold after every step -------------------------------------------------

    @invariant()
    def the_kept_counts_are_the_stories_own(self) -> None:
        db.session.rollback()
        for ahead in range(4):
            day = today() + timedelta(days=ahead)
            for model in (Theme, Place):
                kept = [(t.slug, n) for t, n in term_counts.in_public_use(model, on=day)]
                assert kept == shown_terms(model, day), (model.__name__, f"{ahead} day(s) ahead")
        assert term_counts.findings(db.session()) == []
        db.session.rollback()

    @invariant()
    def the_public_lists_name_exactly_those_terms(self) -> None:
        db.session.rollback()
        themes, places = shown_terms(Theme, today()), shown_terms(Place, today())
        for lang, name in (("es", 2), ("en", 3)):
            for kind, rows, expected in (("themes", THEMES, themes), ("places", PLACES, places)):
                page = self.client.get(f"/{lang}/{kind}/").get_data(as_text=True)
                named = {row[0] for row in rows if f">{row[name]}</a>" in page}
                assert named == {slug for slug, _ in expected}, (lang, kind)
        api = self.client.get("/api/v1/themes").get_json()
        assert sorted((t["id"], t["stories"]) for t in api["themes"]) == themes
        api = self.client.get("/api/v1/places").get_json()
        assert sorted((p["id"], p["stories"]) for p in api["places"]) == places
        sitemap = self.client.get("/sitemap.xml").get_data(as_text=True)
        listed = set(re.findall(r"/es/(themes|places)/([a-z-]+)</loc>", sitemap))
        assert listed == {("themes", slug) for slug, _ in themes} | {("places", slug) for slug, _ in places}
        sets = self.client.get("/oai?verb=ListSets").get_data(as_text=True)
        assert set(re.findall(r"setSpec>theme:([a-z-]+)</", sets)) == {slug for slug, _ in themes}
        for kind, model, rows in (("themes", Theme, themes), ("places", Place, places)):
            for slug, count in rows:
                page = self.client.get(f"/es/{kind}/{slug}").get_data(as_text=True)
                assert self._shown_total(page) == count, slug
                # Its page lists exactly those stories (a walk makes fewer than a page's 20).
                link = Story.themes if model is Theme else Story.places
                shown = consent.public_stories(today()).where(link.any(model.slug == slug))
                titles = set(db.session.scalars(shown.with_only_columns(Story.title_es)))
                assert set(re.findall(r"Historia \d+", page)) == titles, slug
                db.session.rollback()

    # --- helpers -------------------------------------------------------------------------

    @staticmethod
    def _shown_total(page: str) -> int:
        found = re.search(r'<p class="lead">(\d+) ', page)
        assert found is not None
        return int(found.group(1))

    def _terms(self, model: type[Theme] | type[Place], picks: list[int]) -> list[Any]:
        rows = THEMES if model is Theme else PLACES
        slugs = [rows[i][0] for i in picks if i < len(rows)]
        return list(db.session.scalars(select(model).where(model.slug.in_(slugs)).order_by(model.slug)))


@pytest.mark.timeout(900)
def test_the_counts_of_themes_and_places_follow_every_sequence_C28(
    _sqlite_template: Path, _postgres_schema: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    run_walk(TermCountWalk, EXAMPLES, _sqlite_template, tmp_path_factory, "counts")


def test_check_finds_counts_that_disagree_and_repair_counts_again(
    app: Flask, runner: Any, make_story
) -> None:
    """Counts that disagree with the stories (a row lost, one naming a term of hidden stories
    only, as a hand edit of the database could leave) are reported by ``nuevonorte check`` by
    ids only, and ``check --repair`` makes them again: the themes page then lists what it must."""

    shown = Theme(slug="frontera", slug_en="border", name_es="Frontera", name_en="Border")
    hidden = Theme(slug="deportacion", slug_en="deportation", name_es="Deportación", name_en="Deportation")
    db.session.add_all([shown, hidden])
    make_story(themes=[shown])
    make_story(themes=[hidden], status=StoryStatus.PRIVATE)
    assert runner.invoke(args=["reindex"]).exit_code == 0  # as `nuevonorte init` does
    assert runner.invoke(args=["check"]).exit_code == 0
    db.session.execute(delete(TermCount).where(TermCount.term_id == shown.id))
    db.session.add(TermCount(kind="theme", term_id=hidden.id, day=date.min, stories=1))
    db.session.commit()
    assert [t.slug for t, _ in term_counts.in_public_use(Theme)] == ["deportacion"]

    result = runner.invoke(args=["check"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("term-count:")]
    assert len(lines) == 2 and not any("frontera" in line or "deportacion" in line for line in lines)
    repaired = runner.invoke(args=["check", "--repair"])
    assert repaired.exit_code == 0, repaired.output
    assert [(t.slug, n) for t, n in term_counts.in_public_use(Theme)] == [("frontera", 1)]
    page = app.test_client().get("/en/themes/").get_data(as_text=True)
    assert ">Border</a>" in page and "Deportation" not in page

    # A row whose day alone is wrong (a story counted from a day still to come): the repair
    # replaces it in the same transaction it read it in, and reads the new one back.
    db.session.execute(update(CountedTerm).values(day=date(2999, 1, 1)))
    db.session.commit()
    assert [f.kind for f in checks.count_findings()] == ["term-count"]
    assert checks.count_findings(repair=True) == []
    assert term_counts.findings(db.session()) == []


#: One change to two stories in a process of its own: the first described again with another
#: theme, the second withdrawn, in one transaction.
CHANGE = """
import json, os
from nuevonorte import create_app, stories
from nuevonorte.description import Description, describe
from nuevonorte.extensions import db
from nuevonorte.models import CuratorAccount, Story, Theme
from sqlalchemy import select
app = create_app(json.loads(os.environ["NN_TEST_CONFIG"]))
with app.app_context():
    first, second = (db.session.get(Story, int(i)) for i in os.environ["NN_STORIES"].split(","))
    work = db.session.scalar(select(Theme).where(Theme.slug == "trabajo"))
    curator = db.session.scalar(select(CuratorAccount))
    describe(first, Description(title_es=first.title_es, themes=[work]), curator)
    stories.withdraw(second)
    db.session.commit()
"""


@pytest.mark.timeout(300)
@pytest.mark.parametrize("point", ["publication.noted", "commit.before_index"])
def test_killed_before_or_after_the_commit_the_counts_are_the_stories_own_T08(
    point: str, app: Flask, app_config: dict[str, Any], make_story: Any, make_curator: Any
) -> None:
    """A process SIGKILLed with the change and its counts written but not committed leaves both
    as they were; killed right after the commit, both as they became (they are one transaction):
    ``check`` finds nothing to say either way, and the lists show the stories' own counts."""
    from tests.stopped_process import stopped_at

    border = Theme(slug="frontera", slug_en="border", name_es="Frontera", name_en="Border")
    work = Theme(slug="trabajo", slug_en="work", name_es="Trabajo", name_en="Work")
    db.session.add_all([border, work])
    make_curator()
    ids = [make_story(title=f"Historia {n}", themes=[border]).id for n in (1, 2)]
    db.session.remove()
    proc = stopped_at(CHANGE, app_config, point, env={"NN_STORIES": ",".join(map(str, ids))})
    proc.kill()
    proc.wait()
    db.session.remove()
    kept = [(t.slug, n) for t, n in term_counts.in_public_use(Theme)]
    after = [("trabajo", 1)] if point == "commit.before_index" else [("frontera", 2)]
    assert kept == shown_terms(Theme, today()) == after
    assert term_counts.findings(db.session()) == []


# --- two writers at once ------------------------------------------------------------------


def _theme(slug: str) -> Theme:
    theme = Theme(slug=slug, slug_en=f"{slug}-en", name_es=slug.capitalize(), name_en=f"{slug} (en)")
    db.session.add(theme)
    return theme


def _in_another_request(app: Flask, change: Any) -> threading.Thread:
    """``change`` in a request of its own, on another thread and connection, begun as a writer
    (as a POST is): started now, joined by the caller."""

    def run() -> None:
        with app.app_context(), write_intent():
            change()
            db.session.commit()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _agrees() -> None:
    db.session.remove()
    for model in (Theme, Place):
        kept = [(t.slug, n) for t, n in term_counts.in_public_use(model)]
        assert kept == shown_terms(model, today()), model.__name__
    assert term_counts.findings(db.session()) == []


@pytest.mark.parametrize("hide", ["withdraw", "unpublish"])
def test_a_story_hidden_while_a_curator_describes_it_is_not_counted_C28(
    app: Flask, make_story: Any, make_curator: Any, hide: str
) -> None:
    """A curator's request has read a story; meanwhile its narrator withdraws it (or another
    curator unpublishes it) and commits; then the first request gives it another theme and
    commits. The counts are read from the database once the story is locked, never from what
    the first request read before: its only theme is not listed. A withdrawn story's tombstone
    gets no theme: the description is refused as the database has the story (its row locked
    first), not as the request read it. (On SQLite the first request's commit fails instead, its
    snapshot being older than the other's commit.)"""
    secret, other = _theme("secreto"), _theme("otro")
    curator = make_curator()
    story = make_story(themes=[secret])
    sid = story.id
    assert story.status == StoryStatus.PUBLISHED  # read by this request

    def hidden() -> None:
        found = db.session.get(Story, sid)
        stories.withdraw(found) if hide == "withdraw" else stories.unpublish(found, None)

    _in_another_request(app, hidden).join()
    refused = None
    try:
        describe(story, Description(title_es=story.title_es, themes=[secret, other]), curator)
        db.session.commit()
    except OperationalError:  # SQLite: "database is locked" (a stale snapshot cannot write)
        db.session.rollback()
    except stories.StoryRefused as refusal:
        refused = refusal.reason
        db.session.rollback()
    _agrees()
    assert term_counts.in_public_use(Theme) == []
    linked = db.session.scalars(select(story_theme.c.theme_id).where(story_theme.c.story_id == sid)).all()
    if hide == "withdraw":
        assert linked == []
        if db.engine.dialect.name == "postgresql":
            assert refused == stories.Refusal.WITHDRAWN


def test_a_narrowing_sent_while_a_publication_commits_is_counted_after_it_C28(
    app: Flask, make_story: Any
) -> None:
    """A curator publishes a story; while that transaction has counted it and not yet committed,
    its narrator narrows consent to curators in another request. The narrowing waits for the
    story (its row is locked until the publication commits) and counts it again from what was
    committed: its only theme is not listed."""
    secret = _theme("secreto")
    story = make_story(themes=[secret], status=StoryStatus.SUBMITTED)
    sid = story.id
    real, waiting = faults.point, []

    def narrowed() -> None:
        found = db.session.get(Story, sid)
        choices = replace(ConsentChoices.of(found.current_consent), visibility=Visibility.CURATORS)
        stories.change_consent(found, choices, language="es")

    def point(name: str) -> None:
        if name == "publication.noted" and not waiting:
            waiting.append(_in_another_request(app, narrowed))
            time.sleep(1.0)  # the narrowing reaches the story's lock (PostgreSQL) or the write lock
        real(name)

    faults.point = point
    try:
        stories.publish(story, None)
        db.session.commit()
    finally:
        faults.point = real
    waiting[0].join()
    _agrees()
    assert term_counts.in_public_use(Theme) == []


def test_a_withdrawal_during_a_repair_of_the_counts_is_counted_after_it_C28(
    app: Flask, make_story: Any
) -> None:
    """``check --repair`` makes the counts again while a narrator withdraws the only story of a
    theme: the repair holds every recount off until it commits, and the withdrawal then counts
    the story out. The theme is not listed."""
    secret, other = _theme("secreto"), _theme("otro")
    story = make_story(themes=[secret])
    sid = story.id
    db.session.add(TermCount(kind="theme", term_id=other.id, day=date.min, stories=1))  # to repair
    db.session.commit()
    real, waiting, reads = term_counts.expected, [], []

    def expected(session: Any, day: Any = None, story_ids: Any = None) -> Any:
        rows = real(session, day, story_ids)
        if story_ids is None:
            reads.append(True)
            # The first reading is check's own, the second its reading again under the lock,
            # the third the repair's: the withdrawal is sent right after the repair has read.
            if len(reads) == 3:
                waiting.append(_in_another_request(app, lambda: stories.withdraw(db.session.get(Story, sid))))
                time.sleep(1.0)  # the withdrawal reaches the counter's lock
        return rows

    term_counts.expected = expected
    try:
        assert [f.kind for f in checks.count_findings(repair=True)] == []
    finally:
        term_counts.expected = real
    assert waiting, "the repair never read the stories"
    waiting[0].join()
    assert db.session.get(Story, sid).status == StoryStatus.WITHDRAWN
    _agrees()
    assert term_counts.in_public_use(Theme) == []
