"""Random sequences over two machines of one archive (issue 21, T21): machines A and B share the
database and each keeps its own index folder, following the search log. Steps: publish, withdraw
or withhold a paragraph through either machine, a machine follows the log, B rebuilds its index,
entries older than the log keeps are pruned. After every step, on both machines: search shows
exactly what the database allows now (whatever the machine has followed), and a machine that has
followed has no word in its index files — every segment of every build — of a withdrawn story or
a withheld paragraph, and holds every public story."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import update

from nuevonorte import create_app, search, stories
from nuevonorte.consent import ConsentChoices
from nuevonorte.database import write_intent
from nuevonorte.extensions import db
from nuevonorte.jobs import worker
from nuevonorte.models import SearchLogEntry, Story, Visibility
from nuevonorte.models.base import utcnow
from nuevonorte.search import follow, store
from tests.conftest import POSTGRES_URL, _empty_tables, archive_settings
from tests.index_bytes import forms, words_in

MACHINES = ("a", "b")


class TwoMachines(RuleBasedStateMachine):
    """Each story has two marker words: one in a paragraph that may be withheld, one kept."""

    folder_of: Any = None  # set by the test: a fresh folder for each example
    template: Path | None = None

    def __init__(self) -> None:
        super().__init__()
        folder: Path = self.folder_of()
        url = POSTGRES_URL
        if not url:
            assert self.template is not None
            shutil.copyfile(self.template, folder / "archive.sqlite3")
            url = f"sqlite:///{folder / 'archive.sqlite3'}"
        common = archive_settings(folder, url)
        self.apps = {m: create_app({**common, "index_dir": str(folder / m / "index")}) for m in MACHINES}
        for m in MACHINES:
            with self.apps[m].app_context():
                search.rebuild()
                db.session.remove()
        self.n = 0
        self.stories: dict[int, dict[str, Any]] = {}  # id -> kept, private words, public, withheld

    stories_ = Bundle("stories")

    def _words(self) -> tuple[str, str]:
        """Two words of this story alone. Consonants only: a vowel ending such as "-aad" is
        stemmed away ("zqmkept"), and that form would be found inside every other story's word."""
        self.n += 1
        letters = "".join("qwxzkvbfjp"[int(d)] for d in f"{self.n:03d}")
        words = f"zqmkept{letters}", f"zqmpriv{letters}"
        assert all(letters in form for w in words for form in forms(w)), words
        return words

    @rule(target=stories_, machine=st.sampled_from(MACHINES))
    def publish(self, machine: str) -> int:
        kept, private = self._words()
        with self.apps[machine].app_context(), write_intent():
            choices = ConsentChoices(credit_name="Ana", visibility=Visibility.PUBLIC)
            story = stories.submit(
                None,
                body=f"Crucé con {kept}.\n\nMi tío se llama {private}.",
                title="Una historia",
                language="es",
                choices=choices,
                consent_language="es",
            )
            stories.publish(story, None)
            db.session.commit()
            sid, public_id = story.id, story.public_id
            db.session.remove()
        self.stories[sid] = {
            "kept": kept,
            "private": private,
            "public": True,
            "withheld": False,
            "pid": public_id,
        }
        return sid

    @rule(sid=stories_, machine=st.sampled_from(MACHINES))
    def withdraw(self, sid: int, machine: str) -> None:
        if not self.stories[sid]["public"]:
            return
        with self.apps[machine].app_context(), write_intent():
            story = db.session.get(Story, sid)
            assert story is not None
            stories.withdraw(story)
            db.session.commit()
            db.session.remove()
        self.stories[sid]["public"] = False

    @rule(sid=stories_, machine=st.sampled_from(MACHINES))
    def withhold_the_second_paragraph(self, sid: int, machine: str) -> None:
        if not self.stories[sid]["public"] or self.stories[sid]["withheld"]:
            return
        with self.apps[machine].app_context(), write_intent():
            story = db.session.get(Story, sid)
            assert story is not None
            story.restricted_paragraphs = "1"
            db.session.commit()
            db.session.remove()
        self.stories[sid]["withheld"] = True

    @rule(machine=st.sampled_from(MACHINES))
    def follows(self, machine: str) -> None:
        worker.follow_tick(self.apps[machine])

    @rule()
    def b_rebuilds(self) -> None:
        with self.apps["b"].app_context():
            search.rebuild()
            db.session.remove()

    @rule()
    def old_entries_are_pruned(self) -> None:
        """Every entry so far becomes older than the log keeps, and is pruned: a machine behind
        them rebuilds at its next follow."""
        with self.apps["a"].app_context(), write_intent():
            db.session.execute(update(SearchLogEntry).values(queued_at=utcnow() - timedelta(days=30)))
            db.session.commit()
            follow.prune(keep_days=14)
            db.session.remove()

    # --- what must hold after every step --------------------------------------------------

    def _check(self, machine: str) -> None:
        app = self.apps[machine]
        with app.app_context():
            # A machine that lags can only show less; one that has followed shows all it may.
            caught_up = follow.position() is not None and follow.behind() == 0
            for sid, s in self.stories.items():
                allowed = {s["kept"]: s["public"], s["private"]: s["public"] and not s["withheld"]}
                for word, may in allowed.items():
                    shown = s["pid"] in {h.public_id for h in search.search_public(word, "es").hits}
                    assert shown <= may, (machine, sid, word, s)
                    assert shown == may or not caught_up, (machine, sid, word, s)
            if caught_up:
                held = store.indexed_sids(store.PUBLIC)
                assert {str(i) for i, s in self.stories.items() if s["public"]} <= held
            db.session.remove()
        if not caught_up:
            return
        root = Path(app.config["INDEX_DIR"])
        with app.app_context():  # the machine's own purges finished, as its worker finishes them
            for kind in store.KINDS:
                store.purge(kind)
        gone = [w for s in self.stories.values() if not s["public"] for w in (s["kept"], s["private"])]
        found = words_in(root, gone)
        assert not found, f"machine {machine} has followed, yet its index files hold {found}"
        # A withheld paragraph stays in the staff index (curators read it); never in the public.
        withheld = [s["private"] for s in self.stories.values() if s["public"] and s["withheld"]]
        found = {w: [f for f in files if "/public/" in f] for w, files in words_in(root, withheld).items()}
        assert not any(found.values()), f"machine {machine}'s public index files hold {found}"

    @invariant()
    def check_every_machine(self) -> None:
        for machine in MACHINES:
            self._check(machine)

    def teardown(self) -> None:
        for app in self.apps.values():
            with app.app_context():
                db.session.remove()
                if POSTGRES_URL and app is self.apps["a"]:
                    _empty_tables()
                db.engine.dispose()
        store.forget_searchers()


@pytest.mark.timeout(900)
def test_two_machines_show_only_what_consent_allows_after_every_step_T21(
    _sqlite_template: Path, _postgres_schema: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    TwoMachines.folder_of = staticmethod(lambda: tmp_path_factory.mktemp("machines"))
    TwoMachines.template = _sqlite_template
    run_state_machine_as_test(
        TwoMachines,
        settings=settings(
            max_examples=12,
            stateful_step_count=12,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
