"""What every Word renderer of directives shares: text a Word file can hold, and a package written the same way
every time."""

from __future__ import annotations

import io
import re
import zipfile

from docx.document import Document

#: Characters XML 1.0 cannot hold: control characters other than tab and line breaks, lone surrogates, and two
#: non-characters.
NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: Parts of python-docx's template that a directive does not need: Word 2010's second copy of the styles, the
#: thumbnail of some other document, an empty bibliography store.
UNNEEDED_PARTS = ("/stylesWithEffects", "/metadata/thumbnail", "/customXml")
#: The date every member of the produced zip carries, so that the same content always gives the same bytes.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def clean_text(text: str) -> str:
    """Return `text` without the control characters that a Word file cannot hold."""
    return NOT_IN_XML.sub("", text or "")


def package_bytes(document: Document) -> bytes:
    """Return `document` as a .docx, without the template's unneeded parts and with fixed dates in the zip.

    python-docx stamps each zip member with the current time; a fixed date makes the same content give the same
    bytes, which the content-addressed file store can then keep once.
    """
    package = document.part.package
    for owner in (package, document.part):
        for rel_id, rel in list(owner.rels.items()):
            if rel.reltype.endswith(UNNEEDED_PARTS):
                del owner.rels[rel_id]
    parts = list(package.iter_parts())
    for part in parts:
        part.before_marshal()
    overrides = "".join(f'<Override PartName="{part.partname}" ContentType="{part.content_type}"/>' for part in parts)
    members = [
        (
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            f'<Default Extension="xml" ContentType="application/xml"/>{overrides}</Types>',
        ),
        ("_rels/.rels", package.rels.xml),
    ]
    for part in parts:
        members.append((part.partname.membername, part.blob))
        if len(part.rels):
            members.append((part.partname.rels_uri.membername, part.rels.xml))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            archive.writestr(info, data)
    return buffer.getvalue()
