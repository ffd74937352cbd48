"""Importing an event (issue 16): a workshop's sheet and files, from a folder (``nuevonorte
import``) or a zip file on the admin screen (U22-U24, F01, T08).

Real sheets and files on disk, real ingest in its sandbox, the real database: a good event
becomes stories whose receipt codes open "my stories"; a dry run writes nothing; each bad input
is named by row and column and nothing of its row is written; a re-run skips what is already in;
a process killed midway leaves whole rows and, after the sweeper, no orphan file.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import signal
import stat
import unicodedata
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from nuevonorte import receipts
from nuevonorte.consent import CONSENT_TEXT_VERSION
from nuevonorte.extensions import db
from nuevonorte.importer.sheet import OPTIONAL, REQUIRED
from nuevonorte.importer.sources import MAX_ENTRIES
from nuevonorte.models import (
    AuditEvent,
    Base,
    CuratorAccount,
    GivenBy,
    MediaKind,
    Story,
    StoryStatus,
    Visibility,
)
from nuevonorte.models.media import KEY_COLUMNS
from nuevonorte.storage import INTENT_DIR, get_storage
from tests import media_samples
from tests.contribute_fixtures import csrf_token
from tests.curate_fixtures import csrf, sign_in
from tests.stopped_process import stopped_at

COLUMNS = [*REQUIRED, *OPTIONAL]
CODE_LINE = re.compile(r"^row (\d+) · (.+) · ([^·\n]+)$", re.MULTILINE)
PAGE_CODE = re.compile(r'<code class="code">([^<]+)</code>')


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """English as the archive's language, so that what is checked does not wait for catalogs."""
    return {**app_config, "default_locale": "en"}


def row(ref: str, **cells: str) -> dict[str, str]:
    """A good row of the sheet; ``cells`` change it."""
    good = {
        "paper_form_ref": ref,
        "title": f"Historia {ref}",
        "text": f"Lo que contó {ref} en el taller de marzo.",
        "language": "es",
        "visibility": "public",
        "credit": "pseudonym",
        "credit_name": "Lupe",
        "voice_public": "sí",
        "photos_public": "yes",
        "in_collections": "yes",
        "embeddable": "no",
        "embargo_until": "",
        "consent_version": CONSENT_TEXT_VERSION,
        "consent_language": "es",
        "media": "",
    }
    return {**good, **cells}


def sheet(rows: list[dict[str, str]], columns: list[str] = COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def event(
    folder: Path, rows: list[dict[str, str]], files: dict[str, bytes] | None = None, data: bytes | None = None
) -> Path:
    """An event folder: the sheet (``rows``, or the raw ``data``) and ``files`` beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "historias.csv").write_bytes(sheet(rows).encode() if data is None else data)
    for name, content in (files or {}).items():
        (folder / name).write_bytes(content)
    return folder


def run(runner: FlaskCliRunner, folder: Path, *options: str) -> Result:
    return runner.invoke(args=["import", str(folder), *options])


def codes(output: str) -> dict[str, str]:
    """Paper form -> receipt code, as the command printed them."""
    return {ref: code.strip() for _row, ref, code in CODE_LINE.findall(output)}


def state(app: Flask) -> tuple[dict[str, list[str]], list[tuple[str, int]]]:
    """Every row of every table, and every file under the media folder (stored, temporary, intents)."""
    db.session.rollback()
    with db.engine.connect() as conn:
        tables = {
            t.name: sorted(repr(tuple(r)) for r in conn.execute(t.select()))
            for t in Base.metadata.sorted_tables
        }
    media = Path(app.config["MEDIA_DIR"])
    files = sorted((str(p.relative_to(media)), p.stat().st_size) for p in media.rglob("*") if not p.is_dir())
    return tables, files


def content(app: Flask) -> tuple[dict[str, list[str]], list[tuple[str, int]]]:
    """``state`` without the tables that signing in and browsing change (sessions, sign-ins)."""
    tables, files = state(app)
    kept = ("story", "consent_record", "media_file", "contributor", "search_log")
    return {name: rows for name, rows in tables.items() if name in kept}, files


def stories() -> list[Story]:
    db.session.rollback()
    return list(db.session.scalars(select(Story).order_by(Story.id)))


def paper_forms() -> list[str]:
    """The paper form of each story in the archive (a withdrawn one has none left)."""
    return [s.consents[0].paper_form_ref for s in stories() if s.consents]


def assert_files_follow_rows() -> None:
    """The media folder holds exactly the files media rows reference; nothing temporary."""
    db.session.rollback()
    storage = get_storage()
    referenced = {k for column in KEY_COLUMNS for k in db.session.scalars(select(column)) if k}
    assert set(storage.keys()) == referenced
    assert storage.temp_files() == []
    intents = storage.root / INTENT_DIR
    assert not intents.exists() or list(intents.iterdir()) == []


# --- a good event ---------------------------------------------------------------------------


def test_a_good_event_becomes_stories_with_paper_consent_clean_media_and_codes_U22(
    app: Flask, runner: FlaskCliRunner, client: FlaskClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = event(
        tmp_path / "taller",
        [
            row("TNN-001", media="foto.jpg; voz.wav", embargo_until="2099-01-31"),
            row(
                "TNN-002",
                title="Back home",
                text="I came back in 2019.",
                language="en",
                visibility="curators",
                credit="anonymous",
                credit_name="",
                voice_public="no",
                photos_public="no",
                in_collections="NO",
                consent_language="en",
            ),
        ],
        {
            "foto.jpg": media_samples.jpeg(dirty=True),
            "voz.wav": media_samples.wav(),
            "otro.txt": b"not named",
        },
    )
    caplog.set_level(logging.DEBUG)
    result = run(runner, folder)
    assert result.exit_code == 0, result.output
    assert "Imported: 2." in result.output
    handed = codes(result.output)
    assert set(handed) == {"TNN-001", "TNN-002"}

    first, second = stories()
    assert [s.status for s in (first, second)] == [StoryStatus.SUBMITTED] * 2
    assert (first.title_es, first.original_language, second.title_en, second.original_language) == (
        "Historia TNN-001",
        "es",
        "Back home",
        "en",
    )
    one, two = first.consents, second.consents
    assert len(one) == len(two) == 1
    assert (one[0].paper_form_ref, one[0].text_version, one[0].text_language) == (
        "TNN-001",
        CONSENT_TEXT_VERSION,
        "es",
    )
    assert (one[0].visibility, one[0].credit_name, one[0].voice_public, one[0].photos_public) == (
        Visibility.PUBLIC,
        "Lupe",
        True,
        True,
    )
    assert str(one[0].embargo_until) == "2099-01-31" and one[0].given_by == GivenBy.CONTRIBUTOR
    assert (two[0].paper_form_ref, two[0].text_language, two[0].visibility, two[0].credit_name) == (
        "TNN-002",
        "en",
        Visibility.CURATORS,
        "",
    )
    assert not (two[0].voice_public or two[0].photos_public or two[0].in_collections)

    # The same ingest as a contribution: decoded, rebuilt, derivatives, no metadata left.
    assert [m.kind for m in first.media] == [MediaKind.IMAGE, MediaKind.AUDIO] and second.media == []
    storage = get_storage()
    for media in first.media:
        for key in media.storage_keys():
            assert media_samples.NEEDLE.encode() not in storage.path(key).read_bytes()
    assert first.media[0].display_key and first.media[0].thumbnail_key
    assert_files_follow_rows()

    # The normal audit events, and who imported (the command line: the system).
    actions = sorted(e.action for e in db.session.scalars(select(AuditEvent)))
    assert actions == ["story.imported"] * 2 + ["story.submitted"] * 2

    # Each narrator's code opens their own story, and only theirs; English consent, English words.
    assert set(handed["TNN-002"].split()) <= set(receipts.wordlist("en"))
    token = csrf_token(client, "/es/my-stories")
    assert (
        client.post("/es/my-stories", data={"csrf_token": token, "code": handed["TNN-001"]}).status_code
        == 303
    )
    html = client.get("/es/my-stories").get_data(as_text=True)
    assert "Historia TNN-001" in html and "Back home" not in html

    # Shown once, kept nowhere: not in the log, not in the database's files.
    for code in handed.values():
        assert code not in caplog.text
        for suffix in ("", "-wal"):
            path = Path(str(db.engine.url.database) + suffix)
            if db.engine.dialect.name == "sqlite" and path.exists():
                assert code.encode() not in path.read_bytes()


def test_a_sheet_with_a_byte_order_mark_reads_like_any_other_U22(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    """Excel's "CSV UTF-8" starts with a BOM: taken off, the first column is still paper_form_ref."""
    folder = event(tmp_path / "e", [], data=b"\xef\xbb\xbf" + sheet([row("TNN-001")]).encode())
    result = run(runner, folder)
    assert result.exit_code == 0, result.output
    assert paper_forms() == ["TNN-001"]


def test_the_dry_run_checks_every_file_through_the_ingest_and_writes_nothing_U22(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    folder = event(
        tmp_path / "e",
        [row("TNN-001", media="foto.jpg;voz.wav"), row("TNN-002", media="falsa.jpg", visibility="todos")],
        {
            "foto.jpg": media_samples.jpeg(dirty=True),
            "voz.wav": media_samples.wav(),
            "falsa.jpg": b"<html>hi</html>",
        },
    )
    before = state(app)
    result = run(runner, folder, "--dry-run")
    assert result.exit_code == 1
    # Every problem at once: the files of a row with another problem are checked too.
    assert "row 3, column “visibility”" in result.output
    assert "row 3, column “media”: “falsa.jpg”: This is not a kind of file" in result.output
    assert "Ready to import: 1." in result.output and "nothing was written" in result.output
    assert codes(result.output) == {}
    assert state(app) == before

    (folder / "falsa.jpg").write_bytes(media_samples.jpeg())
    (folder / "historias.csv").write_text(
        sheet([row("TNN-001", media="foto.jpg;voz.wav"), row("TNN-002", media="falsa.jpg")])
    )
    result = run(runner, folder, "--dry-run", "--skip-bad-rows")
    assert result.exit_code == 0 and "Ready to import: 2." in result.output
    assert state(app) == before


# --- bad input ------------------------------------------------------------------------------

GOOD = row("TNN-001")


def bad_row(**cells: str) -> Callable[[Path], Path]:
    """An event of a good row (row 2) and a row changed by ``cells`` (row 3)."""
    return lambda folder: event(folder, [GOOD, row("TNN-002", **cells)])


def with_files(files: dict[str, bytes], **cells: str) -> Callable[[Path], Path]:
    return lambda folder: event(folder, [GOOD, row("TNN-002", **cells)], files)


def raw(data: bytes) -> Callable[[Path], Path]:
    return lambda folder: event(folder, [], data=data)


def linked(folder: Path) -> Path:
    event(folder, [GOOD, row("TNN-002", media="enlace.jpg")])
    (folder.parent / "fuera.jpg").write_bytes(media_samples.jpeg())
    os.symlink(folder.parent / "fuera.jpg", folder / "enlace.jpg")
    return folder


def cp1252(folder: Path) -> Path:
    data = sheet([GOOD, row("TNN-002", text="@@")]).encode().replace(b"@@", "Habló José".encode("cp1252"))
    return event(folder, [], data=data)


def extra_cell(folder: Path) -> Path:
    header, good, bad, end = sheet([GOOD, row("TNN-002")]).split("\r\n")
    return event(folder, [], data="\r\n".join([header, good, bad + ",de más", end]).encode())


# Each case: how to make the event, where the problem is named, and whether it spoils every row.
BAD_INPUT = {
    "unknown column": (
        raw(sheet([GOOD], [*COLUMNS, "notas"]).encode()),
        "row 1, column “notas”",
        True,
    ),
    "missing column": (
        raw(sheet([GOOD], [c for c in COLUMNS if c != "consent_version"]).encode()),
        "row 1, column “consent_version”",
        True,
    ),
    "semicolons": (
        raw(sheet([GOOD]).replace(",", ";").encode()),
        "row 1: The sheet is separated by semicolons",
        True,
    ),
    "bad visibility": (bad_row(visibility="todos"), "row 3, column “visibility”", False),
    "bad yes or no": (bad_row(photos_public="quizá"), "row 3, column “photos_public”", False),
    "empty consent answer": (bad_row(voice_public=""), "row 3, column “voice_public”", False),
    "pseudonym without a name": (bad_row(credit_name=""), "row 3, column “credit_name”", False),
    "unknown consent text": (bad_row(consent_version="2019-01"), "row 3, column “consent_version”", False),
    "past embargo": (bad_row(embargo_until="2001-01-01"), "row 3, column “embargo_until”", False),
    "missing file": (bad_row(media="nada.jpg"), "row 3, column “media”", False),
    "a path, not a name": (bad_row(media="../foto.jpg"), "row 3, column “media”", False),
    "a link": (linked, "row 3, column “media”", False),
    "same paper form": (bad_row(paper_form_ref=" tnn-001"), "row 3, column “paper_form_ref”", False),
    "same text": (bad_row(text=GOOD["text"]), "row 3, column “text”", False),
    "not UTF-8": (cp1252, "row 3, column “text”", False),
    "NUL": (bad_row(title="Mi\0historia"), "row 3, column “title”", False),
    "a cell past the columns": (extra_cell, "row 3: This row has a cell", False),
    "file refused by the ingest": (
        with_files({"falsa.jpg": b"<?php echo 1; ?>"}, media="falsa.jpg"),
        "row 3, column “media”: “falsa.jpg”: This is not a kind of file",
        False,
    ),
    "empty file": (raw(b""), "row 1: The sheet is empty", True),
    "only a header": (raw(sheet([]).encode()), "row 1: The sheet has no stories", True),
    "UTF-16": (raw(sheet([GOOD]).encode("utf-16")), "row 1: The sheet is not UTF-8", True),
}


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input_is_named_by_row_and_column_and_nothing_of_its_row_is_written_U22(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, case: str
) -> None:
    make, where, spoils_all = BAD_INPUT[case]
    folder = make(tmp_path / "e")
    before = state(app)

    checked = run(runner, folder, "--dry-run")
    assert checked.exit_code == 1 and where in checked.output, checked.output
    refused = run(runner, folder)
    assert refused.exit_code == 1 and where in refused.output
    assert "Nothing was imported" in refused.output and codes(refused.output) == {}
    assert state(app) == before  # by default, one bad row keeps every row out

    partial = run(runner, folder, "--skip-bad-rows")
    assert partial.exit_code == 1 and where in partial.output
    assert paper_forms() == ([] if spoils_all else ["TNN-001"])
    assert set(codes(partial.output)) == ({*()} if spoils_all else {"TNN-001"})
    assert_files_follow_rows()


def test_a_rerun_imports_only_what_is_missing_U24(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    """Fix and run again, as often as needed: a paper form already in the archive is skipped."""
    folder = event(tmp_path / "e", [row("TNN-001"), row("TNN-002", media="foto.jpg")])
    first = run(runner, folder, "--skip-bad-rows")
    assert first.exit_code == 1 and set(codes(first.output)) == {"TNN-001"}

    (folder / "foto.jpg").write_bytes(media_samples.jpeg())
    second = run(runner, folder)
    assert second.exit_code == 0, second.output
    assert "row 2: Already in the archive: skipped (TNN-001)" in second.output
    assert set(codes(second.output)) == {"TNN-002"}

    again = run(runner, folder)
    assert again.exit_code == 0 and "Imported: 0. Already in the archive: 2." in again.output
    assert codes(again.output) == {}
    assert paper_forms() == ["TNN-001", "TNN-002"]
    assert_files_follow_rows()


# --- the admin screen -----------------------------------------------------------------------


def zipped(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return out.getvalue()


def upload(
    client: FlaskClient, data: bytes, action: str, page: str = "/curate/admin/import", **fields: str
) -> Any:
    form = {
        "csrf_token": csrf(client, page),
        "file": (io.BytesIO(data), "taller.zip"),
        action: "y",
    }
    response = client.post(
        "/curate/admin/import", data={**form, **fields}, content_type="multipart/form-data"
    )
    db.session.rollback()
    return response


def test_the_admin_screen_needs_an_admin_and_a_csrf_token_A05_A16(
    app: Flask, client: FlaskClient, make_curator: Callable[..., CuratorAccount], admin: CuratorAccount
) -> None:
    data = zipped({"historias.csv": sheet([GOOD]).encode()})
    before = content(app)
    assert client.get("/curate/admin/import").status_code == 302  # to sign in
    form = {"file": (io.BytesIO(data), "taller.zip"), "start": "y"}
    assert (
        client.post("/curate/admin/import", data=form, content_type="multipart/form-data").status_code == 400
    )
    curator = make_curator()
    sign_in(client, curator.email)
    assert client.get("/curate/admin/import").status_code == 403
    assert upload(client, data, "start", page="/curate/").status_code == 403
    admin_client = app.test_client()
    sign_in(admin_client, admin.email)
    form = {"file": (io.BytesIO(data), "taller.zip"), "start": "y"}
    response = admin_client.post("/curate/admin/import", data=form, content_type="multipart/form-data")
    assert response.status_code == 400
    forged = {"file": (io.BytesIO(data), "taller.zip"), "start": "y", "csrf_token": "forged"}
    response = admin_client.post("/curate/admin/import", data=forged, content_type="multipart/form-data")
    assert response.status_code == 400
    assert content(app) == before


def test_the_admin_screen_checks_first_then_imports_and_shows_the_codes_once_U22(
    app: Flask, admin_client: FlaskClient, admin: CuratorAccount
) -> None:
    data = zipped(
        {
            "taller/historias.csv": sheet(
                [row("TNN-001", media="foto de José.jpg"), row("TNN-002", consent_language="en")]
            ).encode(),
            # A Mac writes names decomposed (NFD); the sheet has them as typed.
            unicodedata.normalize("NFD", "taller/foto de José.jpg"): media_samples.jpeg(dirty=True),
            "__MACOSX/taller/._historias.csv": b"\0\5\26\7",  # what a Mac adds: not the event's
        }
    )
    before = state(app)
    checked = upload(admin_client, data, "check")
    assert checked.status_code == 200, checked.get_data(as_text=True)
    page = checked.get_data(as_text=True)
    assert "Ready to import: 2." in page and not PAGE_CODE.search(page)
    assert state(app) == before

    imported = upload(admin_client, data, "start")
    assert imported.status_code == 200 and imported.headers["Cache-Control"] == "no-store"
    page = imported.get_data(as_text=True)
    shown = PAGE_CODE.findall(page)
    assert len(shown) == 2
    assert 'lang="es"' in page and 'lang="en"' in page  # the warning in both languages
    assert paper_forms() == ["TNN-001", "TNN-002"]
    assert [
        e.actor_id
        for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action == "story.imported"))
    ] == [admin.id] * 2
    assert_files_follow_rows()

    later = admin_client.get("/curate/admin/import").get_data(as_text=True)
    assert not any(code in later for code in shown)
    again = upload(admin_client, data, "start").get_data(as_text=True)
    assert "Already in the archive: 2." in again and not PAGE_CODE.search(again)

    narrator = app.test_client()
    token = csrf_token(narrator, "/en/my-stories")
    assert narrator.post("/en/my-stories", data={"csrf_token": token, "code": shown[0]}).status_code == 303
    assert "Historia TNN-001" in narrator.get("/en/my-stories").get_data(as_text=True)


def link_entry(name: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("historias.csv", sheet([GOOD]).encode())
        info = zipfile.ZipInfo(name)
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(info, "/etc/passwd")
    return out.getvalue()


def locked_entry() -> bytes:
    """A zip whose one entry says it is encrypted (``zipfile`` cannot write one: set the flag)."""
    data = bytearray(zipped({"historias.csv": sheet([GOOD]).encode()}))
    for header, flags_at in ((b"PK\3\4", 6), (b"PK\1\2", 8)):
        data[data.index(header) + flags_at] |= 0x1
    return bytes(data)


CSV = sheet([GOOD]).encode()
BAD_ZIPS = {
    "zip slip": (lambda: zipped({"historias.csv": CSV, "../../fuera.jpg": b"x"}), "leads outside its folder"),
    "absolute path": (
        lambda: zipped({"historias.csv": CSV, "/etc/cron.d/x": b"x"}),
        "leads outside its folder",
    ),
    "link": (lambda: link_entry("foto.jpg"), "holds a link"),
    "password": (locked_entry, "protected with a password"),
    "bzip2": (lambda: zipped({"historias.csv": CSV}, zipfile.ZIP_BZIP2), "compressed in a way"),
    "too many entries": (
        lambda: zipped({"historias.csv": CSV, **{f"f{i}.jpg": b"" for i in range(MAX_ENTRIES)}}),
        "more than 2000 files",
    ),
    "an entry past one upload": (
        lambda: zipped({"historias.csv": CSV, "voz.wav": bytes(3 << 20)}),
        "larger than",
    ),
    "a zip bomb": (lambda: zipped({"historias.csv": CSV, "voz.wav": bytes(3 << 19)}), "unpacks to far more"),
    "not a zip": (lambda: b"PK\3\4 not really", "not a zip file"),
    "two sheets": (lambda: zipped({"a.csv": CSV, "b.csv": CSV}), "more than one sheet"),
    "no sheet": (lambda: zipped({"foto.jpg": b"x"}), "no sheet"),
}


@pytest.mark.parametrize("case", BAD_ZIPS)
def test_a_zip_that_reaches_outside_or_explodes_is_refused_whole_U23(
    app_config: dict[str, Any], case: str, request: pytest.FixtureRequest
) -> None:
    app_config["max_upload_mb"] = 2
    app = request.getfixturevalue("app")
    client = request.getfixturevalue("admin_client")
    make, message = BAD_ZIPS[case]
    before = state(app)
    response = upload(client, make(), "start", skip_bad_rows="y")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert state(app) == before


# --- killed midway --------------------------------------------------------------------------

IMPORT = """
import json, os, sys
from nuevonorte import create_app
app = create_app(json.loads(os.environ["NN_TEST_CONFIG"]))
result = app.test_cli_runner().invoke(args=["import", *sys.argv[1:]])
sys.stdout.write(result.output)
"""


@pytest.mark.parametrize(
    ("options", "point", "whole"),
    [
        (["--skip-bad-rows"], "contribution.file_stored", ["TNN-001"]),  # row 2 committed, row 3 storing
        ([], "contribution.file_stored", []),  # all at once: files are stored before any row
        ([], "import.before_commit", []),  # every row inserted, none committed
    ],
)
def test_an_import_killed_midway_leaves_whole_rows_and_no_orphan_file_U24_F01_T08(
    app: Flask,
    app_config: dict[str, Any],
    runner: FlaskCliRunner,
    tmp_path: Path,
    options: list[str],
    point: str,
    whole: list[str],
) -> None:
    folder = event(
        tmp_path / "e",
        [row("TNN-001"), row("TNN-002", media="foto.jpg;voz.wav")],
        {"foto.jpg": media_samples.jpeg(), "voz.wav": media_samples.wav()},
    )
    proc = stopped_at(IMPORT.replace("sys.argv[1:]", repr([str(folder), *options])), app_config, point)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(30) == -signal.SIGKILL

    assert paper_forms() == whole
    for story in stories():  # what committed is whole: its consent record, and no file missing
        assert len(story.consents) == 1 and story.media == []
    assert list(get_storage().keys())  # the killed process left stored files behind...

    assert runner.invoke(args=["sweep"]).exit_code == 0
    assert_files_follow_rows()  # ...which the sweeper removed
    assert runner.invoke(args=["reindex"]).exit_code == 0
    checked = runner.invoke(args=["check"])
    assert checked.exit_code == 0, checked.output

    rerun = run(runner, folder)
    assert rerun.exit_code == 0, rerun.output
    assert paper_forms() == ["TNN-001", "TNN-002"]
    assert len(stories()[1].media) == 2
    assert_files_follow_rows()


def test_the_database_holds_one_story_per_paper_form(app: Flask) -> None:
    """Two imports of one sheet at once both pass the check before writing; the database's
    unique index on the paper form reference refuses the second (empty references are many)."""
    from sqlalchemy.exc import IntegrityError

    from nuevonorte import stories
    from nuevonorte.consent import ConsentChoices

    for ref in ("", "", "TNN-2026-07"):
        stories.submit(
            None, body="Texto.", choices=ConsentChoices(), consent_language="es", paper_form_ref=ref
        )
    db.session.commit()
    with pytest.raises(IntegrityError):  # at the insert (the submit flushes) or at the commit
        stories.submit(
            None, body="Otra.", choices=ConsentChoices(), consent_language="es", paper_form_ref="TNN-2026-07"
        )
        db.session.commit()
    db.session.rollback()


def test_a_withdrawn_story_never_comes_back_with_its_sheet_T18(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    """The narrator of TNN-001 withdraws; the workshop runs the same sheet again (to add a row):
    TNN-001 is named as withdrawn and not imported, in the dry run too; the database files keep
    a keyed hash of the form, never its reference."""
    from nuevonorte import stories as domain

    folder = event(tmp_path / "e", [row("TNN-001"), row("TNN-002")])
    assert run(runner, folder).exit_code == 0
    (withdrawn,) = [s for s in stories() if s.consents[0].paper_form_ref == "TNN-001"]
    domain.withdraw(withdrawn)
    db.session.commit()
    event(tmp_path / "e", [row("TNN-001"), row("TNN-002"), row("TNN-003")])
    for options in (("--dry-run",), ()):
        again = run(runner, folder, *options)
        assert again.exit_code == 0, again.output
        assert "row 2: Withdrawn by its narrator: never imported again (TNN-001)" in again.output
    assert set(codes(again.output)) == {"TNN-003"}
    assert paper_forms() == ["TNN-002", "TNN-003"]
    if db.engine.url.get_backend_name() == "sqlite":
        main = Path(str(db.engine.url.database))
        for path in (main, Path(f"{main}-wal")):
            if path.exists():
                assert b"TNN-001" not in path.read_bytes(), path.name
