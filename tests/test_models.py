"""The data model: what it refuses to hold (C15) and how it names things in URLs."""

from __future__ import annotations

import itertools
import re

from flask import Flask

from nuevonorte.models import Base, Story
from nuevonorte.models.base import PUBLIC_ID_LENGTH

# Names of columns that would hold what the archive must never collect (docs/security.md C15, M17).
FORBIDDEN = re.compile(
    r"(^|_)(ip|ips|ip_address|address|remote_addr|user_agent|useragent|ua|phone|telephone|mobile|"
    r"lat|latitude|lon|lng|longitude|coordinates|coords|geo|gps|location|legal_name|"
    r"real_name|birth|birthdate|passport|filename|original_filename)($|_)"
)


def test_no_column_can_hold_addresses_devices_phones_coordinates_or_legal_names() -> None:
    """C15: a test fails if such a column ever appears."""
    offending = [
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if FORBIDDEN.search(column.name.lower())
    ]
    assert offending == []


def test_the_forbidden_pattern_recognises_what_it_must() -> None:
    for name in (
        "ip_address",
        "user_agent",
        "phone",
        "latitude",
        "gps_lon",
        "original_filename",
        "legal_name",
    ):
        assert FORBIDDEN.search(name), name
    for name in ("title_es", "credit_name", "storage_key", "places", "description"):
        assert not FORBIDDEN.search(name), name


def test_public_ids_are_random_and_unguessable(app: Flask) -> None:
    # Defaults apply at insert; generate through the column default directly.
    column_default = Story.__table__.c.public_id.default
    ids = [column_default.arg(None) for _ in range(200)]
    assert len(set(ids)) == 200
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{16}", i) for i in ids)
    assert all(len(i) == PUBLIC_ID_LENGTH for i in ids)
    # Not sequential: no two consecutive ids share a long prefix.
    assert all(a[:6] != b[:6] for a, b in itertools.pairwise(ids))


def test_every_constraint_is_named_by_the_convention() -> None:
    for table in Base.metadata.sorted_tables:
        for constraint in table.constraints:
            assert constraint.name, f"unnamed constraint on {table.name}"
