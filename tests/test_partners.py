"""Partner archives (issue 19, decision 0025): B re-exhibits A's public stories and follows every
withdrawal, by push and by harvest, and hides A's stories when A goes silent. Two real archives
in one process (``tests/partner_fixtures.py``): real databases, indexes, queues and workers,
HTTP between them through httpx's WSGI transport. The same with two gunicorn servers and two
worker processes: ``tests/test_partners_live.py``."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from nuevonorte import stories
from nuevonorte.extensions import db
from nuevonorte.jobs import worker
from nuevonorte.models import Partner, PartnerStory, Story, StoryStatus
from nuevonorte.models.base import utcnow
from nuevonorte.partners import client, notices, registry
from tests.conftest import POSTGRES_URL
from tests.index_bytes import files_holding
from tests.partner_fixtures import A_URL, B_URL, Archives

MakeStory = Callable[..., Story]


def marker() -> str:
    return "zq" + secrets.token_hex(4).translate(str.maketrans("0123456789", "ghijklmnop"))


def join(archives: Archives) -> None:
    """A lets B follow its notices; B adds A (identify, confirm, first harvest and subscription)."""
    registry.allow(B_URL)
    db.session.commit()
    with archives.at_b():
        identity = registry.identify(A_URL)
        assert identity.protocol == "nuevonorte" and identity.name
        registry.add(identity)
        db.session.commit()
    worker.drain(archives.b)


def partner_at_b(archives: Archives) -> Partner:
    partner = db.session.scalar(select(Partner).where(Partner.url == A_URL))
    assert partner is not None
    return partner


def held_at_b(archives: Archives, remote_id: str) -> str | None:
    """B's public id of A's story, or None when B holds none."""
    with archives.at_b():
        return db.session.scalar(select(PartnerStory.public_id).where(PartnerStory.remote_id == remote_id))


def surfaces_at_b(
    archives: Archives, pid: str | None, word: str, collection: str | None = None
) -> dict[str, bool]:
    """Where B shows the story: its page, its search (page and API), a collection, index bytes."""
    b = archives.b.test_client()
    found = {
        "page": pid is not None and b.get(f"/es/from/{pid}").status_code == 200,
        "search_api": any(
            h["source"] != "here" for h in b.get(f"/api/v1/search?q={word}").get_json()["hits"]
        ),
        "search_page": word in b.get(f"/en/search?q={word}").get_data(as_text=True).split("results")[-1],
        "index_bytes": bool(files_holding(archives.roots["b"], word)),
    }
    if collection is not None:
        found["collection"] = word in b.get(f"/es/collections/{collection}").get_data(as_text=True)
    return found


def publish_at_a(make_story: MakeStory, word: str, **fields: object) -> Story:
    return make_story(
        StoryStatus.PUBLISHED, title=f"Relato {word}", body=f"Llegué a Tijuana con {word}.", **fields
    )


def collection_at_b(archives: Archives, pid: str) -> str:
    """A published collection of B that shows A's story (a curator's work)."""
    from nuevonorte import collections as domain

    with archives.at_b():
        from nuevonorte.accounts import create_curator

        curator = create_curator("curadora@b.example", "correct horse battery staple")
        collection = domain.create(curator, title_es="Entre ciudades", title_en="Between cities")
        story = db.session.scalar(select(PartnerStory).where(PartnerStory.public_id == pid))
        assert story is not None
        domain.add_partner_story(collection, story, curator, note_es="Desde Ciudad de México")
        domain.add_text(collection, curator, "Texto curatorial", "Curatorial text")
        domain.publish(collection, curator)
        db.session.commit()
        return collection.public_id


# --- the whole path --------------------------------------------------------------------------


def test_a_story_published_at_a_is_shown_at_b_on_every_surface_with_its_credit(
    archives: Archives, make_story: MakeStory
) -> None:
    word = marker()
    story = publish_at_a(make_story, word)
    join(archives)
    pid = held_at_b(archives, story.public_id)
    assert pid is not None
    collection = collection_at_b(archives, pid)
    assert surfaces_at_b(archives, pid, word, collection) == dict.fromkeys(
        ("page", "search_api", "search_page", "index_bytes", "collection"), True
    )
    page = archives.b.test_client().get(f"/en/from/{pid}")
    html = page.get_data(as_text=True)
    assert "Ana" in html and "From the archive" in html and f"{A_URL}/s/{story.public_id}" in html
    # Pictures and recordings may load from A and nowhere else; scripts only from B itself.
    policy = page.headers["Content-Security-Policy"]
    assert f"img-src 'self' data: {A_URL}" in policy and f"media-src 'self' blob: {A_URL}" in policy
    assert "default-src 'self'" in policy and A_URL not in policy.split("img-src")[0]
    facets = archives.b.test_client().get(f"/api/v1/search?q={word}").get_json()["facets"]["source"]
    with archives.at_b():
        partner_id = partner_at_b(archives).id
    assert facets[0]["value"] == f"p{partner_id}" and facets[0]["label"] == partner_at_b_name(archives)


def partner_at_b_name(archives: Archives) -> str:
    with archives.at_b():
        return partner_at_b(archives).name


def test_b_subscribed_to_a_and_a_keeps_the_key_b_proved_at_its_own_address(archives: Archives) -> None:
    join(archives)
    at_a = db.session.scalar(select(Partner).where(Partner.url == B_URL))
    assert at_a is not None and at_a.key_out and not at_a.harvested
    with archives.at_b():
        at_b = partner_at_b(archives)
        assert at_b.subscribed and at_b.key_in == at_a.key_out and at_b.confirmed_at is not None


def test_withdrawn_at_a_it_leaves_every_surface_of_b_and_its_bytes_with_the_push_T13(
    archives: Archives, make_story: MakeStory
) -> None:
    word = marker()
    story = publish_at_a(make_story, word)
    join(archives)
    pid = held_at_b(archives, story.public_id)
    assert pid is not None
    collection = collection_at_b(archives, pid)
    stories.withdraw(story)
    db.session.commit()
    worker.drain(archives.a)  # A's worker sends the notice; B does not harvest
    assert held_at_b(archives, story.public_id) is None
    assert not any(surfaces_at_b(archives, pid, word, collection).values())
    page = archives.b.test_client().get(f"/en/collections/{collection}").get_data(as_text=True)
    assert "This story was withdrawn at its origin, the archive" in page and "Curatorial text" in page
    if not POSTGRES_URL:
        with archives.at_b():
            main = Path(str(db.engine.url.database))
        for path in (main, Path(f"{main}-wal"), Path(f"{main}-journal")):
            if path.exists():
                assert word.encode() not in path.read_bytes(), path.name


def test_with_the_push_blocked_the_next_harvest_removes_it(archives: Archives, make_story: MakeStory) -> None:
    word = marker()
    story = publish_at_a(make_story, word)
    join(archives)
    archives.net.blocked_paths.add("/api/v1/partners/notices")
    stories.withdraw(story)
    db.session.commit()
    worker.drain(archives.a)  # the notice fails (retried later by the queue)
    assert held_at_b(archives, story.public_id) is not None
    at_a = db.session.scalar(select(Partner).where(Partner.url == B_URL))
    assert at_a is not None and at_a.last_error == "push_failed"
    _harvest_due(archives)
    assert held_at_b(archives, story.public_id) is None
    assert not any(surfaces_at_b(archives, None, word).values())


def _harvest_due(archives: Archives) -> None:
    """Make B's partner harvest due (its interval passed) and run B's worker."""
    with archives.at_b():
        partner = partner_at_b(archives)
        partner.last_attempt_at = utcnow() - timedelta(seconds=5)
        db.session.commit()
    worker.drain(archives.b)


def test_a_story_narrowed_at_a_to_private_leaves_b_and_a_new_one_arrives(
    archives: Archives, make_story: MakeStory
) -> None:
    first, second = marker(), marker()
    story = publish_at_a(make_story, first)
    join(archives)
    stories.keep_private(story, None)
    db.session.commit()
    later = publish_at_a(make_story, second)
    worker.drain(archives.a)
    assert held_at_b(archives, story.public_id) is None
    assert held_at_b(archives, later.public_id) is None  # not yet: B learns of it by harvesting
    _harvest_due(archives)
    assert held_at_b(archives, later.public_id) is not None


def test_a_silent_partner_s_stories_are_hidden_after_the_limit_and_back_once_it_answers_T13(
    archives: Archives, make_story: MakeStory
) -> None:
    word = marker()
    story = publish_at_a(make_story, word)
    join(archives)
    pid = held_at_b(archives, story.public_id)
    archives.net.down.add(A_URL)
    with archives.at_b():  # the limit passes without a harvest that reached A
        partner = partner_at_b(archives)
        partner.confirmed_at = utcnow() - timedelta(seconds=archives.b.config["PARTNER_CONFIRM_SECONDS"] + 1)
        db.session.commit()
    _harvest_due(archives)
    assert held_at_b(archives, story.public_id) == pid  # kept, but shown nowhere
    assert not any(surfaces_at_b(archives, pid, word).values())
    with archives.at_b():
        assert partner_at_b(archives).last_error == "unreachable" and partner_at_b(archives).expired
    archives.net.down.clear()
    _harvest_due(archives)
    assert all(surfaces_at_b(archives, pid, word).values())


def test_a_restore_of_an_older_backup_at_a_makes_b_read_its_feed_again(
    archives: Archives, make_story: MakeStory
) -> None:
    kept, dropped = marker(), marker()
    story = publish_at_a(make_story, kept)
    gone = publish_at_a(make_story, dropped)
    join(archives)
    gone_id, story_id = gone.public_id, story.public_id
    assert held_at_b(archives, gone_id) is not None
    # A restores a backup from before ``gone`` was published: its change feed starts over, below
    # B's cursor, and never names ``gone`` (what a restore leaves, made here without the push: a
    # lower counter, no record of the story, the story not public).
    from nuevonorte.models import ChangeCounter, PublicRecord

    archives.net.blocked_paths.add("/api/v1/partners/notices")
    stories.keep_private(gone, None)
    db.session.commit()
    db.session.execute(PublicRecord.__table__.delete().where(PublicRecord.story_id == gone.id))
    db.session.execute(ChangeCounter.__table__.update().values(value=1))
    db.session.commit()
    _harvest_due(archives)
    assert held_at_b(archives, gone_id) is None
    assert held_at_b(archives, story_id) is not None


# --- what comes in is checked ------------------------------------------------------------------


def test_a_notice_with_a_wrong_signature_or_an_old_time_removes_nothing_A28(
    archives: Archives, make_story: MakeStory
) -> None:
    story = publish_at_a(make_story, marker())
    join(archives)
    body = b'{"removed": ["%s"]}' % story.public_id.encode()
    with archives.at_b():
        key = partner_at_b(archives).key_in
    b = archives.b.test_client()
    import time

    now = str(int(time.time()))
    for headers in (
        {notices.HEADER_FROM: A_URL, notices.HEADER_TIME: now, notices.HEADER_SIGNATURE: "0" * 64},
        {
            notices.HEADER_FROM: A_URL,
            notices.HEADER_TIME: str(int(time.time()) - 3600),
            notices.HEADER_SIGNATURE: notices.signature(key, str(int(time.time()) - 3600), body),
        },
        {
            notices.HEADER_FROM: "http://127.0.0.1:9",
            notices.HEADER_TIME: now,
            notices.HEADER_SIGNATURE: notices.signature(key, now, body),
        },
    ):
        answer = b.post(
            "/api/v1/partners/notices", data=body, headers=headers, content_type="application/json"
        )
        assert answer.status_code == 403 and answer.get_json()["error"] in ("bad_signature", "not_a_partner")
    assert held_at_b(archives, story.public_id) is not None
    good = {
        notices.HEADER_FROM: A_URL,
        notices.HEADER_TIME: now,
        notices.HEADER_SIGNATURE: notices.signature(key, now, body),
    }
    answer = b.post("/api/v1/partners/notices", data=body, headers=good, content_type="application/json")
    assert answer.get_json() == {"removed": 1} and held_at_b(archives, story.public_id) is None


def test_a_subscription_is_refused_from_an_archive_not_added_or_not_confirming_A28(
    archives: Archives,
) -> None:
    a = archives.a.test_client()
    stranger = a.post("/api/v1/partners/subscribe", json={"url": "http://127.0.0.1:9", "key": "a" * 64})
    assert stranger.status_code == 403 and stranger.get_json()["error"] == "not_a_partner"
    registry.allow(B_URL)
    db.session.commit()
    # B is a partner of A, but B never asked: it does not confirm the key, which A keeps not.
    forged = a.post(
        "/api/v1/partners/subscribe", json={"url": B_URL, "key": "b" * 64}, headers={"Accept-Language": "en"}
    )
    assert forged.status_code == 403 and forged.get_json()["error"] == "not_confirmed"
    assert (
        forged.get_json()["message"] == "Your archive did not confirm this subscription at its own address."
    )
    at_a = db.session.scalar(select(Partner).where(Partner.url == B_URL))
    assert at_a is not None and at_a.key_out == ""
    # Asking again at once makes A check nothing (each check is a request of A's to B).
    again = a.post("/api/v1/partners/subscribe", json={"url": B_URL, "key": "c" * 64})
    assert again.status_code == 429 and again.get_json()["error"] == "too_soon"
    assert "minuto" in again.get_json()["message"]  # Spanish by default


def crafted(status: int, body: bytes, headers: dict[str, str] | None = None) -> Flask:
    """A partner that answers every request with ``body`` (what a hostile archive could send)."""
    app = Flask("crafted")

    @app.route("/", defaults={"path": ""}, methods=["GET", "POST"])
    @app.route("/<path:path>", methods=["GET", "POST"])
    def answer(path: str) -> tuple[bytes, int, dict[str, str]]:
        return body, status, {"Content-Type": "application/json", **(headers or {})}

    return app


@pytest.mark.parametrize(
    ("status", "body", "headers", "code"),
    [
        (302, b"", {"Location": "http://169.254.169.254/latest/meta-data/"}, "redirected"),
        (200, b"{" + b" " * (client.MAX_BYTES + 1) + b"}", None, "too_large"),
        (200, b"<html>not json</html>", None, "not_json"),
        (200, b'{"changes": "no"}', None, "not_a_feed"),
        (
            200,
            b'{"changes": [{"type": "story", "id": "../../etc", "change": "added"}], "next": "1"}',
            None,
            "not_a_feed",
        ),
    ],
)
def test_a_partner_that_answers_badly_changes_nothing_here_A28(
    archives: Archives, status: int, body: bytes, headers: dict[str, str] | None, code: str
) -> None:

    harvested_badly(archives, crafted(status, body, headers), "nuevonorte", code)


def harvested_badly(archives: Archives, partner: Flask, protocol: str, code: str) -> None:
    """B adds ``partner`` and harvests it: the harvest ends with ``code`` and keeps nothing."""
    import httpx

    url = "http://127.0.0.1:18009"
    archives.net.apps[url] = httpx.WSGITransport(app=partner)
    with archives.at_b():
        partner_id = registry.add(registry.Identity(url, "Crafted", protocol, None)).id
        db.session.commit()
    worker.drain(archives.b)
    with archives.at_b():
        kept = db.session.get(Partner, partner_id)
        assert kept is not None and kept.last_error == code and kept.confirmed_at is None
        assert db.session.scalar(select(PartnerStory.id)) is None


def test_partner_text_is_plain_text_on_b_s_pages_A28(archives: Archives, make_story: MakeStory) -> None:
    story = publish_at_a(make_story, marker())
    story.title_es = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    db.session.commit()
    join(archives)
    pid = held_at_b(archives, story.public_id)
    html = archives.b.test_client().get(f"/es/from/{pid}").get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;" in html and "<img src=x" not in html


def test_only_the_partner_s_own_addresses_are_kept_for_media(archives: Archives) -> None:
    from nuevonorte.partners import holdings

    with archives.at_b():
        partner = registry.add(registry.Identity(A_URL, "A", "nuevonorte", None))
        db.session.flush()
        kept = holdings.keep(
            partner,
            {
                "id": "abc",
                "title": {"es": "t", "en": None},
                "images": [
                    {
                        "alt": {},
                        "files": {
                            "display": "https://evil.example/x.jpg",
                            "thumbnail": f"{A_URL}/media/a/thumbnail",
                        },
                    }
                ],
                "recordings": [{"audio": "javascript:alert(1)", "transcript": {"cues": [None]}}],
            },
        )
        assert kept.images == [
            {
                "alt": {"es": "", "en": ""},
                "thumbnail": f"{A_URL}/media/a/thumbnail",
                "display": None,
                "original": None,
            }
        ]
        assert kept.recordings == []
        db.session.rollback()


# --- archives that are not Nuevo Norte: OAI-PMH ----------------------------------------------------


def test_a_repository_that_is_not_nuevo_norte_is_harvested_through_oai_pmh(
    archives: Archives, make_story: MakeStory
) -> None:
    """A's OAI-PMH endpoint read as any repository's would be (Dublin Core only): its records are
    shown at B, and one that leaves A's list (a deleted header) leaves B at the next harvest."""
    kept, gone = marker(), marker()
    story = publish_at_a(make_story, kept)
    withdrawn = publish_at_a(make_story, gone)
    withdrawn_id = withdrawn.public_id
    with archives.at_b():
        registry.add(registry.Identity(A_URL, "Un repositorio", "oai", None))
        db.session.commit()
    worker.drain(archives.b)
    pid = held_at_b(archives, story.public_id)
    assert pid is not None and held_at_b(archives, withdrawn_id) is not None
    assert all(surfaces_at_b(archives, pid, kept).values())
    assert "Ana" in archives.b.test_client().get(f"/es/from/{pid}").get_data(as_text=True)
    stories.withdraw(withdrawn)
    db.session.commit()
    _harvest_due(archives)
    assert held_at_b(archives, withdrawn_id) is None and not any(surfaces_at_b(archives, None, gone).values())
    assert held_at_b(archives, story.public_id) == pid


def test_adding_an_oai_pmh_repository_identifies_it_by_its_repository_name(archives: Archives) -> None:
    import httpx

    url = "http://127.0.0.1:18010"
    repository = Flask("repository")

    @repository.get("/oai")
    def identify() -> tuple[str, int, dict[str, str]]:
        xml = (
            '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><Identify>'
            "<repositoryName>Biblioteca de la Frontera</repositoryName></Identify></OAI-PMH>"
        )
        return xml, 200, {"Content-Type": "text/xml"}

    archives.net.apps[url] = httpx.WSGITransport(app=repository)
    with archives.at_b():
        identity = registry.identify(url)
    assert identity == registry.Identity(url, "Biblioteca de la Frontera", "oai", None)


def test_check_finds_and_removes_a_partner_story_the_index_should_not_hold(
    archives: Archives, make_story: MakeStory
) -> None:
    """What ``nuevonorte check`` reports when a partner story's entry outlived its row (a process
    killed in between): urgent, and repaired at once, words and all."""
    from nuevonorte.partners import holdings
    from nuevonorte.search import index_findings

    word = marker()
    remote_id = publish_at_a(make_story, word).public_id
    join(archives)
    with archives.at_b():
        partner = partner_at_b(archives)
        holdings.remove(partner, [remote_id])  # committed without its index write
        db.session.commit()
        findings = index_findings()
        assert [f.kind for f in findings if f.urgent] == ["public-index-partner-not-shown"]
        assert not [f for f in index_findings() if f.kind.startswith("public-index-partner")]
    assert not files_holding(archives.roots["b"], word)


# --- changes after the fact (found in review) ---------------------------------------------------


def test_a_notice_that_arrives_while_b_reads_the_story_is_not_undone_by_that_read_T13(
    archives: Archives, make_story: MakeStory
) -> None:
    """B's harvest has fetched a story (public then); before it writes it, A withdraws the story
    and its notice reaches B. The harvest must not bring it back — even with A unreachable after."""
    word = marker()
    join(archives)
    story = publish_at_a(make_story, word)
    remote_id = story.public_id

    def withdraw_meanwhile(path: str) -> None:
        if path == f"/api/v1/stories/{remote_id}" and archives.net.meanwhile is not None:
            archives.net.meanwhile = None
            with archives.a.app_context():
                found = db.session.scalar(select(Story).where(Story.public_id == remote_id))
                assert found is not None
                stories.withdraw(found)
                db.session.commit()
            worker.drain(archives.a)  # the notice reaches B now, mid-harvest
            archives.net.down.add(A_URL)  # and then A cannot be reached: no later harvest helps

    archives.net.meanwhile = withdraw_meanwhile
    _harvest_due(archives)
    assert archives.net.meanwhile is None  # it happened
    assert held_at_b(archives, remote_id) is None
    _harvest_due(archives)
    assert held_at_b(archives, remote_id) is None
    assert not any(surfaces_at_b(archives, None, word).values())


def test_a_restored_older_copy_at_a_whose_numbers_pass_b_s_cursor_is_read_again_T13(
    archives: Archives, make_story: MakeStory
) -> None:
    """A restores an older copy of its database: its change feed's numbers go back, and grow
    past B's cursor again before B harvests. The feed's epoch tells B to read it from the start."""
    from nuevonorte import changes
    from nuevonorte.models import ChangeCounter, PublicRecord

    lost = publish_at_a(make_story, marker())
    lost_id = lost.public_id
    join(archives)
    with archives.at_b():
        cursor_at_b = int(partner_at_b(archives).cursor)
    archives.net.blocked_paths.add("/api/v1/partners/notices")
    # What the restore leaves: the story gone from public view with no record of it, the counter
    # back to 0 and then past B's cursor with new work, and a new epoch (``restore``, ``ledger``).
    stories.keep_private(lost, None)
    db.session.commit()
    db.session.execute(PublicRecord.__table__.delete().where(PublicRecord.story_id == lost.id))
    db.session.execute(ChangeCounter.__table__.update().values(value=0))
    changes.new_epoch()
    db.session.commit()
    newer = [publish_at_a(make_story, marker()).public_id for _ in range(cursor_at_b + 1)]
    assert changes.last_seq() > cursor_at_b
    _harvest_due(archives)
    assert held_at_b(archives, lost_id) is None
    assert all(held_at_b(archives, i) is not None for i in newer)


def test_a_narrowing_at_a_hides_b_s_copy_at_once_and_b_shows_the_narrower_story_after_reading_it_T13(
    archives: Archives, make_story: MakeStory
) -> None:
    from dataclasses import replace

    from nuevonorte.models import Credit

    word = marker()
    story = publish_at_a(make_story, word)
    join(archives)
    pid = held_at_b(archives, story.public_id)
    assert "Ana" in archives.b.test_client().get(f"/es/from/{pid}").get_data(as_text=True)
    current = story.current_consent
    assert current is not None
    stories.change_consent(story, replace(current.choices, credit=Credit.ANONYMOUS), language="es")
    db.session.commit()
    archives.net.blocked_paths.add("/api/v1/stories/" + story.public_id)  # B cannot fetch it yet
    worker.drain(archives.a)
    assert not any(surfaces_at_b(archives, pid, word).values())  # hidden at once, not deleted
    assert held_at_b(archives, story.public_id) == pid
    archives.net.blocked_paths.clear()
    _harvest_due(archives)
    page = archives.b.test_client().get(f"/es/from/{pid}").get_data(as_text=True)
    assert "Ana" not in page and word in page
    if not POSTGRES_URL:
        with archives.at_b():
            main = Path(str(db.engine.url.database))
        for path in (main, Path(f"{main}-wal")):
            if path.exists():
                assert b'"Ana"' not in path.read_bytes() and b"Ana" not in path.read_bytes(), path.name


def test_more_withdrawals_than_one_notice_holds_all_reach_b(
    archives: Archives, make_story: MakeStory, monkeypatch: pytest.MonkeyPatch
) -> None:
    told = [publish_at_a(make_story, marker()) for _ in range(5)]
    ids = [s.public_id for s in told]
    join(archives)
    monkeypatch.setattr(notices, "MAX_IDS", 2)
    for story in told:
        stories.withdraw(story)
    db.session.commit()
    worker.drain(archives.a)  # notices of 2, 2 and 1: each asks for the next
    assert all(held_at_b(archives, i) is None for i in ids)


def streaming(size: int) -> Flask:
    """A partner that streams an answer without saying its length."""
    app = Flask("streaming")

    @app.route("/<path:path>")
    def answer(path: str) -> Any:
        def chunks() -> Iterator[bytes]:
            yield b'{"changes": ['
            for _ in range(size // 65536 + 1):
                yield b" " * 65536
            yield b"]}"

        return app.response_class(chunks(), mimetype="application/json")

    return app


def oai_answer(body: bytes) -> Flask:
    app = Flask("oai")

    @app.route("/<path:path>")
    def answer(path: str) -> tuple[bytes, int, dict[str, str]]:
        return body, 200, {"Content-Type": "text/xml"}

    return app


BILLION_LAUGHS = (
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><Identify><repositoryName>&b;</repositoryName>'
    "</Identify></OAI-PMH>"
).encode("utf-16")


@pytest.mark.parametrize(
    ("partner", "protocol", "code"),
    [
        (lambda: streaming(client.MAX_BYTES), "nuevonorte", "too_large"),
        (lambda: oai_answer(BILLION_LAUGHS), "oai", "not_oai"),
        (lambda: oai_answer(b'<!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>'), "oai", "not_oai"),
    ],
)
def test_a_partner_that_streams_too_much_or_declares_entities_changes_nothing_A28(
    archives: Archives, partner: Callable[[], Flask], protocol: str, code: str
) -> None:
    harvested_badly(archives, partner(), protocol, code)


def test_partner_text_is_plain_text_in_b_s_search_A28(archives: Archives, make_story: MakeStory) -> None:
    word = marker()
    story = publish_at_a(make_story, word)
    story.title_es = f'<script>alert("{word}")</script>'
    story.summary_es = f"<img src=x onerror=alert(1)> {word}"
    db.session.commit()
    join(archives)
    html = archives.b.test_client().get(f"/es/search?q={word}").get_data(as_text=True)
    assert word in html and "<script>alert" not in html and "<img src=x" not in html


def test_a_partner_story_with_a_content_warning_is_held_back_at_b_as_at_a(
    archives: Archives, make_story: MakeStory
) -> None:
    from nuevonorte.content_warnings import WARNINGS

    code = next(iter(WARNINGS))
    word = marker()
    story = publish_at_a(make_story, word, content_warnings=code)
    join(archives)
    pid = held_at_b(archives, story.public_id)
    b = archives.b.test_client()
    held = b.get(f"/en/from/{pid}").get_data(as_text=True)
    assert "Continue to the story" in held and f"Llegué a Tijuana con {word}" not in held
    shown = b.get(f"/en/from/{pid}?show=1").get_data(as_text=True)
    assert f"Llegué a Tijuana con {word}" in shown


def test_a_partner_story_s_themes_link_to_ours_when_their_names_match(
    archives: Archives, make_story: MakeStory
) -> None:
    from nuevonorte.models import Theme

    def theme(slug: str, es: str, en: str) -> Theme:
        return Theme(slug=slug, slug_en=slug + "-en", name_es=es, name_en=en)

    shared, theirs = theme("retorno", "Retorno", "Return"), theme("cosecha", "Cosecha", "Harvest")
    db.session.add_all([shared, theirs])
    db.session.commit()
    story = publish_at_a(make_story, marker())
    story.themes = [shared, theirs]
    db.session.commit()
    with archives.at_b():
        db.session.add(theme("regreso", "Retorno", "Coming back"))  # the same name in Spanish
        db.session.commit()
    join(archives)
    pid = held_at_b(archives, story.public_id)
    html = archives.b.test_client().get(f"/es/from/{pid}").get_data(as_text=True)
    assert 'href="/es/themes/regreso">Retorno</a>' in html
    assert "Cosecha" in html and "/themes/cosecha" not in html
    hits = archives.b.test_client().get("/api/v1/search?q=Tijuana&theme=regreso").get_json()["hits"]
    assert [h["id"] for h in hits] == [pid]


def test_a_restore_starts_a_new_feed_epoch_and_hides_every_partner_story_until_read_again(
    archives: Archives, make_story: MakeStory
) -> None:
    """What ``nuevonorte restore`` does after loading an older database, on both sides of a
    partnership: A's feed gets a new epoch (B then reads it from 0); B forgets its confirmations."""
    from nuevonorte import changes
    from nuevonorte.backups import restore

    story = publish_at_a(make_story, marker())
    join(archives)
    before = changes.epoch()
    restore.restored_older_copy()
    assert changes.epoch() != before
    with archives.at_b():
        restore.restored_older_copy()
        partner = partner_at_b(archives)
        assert partner.cursor == "" and partner.confirmed_at is None and partner.subscribed_at is None
    pid = held_at_b(archives, story.public_id)
    assert archives.b.test_client().get(f"/es/from/{pid}").status_code == 404
    _harvest_due(archives)
    assert archives.b.test_client().get(f"/es/from/{pid}").status_code == 200
