"""Random sequences of what happens between two partner archives, with every surface of B checked
after every step (issue 19; docs/security.md T13).

A publishes, withdraws and narrows stories; A's worker pushes notices (or cannot: the push is
blocked, or A is down); B harvests (or cannot reach A); time passes beyond the confirmation limit;
B's curator places each story it meets in a collection. The model says exactly what B must show
after each step: the stories B learnt of (a complete harvest: every story public at A then; a
delivered notice: minus those it names), or nothing while A is unconfirmed for too long. B's story
pages, its search (page and API), its collection and the raw bytes of its index all say the same.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from nuevonorte import collections as domain
from nuevonorte import stories
from nuevonorte.accounts import create_curator
from nuevonorte.database import write_intent
from nuevonorte.extensions import db
from nuevonorte.jobs import worker
from nuevonorte.models import Collection, CuratorAccount, Partner, PartnerStory, Story
from nuevonorte.models.base import utcnow
from nuevonorte.partners import registry
from tests.index_bytes import words_in
from tests.partner_fixtures import A_URL, B_URL, fresh_archives, published

EXAMPLES = int(os.environ.get("NUEVONORTE_PARTNER_EXAMPLES", "12"))
NOTICES = "/api/v1/partners/notices"


def _word() -> str:
    return "zq" + secrets.token_hex(4).translate(str.maketrans("0123456789", "ghijklmnop"))


class PartnerWalk(RuleBasedStateMachine):
    folders: Any = None  # set by the test: a new folder for each example
    template: Path

    def __init__(self) -> None:
        super().__init__()
        self.opened = fresh_archives(self.folders(), self.template)
        self.archives = self.opened.__enter__()
        self.ctx = self.archives.a.app_context()
        self.ctx.push()
        self.net = self.archives.net
        self.words: dict[str, str] = {}  # A's story id -> its word
        self.public_at_a: set[str] = set()
        registry.allow(B_URL)
        db.session.commit()
        with self.archives.at_b():
            registry.add(registry.identify(A_URL))
            curator = create_curator("curadora@b.example", "correct horse battery staple")
            collection = domain.create(curator, title_es="Entre ciudades", title_en="Between cities")
            intro = ("Relatos de nuestra ciudad hermana", "Stories of our sister city")
            domain.add_text(collection, curator, *intro)
            domain.publish(collection, curator)
            db.session.commit()
            self.collection_id = collection.public_id
        # What B must show: what it learnt of A, and whether that is confirmed recently enough.
        self.expected: set[str] = set()
        self.fresh = True
        for _ in range(2):  # B starts out showing two of A's stories
            self.publish_at_a()
        self._harvest()

    def teardown(self) -> None:
        self.ctx.pop()
        self.opened.__exit__(None, None, None)

    # --- at A ---------------------------------------------------------------------------------

    @rule()
    def publish_at_a(self) -> None:
        word = _word()
        story = published(word)
        self.public_at_a.add(story.public_id)
        self.words[story.public_id] = word

    @rule(data=st.data(), narrow=st.booleans())
    def withdraw_or_narrow_at_a(self, data: st.DataObject, narrow: bool) -> None:
        if not self.public_at_a:
            return
        public_id = data.draw(st.sampled_from(sorted(self.public_at_a)))
        db.session.rollback()
        with write_intent():
            story = db.session.scalar(select(Story).where(Story.public_id == public_id))
            assert story is not None
            (stories.keep_private if narrow else stories.withdraw)(story, None)
            db.session.commit()
        self.public_at_a.discard(public_id)
        self._a_worker()

    @rule()
    def a_goes_down_or_comes_back(self) -> None:
        if A_URL in self.net.down:
            self.net.down.discard(A_URL)
            self._a_worker()  # what it could not push while down
        else:
            self.net.down.add(A_URL)

    @rule()
    def the_push_is_blocked_or_unblocked(self) -> None:
        self.net.blocked_paths ^= {NOTICES}

    def _a_worker(self) -> None:
        if A_URL in self.net.down:
            return  # A's machine is down: nothing leaves it
        # A retried notice waits for its delay; ask for a fresh one (what the next change does).
        from nuevonorte.jobs import records
        from nuevonorte.models import JobKind

        db.session.rollback()
        with write_intent():
            at_a = db.session.scalar(select(Partner).where(Partner.url == B_URL))
            assert at_a is not None
            records.request_partner_job(db.session(), JobKind.PARTNER_NOTICE, at_a.id)
            db.session.commit()
        worker.drain(self.archives.a)
        if NOTICES not in self.net.blocked_paths:
            self.expected &= self.public_at_a

    # --- at B ---------------------------------------------------------------------------------

    @rule()
    def b_harvests(self) -> None:
        self._harvest()

    def _harvest(self) -> None:
        with self.archives.at_b():
            partner = db.session.scalar(select(Partner).where(Partner.url == A_URL))
            assert partner is not None
            partner.last_attempt_at = utcnow() - timedelta(seconds=5)
            db.session.commit()
        worker.drain(self.archives.b)
        if A_URL not in self.net.down:
            self.expected = set(self.public_at_a)
            self.fresh = True
        self._curate()

    @rule()
    def the_confirmation_limit_passes(self) -> None:
        with self.archives.at_b():
            partner = db.session.scalar(select(Partner).where(Partner.url == A_URL))
            assert partner is not None
            limit = self.archives.b.config["PARTNER_CONFIRM_SECONDS"]
            partner.confirmed_at = utcnow() - timedelta(seconds=limit + 1)
            partner.last_attempt_at = utcnow()  # no harvest due
            db.session.commit()
            worker.partner_tick(self.archives.b)
        self.fresh = False

    def _curate(self) -> None:
        """B's curator places every partner story it can see in one collection."""
        with self.archives.at_b():
            wanted = select(Collection).where(Collection.public_id == self.collection_id)
            collection = db.session.scalar(wanted)
            assert collection is not None
            curator = _curator()
            placed = {e.partner_story_id for e in collection.entries}
            for story in db.session.scalars(select(PartnerStory).order_by(PartnerStory.id)):
                if story.id not in placed and story.in_collections:
                    try:
                        domain.add_partner_story(collection, story, curator)
                    except domain.CollectionRefused:
                        pass  # hidden now: refused, as the rule says
            db.session.commit()

    # --- every surface of B, after every step ---------------------------------------------------

    @invariant()
    def b_shows_exactly_what_it_must(self) -> None:
        must = self.expected if self.fresh else set()
        b = self.archives.b.test_client()
        with self.archives.at_b():
            held = dict(db.session.execute(select(PartnerStory.remote_id, PartnerStory.public_id)).all())
        pages = {remote for remote, pid in held.items() if b.get(f"/es/from/{pid}").status_code == 200}
        assert pages == must
        assert set(held) >= must
        by_pid = {pid: remote for remote, pid in held.items()}
        api = b.get("/api/v1/search?q=frontera&source=").get_json()
        found = {by_pid.get(h["id"], h["id"]) for h in api["hits"] if h["source"] != "here"}
        assert found == must and api["total"] == len(must)
        from_partner = sum(f["count"] for f in api["facets"].get("source", []) if f["value"] != "here")
        assert from_partner == len(must)  # the facet counts what the index holds: nothing hidden
        page = b.get("/en/search?q=frontera").get_data(as_text=True)
        collection = b.get(f"/en/collections/{self.collection_id}").get_data(as_text=True)
        for public_id, word in self.words.items():
            assert (word in page) == (public_id in must), word
            assert (word in collection) == (public_id in must), word
        # Stories B removed (not merely hidden) leave nothing in its index files.
        gone = sorted(word for public_id, word in self.words.items() if public_id not in held)
        assert not words_in(self.archives.roots["b"], gone)
        # ... nor in its database files (SQLite: the main file, its WAL and journal), and B never
        # holds a file of A's: its media folder stays empty, temporary files included.
        with self.archives.at_b():
            url = db.engine.url
        if url.get_backend_name() == "sqlite":
            main = Path(str(url.database))
            raw = b"".join(
                p.read_bytes() for p in (main, Path(f"{main}-wal"), Path(f"{main}-journal")) if p.exists()
            )
            assert not [w for w in gone if w.encode() in raw]
        media = self.archives.b.config["MEDIA_DIR"]
        assert not [p for p in Path(media).rglob("*") if p.is_file()]


def _curator() -> CuratorAccount | None:
    return db.session.scalar(select(CuratorAccount))


# Each example makes two archives (on PostgreSQL, two databases): ~4 s each, more under load.
@pytest.mark.timeout(900)
def test_b_follows_a_through_random_sequences_on_every_surface_T13(
    _sqlite_template: Path, _postgres_schema: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    class Walk(PartnerWalk):
        pass

    Walk.folders = staticmethod(lambda: tmp_path_factory.mktemp("partners"))
    Walk.template = _sqlite_template
    run_state_machine_as_test(
        Walk,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
