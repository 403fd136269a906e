"""Parse XML from uploaded files without expanding entities, loading a DTD or touching the network."""

from __future__ import annotations

from typing import IO, Any

from lxml import etree

XMLSyntaxError = etree.XMLSyntaxError


def parse_xml(source: bytes | IO[bytes]) -> Any:
    """Return the root element of the XML document in `source` (bytes or a binary stream).

    Entities stay unexpanded, comments and processing instructions are dropped; raise `XMLSyntaxError` for
    malformed XML.
    """
    parser = etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        remove_comments=True,
        remove_pis=True,
    )
    if isinstance(source, bytes):
        return etree.fromstring(source, parser)
    return etree.parse(source, parser).getroot()
