"""The API's OpenAPI 3.1 document (``GET /api/v1/openapi.json``): every route under ``/api/v1``
and the shape of every answer. A test checks that it names exactly the app's routes, that it is
a valid OpenAPI document, and that real answers match its schemas (``tests/test_read_api.py``).
"""

from __future__ import annotations

from typing import Any

from nuevonorte.public.address import base_url

VERSION = "1.0.0"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(required: dict[str, Any], **optional: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "required": sorted(required),
        "properties": required | optional,
    }


TEXT = _nullable({"type": "string"})
URL = {"type": "string", "format": "uri"}
DAY = {"type": "string", "format": "date"}

SCHEMAS: dict[str, Any] = {
    "Error": _object(
        {"error": {"type": "string", "description": "A stable code for programs."}},
        message={"type": "string", "description": "For people, in the request's language."},
    ),
    "BothLanguages": _object({"es": TEXT, "en": TEXT}),
    "Term": _object(
        {
            "id": {"type": "string", "description": "The term's stable short id (Spanish)."},
            "slug": _object({"es": {"type": "string"}, "en": {"type": "string"}}),
            "name": _ref("BothLanguages"),
            "url": _object({"es": URL, "en": URL}),
        },
        stories={"type": "integer", "description": "How many public stories name it."},
    ),
    "StorySummary": _object(
        {
            "id": {"type": "string"},
            "url": {**URL, "description": "The story's persistent address (cite this)."},
            "api_url": URL,
            "title": _ref("BothLanguages"),
            "summary": _ref("BothLanguages"),
            "language": {"type": "string"},
            "published": _nullable(DAY),
            "content_warnings": {"type": "array", "items": {"type": "string"}},
            "thumbnail": _nullable(URL),
        }
    ),
    "Story": {
        "allOf": [
            _ref("StorySummary"),
            _object(
                {
                    "credit": TEXT,
                    "period": _object(
                        {"start": _nullable({"type": "integer"}), "end": _nullable({"type": "integer"})}
                    ),
                    "themes": {"type": "array", "items": _ref("Term")},
                    "places": {"type": "array", "items": _ref("Term")},
                    "text": _object(
                        {
                            "language": {"type": "string"},
                            "paragraphs": {
                                "type": "array",
                                "items": TEXT,
                                "description": "null marks a withheld paragraph; [\u2026] withheld words.",
                            },
                        }
                    ),
                    "translation": _nullable(
                        _object(
                            {
                                "language": {"type": "string"},
                                "paragraphs": {
                                    "type": "array",
                                    "items": _object(
                                        {"text": TEXT, "language": {"type": "string"}, "provenance": TEXT}
                                    ),
                                },
                            }
                        )
                    ),
                    "images": {"type": "array", "items": _ref("Image")},
                    "recordings": {"type": "array", "items": _ref("Recording")},
                    "in_collections": {
                        "type": "boolean",
                        "description": "Whether its narrator allows it in collections, a partner's too.",
                    },
                    "collections": {
                        "type": "array",
                        "items": _object(
                            {"id": {"type": "string"}, "url": URL, "title": _ref("BothLanguages")}
                        ),
                    },
                    "citation": _object({"bibtex": URL, "csl_json": URL}),
                }
            ),
        ]
    },
    "Archive": _object(
        {
            "name": {"type": "string"},
            "software": {"type": "string", "const": "nuevonorte"},
            "api": {"type": "string"},
            "url": URL,
            "stories": {"type": "integer"},
        }
    ),
    "Subscribed": _object({"subscribed": {"type": "boolean"}}),
    "Confirmed": _object({"confirmed": {"type": "boolean"}}),
    "NoticeApplied": _object({"removed": {"type": "integer"}}),
    "Image": _object(
        {
            "id": {"type": "string"},
            "alt": _ref("BothLanguages"),
            "width": _nullable({"type": "integer"}),
            "height": _nullable({"type": "integer"}),
            "files": {"type": "object", "additionalProperties": URL},
        }
    ),
    "Recording": _object(
        {
            "id": _nullable({"type": "string"}),
            "audio": _nullable({**URL, "description": "null while the voice may not be heard."}),
            "duration_seconds": _nullable({"type": "number"}),
            "transcript_vtt": _nullable(URL),
            "transcript": _object(
                {
                    "language": TEXT,
                    "cues": {
                        "type": "array",
                        "items": _nullable(
                            _object(
                                {
                                    "start_seconds": {"type": "number"},
                                    "end_seconds": {"type": "number"},
                                    "text": {"type": "string"},
                                    "translation": TEXT,
                                    "speaker": TEXT,
                                }
                            )
                        ),
                    },
                }
            ),
        }
    ),
    "CollectionSummary": _object(
        {
            "id": {"type": "string"},
            "url": URL,
            "api_url": URL,
            "title": _ref("BothLanguages"),
            "published": _nullable(DAY),
            "cover": _nullable(URL),
        }
    ),
    "Collection": {
        "allOf": [
            _ref("CollectionSummary"),
            _object(
                {
                    "intro": _ref("BothLanguages"),
                    "entries": {
                        "type": "array",
                        "items": {
                            "oneOf": [
                                _object({"kind": {"const": "text"}, "text": _ref("BothLanguages")}),
                                _object(
                                    {
                                        "kind": {"const": "story"},
                                        "story": _ref("StorySummary"),
                                        "note": _ref("BothLanguages"),
                                    }
                                ),
                            ]
                        },
                    },
                }
            ),
        ]
    },
    "Change": _object(
        {
            "cursor": {"type": "string"},
            "type": {"enum": ["story", "collection"]},
            "id": {"type": "string"},
            "change": {
                "enum": ["added", "updated", "removed"],
                "description": (
                    "added, updated: fetch it and keep it (insert or replace; updated may name one you do"
                    " not hold yet). removed: delete your copy, and stop showing its files."
                ),
            },
            "day": DAY,
            "url": URL,
            "api_url": _nullable(URL),
        }
    ),
}


def _page_of(name: str, item: str) -> dict[str, Any]:
    return _object(
        {
            name: {"type": "array", "items": _ref(item)},
            "page": {"type": "integer", "minimum": 1},
            "pages": {"type": "integer", "minimum": 1},
            "total": {"type": "integer", "minimum": 0},
            "next_url": _nullable(URL),
        }
    )


SCHEMAS["StoryPage"] = _page_of("stories", "StorySummary")
SCHEMAS["CollectionPage"] = _page_of("collections", "CollectionSummary")
SCHEMAS["ChangePage"] = _object(
    {
        "epoch": {
            "type": "string",
            "description": "Changes when the feed's numbers went back (a restored older copy): "
            "read it again from 0.",
        },
        "changes": {"type": "array", "items": _ref("Change")},
        "next": {"type": "string", "description": "The cursor to send as since next time."},
        "more": {"type": "boolean"},
        "next_url": URL,
    }
)
SCHEMAS["Terms"] = {
    "type": "object",
    "minProperties": 1,
    "maxProperties": 1,
    "additionalProperties": {"type": "array", "items": _ref("Term")},
}

LANG = {
    "name": "lang",
    "in": "query",
    "required": False,
    "schema": {"enum": ["es", "en"]},
    "description": "The language of messages (else Accept-Language, else Spanish).",
}
PAGE = {"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}}


def _json(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


ERROR = _json("Error", "An error, with a stable code.")


def _get(summary: str, schema: str, *parameters: dict[str, Any], missing: bool = False) -> dict[str, Any]:
    responses = {"200": _json(schema, summary), "400": ERROR}
    if missing:
        responses["404"] = _json("Error", "Not there, or not public (the same answer for both).")
    return {"get": {"summary": summary, "parameters": [LANG, *parameters], "responses": responses}}


def _post(summary: str, schema: str, errors: tuple[str, ...]) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "responses": {"200": _json(schema, summary), **{code: ERROR for code in errors}},
        }
    }


def _path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def document() -> dict[str, Any]:
    """The document, with this archive's address as its server."""
    term_filter = {"in": "query", "required": False, "schema": {"type": "string"}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Nuevo Norte",
            "version": VERSION,
            "description": (
                "The public archive of the Taller Nuevo Norte. Only what each narrator allows is "
                "here; a story can leave public view at any time (read /changes)."
            ),
        },
        "servers": [{"url": base_url() + "/api/v1"}],
        "paths": {
            "/stories": _get(
                "Public stories, newest first",
                "StoryPage",
                PAGE,
                {"name": "theme", **term_filter},
                {"name": "place", **term_filter},
                missing=True,
            ),
            "/stories/{story_id}": _get("One public story", "Story", _path_id("story_id"), missing=True),
            "/collections": _get("Published collections", "CollectionPage", PAGE, missing=True),
            "/collections/{collection_id}": _get(
                "One published collection", "Collection", _path_id("collection_id"), missing=True
            ),
            "/themes": _get("Themes of public stories", "Terms"),
            "/places": _get("Places of public stories", "Terms"),
            "/changes": _get(
                "Every public addition, update and removal after a cursor",
                "ChangePage",
                {"name": "since", "in": "query", "required": False, "schema": {"type": "string"}},
            ),
            "/search": _get(
                "Search the public archive",
                "SearchResults",
                {"name": "q", "in": "query", "required": False, "schema": {"type": "string"}},
                PAGE,
            ),
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}},
                }
            },
            "/archive": _get("Who this archive is, for a partner archive that adds it", "Archive"),
            "/partners/subscribe": _post(
                "A partner archive asks for this one's signed withdrawal notices (docs/partners.md)",
                "Subscribed",
                ("400", "403", "429"),
            ),
            "/partners/confirm": {
                **_get(
                    "Whether this archive asked the archive `from` for notices with a key of `digest`",
                    "Confirmed",
                    {"name": "from", "in": "query", "required": True, "schema": {"type": "string"}},
                    {"name": "digest", "in": "query", "required": True, "schema": {"type": "string"}},
                ),
            },
            "/partners/notices": _post(
                "A partner archive's signed notice of its stories that left public view",
                "NoticeApplied",
                ("400", "403", "413"),
            ),
            "/contributions": {
                "post": {
                    "summary": "Send one contribution (a workshop's tablet)",
                    "parameters": [LANG],
                    "requestBody": {
                        "required": True,
                        "content": {"multipart/form-data": {"schema": {"type": "object"}}},
                    },
                    "responses": {
                        "201": {
                            "description": "Kept; the receipt code is the only way back to it.",
                            "content": {
                                "application/json": {
                                    "schema": _object(
                                        {
                                            "receipt_code": {"type": "string"},
                                            "story_id": {"type": "string"},
                                            "files": {"type": "array", "items": {"type": "object"}},
                                        }
                                    )
                                }
                            },
                        },
                        **{code: ERROR for code in ("400", "413", "415", "422", "429", "507")},
                    },
                }
            },
        },
        "components": {"schemas": SCHEMAS | {"SearchResults": {"type": "object"}}},
    }
