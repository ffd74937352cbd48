"""No lost work: a story's form sent after the staff session expired is kept as a draft.

A curator who types a translation for longer than the idle limit and presses "Save" used to
land on the sign-in page with the text gone. Now the post is kept, for that account only, and
the form's page offers it again after sign-in, filled in, until it is saved or discarded. It
is never applied by itself: the curator reads it and saves it through the usual form, with the
usual checks (the revision it was typed against included, so a story changed meanwhile is a
conflict, not an overwrite).

Only a post that passed the CSRF check (the app checks every post before any view) and came
from a session that ended by idleness is kept: a disabled account, a changed password or role,
or a browser that signed out keeps nothing. A draft holds a story's text, so it goes with
everything else when the story is withdrawn or its narrator keeps it to themselves, and it is
dropped after ``KEEP`` (``nuevonorte sweep``).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from flask import Request, url_for
from sqlalchemy import delete, select
from werkzeug.datastructures import MultiDict

from nuevonorte.extensions import db
from nuevonorte.models import CuratorDraft, Story, utcnow

#: The story forms that keep a draft: the saving endpoint -> the endpoint of the form's page.
DRAFTED = {
    "curate.save_description": "curate.describe",
    "curate.save_translation": "curate.translation",
    "curate.save_correction": "curate.correction",
    "curate.save_cues": "curate.transcript",
}
#: How long a draft is offered.
KEEP = timedelta(days=7)
#: A form bigger than this is not kept (the app already caps a request; this caps a row).
MAX_CHARS = 2_000_000
_NOT_KEPT = frozenset({"csrf_token"})


def keep(
    account_id: int, story: Story, page: str, form: MultiDict[str, str], now: datetime | None = None
) -> bool:
    """Keep ``form`` for ``account_id`` as the draft of ``page`` (replacing an older one);
    whether it was kept. The caller commits."""
    pairs = [[name, value] for name, value in form.items(multi=True) if name not in _NOT_KEPT]
    fields = json.dumps(pairs, ensure_ascii=False)
    if len(fields) > MAX_CHARS:
        return False
    draft = db.session.scalar(
        select(CuratorDraft).where(CuratorDraft.account_id == account_id, CuratorDraft.page == page)
    )
    if draft is None:
        draft = CuratorDraft(account_id=account_id, story_id=story.id, page=page)
        db.session.add(draft)
    draft.story_id = story.id
    draft.fields = fields
    draft.saved_at = now or utcnow()
    return True


def waiting(account_id: int, page: str, now: datetime | None = None) -> CuratorDraft | None:
    """The draft of ``page`` kept for ``account_id``, if one is still offered."""
    draft = db.session.scalar(
        select(CuratorDraft).where(CuratorDraft.account_id == account_id, CuratorDraft.page == page)
    )
    if draft is None or (now or utcnow()) - draft.saved_at > KEEP:
        return None
    return draft


def formdata(draft: CuratorDraft) -> MultiDict[str, str]:
    """The draft's fields, as the form posted them."""
    return MultiDict([(str(name), str(value)) for name, value in json.loads(draft.fields)])


def discard(account_id: int, page: str) -> None:
    """Forget ``account_id``'s draft of ``page`` (saved, or discarded); the caller commits."""
    db.session.execute(
        delete(CuratorDraft).where(CuratorDraft.account_id == account_id, CuratorDraft.page == page)
    )


def forget(story: Story) -> None:
    """Delete every draft of ``story`` (withdrawn, or kept by its narrator to themselves)."""
    db.session.execute(delete(CuratorDraft).where(CuratorDraft.story_id == story.id))


def sweep(now: datetime | None = None) -> int:
    """Delete drafts older than ``KEEP``; how many. The caller commits."""
    result = db.session.execute(delete(CuratorDraft).where(CuratorDraft.saved_at < (now or utcnow()) - KEEP))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def page_of(request: Request) -> str | None:
    """The address of the drafted form's page that ``request`` is for (its page, or a post that
    saves it); None for any other request."""
    endpoint = request.endpoint or ""
    page_endpoint = DRAFTED.get(endpoint, endpoint if endpoint in DRAFTED.values() else None)
    if page_endpoint is None or request.view_args is None:
        return None
    return url_for(page_endpoint, **request.view_args)
