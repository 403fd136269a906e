"""Draw a directive as a Word file: pick the renderer of its layout, or fill the office's uploaded template."""

from __future__ import annotations

import io

import storage
from docstore.directives import placeholders, wordes, wordgb
from docstore.directives.content import Content
from docstore.directives.drafts import content_of, kind_of
from docstore.errors import N_, Msg, StoredFileMissing
from docstore.models import Directive

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

GB_LAYOUTS = ("gb", "gb_letter", "gb_minutes")
ES_LAYOUTS = ("oficio", "resolucion", "instruccion", "comunicacion")


def render_content(content: Content, layout: str, template: bytes | None = None) -> bytes:
    """Return the .docx of `content` drawn in `layout` (for "template": filled into `template`)."""
    if layout in GB_LAYOUTS:
        return wordgb.render(content, layout)
    if layout in ES_LAYOUTS:
        return wordes.render(content, layout)
    if layout == "template" and template is not None:
        return placeholders.render_template(template, content)
    raise ValueError(f"no renderer for layout {layout!r}")


def template_bytes(directive: Directive, store: storage.FileStore) -> bytes | None:
    """Return the bytes of the uploaded template `directive` uses (None for a built-in type)."""
    if directive.template is None:
        return None
    return _stored(store, directive.template.sha256, directive.template.filename)


def _stored(store: storage.FileStore, sha256: str, name: str) -> bytes:
    """Return the stored bytes of the file `name`, or raise StoredFileMissing (the integrity check reports it)."""
    try:
        with store.open(sha256) as stream:
            return stream.read()
    except storage.FileMissing as exc:
        raise StoredFileMissing(
            Msg(N_("The stored file of “%(name)s” is missing. Tell an administrator."), name=name)
        ) from exc


def render_directive(directive: Directive, store: storage.FileStore, number: str = "") -> bytes:
    """Return `directive` as a .docx, with `number` (default: its registered number, none on a draft)."""
    content = content_of(directive, number)
    return render_content(content, kind_of(directive).layout, template_bytes(directive, store))


def word_file(directive: Directive, store: storage.FileStore) -> tuple[bytes, str]:
    """Return the Word file of `directive` and its name: the one drawn at registration once it is numbered, else a
    preview drawn now (without a number).

    The registered file is read from the directive's side, not as its register entry's attachment: whoever may open
    the directive (a countersigning department, say) may read its file without opening the register entry.
    """
    kept = None
    if directive.document is not None:
        kept = next((a for a in directive.document.attachments if a.mime == DOCX_MIME), None)
    if kept is None:
        return render_directive(directive, store), file_name(directive)
    return _stored(store, kept.sha256, kept.filename), kept.filename


def file_name(directive: Directive, number: str = "") -> str:
    """Return the name the Word file of `directive` is offered under."""
    stem = number or (directive.document.number if directive.document else f"draft-{directive.id}")
    cleaned = "".join("-" if ch in '/\\:*?"<>|' or not ch.isprintable() else ch for ch in stem).strip(" .")
    return f"{cleaned or 'directive'}.docx"


def as_stream(data: bytes) -> io.BytesIO:
    """Return `data` as a readable stream (for the file store and downloads)."""
    return io.BytesIO(data)
