"""IIIF (issue 17): a Presentation 3 manifest per public story and a level-0 image service.

Every manifest these tests receive is checked against the official IIIF Presentation 3 JSON
Schema (``tests/fixtures/iiif/iiif_3_0.json``, from IIIF's presentation-validator; its origin is
in ``tests/fixtures/README.md``), offline. Beyond the schema: labels in both languages, every
size the image service lists fetched and measured, the transcript cues as the public may read
them and no withheld one, no trace of a voice that may not be heard, and the same 404 for
everything that is not public.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from jsonschema import Draft7Validator
from jsonschema.validators import validator_for
from PIL import Image

from nuevonorte import consent, iiif, stories, withheld_audio
from nuevonorte.consent import ConsentChoices
from nuevonorte.extensions import db
from nuevonorte.media.ingest import ingest_upload
from nuevonorte.models import MediaFile, MediaKind, Story, StoryStatus, Visibility
from nuevonorte.models.base import today
from nuevonorte.storage import get_storage
from nuevonorte.withheld_words import MARK, CueWords
from tests import media_samples
from tests.public.media_factory import CUES, add_audio, add_image

MakeStory = Callable[..., Story]

SCHEMA = Path(__file__).parent / "fixtures" / "iiif" / "iiif_3_0.json"
HOST = "http://localhost"
MISSING = "AAAAAAAAAAAAAAAA"
BOTH = {"es", "en"}


# --- the judge: the official schema, offline --------------------------------------------


@cache
def _validators() -> tuple[Draft7Validator, Draft7Validator]:
    """The schema as the presentation-validator applies it (any IIIF resource), and the same
    schema held to its Manifest class alone."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert validator_for(schema) is Draft7Validator  # the draft the schema declares
    Draft7Validator.check_schema(schema)
    # Every reference is inside the schema itself, so nothing can be fetched while validating.
    assert all(ref.startswith("#/") for ref in _values(schema, "$ref"))
    checker = Draft7Validator.FORMAT_CHECKER
    whole = Draft7Validator(schema, format_checker=checker)
    manifest = Draft7Validator({**schema, "$ref": "#/classes/manifest"}, format_checker=checker)
    return whole, manifest


def schema_errors(body: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for v in _validators() for e in v.iter_errors(body)]


def manifest_of(client: FlaskClient, story: Story | str) -> dict[str, Any]:
    """GET a story's manifest: 200, IIIF's content type, readable anywhere, and valid."""
    story_id = story if isinstance(story, str) else story.public_id
    response = client.get(f"/iiif/{story_id}/manifest.json", headers={"Origin": "https://viewer.example"})
    db.session.rollback()
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.content_type == iiif.MANIFEST_TYPE
    assert response.headers.getlist("Access-Control-Allow-Origin") == ["*"]
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert response.cache_control.max_age == iiif.MAX_AGE
    body: dict[str, Any] = json.loads(response.get_data())
    assert not (errors := schema_errors(body)), errors
    assert body["id"] == f"{HOST}/iiif/{story_id}/manifest.json"
    for value in _values(body, "id"):  # every address is absolute, on the public address
        assert value.startswith(f"{HOST}/"), value
    return body


def _values(node: Any, name: str) -> list[Any]:
    """Every value of the key ``name`` anywhere in a JSON document."""
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == name] + [
            x for v in node.values() for x in _values(v, name)
        ]
    if isinstance(node, list):
        return [x for v in node for x in _values(v, name)]
    return []


def local(url: str) -> str:
    assert url.startswith(HOST), url
    return url.removeprefix(HOST)


def canvases(body: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The canvases whose painting is an ``Image`` or a ``Sound``."""
    return [c for c in body["items"] if c["items"][0]["items"][0]["body"]["type"] == kind]


def painted(canvas: dict[str, Any]) -> dict[str, Any]:
    (page,) = canvas["items"]
    (annotation,) = page["items"]
    assert annotation["motivation"] == "painting" and annotation["target"] == canvas["id"]
    body: dict[str, Any] = annotation["body"]
    return body


def fetched_size(client: FlaskClient, url: str) -> tuple[int, int]:
    """GET an image URL: a JPEG anyone may embed; its width and height as decoded."""
    response = client.get(local(url))
    data = response.get_data()
    response.close()
    db.session.rollback()
    assert response.status_code == 200, url
    assert response.mimetype == "image/jpeg"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response.headers.getlist("Access-Control-Allow-Origin") == ["*"]
    with Image.open(io.BytesIO(data)) as picture:
        assert picture.format == "JPEG"
        width, height = picture.size
    return width, height


def stored_bytes(key: str) -> bytes:
    with get_storage().open(key) as stored:
        return stored.read()


def _comparable(response: Any, requested: str) -> tuple[int, bytes, list[tuple[str, str]]]:
    """Status, body and headers but the date; the id the visitor typed is the only thing echoed."""
    body = (
        response.get_data().replace(requested.encode(), MISSING.encode())
        if requested
        else response.get_data()
    )
    headers = sorted((k, v) for k, v in response.headers.items() if k.lower() != "date")
    return response.status_code, body, headers


def assert_like_missing(client: FlaskClient, path: str, public_id: str) -> None:
    """``path`` answers, for GET and HEAD, byte for byte what it answers for an id never made."""
    for method in ("GET", "HEAD"):
        got = client.open(path, method=method)
        expected = client.open(path.replace(public_id, MISSING), method=method)
        db.session.rollback()
        assert got.status_code == 404, (path, method)
        assert _comparable(got, public_id) == _comparable(expected, ""), (path, method)


def image_urls(canvas: dict[str, Any]) -> list[str]:
    """Every address of a picture a manifest hands out: service, description, each size, max."""
    service = painted(canvas)["service"][0]["id"]
    sizes = [
        f"{service}/full/{s['width']},{s['height']}/0/default.jpg"
        for s in painted(canvas)["service"][0]["sizes"]
    ]
    thumbnails = [t["id"] for t in canvas.get("thumbnail", [])]
    return [
        service,
        f"{service}/info.json",
        f"{service}/full/max/0/default.jpg",
        painted(canvas)["id"],
        *sizes,
        *thumbnails,
    ]


# --- stories --------------------------------------------------------------------------------


@pytest.fixture
def told(make_story: MakeStory) -> Story:
    """A public story in both languages whose voice and photos are public: a picture (stored at
    1200x800, display 960x640, thumbnail 320x213) and a six-second recording with three cues."""
    story = make_story(
        choices=ConsentChoices(credit_name="Rosa", voice_public=True, photos_public=True),
        title="La noche que llegamos",
        title_en="The night we arrived",
        summary_es="Un regreso de noche.",
        summary_en="A return at night.",
    )
    add_image(story)
    add_audio(story)
    db.session.commit()
    return story


def _media(story: Story, kind: MediaKind) -> MediaFile:
    return next(m for m in story.media if m.kind == kind)


# --- the manifest ---------------------------------------------------------------------------


def test_a_public_story_is_a_valid_manifest_labelled_in_both_languages(
    client: FlaskClient, told: Story
) -> None:
    body = manifest_of(client, told)
    assert body["@context"] == "http://iiif.io/api/presentation/3/context.json"
    assert body["type"] == "Manifest"
    assert body["label"] == {"es": ["La noche que llegamos"], "en": ["The night we arrived"]}
    assert body["summary"] == {"es": ["Un regreso de noche."], "en": ["A return at night."]}
    assert body["homepage"][0]["id"] == f"{HOST}/s/{told.public_id}"
    assert client.get(local(body["homepage"][0]["id"])).status_code == 302  # the persistent address
    assert all(set(entry["label"]) == BOTH for entry in body["metadata"])
    metadata = {entry["label"]["en"][0]: entry["value"] for entry in body["metadata"]}
    assert metadata["Told by"] == {"none": ["Rosa"]}
    assert metadata["Published"] == {"none": [told.published_on.isoformat()]}  # type: ignore[union-attr]
    assert body["requiredStatement"]["value"] == {
        "es": ["Publicada con el consentimiento de quien la cuenta."],
        "en": ["Published with the consent of the person who tells it."],
    }
    # One canvas per public picture and per recording, in the story's order.
    assert [c["id"].rsplit("/", 1)[1] for c in body["items"]] == [m.public_id for m in told.media]
    (image,) = canvases(body, "Image")
    assert image["label"] == {
        "es": ["Una calle de noche con luces."],
        "en": ["A street at night with lights."],
    }
    (sound,) = canvases(body, "Sound")
    assert set(sound["label"]) == BOTH


def test_only_the_languages_that_have_text_and_an_anonymous_teller(
    client: FlaskClient, make_story: MakeStory
) -> None:
    story = make_story(
        choices=ConsentChoices(credit_name="", photos_public=True),
        title="Sólo en español",
        summary_es="Resumen.",
        content_warnings="detention",
    )
    add_image(story)
    db.session.commit()
    body = manifest_of(client, story)
    assert body["label"] == {"es": ["Sólo en español"]}
    assert body["summary"] == {"es": ["Resumen."]}
    metadata = {entry["label"]["en"][0]: entry["value"] for entry in body["metadata"]}
    assert metadata["Told by"] == {"es": ["Anónimo"], "en": ["Anonymous"]}
    assert metadata["Content warning"] == {"es": ["Detención"], "en": ["Detention"]}


def test_the_schema_is_not_a_rubber_stamp(client: FlaskClient, told: Story) -> None:
    """The fixture really judges: manifests broken in ways IIIF forbids are refused."""
    body = manifest_of(client, told)
    broken: list[dict[str, Any]] = []
    changes: list[Callable[[dict[str, Any]], object]] = [
        lambda b: b.pop("label"),
        lambda b: b.update(label="La noche"),  # a label is a language map, not a string
        lambda b: b.update(type="Book"),
        lambda b: b["items"][0].pop("height"),  # a width without its height
        lambda b: b["items"][1].pop("duration"),  # a canvas with no extent at all
        lambda b: b["items"][0]["items"][0].pop("items"),
        lambda b: b["items"][1]["annotations"][0]["items"][0]["body"].pop("value"),
        lambda b: b.update(id="/iiif/relative/manifest.json"),
    ]
    for change in changes:
        copy = json.loads(json.dumps(body))
        change(copy)
        broken.append(copy)
    for copy in broken:
        assert schema_errors(copy), copy


# --- pictures: the level-0 image service ----------------------------------------------------


def test_image_canvas_sizes_are_the_stored_files(client: FlaskClient, told: Story) -> None:
    body = manifest_of(client, told)
    image = _media(told, MediaKind.IMAGE)
    (canvas,) = canvases(body, "Image")
    assert (canvas["width"], canvas["height"]) == (1200, 800)
    shown = painted(canvas)
    (service,) = shown["service"]
    assert service["id"] == f"{HOST}/iiif/image/{image.public_id}"
    assert service["type"] == "ImageService3" and service["profile"] == "level0"
    sizes = [(s["width"], s["height"]) for s in service["sizes"]]
    assert sizes == [(320, 213), (960, 640), (1200, 800)]  # thumbnail, display, original
    # Painted at the display size, thumbnail at the thumbnail's: each says its real size.
    assert (shown["width"], shown["height"]) == (960, 640) and shown["format"] == "image/jpeg"
    assert fetched_size(client, shown["id"]) == (960, 640)
    (thumbnail,) = canvas["thumbnail"]
    assert fetched_size(client, thumbnail["id"]) == (thumbnail["width"], thumbnail["height"]) == (320, 213)
    for width, height in sizes:
        assert fetched_size(client, f"{service['id']}/full/{width},{height}/0/default.jpg") == (width, height)
    assert fetched_size(client, f"{service['id']}/full/max/0/default.jpg") == (1200, 800)
    # The image service describes itself the same way, and its base address sends there.
    info = client.get(local(f"{service['id']}/info.json"))
    assert info.content_type == "application/json" and info.headers.getlist(
        "Access-Control-Allow-Origin"
    ) == ["*"]
    described = info.get_json()
    assert described == {
        "@context": "http://iiif.io/api/image/3/context.json",
        "id": service["id"],
        "type": "ImageService3",
        "protocol": "http://iiif.io/api/image",
        "profile": "level0",
        "width": 1200,
        "height": 800,
        "sizes": service["sizes"],
    }
    linked = client.get(local(f"{service['id']}/info.json"), headers={"Accept": "application/ld+json"})
    assert linked.content_type == iiif.INFO_TYPE and linked.get_json() == described
    base = client.get(local(service["id"]))
    assert base.status_code == 303 and base.headers["Location"].endswith(
        f"/iiif/image/{image.public_id}/info.json"
    )
    db.session.rollback()


def test_sizes_of_a_picture_made_by_the_real_ingest(client: FlaskClient, make_story: MakeStory) -> None:
    """A photo with odd sides, cleaned by the sandbox: the sizes listed are the files it made."""
    story = make_story(choices=ConsentChoices(credit_name="Ana", photos_public=True))
    media, _report = ingest_upload(story, io.BytesIO(media_samples.jpeg(media_samples.picture(4001, 2999))))
    db.session.commit()
    (canvas,) = manifest_of(client, story)["items"]
    service = painted(canvas)["service"][0]
    sizes = [(s["width"], s["height"]) for s in service["sizes"]]
    # What the resizer makes: reduced by 3 to fit 1600, that by 4 to fit 400 (rounded up).
    assert sizes == [(334, 250), (1334, 1000), (4001, 2999)]
    assert (canvas["width"], canvas["height"]) == (media.width, media.height) == (4001, 2999)
    for width, height in sizes:
        assert fetched_size(client, f"{service['id']}/full/{width},{height}/0/default.jpg") == (width, height)


def test_anything_the_image_service_did_not_list_is_the_same_404(client: FlaskClient, told: Story) -> None:
    image = _media(told, MediaKind.IMAGE)
    audio = _media(told, MediaKind.AUDIO)
    base = f"/iiif/image/{image.public_id}"
    for path in (
        f"{base}/full/100,100/0/default.jpg",  # a size it did not list
        f"{base}/full/961,640/0/default.jpg",
        f"{base}/full/960,/0/default.jpg",
        f"{base}/full/pct:50/0/default.jpg",
        f"{base}/full/^max/0/default.jpg",
        f"{base}/full/0,0/0/default.jpg",
        f"{base}/square/max/0/default.jpg",  # level 0: the full region only
        f"{base}/full/max/90/default.jpg",
        f"{base}/full/max/0/gray.jpg",
        f"{base}/full/max/0/default.png",
    ):
        assert_like_missing(client, path, image.public_id)
    # A recording is no picture.
    for path in (f"/iiif/image/{audio.public_id}", f"/iiif/image/{audio.public_id}/info.json"):
        assert_like_missing(client, path, audio.public_id)
    assert_like_missing(client, f"/iiif/image/{audio.public_id}/full/max/0/default.jpg", audio.public_id)


# --- recordings ---------------------------------------------------------------------------


def test_a_recording_plays_with_its_cues_as_annotations(client: FlaskClient, told: Story) -> None:
    audio = _media(told, MediaKind.AUDIO)
    (canvas,) = canvases(manifest_of(client, told), "Sound")
    assert canvas["duration"] == 6.0
    sound = painted(canvas)
    assert sound["id"] == f"{HOST}/media/{audio.public_id}/original" and sound["format"] == "audio/wav"
    response = client.get(local(sound["id"]))
    assert response.status_code == 200 and response.get_data() == stored_bytes(audio.storage_key)
    response.close()
    told_page, translated = canvas["annotations"]
    assert told_page["items"][0]["body"]["language"] == "es"
    assert translated["items"][0]["body"]["language"] == "en"
    for page, column in ((told_page, 2), (translated, 3)):
        assert [a["motivation"] for a in page["items"]] == ["supplementing"] * 3
        assert [a["body"]["type"] for a in page["items"]] == ["TextualBody"] * 3
        assert [a["body"]["value"] for a in page["items"]] == [cue[column] for cue in CUES]
        assert [a["target"] for a in page["items"]] == [
            f"{canvas['id']}#t={s},{e}" for s, e in ((0, 2), (2, 4), (4, 6))
        ]


def test_withheld_cues_are_left_out_and_withheld_words_marked(client: FlaskClient, told: Story) -> None:
    audio = _media(told, MediaKind.AUDIO)
    assert audio.transcript is not None
    first, second, _third = audio.transcript.cues
    first.text, first.translation = (
        "Llegamos a la calle Zqxcalle de noche.",
        "We arrived at Zqxstreet at night.",
    )
    first.withheld_words = CueWords(("calle Zqxcalle",), ("Zqxstreet",)).stored()
    second.restricted = True
    db.session.commit()
    # Until the silenced copy is made, the recording may not be heard: no canvas, no id.
    raw = client.get(f"/iiif/{told.public_id}/manifest.json").get_data(as_text=True)
    db.session.rollback()
    body = manifest_of(client, told)
    assert canvases(body, "Sound") == [] and audio.public_id not in raw
    assert withheld_audio.make(audio.public_id)
    db.session.expire_all()
    raw = client.get(f"/iiif/{told.public_id}/manifest.json").get_data(as_text=True)
    db.session.rollback()
    (canvas,) = canvases(manifest_of(client, told), "Sound")
    for hidden in ("Zqx", "Nadie nos esperaba", "Nobody was waiting"):
        assert hidden not in raw
    told_page, translated = canvas["annotations"]
    expected = [cue for cue in consent.public_cues(audio) if cue is not None]
    assert [a["body"]["value"] for a in told_page["items"]] == [cue.text for cue in expected]
    assert [a["body"]["value"] for a in told_page["items"]] == [
        f"Llegamos a la {MARK} de noche.",
        "Pero al otro día salió el sol.",
    ]
    assert [a["body"]["value"] for a in translated["items"]] == [
        f"We arrived at {MARK} at night.",
        "But the next day the sun came out.",
    ]
    assert [a["target"].rsplit("#", 1)[1] for a in told_page["items"]] == ["t=0,2", "t=4,6"]
    # What it plays is the copy with the withheld seconds silent, never the original.
    sound = client.get(local(painted(canvas)["id"]))
    assert audio.public_audio_key and sound.get_data() == stored_bytes(audio.public_audio_key)
    sound.close()
    db.session.rollback()


def test_a_private_voice_has_no_canvas_and_its_id_is_never_named(
    client: FlaskClient, make_story: MakeStory
) -> None:
    story = make_story(choices=ConsentChoices(credit_name="Ana", voice_public=False, photos_public=True))
    add_image(story)
    audio = add_audio(story)
    db.session.commit()
    raw = client.get(f"/iiif/{story.public_id}/manifest.json").get_data(as_text=True)
    body = manifest_of(client, story)
    assert len(body["items"]) == 1 and canvases(body, "Sound") == []
    assert audio.public_id not in raw
    for _start, _end, text, translation in CUES:
        assert text not in raw and translation not in raw


# --- what is not public ---------------------------------------------------------------------

STATES: dict[str, dict[str, Any]] = {
    "submitted": dict(status=StoryStatus.SUBMITTED),
    "private": dict(status=StoryStatus.PRIVATE),
    "rejected": dict(status=StoryStatus.REJECTED),
    "curators-only": dict(visibility=Visibility.CURATORS),
    "contributor-only": dict(visibility=Visibility.CONTRIBUTOR),
    "embargoed": {},  # three days from the day the test runs
    "nothing-public": dict(voice_public=False, photos_public=False),
}


@pytest.mark.parametrize("state", [*STATES, "withdrawn", "unknown"])
def test_anything_not_public_is_the_same_404(client: FlaskClient, make_story: MakeStory, state: str) -> None:
    """Never existed, never published, narrowed, embargoed, withdrawn, nothing to show: the
    manifest and every image address answer like an id that never existed."""
    spec: dict[str, Any] = {"voice_public": True, "photos_public": True, **STATES.get(state, {})}
    status = spec.pop("status", StoryStatus.PUBLISHED)
    if state == "embargoed":
        spec["embargo_until"] = today() + timedelta(days=3)
    story = make_story(status=status, choices=ConsentChoices(credit_name="Ana", **spec))
    add_image(story)
    add_audio(story)
    db.session.commit()
    shown = [] if state == "unknown" else story.media  # the unknown story's media are public
    urls = [f"/iiif/image/{m.public_id}{tail}" for m in shown for tail in ("", "/info.json")]
    urls += [
        f"/iiif/image/{m.public_id}/full/{size}/0/default.jpg" for m in shown for size in ("max", "960,640")
    ]
    if state == "withdrawn":
        assert manifest_of(client, story)["items"]
        stories.withdraw(story)
        db.session.commit()
    public_id = "doesnotexist0000" if state == "unknown" else story.public_id
    assert_like_missing(client, f"/iiif/{public_id}/manifest.json", public_id)
    for url in urls:
        assert_like_missing(client, url, url.split("/")[3])


def test_narrowed_photos_leave_the_manifest_and_their_addresses_404(client: FlaskClient, told: Story) -> None:
    image = _media(told, MediaKind.IMAGE)
    (canvas,) = canvases(manifest_of(client, told), "Image")
    urls = image_urls(canvas)
    for url in urls[2:]:
        assert fetched_size(client, url)
    stories.change_consent(
        told, ConsentChoices(credit_name="Rosa", voice_public=True, photos_public=False), language="es"
    )
    db.session.commit()
    raw = client.get(f"/iiif/{told.public_id}/manifest.json").get_data(as_text=True)
    body = manifest_of(client, told)
    assert canvases(body, "Image") == [] and len(canvases(body, "Sound")) == 1
    assert image.public_id not in raw
    for url in urls:
        assert_like_missing(client, local(url), image.public_id)
    for variant in ("original", "display", "thumbnail"):
        assert_like_missing(client, f"/media/{image.public_id}/{variant}", image.public_id)
