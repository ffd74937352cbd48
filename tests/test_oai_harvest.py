"""A real harvester, Sickle, harvests the archive over HTTP (issue 17): every record across
resumption tokens, deleted records included, then one record, the sets and the formats."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sickle import Sickle
from sickle.oaiexceptions import IdDoesNotExist

from nuevonorte import oai, stories
from nuevonorte.extensions import db
from nuevonorte.models import Story, StoryStatus, Theme

MakeStory = Callable[..., Story]


def test_sickle_harvests_every_public_story_and_every_withdrawal(
    live_server: str, make_story: MakeStory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(oai, "PAGE", 4)  # ten records: three pages, two resumption tokens
    theme = Theme(slug="retorno", name_es="Retorno", name_en="Return")
    made = [make_story(title=f"Historia {i}", title_en=f"Story {i}") for i in range(10)]
    made[0].themes.append(theme)
    hidden = make_story(StoryStatus.SUBMITTED, title="Nunca pública")
    stories.withdraw(made[3])
    db.session.commit()

    client = Sickle(live_server + "/oai", max_retries=0)
    identify = client.Identify()
    assert identify.deletedRecord == "persistent" and identify.granularity == "YYYY-MM-DD"
    records = list(client.ListRecords(metadataPrefix="oai_dc", ignore_deleted=False))
    by_id = {r.header.identifier.rsplit(":", 1)[1]: r for r in records}
    assert set(by_id) == {s.public_id for s in made}
    assert [r.header.deleted for r in records] == [s is made[3] for s in made]
    assert by_id[made[5].public_id].metadata["title"] == ["Historia 5", "Story 5"]
    assert hidden.public_id not in by_id
    # A set holds its public stories, and every deleted header (a withdrawal empties its sets).
    in_set = client.ListIdentifiers(metadataPrefix="oai_dc", set="theme:retorno")
    assert [(h.identifier, h.deleted) for h in in_set] == [
        (f"oai:127.0.0.1:{made[0].public_id}", False),
        (f"oai:127.0.0.1:{made[3].public_id}", True),
    ]
    record = client.GetRecord(identifier=f"oai:127.0.0.1:{made[7].public_id}", metadataPrefix="oai_dc")
    assert record.metadata["title"] == ["Historia 7", "Story 7"]
    with pytest.raises(IdDoesNotExist):
        client.GetRecord(identifier=f"oai:127.0.0.1:{hidden.public_id}", metadataPrefix="oai_dc")
    assert [s.setSpec for s in client.ListSets()] == ["theme:retorno"]
    assert [f.metadataPrefix for f in client.ListMetadataFormats()] == ["oai_dc"]
