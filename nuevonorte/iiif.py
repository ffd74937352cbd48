"""IIIF at ``/iiif/``: a Presentation 3 manifest for each public story, so that any IIIF viewer
(Mirador, Universal Viewer, Clover...) can show its pictures and play its recordings.

The manifest (``/iiif/<story_id>/manifest.json``) labels the story in both languages and holds
one canvas per public picture and one per recording whose voice may be heard, in the story's
order; a recording's public transcript cues are its annotations, one per cue, with withheld
words as ``withheld_words.MARK`` and withheld cues left out. Pictures come from a level-0 image
service (``/iiif/image/<media_id>``): it hands out only the sizes the archive already stored
(thumbnail, display, original) and computes nothing.

The consent rule decides everything, asked again on every request: a story that is not public
(never published, narrowed, embargoed, withdrawn) or has nothing public to show has no
manifest, and answers the same 404 as an id that never existed; a picture is in it only while
``consent.media_is_public`` says so, and every image URL goes through
``public.media.public_key``, as ``/media/`` does; a recording only while
``consent.public_audio_key`` gives the file the public may hear (the silenced copy while
passages are withheld). A private voice has no canvas, and its media id is never named.
Like the read API, everything here may be read from any website (``READABLE_ACROSS_ORIGINS``:
CORS, read-only, no credentials), and a withdrawal reaches every viewer within ``MAX_AGE`` seconds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, redirect, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from nuevonorte import consent, content_warnings
from nuevonorte.extensions import db
from nuevonorte.models import MediaFile, MediaKind, Story, Transcript
from nuevonorte.public.address import absolute_url
from nuevonorte.public.lookup import story_or_404
from nuevonorte.public.media import MAX_AGE, public_key, send_stored
from nuevonorte.public.persistent import story_url
from nuevonorte.public.presentation import image_size
from nuevonorte.storage import content_type

bp = Blueprint("iiif", __name__, url_prefix="/iiif")

PRESENTATION_CONTEXT = "http://iiif.io/api/presentation/3/context.json"
IMAGE_CONTEXT = "http://iiif.io/api/image/3/context.json"
MANIFEST_TYPE = f'application/ld+json;profile="{PRESENTATION_CONTEXT}"'
INFO_TYPE = f'application/ld+json;profile="{IMAGE_CONTEXT}"'
LANGS = ("es", "en")
#: The stored sizes of a picture, smallest first: all that a level-0 image service hands out.
IMAGE_VARIANTS = ("thumbnail", "display", "original")
#: The one format the image service serves: every stored picture is a JPEG (``media.images``).
JPEG = "image/jpeg"
#: A size as a level-0 service is asked for one it listed (Image API 3: ``w,h``).
SIZE = re.compile(r"([1-9][0-9]{0,5}),([1-9][0-9]{0,5})")

RIGHTS_LABEL = {"es": ["Consentimiento"], "en": ["Consent"]}
RIGHTS_TEXT = {
    "es": ["Publicada con el consentimiento de quien la cuenta."],
    "en": ["Published with the consent of the person who tells it."],
}
RECORDING_LABEL = {"es": ["Grabación"], "en": ["Recording"]}
TRANSCRIPT_LABEL = {"es": ["Transcripción"], "en": ["Transcript"]}
TRANSLATION_LABEL = {"es": ["Traducción de la transcripción"], "en": ["Translation of the transcript"]}


# --- the manifest ------------------------------------------------------------------------


@bp.get("/<story_id>/manifest.json")
def manifest(story_id: str) -> Response:
    """A public story as a IIIF manifest; the same 404 for one that never existed, one not
    public (withdrawn, narrowed, embargoed, never published) and one with nothing to show."""
    loaded = (
        selectinload(Story.consents),
        selectinload(Story.media).selectinload(MediaFile.transcript).selectinload(Transcript.cues),
    )
    shown = story_manifest(story_or_404(story_id, options=loaded))
    if shown is None:
        abort(404)
    return _json(shown, MANIFEST_TYPE)


def story_manifest(story: Story) -> dict[str, Any] | None:
    """The manifest of a public ``story``, or None when it has no picture or recording the
    public may see or hear (a manifest must hold at least one canvas)."""
    assert consent.story_is_public(story), "only a public story has a manifest"
    address = absolute_url("iiif.manifest", story_id=story.public_id)
    base = address.removesuffix("manifest.json")
    canvases = [
        canvas
        for media in story.media
        if (canvas := _canvas(media, f"{base}canvas/{media.public_id}")) is not None
    ]
    if not canvases:
        return None
    label = _languages(story.title_es, story.title_en) or {"none": [story.public_id]}
    shown: dict[str, Any] = {
        "@context": PRESENTATION_CONTEXT,
        "id": address,
        "type": "Manifest",
        "label": label,
    }
    if summary := _languages(story.summary_es, story.summary_en):
        shown["summary"] = summary
    shown |= {
        "metadata": _metadata(story),
        "requiredStatement": {"label": RIGHTS_LABEL, "value": RIGHTS_TEXT},
        "homepage": [
            {"id": story_url(story.public_id), "type": "Text", "label": label, "format": "text/html"}
        ],
        "items": canvases,
    }
    return shown


def _metadata(story: Story) -> list[dict[str, Any]]:
    """Who tells it, when it was published and what it warns of, labelled in both languages
    with the words the story's page uses."""
    credit = consent.credit_line(story)
    told_by = {"none": [credit]} if credit else _both(lambda: _("Anonymous"))
    entries = [{"label": _both(lambda: _("Told by")), "value": told_by}]
    if story.published_on is not None:
        entries.append(
            {"label": _both(lambda: _("Published")), "value": {"none": [story.published_on.isoformat()]}}
        )
    codes = story.warning_codes()
    if content_warnings.labels(codes):
        entries.append(
            {
                "label": _both(lambda: _("Content warning")),
                "value": _both(lambda: ", ".join(content_warnings.labels(codes))),
            }
        )
    return entries


def _canvas(media: MediaFile, canvas_id: str) -> dict[str, Any] | None:
    if media.kind == MediaKind.IMAGE:
        return _image_canvas(media, canvas_id)
    if media.kind == MediaKind.AUDIO:
        return _sound_canvas(media, canvas_id)
    return None


def _image_canvas(media: MediaFile, canvas_id: str) -> dict[str, Any] | None:
    """A public picture: painted at its display size (the original when it has none), with the
    level-0 service that lists every stored size, and its thumbnail."""
    sizes = stored_sizes(media)
    if not sizes:
        return None
    service_id = absolute_url("iiif.image_base", media_id=media.public_id)
    service = {"id": service_id, "type": "ImageService3", "profile": "level0"}
    width, height = (media.width, media.height) if media.width and media.height else _full(sizes)
    by_variant = {variant: size for size, variant in sizes.items()}
    painted = by_variant.get("display") or by_variant.get("original") or _full(sizes)

    def picture(size: tuple[int, int]) -> dict[str, Any]:
        return {
            "id": f"{service_id}/full/{size[0]},{size[1]}/0/default.jpg",
            "type": "Image",
            "format": JPEG,
            "width": size[0],
            "height": size[1],
            "service": [service | {"sizes": _size_list(sizes)}],
        }

    canvas: dict[str, Any] = {"id": canvas_id, "type": "Canvas"}
    if label := _languages(media.alt_es, media.alt_en):
        canvas["label"] = label
    canvas |= {
        "width": width,
        "height": height,
        "items": [_painting(canvas_id, picture(painted))],
    }
    if "thumbnail" in by_variant:
        canvas["thumbnail"] = [picture(by_variant["thumbnail"])]
    return canvas


def _sound_canvas(media: MediaFile, canvas_id: str) -> dict[str, Any] | None:
    """A recording the public may hear, with its public transcript cues (and their public
    translations) as annotations on their seconds. None for a voice that may not be heard."""
    # What ``/media/<id>/original`` serves of a recording: ``consent.public_audio_key``.
    key = public_key(media, "original") if media.kind == MediaKind.AUDIO else None
    served_as = content_type(key) if key else None
    if key is None or served_as is None:
        return None
    duration = media.duration_seconds or max(
        (cue.end_ms / 1000 for cue in consent.public_cues(media) if cue is not None), default=0.0
    )
    if duration <= 0:
        return None
    sound = {
        "id": absolute_url("media.media", media_id=media.public_id, variant="original"),
        "type": "Sound",
        "format": served_as,
        "duration": duration,
    }
    canvas: dict[str, Any] = {
        "id": canvas_id,
        "type": "Canvas",
        "label": RECORDING_LABEL,
        "duration": duration,
        "items": [_painting(canvas_id, sound)],
    }
    if pages := _transcript_pages(media, canvas_id):
        canvas["annotations"] = pages
    return canvas


def _transcript_pages(media: MediaFile, canvas_id: str) -> list[dict[str, Any]]:
    """The public cues as ``supplementing`` annotations: a page of the words as told, and a
    page of their translation where it may be shown. A withheld cue is in neither."""
    transcript = media.transcript
    if transcript is None or not consent.transcript_is_public(media):
        return []
    cues = [cue for cue in consent.public_cues(media) if cue is not None]
    layers = [
        ("transcript", TRANSCRIPT_LABEL, transcript.language, [(cue, cue.text) for cue in cues]),
        (
            "translation",
            TRANSLATION_LABEL,
            transcript.translation_language,
            [(c, c.translation) for c in cues],
        ),
    ]
    pages = []
    for name, label, language, texts in layers:
        page_id = f"{canvas_id}/{name}"
        items = [
            {
                "id": f"{page_id}/{cue.position}",
                "type": "Annotation",
                "motivation": "supplementing",
                "body": {"type": "TextualBody", "value": text, "format": "text/plain"}
                | ({"language": language} if language else {}),
                "target": f"{canvas_id}#t={_seconds(cue.start_ms)},{_seconds(cue.end_ms)}",
            }
            for cue, text in texts
            if text
        ]
        if items:
            pages.append({"id": page_id, "type": "AnnotationPage", "label": label, "items": items})
    return pages


def _painting(canvas_id: str, body: dict[str, Any]) -> dict[str, Any]:
    page_id = f"{canvas_id}/page"
    annotation = {
        "id": f"{page_id}/painting",
        "type": "Annotation",
        "motivation": "painting",
        "body": body,
        "target": canvas_id,
    }
    return {"id": page_id, "type": "AnnotationPage", "items": [annotation]}


# --- the level-0 image service -------------------------------------------------------------


@bp.get("/image/<media_id>")
def image_base(media_id: str) -> Response:
    """The image service's own address: sends to its description (Image API 3, 303)."""
    if _public_image(media_id) is None:
        abort(404)
    return redirect(url_for("iiif.image_info", media_id=media_id), 303)


@bp.get("/image/<media_id>/info.json")
def image_info(media_id: str) -> Response:
    """What the service can hand out of a public picture: its stored sizes, nothing else."""
    found = _public_image(media_id)
    sizes = stored_sizes(found) if found is not None else {}
    if not sizes:
        abort(404)
    width, height = _full(sizes)
    info = {
        "@context": IMAGE_CONTEXT,
        "id": absolute_url("iiif.image_base", media_id=media_id),
        "type": "ImageService3",
        "protocol": "http://iiif.io/api/image",
        "profile": "level0",
        "width": width,
        "height": height,
        "sizes": _size_list(sizes),
    }
    linked = "application/ld+json" in request.headers.get("Accept", "")
    response = _json(info, INFO_TYPE if linked else "application/json")
    response.vary.add("Accept")
    return response


@bp.get("/image/<media_id>/full/<size>/0/default.jpg")
def image(media_id: str, size: str) -> Response:
    """A public picture at one of its stored sizes (``max``: the largest), the stored file
    itself. Any other region, size, rotation, quality or format is the same 404 as a picture
    that is not public."""
    found = _public_image(media_id)
    sizes = stored_sizes(found) if found is not None else {}
    variant: str | None = None
    if size == "max" and sizes:
        variant = sizes[_full(sizes)]
    elif (asked := SIZE.fullmatch(size)) is not None:
        variant = sizes.get((int(asked[1]), int(asked[2])))
    key = public_key(found, variant) if found is not None and variant is not None else None
    if key is None:
        abort(404)
    response = send_stored(key, etag=key.split(".")[0], max_age=MAX_AGE)
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    # A viewer on another website shows it in an <img> (a no-cors request).
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def stored_sizes(media: MediaFile) -> dict[tuple[int, int], str]:
    """Each size at which ``media`` may be handed out, smallest first, with the variant that
    holds it (the smaller file where two are the same size): the width and height of each
    stored file, read from its header. Empty for a picture that is not public."""
    sizes: dict[tuple[int, int], str] = {}
    for variant in IMAGE_VARIANTS:
        key = public_key(media, variant) if media.kind == MediaKind.IMAGE else None
        if key is None or content_type(key) != JPEG:
            continue
        if (size := image_size(key)) is not None:
            sizes.setdefault(size, variant)
    return dict(sorted(sizes.items(), key=lambda item: item[0][0] * item[0][1]))


def _public_image(media_id: str) -> MediaFile | None:
    found = db.session.scalar(
        select(MediaFile)
        .where(MediaFile.public_id == media_id)
        .options(joinedload(MediaFile.story).selectinload(Story.consents))
    )
    if found is None or found.kind != MediaKind.IMAGE or not consent.media_is_public(found):
        return None
    return found


# --- small helpers ----------------------------------------------------------------------


def _full(sizes: dict[tuple[int, int], str]) -> tuple[int, int]:
    """The largest stored size: the full image."""
    return list(sizes)[-1]


def _size_list(sizes: dict[tuple[int, int], str]) -> list[dict[str, int]]:
    return [{"width": width, "height": height} for width, height in sizes]


def _languages(es: str, en: str) -> dict[str, list[str]]:
    """A IIIF language map of the languages that have text."""
    return {lang: [text] for lang, text in zip(LANGS, (es, en), strict=True) if text}


def _both(message: Callable[[], str]) -> dict[str, list[str]]:
    """``message()`` (a gettext call) in each language, from the interface's catalogues."""
    shown = {}
    for lang in LANGS:
        with force_locale(lang):
            shown[lang] = [str(message())]
    return shown


def _seconds(ms: int) -> str:
    """Milliseconds as seconds for a media fragment (``#t=``): ``2``, ``1.5``, ``62.125``."""
    return f"{ms / 1000:.3f}".rstrip("0").rstrip(".")


def _json(body: dict[str, Any], served_as: str) -> Response:
    response = Response(json.dumps(body, ensure_ascii=False), content_type=served_as)
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    return response
