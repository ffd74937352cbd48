"""Reading a partner archive: its change feed when it is a Nuevo Norte archive, OAI-PMH otherwise.

A harvest never holds a transaction while it waits on the network: it reads a page of changes
and the stories they name, then writes that page in one transaction with the cursor that
follows it. Killed at any point, the next harvest starts from the last page written and writes
the same stories again (``holdings.keep`` replaces). When the partner says our cursor is one it
never gave (it restored an older backup), the feed is read again from the start and every story
it no longer lists is removed. A harvest that reads the feed to its end confirms every story
still held (``shown``).
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from sqlalchemy import select

from nuevonorte import faults
from nuevonorte.database import write_transaction
from nuevonorte.extensions import db
from nuevonorte.models import Partner, PartnerStory
from nuevonorte.models.base import utcnow
from nuevonorte.partners import address, client, holdings
from nuevonorte.search import sync

log = logging.getLogger(__name__)

#: Pages of changes read in one harvest at most (100 changes each); the next goes on.
MAX_PAGES = 1000
OAI_NS = {"oai": "http://www.openarchives.org/OAI/2.0/", "dc": "http://purl.org/dc/elements/1.1/"}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass
class Outcome:
    kept: int = 0
    removed: int = 0
    complete: bool = False


def harvest(partner_id: int) -> Outcome:
    """Read what changed at the partner since the last harvest and apply it. Raises
    ``client.Unreachable`` when the partner cannot be read (what was written stays written)."""
    partner = db.session.get(Partner, partner_id)
    if partner is None or not partner.harvested:
        db.session.rollback()
        return Outcome()
    protocol = partner.protocol
    holdings.reconcile(partner_id)  # what a harvest or a notice killed mid-way left
    db.session.rollback()
    outcome = _oai(partner_id) if protocol == "oai" else _changes(partner_id)
    _confirmed(partner_id, outcome)
    return outcome


def _partner(partner_id: int) -> Partner:
    partner = db.session.get(Partner, partner_id)
    if partner is None:
        raise client.Unreachable("partner_gone")
    return partner


def _changes(partner_id: int) -> Outcome:
    outcome = Outcome()
    partner = _partner(partner_id)
    base, cursor, epoch = partner.url, partner.cursor or "0", partner.epoch
    # The ids seen, while the feed is read from the start: the first harvest, one after a
    # restore of our backup (``restore.restored_older_copy``), or after the partner's own.
    resync: set[str] | None = set() if not partner.cursor else None
    db.session.rollback()
    for _page in range(MAX_PAGES):
        notices_before = _notice_seq(partner_id)
        url = address.endpoint(base, "/api/v1/changes", since=cursor)
        answer = client.get_json(url, ok=(200, 400))
        if answer.status == 400:
            if cursor == "0" or not isinstance(answer.body, dict) or answer.body.get("error") != "bad_cursor":
                raise client.Unreachable("bad_status", 400)
            log.info("partner %d: our cursor is unknown there; reading its feed again", partner_id)
            cursor, resync = "0", set()
            continue
        changes, following, more, their_epoch = _page_of(answer.body)
        if their_epoch != epoch and resync is None and epoch:
            # Its numbers went back (it restored an older copy): ours may skip some. Start over.
            log.info("partner %d: its change feed started a new epoch; reading it again", partner_id)
            cursor, resync = "0", set()
            continue
        epoch = their_epoch
        stories: dict[str, object] = {}
        gone: list[str] = []
        for change in changes:
            if change["change"] == "removed":
                gone.append(change["id"])
                continue
            found = client.get_json(address.story_api(base, change["id"]), ok=(200, 404))
            if found.status == 404:  # not public there any more (since the feed was read)
                gone.append(change["id"])
            else:
                stories[change["id"]] = found.body
        after = (following, epoch) if resync is None else None
        if not _write(partner_id, stories, gone, after, outcome, notices_before):
            continue  # a notice came while the page was read: read it again
        if resync is not None:
            resync.update(stories)
        faults.point("partner.page_written")
        cursor = following
        if not more:
            break
    else:
        return outcome  # more pages than one harvest reads: the next harvest goes on
    if resync is not None:
        with write_transaction():
            partner = _partner(partner_id)
            holdings.remove_all_but(partner, resync)
            partner.cursor, partner.epoch = cursor, epoch
            db.session.commit()
        sync.follow_now()
    _read_again(partner_id, base, outcome)
    outcome.complete = True
    return outcome


def _read_again(partner_id: int, base: str, outcome: Outcome) -> None:
    """Each story a notice said changed (hidden meanwhile), read again by its id: the feed may
    have given its newest state before the notice came, and would not give it again."""
    for _turn in range(MAX_PAGES):
        waiting = list(
            db.session.scalars(
                select(PartnerStory.remote_id)
                .where(PartnerStory.partner_id == partner_id, PartnerStory.stale.is_(True))
                .limit(100)
            )
        )
        db.session.rollback()
        if not waiting:
            return
        notices_before = _notice_seq(partner_id)
        stories: dict[str, object] = {}
        gone: list[str] = []
        for remote_id in waiting:
            found = client.get_json(address.story_api(base, remote_id), ok=(200, 404))
            if found.status == 404:
                gone.append(remote_id)
            else:
                stories[remote_id] = found.body
        _write(partner_id, stories, gone, None, outcome, notices_before)


def _notice_seq(partner_id: int) -> int:
    seq = _partner(partner_id).notice_seq
    db.session.rollback()
    return seq


def _page_of(body: object) -> tuple[list[dict[str, str]], str, bool, str]:
    """The story changes of a page of the feed, the next cursor, whether more follow, and the
    feed's epoch ("" from an archive older than epochs)."""
    if not isinstance(body, dict) or not isinstance(body.get("changes"), list):
        raise client.Unreachable("not_a_feed")
    epoch = body.get("epoch", "")
    if not isinstance(epoch, str) or len(epoch) > 40:
        raise client.Unreachable("not_a_feed")
    following = body.get("next")
    if not isinstance(following, str) or not following.isdigit() or len(following) > 18:
        raise client.Unreachable("not_a_feed")
    changes = []
    for change in body["changes"]:
        if not isinstance(change, dict) or change.get("type") != "story":
            continue  # collections are the partner's own: we re-exhibit stories
        remote_id, kind = change.get("id"), change.get("change")
        if not isinstance(remote_id, str) or not address.REMOTE_ID.fullmatch(remote_id):
            raise client.Unreachable("not_a_feed")
        if kind not in ("added", "updated", "removed"):
            raise client.Unreachable("not_a_feed")
        changes.append({"id": remote_id, "change": kind})
    return changes, following, bool(body.get("more")), epoch


def _write(
    partner_id: int,
    stories: dict[str, object],
    gone: list[str],
    after: tuple[str, str] | None,
    outcome: Outcome,
    notices_before: int | None = None,
) -> bool:
    """One page in one transaction: the stories kept, those removed, and the cursor (and epoch)
    after it. False, with only the removals written, when a notice was applied since the page
    was read (``notices_before``): what the page fetched may be what the notice took away."""
    dropped = False
    with write_transaction():
        partner = _partner(partner_id)
        if notices_before is not None and partner.notice_seq != notices_before:
            stories, after, dropped = {}, None, True
        for remote_id, data in stories.items():
            try:
                holdings.keep(partner, data)
                outcome.kept += 1
            except holdings.BadStory:
                log.warning("partner %d: a story was not in the read API's shape; not kept", partner_id)
                gone.append(remote_id)  # an older copy is not kept either: fail closed
        removed = holdings.remove(partner, gone)
        outcome.removed += len(removed)
        if after is not None:
            partner.cursor, partner.epoch = after
        if stories or removed:
            from nuevonorte import audit

            audit.record("partner.harvested", "partner", str(partner_id))
        db.session.commit()
    faults.point("partner.page_committed")  # tests: killed here, the next harvest reconciles
    sync.follow_now()
    return not dropped


def _confirmed(partner_id: int, outcome: Outcome) -> None:
    """After a harvest that read to the end: every story still held is confirmed now."""
    if not outcome.complete:
        return
    with write_transaction():
        partner = _partner(partner_id)
        was_expired = partner.expired
        partner.confirmed_at, partner.last_error, partner.expired = utcnow(), "", False
        if was_expired:
            from nuevonorte import audit

            audit.record("partner.confirmed", "partner", str(partner_id))
            holdings.log_partner(partner_id)
        db.session.commit()
    if was_expired:
        sync.follow_now()


# --- OAI-PMH, for archives that are not Nuevo Norte --------------------------------------------


def _oai(partner_id: int) -> Outcome:
    """Every record, each harvest (many repositories never announce a deletion: what is no longer
    listed is removed). Dublin Core only: titles, descriptions, creators and subjects as text."""
    outcome = Outcome()
    base = _partner(partner_id).url
    db.session.rollback()
    seen: set[str] = set()
    args: dict[str, str] = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
    for _page in range(MAX_PAGES):
        root = client.get_xml(address.endpoint(base, "/oai", **args))
        error = root.find("oai:error", OAI_NS)
        if error is not None:
            if error.get("code") == "noRecordsMatch":
                break
            raise client.Unreachable("oai_error")
        stories: dict[str, object] = {}
        gone: list[str] = []
        for record in root.iterfind("oai:ListRecords/oai:record", OAI_NS):
            remote_id, data = _dublin_core(record, base)
            if remote_id is None:
                continue
            if data is None:
                gone.append(remote_id)
            else:
                seen.add(remote_id)
                stories[remote_id] = data
        _write(partner_id, stories, gone, None, outcome)
        token = root.findtext("oai:ListRecords/oai:resumptionToken", default="", namespaces=OAI_NS).strip()
        if not token:
            break
        args = {"verb": "ListRecords", "resumptionToken": token[:500]}
    else:
        return outcome
    with write_transaction():
        holdings.remove_all_but(_partner(partner_id), seen)
        db.session.commit()
    sync.follow_now()
    outcome.complete = True
    return outcome


def _dublin_core(record: ET.Element, base: str) -> tuple[str | None, dict[str, object] | None]:
    """A record as the read API's story shape (what ``holdings.keep`` reads), or None when the
    header says it was deleted."""
    header = record.find("oai:header", OAI_NS)
    identifier = (
        header.findtext("oai:identifier", default="", namespaces=OAI_NS) if header is not None else ""
    )
    remote_id = identifier.rsplit(":", 1)[-1].replace("/", "_")[-80:]
    if not address.REMOTE_ID.fullmatch(remote_id):
        return None, None
    if header is not None and header.get("status") == "deleted":
        return remote_id, None
    dc = record.find("oai:metadata/{http://www.openarchives.org/OAI/2.0/oai_dc/}dc", OAI_NS)
    if dc is None:
        return remote_id, None

    def by_lang(name: str) -> dict[str, str]:
        found: dict[str, str] = {}
        for element in dc.iterfind(f"dc:{name}", OAI_NS):
            lang = "en" if (element.get(XML_LANG) or "").startswith("en") else "es"
            found.setdefault(lang, (element.text or "").strip())
        return found

    links = [address.on_partner(base, (e.text or "").strip()) for e in dc.iterfind("dc:identifier", OAI_NS)]
    creators = [(e.text or "").strip() for e in dc.iterfind("dc:creator", OAI_NS)]
    subjects = [(e.text or "").strip() for e in dc.iterfind("dc:subject", OAI_NS)]
    return remote_id, {
        "id": remote_id,
        "url": next((link for link in links if link), None),
        "title": by_lang("title"),
        "summary": by_lang("description"),
        "credit": ", ".join(c for c in creators if c),
        "language": "en"
        if (dc.findtext("dc:language", default="", namespaces=OAI_NS) or "").startswith("en")
        else "es",
        "themes": [{"id": s[:80], "slug": {"es": s[:80]}, "name": {"es": s, "en": s}} for s in subjects if s],
    }
