"""The change feed as sequences (issue 17): random walks of what narrators, curators and the
calendar do to stories and collections, with a partner archive that follows
``GET /api/v1/changes`` a small page at a time, checked after every step.

What happens in a walk: stories are sent and never published (left in review, kept private,
rejected, or kept for curators), or published (some with an embargo of a day or two); a curator
edits a title; a narrator narrows consent (curators only, nobody but me) and widens it again,
embargoes a public story for a day or two, or withdraws it; a curator unpublishes a story, makes,
publishes, unpublishes and edits collections and adds stories to them or takes them out; a day
passes (the clock moves, so embargoes end with no write); and the partner reads one page.

What is guaranteed, after every step:

- the cursor is stable: the numbers a partner is given only ever grow, across every page it
  reads (none repeated, none going back), and ``next`` is the last one given (or the cursor sent,
  when nothing came), so a partner that keeps it neither skips nor repeats a change;
- a partner that reads until ``more`` is false holds exactly what is public now: every story the
  consent rule shows and every published collection, nothing else (checked for the walking
  partner, for a copy of it that catches up at once, and for a newcomer starting from 0);
- "added" names only what the partner does not hold, unless the item left view and came back
  after the partner last heard of it (a row keeps only its newest number, so the removal it
  missed is folded into the new addition); the partner treats "updated" like "added" (fetch it
  and keep it), because under the same folding an "updated" item may be one it never held;
- a story that was never public is never named, in any page of the change feed or in either
  Atom feed; a removal names only what was public at some step; a newcomer's first page (from
  0) holds only additions and removals;
- the Atom feed (while fewer than its 50 entries have numbers) has an entry for each public story
  and published collection, at its persistent address, and a ``deleted-entry`` tombstone for each
  one that was public and is not now, and names no story otherwise.

Every walk starts with a public story, one whose embargo ends tomorrow, one in review and a
published collection. The clock is moved with freezegun (``tick=True``) from the first day that
passes to the end of the walk. The CI profile is 25 walks of 20 steps (under a minute on
SQLite); ``NUEVONORTE_CHANGE_FEED_EXAMPLES=300`` walks much further by hand.
"""

from __future__ import annotations

import itertools
import os
from contextlib import nullcontext
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    initialize,
    invariant,
    rule,
)
from lxml import etree  # type: ignore[import-untyped]
from sqlalchemy import func, select

from nuevonorte import collections, consent, stories
from nuevonorte.api import read as read_api
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import (
    Collection,
    CollectionRecord,
    CuratorAccount,
    PublicRecord,
    Role,
    Story,
    StoryStatus,
    Visibility,
)
from nuevonorte.models.base import today
from tests.calendar_walk import CalendarWalk, run_walk

EXAMPLES = int(os.environ.get("NUEVONORTE_CHANGE_FEED_EXAMPLES", "25"))
ATOM = "http://www.w3.org/2005/Atom"
TOMBSTONES = "http://purl.org/atompub/tombstones/1.0"
BASE = "http://localhost"
#: Entries of the Atom feed (``public.feeds.ENTRIES``): below it, the feed holds every change.
FEED_ENTRIES = 50
FIRST = ConsentChoices(credit_name="Ana")

Key = tuple[str, str]  # ("story" | "collection", public id)


class ChangeFeedWalk(CalendarWalk):
    """One archive driven through the domain layer, one partner following its change feed."""

    stories_ = CalendarWalk.stories_
    collections_ = Bundle("collections")

    def __init__(self) -> None:
        super().__init__()
        self.curator = CuratorAccount(email="feed@example.org", password_hash="-", role=Role.CURATOR)
        db.session.add(self.curator)
        db.session.commit()
        self.names = itertools.count(1)
        self.story_ids: dict[int, str] = {}  # story id -> public id
        self.collection_ids: dict[int, str] = {}
        # What the walk has seen of the archive, after every step.
        self.public: set[Key] = set()  # public now
        self.ever_public: set[Key] = set()  # public after some step (stories and collections)
        self.removals: dict[Key, list[int]] = {}  # the numbers at which each item left view
        # The partner: its cursor, what it holds (with the number it last heard of it), and every
        # number it was ever given.
        self.cursor = 0
        self.mirror: dict[Key, int] = {}
        self.received: list[int] = []

    # --- what every walk starts from: stories public, due tomorrow and in review; a collection

    @initialize(target=stories_)
    def a_public_story(self) -> int:
        return self._published_story(0)

    @initialize(target=stories_)
    def a_story_waiting_a_day(self) -> int:
        """Published with an embargo that ends tomorrow: public the day after, with no write."""
        return self._published_story(1)

    @initialize(target=stories_)
    def a_story_in_review(self) -> int:
        return self._story_never_published("submitted")

    @initialize(target=collections_)
    def a_published_collection(self) -> int:
        return self._new_collection(True)

    # --- what people (and the calendar) do ---------------------------------------------------

    @rule(target=stories_, fate=st.sampled_from(["submitted", "private", "rejected", "curators only"]))
    def a_story_never_published(self, fate: str) -> int:
        return self._story_never_published(fate)

    @rule(target=stories_, wait=st.sampled_from([0, 0, 1, 2]))
    def a_story_published(self, wait: int) -> int:
        """Published at once; with ``wait`` days of embargo, public only once they pass."""
        return self._published_story(wait)

    def _story_never_published(self, fate: str) -> int:
        choices = replace(FIRST, visibility=Visibility.CURATORS) if fate == "curators only" else FIRST
        story = self._submit(choices)
        if fate == "private":
            stories.keep_private(story, None)
        elif fate == "rejected":
            stories.reject(story, None)
        db.session.commit()
        return story.id

    def _published_story(self, wait: int) -> int:
        story = self._submit(replace(FIRST, embargo_until=today() + timedelta(days=wait) if wait else None))
        stories.publish(story, None)
        db.session.commit()
        return story.id

    @rule(sid=stories_, action=st.sampled_from(["publish", "edit the title", "unpublish"]))
    def a_curator_acts(self, sid: int, action: str) -> None:
        """A curator publishes it (refused under consent narrower than public), edits its
        title, or takes it off the public archive."""
        story = self._story(sid)
        if story.status == StoryStatus.WITHDRAWN:
            return
        if action == "publish" and story.status in (StoryStatus.SUBMITTED, StoryStatus.PRIVATE):
            try:
                stories.publish(story, None)
            except stories.StoryRefused:
                db.session.rollback()  # consent narrower than public: nothing changes
                return
        elif action == "edit the title":
            story.title_es = f"Relato {next(self.names)}"
        elif action == "unpublish" and story.status == StoryStatus.PUBLISHED:
            stories.unpublish(story, None)
        db.session.commit()

    @rule(target=collections_, published=st.booleans())
    def a_collection(self, published: bool) -> int:
        return self._new_collection(published)

    def _new_collection(self, published: bool) -> int:
        n = next(self.names)
        collection = collections.create(self.curator, f"Colección {n}", f"Collection {n}")
        if published:
            collections.publish(collection, self.curator)
        db.session.commit()
        self.collection_ids[collection.id] = collection.public_id
        return collection.id

    @rule(cid=collections_, action=st.sampled_from(["publish", "unpublish", "edit the title"]))
    def a_curator_changes_a_collection(self, cid: int, action: str) -> None:
        collection = self._collection(cid)
        if action == "publish":
            collections.publish(collection, self.curator)
        elif action == "unpublish":
            collections.unpublish(collection, self.curator)
        else:
            collections.update_text(collection, self.curator, title_es=f"Colección {next(self.names)}")
        db.session.commit()

    @rule(cid=collections_, sid=stories_)
    def a_curator_adds_or_removes_a_story(self, cid: int, sid: int) -> None:
        """A story joins a collection (if its narrator allows it), or leaves the one it is in."""
        collection, story = self._collection(cid), self._story(sid)
        entry = next((e for e in collection.entries if e.story_id == sid), None)
        if entry is not None:
            collections.remove(entry, self.curator)
        elif collections.may_join(collection, story):
            collections.add_story(collection, story, self.curator)
        db.session.commit()

    @rule(size=st.integers(1, 3))
    def the_partner_reads_one_page(self, size: int) -> None:
        self._observe()
        since = self.cursor
        entries, following, more = self._page(since, size)
        for cursor in (int(e["cursor"]) for e in entries):
            assert not self.received or cursor > self.received[-1], (
                f"cursor {cursor} after {self.received[-1]}: repeated or going back"
            )
            self.received.append(cursor)
        self._apply(self.mirror, entries, "the partner")
        self.cursor = following
        for entry in entries:  # what an entry points at is there exactly while it is public
            kind = "stories" if entry["type"] == "story" else "collections"
            status = self.client.get(f"/api/v1/{kind}/{entry['id']}").status_code
            assert status == (404 if entry["change"] == "removed" else 200), (entry, status)
        db.session.rollback()
        if not more:
            assert set(self.mirror) == self.public, self._difference(self.mirror)

    # --- what must hold after every step -------------------------------------------------

    @invariant()
    def a_partner_that_follows_the_feed_holds_what_is_public(self) -> None:
        self._observe()
        # A copy of the partner catches up now (one page of the usual size at a time).
        mirror = dict(self.mirror)
        since, more = self.cursor, True
        while more:
            entries, since, more = self._page(since)
            self._apply(mirror, entries, "the partner catching up")
        assert set(mirror) == self.public, self._difference(mirror)
        # A newcomer, from the beginning: its first page only adds and removes; in the end it
        # holds what is public.
        newcomer: dict[Key, int] = {}
        since, more = 0, True
        while more:
            first = since == 0
            entries, since, more = self._page(since)
            assert not (first and [e for e in entries if e["change"] == "updated"]), "an update from 0"
            self._apply(newcomer, entries, "a newcomer")
        assert set(newcomer) == self.public, self._difference(newcomer)
        self._atom_feed_shows_what_is_public()

    def _atom_feed_shows_what_is_public(self) -> None:
        for lang in ("es", "en"):
            response = self.client.get(f"/{lang}/feed.atom")
            db.session.rollback()
            assert response.status_code == 200
            self._names_no_hidden_story(response.get_data(as_text=True), f"the {lang} Atom feed")
            root = etree.fromstring(response.data)
            ids = [e.findtext(f"{{{ATOM}}}id") for e in root.findall(f"{{{ATOM}}}entry")]
            gone = [e.get("ref") for e in root.findall(f"{{{TOMBSTONES}}}deleted-entry")]
            assert len(ids + gone) == len(set(ids + gone)), f"an item twice in the {lang} Atom feed"
            numbered = sum(
                db.session.scalar(select(func.count()).where(model.change_seq.is_not(None))) or 0
                for model in (PublicRecord, CollectionRecord)
            )
            db.session.rollback()
            if numbered >= FEED_ENTRIES:
                continue  # the feed shows only the newest changes
            assert set(ids) == {self._address(k) for k in self.public}, f"{lang} Atom entries"
            left = {self._address(k) for k in self.ever_public - self.public}
            assert set(gone) == left, f"{lang} Atom tombstones"

    # --- plumbing ------------------------------------------------------------------------

    def _observe(self) -> None:
        """What is public now; what was public at some step; the number of each departure."""
        db.session.rollback()
        public = {
            ("story", s.public_id)
            for s in db.session.scalars(select(Story).where(Story.id.in_(self.story_ids)))
            if consent.story_is_public(s)
        } | {
            ("collection", c.public_id)
            for c in db.session.scalars(select(Collection).where(Collection.id.in_(self.collection_ids)))
            if consent.collection_is_public(c)
        }
        for key in self.public - public:
            row: PublicRecord | CollectionRecord | None = (
                db.session.scalar(select(PublicRecord).where(PublicRecord.public_id == key[1]))
                if key[0] == "story"
                else db.session.scalar(select(CollectionRecord).where(CollectionRecord.public_id == key[1]))
            )
            assert row is not None and row.change_seq is not None and not row.listed_public, (
                f"{key} left public view without a numbered removal"
            )
            self.removals.setdefault(key, []).append(row.change_seq)
        db.session.rollback()
        self.public = public
        self.ever_public |= public

    def _page(self, since: int, size: int | None = None) -> tuple[list[dict[str, Any]], int, bool]:
        """One page of the change feed after ``since``, checked: ``size`` entries at most (the
        module's page size when None), in strictly increasing order after ``since``, each item
        once, ``next`` the last cursor given, and no story named that was never public."""
        db.session.rollback()
        with mock.patch.object(read_api, "CHANGES_PAGE", size) if size else nullcontext():
            response = self.client.get(f"/api/v1/changes?since={since}")
        db.session.rollback()
        assert response.status_code == 200, response.status_code
        self._names_no_hidden_story(response.get_data(as_text=True), "the change feed")
        body = response.get_json()
        entries: list[dict[str, Any]] = body["changes"]
        seqs = [int(e["cursor"]) for e in entries]
        assert all(s > since for s in seqs), f"cursors {seqs} after since={since}"
        assert all(a < b for a, b in itertools.pairwise(seqs)), f"cursors {seqs} not increasing"
        assert body["next"] == str(seqs[-1] if seqs else since), (body["next"], seqs, since)
        assert body["next_url"].endswith(f"/api/v1/changes?since={body['next']}"), body["next_url"]
        page_size = size or read_api.CHANGES_PAGE
        assert len(entries) <= page_size and (not body["more"] or len(entries) == page_size)
        keys = [(e["type"], e["id"]) for e in entries]
        assert len(keys) == len(set(keys)), f"an item twice in one page: {keys}"
        for entry, key in zip(entries, keys, strict=True):
            assert entry["url"] == self._address(key), entry
            assert key in self.ever_public, f"{entry['change']} for {key}, never public"
            assert (entry["api_url"] is None) == (entry["change"] == "removed"), entry
        return entries, int(body["next"]), bool(body["more"])

    def _apply(self, mirror: dict[Key, int], entries: list[dict[str, Any]], who: str) -> None:
        """What a partner does with a page: added or updated, fetch it (again) and keep it;
        removed, delete its copy. An addition of something held must be its return after a
        removal the partner never heard of (the row moved on to the new addition). "updated" is
        not checked against what the partner holds: an item public before the cursor whose row
        moved past a page boundary before the partner reached it is "updated" to a partner that
        never held it (public story 1, published collection 2, story edited: 3; pages of one
        from 0 give the collection "added", then the story "updated")."""
        for entry in entries:
            key, seq = (entry["type"], entry["id"]), int(entry["cursor"])
            if entry["change"] == "removed":
                mirror.pop(key, None)
                continue
            if entry["change"] == "added" and key in mirror:
                held = mirror[key]
                assert any(held < r < seq for r in self.removals.get(key, [])), (
                    f"{who} told {key} was added at {seq}, holding it since {held} with no removal "
                    f"between (removals at {self.removals.get(key, [])})"
                )
            assert entry["change"] in ("added", "updated"), entry
            mirror[key] = seq

    def _names_no_hidden_story(self, text: str, where: str) -> None:
        named = [p for p in self.story_ids.values() if ("story", p) not in self.ever_public and p in text]
        assert not named, f"never-public stories {named} named in {where}"

    def _difference(self, mirror: dict[Key, int]) -> str:
        held = set(mirror)
        return f"held but not public: {held - self.public}; public but not held: {self.public - held}"

    @staticmethod
    def _address(key: Key) -> str:
        return f"{BASE}/{'s' if key[0] == 'story' else 'c'}/{key[1]}"

    def _submit(self, choices: ConsentChoices) -> Story:
        story = stories.submit(
            None,
            body="Texto del relato.",
            title=f"Relato {next(self.names)}",
            choices=choices,
            consent_language="es",
        )
        self.story_ids[story.id] = story.public_id
        return story

    def _collection(self, cid: int) -> Collection:
        db.session.rollback()
        collection = db.session.get(Collection, cid)
        assert collection is not None
        return collection


@pytest.mark.timeout(900)
def test_a_partner_following_the_change_feed_ends_with_exactly_what_is_public(
    _sqlite_template: Path, _postgres_schema: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    run_walk(ChangeFeedWalk, EXAMPLES, _sqlite_template, tmp_path_factory, "feed")
