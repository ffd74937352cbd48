"""Validate OAI-PMH responses against the protocol's own XML schemas, offline.

The schemas are kept in ``tests/fixtures/oai/`` (their origin is in ``tests/fixtures/README.md``);
the URLs they import each other by are answered from there, and nothing is fetched.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

FOLDER = Path(__file__).parent / "fixtures" / "oai"
#: The address each schema is imported by (or published at), and its local copy.
LOCAL = {
    "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd": "OAI-PMH.xsd",
    "http://www.openarchives.org/OAI/2.0/oai_dc.xsd": "oai_dc.xsd",
    "http://dublincore.org/schemas/xmls/simpledc20021212.xsd": "simpledc20021212.xsd",
    "http://www.w3.org/2001/03/xml.xsd": "xml.xsd",
}
OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"


class _Local(etree.Resolver):
    def resolve(self, url, public_id, context):  # type: ignore[no-untyped-def]
        name = LOCAL.get(url) or (Path(url).name if Path(url).name in LOCAL.values() else None)
        if name is None:
            raise AssertionError(f"a schema asked for {url}, which is not kept in tests/fixtures/oai")
        return self.resolve_filename(str(FOLDER / name), context)


def _parser() -> etree.XMLParser:
    parser = etree.XMLParser(no_network=True, load_dtd=False, resolve_entities=False)
    parser.resolvers.add(_Local())
    return parser


@cache
def schema(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(FOLDER / name), _parser()))


def validate(body: bytes) -> etree._Element:
    """Check ``body`` against OAI-PMH.xsd and every ``oai_dc:dc`` in it against oai_dc.xsd;
    return the parsed document. Raises AssertionError with the schema's own complaint."""
    document = etree.fromstring(body, etree.XMLParser(no_network=True, resolve_entities=False))
    envelope = schema("OAI-PMH.xsd")
    assert envelope.validate(document), envelope.error_log.filter_from_errors()
    dublin_core = schema("oai_dc.xsd")
    for dc in document.iter(f"{{{OAI_DC}}}dc"):
        assert dublin_core.validate(etree.ElementTree(dc)), dublin_core.error_log.filter_from_errors()
    return document
