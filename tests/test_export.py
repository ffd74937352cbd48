"""``nuevonorte export``: a BagIt 1.0 package, validated by bagit itself; the public one holds only
what the consent rule allows (read in the bytes of every file), the full one the consent history.

A package appears whole or not at all: a killed export (SIGKILL at a named point) and a full disk
leave nothing at the destination, and a destination that is not empty is refused untouched.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import bagit
import pytest
import webvtt
from flask import Flask
from flask.testing import FlaskCliRunner
from PIL import Image

from nuevonorte import collections, stories, transcripts, withheld_audio
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.models import (
    Credit,
    CuratorAccount,
    MediaFile,
    Place,
    PlaceLevel,
    Story,
    StoryStatus,
    Theme,
    Visibility,
)
from nuevonorte.models.base import today
from nuevonorte.storage import get_storage
from nuevonorte.withheld_words import MARK, CueWords
from tests.public.media_factory import add_audio, add_image
from tests.stopped_process import ROOT, stopped_at

#: Words that must never leave the archive in a public export.
PRIVATE = "tecolote-privado"
EMBARGOED = "tecolote-embargado"
CURATORS = "tecolote-curadores"
WITHHELD_PARAGRAPH = "tecolote-parrafo-retenido"
WITHHELD_CUE = "tecolote-cue-retenido"
WITHDRAWN = "tecolote-retirado"
NARRATORS_OWN = "tecolote-solo-mio"
PUBLIC_WORDS = "Llegamos al norte con las manos vacías."


@dataclass
class Archive:
    """Stories of every kind, with the stored files each may and may not show."""

    visible: Story  # public, photos and voice public, one withheld paragraph, one withheld cue
    quiet: Story  # public, but neither photos nor voice
    private: Story
    embargoed: Story
    curators_only: Story
    withdrawn: Story
    narrators_own: Story  # "nobody but me, for now": not even curators may read it
    public_files: list[str]  # storage keys whose bytes the public export must hold
    secret_files: list[str]  # storage keys whose bytes it must never hold


@pytest.fixture
def archive(
    app: Flask, make_story: Callable[..., Story], make_curator: Callable[..., CuratorAccount]
) -> Archive:
    theme = Theme(slug="llegada", name_es="Llegada", name_en="Arrival")
    secret_place = Place(slug="rancho-escondido", name_es="Rancho escondido", name_en="Hidden ranch",
                         country_code="MX", level=PlaceLevel.CITY)  # fmt: skip
    db.session.add_all([theme, secret_place])
    visible = make_story(
        choices=ConsentChoices(credit_name="Rosa", voice_public=True, photos_public=True),
        title="=La noche que llegamos",
        title_en="The night we arrived",
        summary_es="Un regreso de noche.",
        summary_en="A return at night.",
        body=f"{PUBLIC_WORDS}\n\n{WITHHELD_PARAGRAPH} nadie debe leerlo.\n\nY al otro día salió el sol.",
        restricted_paragraphs="1",
        content_warnings="detention",
        period_start=1998,
        period_end=2003,
    )
    visible.themes.append(theme)
    image = add_image(visible)
    audio = add_audio(visible)
    audio.transcript.cues[1].text = f"{WITHHELD_CUE} lo que no se cuenta."  # type: ignore[union-attr]
    audio.transcript.cues[1].restricted = True  # type: ignore[union-attr]
    quiet = make_story(
        choices=ConsentChoices(credit_name="Luis"), title="Sin fotos ni voz", body="Relato callado."
    )
    quiet_image = distinct_image(quiet, 200)
    quiet_audio = add_audio(quiet)
    private = make_story(status=StoryStatus.PRIVATE, title=PRIVATE, body=f"{PRIVATE} cuerpo.")
    private.places.append(secret_place)
    distinct_image(private, 220)
    embargoed = make_story(
        title=EMBARGOED, body=f"{EMBARGOED} cuerpo.", embargo_until=today() + timedelta(days=30)
    )
    curators_only = make_story(
        choices=ConsentChoices(visibility=Visibility.CURATORS, credit_name="Eva"),
        title=CURATORS,
        body=f"{CURATORS} cuerpo.",
    )
    withdrawn = make_story(title=WITHDRAWN, body=f"{WITHDRAWN} cuerpo.")
    db.session.commit()
    assert withheld_audio.make(audio.public_id)  # the copy the public hears, withheld second silent
    db.session.refresh(audio)
    curator = make_curator()
    shown = collections.create(curator, "Llegadas", "Arrivals")
    collections.add_text(shown, curator, "Texto curatorial.", "Curatorial text.")
    collections.add_story(shown, visible, curator, "Nota.", "Note.")
    collections.add_story(shown, private, curator, f"{PRIVATE} nota.", "")
    collections.publish(shown, curator)
    draft = collections.create(curator, f"{PRIVATE} borrador", "")
    db.session.commit()
    assert draft.public_id
    secret_files = [
        audio.storage_key,  # the original holds the withheld cue's voice
        image.storage_key,  # the public export holds the display copy
        image.thumbnail_key,
        *quiet_image.storage_keys(),
        quiet_audio.storage_key,
        *(key for m in private.media for key in m.storage_keys()),
    ]
    public_files = [image.display_key, audio.public_audio_key]
    stories.withdraw(withdrawn)
    narrators_own = make_story(
        status=StoryStatus.SUBMITTED,
        title=NARRATORS_OWN,
        body=f"{NARRATORS_OWN} cuerpo.",
        choices=ConsentChoices(visibility=Visibility.CONTRIBUTOR, credit_name="Yo"),
    )
    db.session.commit()
    return Archive(visible, quiet, private, embargoed, curators_only, withdrawn, narrators_own,
                   [k for k in public_files if k], [k for k in secret_files if k])  # fmt: skip


def distinct_image(story: Story, shade: int) -> MediaFile:
    """A stored photo whose files differ from every other test photo's (``add_image`` makes the
    same bytes each time, and storage keeps one file per content)."""
    media = add_image(story)
    storage = get_storage()
    for name, size in (
        ("storage_key", (1200, 800)),
        ("display_key", (960, 640)),
        ("thumbnail_key", (320, 213)),
    ):
        out = io.BytesIO()
        Image.new("RGB", size, (shade, 30, 60)).save(out, "JPEG", quality=80)
        setattr(media, name, storage.put_bytes(out.getvalue(), "jpg"))
    return media


def export(runner: FlaskCliRunner, dest: Path, *args: str) -> Any:
    result = runner.invoke(args=["export", *args, str(dest)])
    assert result.exit_code == 0, result.output
    return result


def every_file(root: Path) -> dict[str, bytes]:
    """The raw bytes of every file in the package, payload and tag files alike."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def stored_bytes(keys: list[str]) -> list[bytes]:
    storage = get_storage()
    return [storage.path(key).read_bytes() for key in keys]


def story_json(root: Path, story: Story) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (root / "data" / "stories" / story.public_id / "story.json").read_text()
    )
    return loaded


def test_the_public_export_holds_what_the_consent_rule_allows_and_nothing_else(
    app: Flask, runner: FlaskCliRunner, archive: Archive, tmp_path: Path
) -> None:
    dest = tmp_path / "public-bag"
    app.config["PUBLIC_URL"] = "https://archivo.example.org"
    result = export(runner, dest, "--public")
    assert "Warning" not in result.output
    bag = bagit.Bag(str(dest))
    bag.validate()
    assert bag.version_info == (1, 0)
    assert bag.info["Source-Organization"] == "Taller Nuevo Norte"
    assert "Public export" in bag.info["External-Description"]
    assert bag.info["Payload-Oxum"] and bag.info["Bagging-Date"] == today().isoformat()

    files = every_file(dest)
    everything = b"\n".join(files.values())
    for secret in (
        PRIVATE,
        EMBARGOED,
        CURATORS,
        WITHHELD_PARAGRAPH,
        WITHHELD_CUE,
        WITHDRAWN,
        "Rancho escondido",
    ):
        assert secret.encode() not in everything, secret
    for story in (archive.private, archive.embargoed, archive.curators_only, archive.withdrawn):
        assert story.public_id.encode() not in everything
    for name in ("consent_history", "credit_name", "contributor", "storage_key", "submitted"):
        assert name.encode() not in everything
    digests = {hashlib.sha256(data).digest() for data in files.values()}
    for data in stored_bytes(archive.secret_files):
        assert hashlib.sha256(data).digest() not in digests
    for data in stored_bytes(archive.public_files):
        assert hashlib.sha256(data).digest() in digests

    assert sorted(p.name for p in (dest / "data" / "stories").iterdir()) == sorted(
        [archive.visible.public_id, archive.quiet.public_id]
    )
    visible = story_json(dest, archive.visible)
    assert visible["title"] == {"es": "=La noche que llegamos", "en": "The night we arrived"}
    assert visible["body"] == [PUBLIC_WORDS, "Y al otro día salió el sol."]
    assert visible["credit"] == "Rosa"
    assert visible["themes"][0]["name"] == {"es": "Llegada", "en": "Arrival"}
    assert visible["period"] == {"start": 1998, "end": 2003}
    assert visible["content_warnings"] == [
        {"code": "detention", "label": {"es": "Detención", "en": "Detention"}}
    ]
    image, audio = visible["media"]
    assert image["file"].endswith(".jpg") and image["alt"]["en"] == "A street at night with lights."
    transcript = audio["transcript"]
    vtt = (dest / "data" / "stories" / archive.visible.public_id / transcript["file"]).read_text()
    assert vtt.startswith("WEBVTT") and "Llegamos de noche." in vtt and "00:00:04.000 -->" in vtt
    english = (
        dest / "data" / "stories" / archive.visible.public_id / transcript["translation"]["file"]
    ).read_text()
    assert "We arrived at night." in english and "Nobody was waiting" not in english
    quiet = story_json(dest, archive.quiet)
    assert [(m["kind"], m["file"]) for m in quiet["media"]] == [("audio", None)]  # its transcript only
    assert "transcript" in quiet["media"][0]

    rows = list(csv.DictReader(io.StringIO((dest / "data" / "dublin-core.csv").read_text())))
    url = f"https://archivo.example.org/es/stories/{archive.visible.public_id}"
    assert visible["url"] == url
    row = next(r for r in rows if r["dc:identifier"] == url)
    assert len(rows) == 2
    assert row["dc:title@es"] == "'=La noche que llegamos"  # never run as a spreadsheet formula
    assert row["dc:title@en"] == "The night we arrived"
    assert row["dc:subject@en"] == "Arrival" and row["dc:coverage@es"] == "1998–2003"
    assert row["dc:type"] == "Text; Sound; StillImage" and row["dc:language"] == "es"
    assert (
        row["dc:rights"] == "Credited to Rosa; published with the narrator's consent (text, voice, photos)."
    )

    (collection,) = [json.loads(p.read_text()) for p in (dest / "data" / "collections").iterdir()]
    assert collection["title"] == {"es": "Llegadas", "en": "Arrivals"}
    assert [e["kind"] for e in collection["entries"]] == ["text", "story"]
    assert collection["entries"][1]["story"] == archive.visible.public_id
    themes = json.loads((dest / "data" / "vocabularies" / "themes.json").read_text())
    assert [t["id"] for t in themes] == ["llegada"]
    assert json.loads((dest / "data" / "vocabularies" / "places.json").read_text()) == []
    assert not (dest / "data" / "withdrawn.json").exists()


def test_the_full_export_holds_the_consent_history_and_marks_what_is_withheld(
    app: Flask, runner: FlaskCliRunner, archive: Archive, tmp_path: Path
) -> None:
    dest = tmp_path / "full-bag"
    result = export(runner, dest)
    assert "unpublished stories" in result.output.splitlines()[0]
    bag = bagit.Bag(str(dest))
    bag.validate()
    assert "Full export" in bag.info["External-Description"]

    exported = {p.name for p in (dest / "data" / "stories").iterdir()}
    kept = (archive.visible, archive.quiet, archive.private, archive.embargoed, archive.curators_only)
    assert exported == {s.public_id for s in kept}
    visible = story_json(dest, archive.visible)
    assert visible["body"][1] == {
        "text": f"{WITHHELD_PARAGRAPH} nadie debe leerlo.",
        "withheld": True,
        "withheld_words": [],
    }
    assert visible["body"][0]["withheld"] is False
    assert [c["seq"] for c in visible["consent_history"]] == [1]
    assert visible["consent_history"][0]["credit_name"] == "Rosa"
    curators_only = story_json(dest, archive.curators_only)
    assert [c["visibility"] for c in curators_only["consent_history"]] == ["public", "curators"]
    assert story_json(dest, archive.private)["status"] == "private"
    audio = visible["media"][1]
    assert audio["transcript"]["withheld_cues"] == [1]
    vtt = (dest / "data" / "stories" / archive.visible.public_id / audio["transcript"]["file"]).read_text()
    assert (
        f"NOTE withheld from the public\n\nwithheld-1\n00:00:02.000 --> 00:00:04.000\n{WITHHELD_CUE}" in vtt
    )
    digests = {hashlib.sha256(data).digest() for data in every_file(dest).values()}
    for data in stored_bytes([m.storage_key for s in kept for m in s.media]):
        assert hashlib.sha256(data).digest() in digests  # the originals

    tombstones = json.loads((dest / "data" / "withdrawn.json").read_text())
    assert tombstones == [{"id": archive.withdrawn.public_id, "withdrawn": today().isoformat()}]
    everything = b"\n".join(every_file(dest).values())
    assert WITHDRAWN.encode() not in everything
    assert PRIVATE.encode() in everything  # the preservation copy keeps what is not public
    # ...but not what its narrator keeps to themselves: curators may not read it either.
    assert NARRATORS_OWN.encode() not in everything
    assert archive.narrators_own.public_id.encode() not in everything


def test_a_story_withdrawn_after_an_export_is_absent_from_the_next(
    app: Flask, runner: FlaskCliRunner, archive: Archive, tmp_path: Path
) -> None:
    export(runner, tmp_path / "before", "--public")
    assert (tmp_path / "before" / "data" / "stories" / archive.visible.public_id).is_dir()
    public_bytes = stored_bytes(archive.public_files)
    story = db.session.get(Story, archive.visible.id)
    assert story is not None
    stories.withdraw(story)
    db.session.commit()
    export(runner, tmp_path / "after", "--public")
    after = every_file(tmp_path / "after")
    everything = b"\n".join(after.values())
    for gone in (archive.visible.public_id, PUBLIC_WORDS, "The night we arrived"):
        assert gone.encode() not in everything
    digests = {hashlib.sha256(data).digest() for data in after.values()}
    assert public_bytes
    for data in public_bytes:  # read before the withdrawal deleted the files
        assert hashlib.sha256(data).digest() not in digests
    export(runner, tmp_path / "full")
    full = every_file(tmp_path / "full")
    # Only its tombstone names it, and the collection that held it (which says it was withdrawn).
    naming = {name for name, data in full.items() if archive.visible.public_id.encode() in data}
    (held_it,) = [
        p for p in (tmp_path / "full" / "data" / "collections").iterdir() if "Llegadas" in p.read_text()
    ]
    assert naming == {"data/withdrawn.json", f"data/collections/{held_it.name}"}
    entries = json.loads(held_it.read_text())["entries"]
    assert {"kind": "story", "story": archive.visible.public_id, "withdrawn": True} in entries
    assert not any(PUBLIC_WORDS.encode() in data for data in full.values())


def test_an_altered_package_fails_bagit_validation(
    app: Flask, runner: FlaskCliRunner, archive: Archive, tmp_path: Path
) -> None:
    dest = tmp_path / "bag"
    export(runner, dest, "--public")
    command = [str(Path(sys.executable).parent / "bagit.py"), "--validate", str(dest)]
    assert subprocess.run(command, capture_output=True, check=False).returncode == 0
    payload = dest / "data" / "stories" / archive.visible.public_id / "story.json"
    payload.write_text(payload.read_text().replace("Rosa", "Rosy"))  # same size: only checksums tell
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(dest)).validate()
    checked = subprocess.run(command, capture_output=True, text=True, check=False)
    assert checked.returncode != 0
    assert "story.json" in checked.stderr


def test_a_destination_that_is_not_empty_is_refused_and_left_alone(
    app: Flask, runner: FlaskCliRunner, archive: Archive, tmp_path: Path
) -> None:
    dest = tmp_path / "taken"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    for mode in (["--public"], []):
        result = runner.invoke(args=["export", *mode, str(dest)])
        assert result.exit_code == 1
        refusal = f"Error: {dest} is not empty; give a new or empty folder"
        assert result.output.strip().splitlines() == [refusal]
    assert [p.name for p in dest.iterdir()] == ["notes.txt"] and (dest / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    # An empty folder is fine: the package takes its place.
    empty = tmp_path / "empty"
    empty.mkdir()
    export(runner, empty, "--public")
    bagit.Bag(str(empty)).validate()


EXPORT = """
import json, os, sys
from nuevonorte import create_app
app = create_app(json.loads(os.environ["NN_TEST_CONFIG"]))
result = app.test_cli_runner().invoke(args=["export", *sys.argv[1:]])
sys.stdout.write(result.output)
sys.exit(result.exit_code)
"""


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("point", ["export.filled", "export.validated"])
def test_a_killed_export_leaves_no_package(
    app: Flask,
    app_config: dict[str, Any],
    runner: FlaskCliRunner,
    archive: Archive,
    tmp_path: Path,
    point: str,
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    dest = out / "bag"
    proc = stopped_at(EXPORT.replace("sys.argv[1:]", repr([str(dest)])), app_config, point)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert not dest.exists()
    assert len(leftovers(out)) == 1  # the hidden, unfinished folder: never at DEST
    export(runner, dest)  # the next export removes what the dead one left
    assert leftovers(out) == []
    bagit.Bag(str(dest)).validate()


def test_a_full_disk_leaves_nothing_behind(
    app: Flask, app_config: dict[str, Any], archive: Archive, tmp_path: Path
) -> None:
    """RLIMIT_FSIZE (with SIGXFSZ ignored) makes writing past 40 KB fail as a full disk would:
    the six-second recording (96 KB) does not fit."""
    out = tmp_path / "out"
    out.mkdir()
    dest = out / "bag"

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))

    finished = subprocess.run(
        [sys.executable, "-c", EXPORT, "--public", str(dest)],
        env={**os.environ, "NN_TEST_CONFIG": json.dumps(app_config), "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        preexec_fn=small_disk,
        timeout=120,
        check=False,
    )
    assert finished.returncode == 1, finished.stdout + finished.stderr
    assert finished.stdout.strip().splitlines() == [
        f"Error: the export failed and left nothing at {dest}: File too large"
    ]
    assert not dest.exists()
    assert leftovers(out) == []


def test_speakers_parts_and_withheld_words_are_in_the_full_export_and_only_as_the_public_sees_them_C22_C23(
    app: Flask, runner: FlaskCliRunner, archive: Archive, tmp_path: Path
) -> None:
    audio = archive.visible.media[1]
    assert audio.transcript is not None
    first = audio.transcript.cues[0]
    first.text = "Llegamos a la calle Zqxexportcalle de noche."
    first.speaker = "Zqxexportrosa"
    first.withheld_words = CueWords(("calle Zqxexportcalle",)).stored()
    audio.transcript.cues[1].speaker = "Zqxexporthidden"  # on the withheld passage
    transcripts.add_segment(audio, 500, transcripts.SegmentText(title_es="Zqxexportpart"), None)
    transcripts.add_segment(audio, 2500, transcripts.SegmentText(title_es="Zqxexportinside"), None)
    db.session.commit()
    assert withheld_audio.make(audio.public_id)  # the first passage is silent now too

    full = tmp_path / "full-bag"
    export(runner, full)
    entry = story_json(full, archive.visible)["media"][1]
    vtt = (full / "data" / "stories" / archive.visible.public_id / entry["transcript"]["file"]).read_text()
    assert "<v Zqxexportrosa>Llegamos a la calle Zqxexportcalle" in vtt and "<v Zqxexporthidden>" in vtt
    assert entry["transcript"]["withheld_words"] == {
        "0": {"text": ["calle Zqxexportcalle"], "translation": []}
    }
    assert [(p["start"], p["title"]["es"]) for p in entry["parts"]] == [
        ("00:00:00.500", "Zqxexportpart"),
        ("00:00:02.500", "Zqxexportinside"),
    ]

    public = tmp_path / "public-bag"
    export(runner, public, "--public")
    entry = story_json(public, archive.visible)["media"][1]
    folder = public / "data" / "stories" / archive.visible.public_id
    vtt = (folder / entry["transcript"]["file"]).read_text()
    assert f"<v Zqxexportrosa>Llegamos a la {MARK} de noche." in vtt
    assert [p["title"]["es"] for p in entry["parts"]] == [
        "Zqxexportpart"
    ]  # not one inside a withheld passage
    everything = b"\n".join(every_file(public).values())
    for hidden in (b"Zqxexportcalle", b"Zqxexporthidden", b"Zqxexportinside", WITHHELD_CUE.encode()):
        assert hidden not in everything, hidden


def voices(vtt: Path) -> list[tuple[str, str]]:
    """Each caption of a WebVTT file as (its raw text, voice span and all; its identifier)."""
    return [(c.raw_text, c.identifier or "") for c in webvtt.read(str(vtt))]


def test_each_speaker_stays_with_its_passage_and_every_part_is_whole_in_the_full_export_C22(
    app: Flask, runner: FlaskCliRunner, archive: Archive, tmp_path: Path
) -> None:
    """A withheld passage between two others leaves the public list: the labels after it stay
    with their own passages. The full copy keeps the withheld passage's label beside its NOTE;
    a part whose recording the public may not hear is in the full copy only."""
    audio, quiet_audio = archive.visible.media[1], archive.quiet.media[1]
    assert audio.transcript is not None and quiet_audio.transcript is not None
    for cue, label in zip(audio.transcript.cues, ("Zqxalba", "Zqxoculta", "Zqxbruno"), strict=True):
        cue.speaker = label
    quiet_audio.transcript.cues[0].speaker = "Zqxluis"
    whole = transcripts.SegmentText("Zqxllegada", "Arrival", "noche, frontera", "night, border",
                                    "Cómo llegaron.", "How they arrived.")  # fmt: skip
    transcripts.add_segment(audio, 4200, whole, None)
    transcripts.add_segment(quiet_audio, 0, transcripts.SegmentText(title_es="Zqxcallado"), None)
    db.session.commit()

    full = tmp_path / "full-bag"
    export(runner, full)
    folder = full / "data" / "stories" / archive.visible.public_id
    entry = story_json(full, archive.visible)["media"][1]
    assert voices(folder / entry["transcript"]["file"]) == [
        ("<v Zqxalba>Llegamos de noche.", ""),
        (f"<v Zqxoculta>{WITHHELD_CUE} lo que no se cuenta.", "withheld-1"),
        ("<v Zqxbruno>Pero al otro día salió el sol.", ""),
    ]
    vtt = (folder / entry["transcript"]["file"]).read_text()
    assert (
        "NOTE withheld from the public\n\nwithheld-1\n00:00:02.000 --> 00:00:04.000\n"
        f"<v Zqxoculta>{WITHHELD_CUE}" in vtt
    )
    assert voices(folder / entry["transcript"]["translation"]["file"])[2] == (
        "<v Zqxbruno>But the next day the sun came out.",
        "",
    )
    assert entry["parts"] == [
        {
            "start_ms": 4200,
            "start": "00:00:04.200",
            "title": {"es": "Zqxllegada", "en": "Arrival"},
            "keywords": {"es": "noche, frontera", "en": "night, border"},
            "synopsis": {"es": "Cómo llegaron.", "en": "How they arrived."},
        }
    ]
    assert [p["title"]["es"] for p in story_json(full, archive.quiet)["media"][1]["parts"]] == ["Zqxcallado"]

    public = tmp_path / "public-bag"
    export(runner, public, "--public")
    folder = public / "data" / "stories" / archive.visible.public_id
    entry = story_json(public, archive.visible)["media"][1]
    assert voices(folder / entry["transcript"]["file"]) == [
        ("<v Zqxalba>Llegamos de noche.", ""),
        ("<v Zqxbruno>Pero al otro día salió el sol.", ""),
    ]
    assert [text for text, _ in voices(folder / entry["transcript"]["translation"]["file"])] == [
        "<v Zqxalba>We arrived at night.",
        "<v Zqxbruno>But the next day the sun came out.",
    ]
    assert entry["parts"] == story_json(full, archive.visible)["media"][1]["parts"]
    # The quiet story's transcript is public, its recording is not: the label, but no part.
    quiet = story_json(public, archive.quiet)["media"][0]
    assert "parts" not in quiet
    quiet_folder = public / "data" / "stories" / archive.quiet.public_id
    assert voices(quiet_folder / quiet["transcript"]["file"])[0][0] == "<v Zqxluis>Llegamos de noche."
    everything = b"\n".join(every_file(public).values())
    for hidden in (b"Zqxoculta", b"Zqxcallado", b"withheld-", WITHHELD_CUE.encode()):
        assert hidden not in everything, hidden


def test_an_anonymous_narrators_speakers_are_numbered_in_the_public_export_and_named_in_the_full_C22(
    app: Flask, runner: FlaskCliRunner, make_story: Callable[..., Story], tmp_path: Path
) -> None:
    story = make_story(choices=ConsentChoices(credit=Credit.ANONYMOUS, voice_public=True), title="Sin nombre")
    audio = add_audio(story)
    assert audio.transcript is not None
    first, withheld, last = audio.transcript.cues
    first.speaker, withheld.speaker, last.speaker = "Zqxmarta", "Zqxpedro", "Zqxpedro"
    withheld.restricted = True
    db.session.commit()
    assert withheld_audio.make(audio.public_id)

    public = tmp_path / "public-bag"
    export(runner, public, "--public")
    entry = story_json(public, story)["media"][0]
    folder = public / "data" / "stories" / story.public_id
    shown = [text for text, _ in voices(folder / entry["transcript"]["file"])]
    # Numbered by first appearance among the passages shown (the withheld one is not), in the
    # archive's default language (Spanish here).
    assert shown == ["<v Voz 1>Llegamos de noche.", "<v Voz 2>Pero al otro día salió el sol."]
    everything = b"\n".join(every_file(public).values())
    for hidden in (b"Zqxmarta", b"Zqxpedro", b"Nadie nos esperaba"):
        assert hidden not in everything, hidden

    full = tmp_path / "full-bag"
    export(runner, full)
    entry = story_json(full, story)["media"][0]
    folder = full / "data" / "stories" / story.public_id
    assert [text.split(">")[0] for text, _ in voices(folder / entry["transcript"]["file"])] == [
        "<v Zqxmarta",
        "<v Zqxpedro",
        "<v Zqxpedro",
    ]
