"""The office's own Word templates: uploaded by an administrator, checked at upload, kept in the file store."""

from __future__ import annotations

from sqlalchemy import select

import storage
from docstore import audit, clock
from docstore.directives import placeholders
from docstore.directives.render import as_stream
from docstore.errors import N_, Msg, NotFound, ValidationFailed
from docstore.extensions import db
from docstore.models import DirectiveTemplate

LANGUAGES = {"zh": N_("Chinese"), "es": N_("Spanish")}
MAX_TEMPLATE_BYTES = 20 * 1024 * 1024


def list_templates(include_inactive: bool = False) -> list[DirectiveTemplate]:
    """Return the office's templates by name."""
    query = select(DirectiveTemplate).order_by(DirectiveTemplate.name, DirectiveTemplate.id)
    if not include_inactive:
        query = query.where(DirectiveTemplate.active)
    return list(db.session.execute(query).scalars())


def get_template(template_id: int) -> DirectiveTemplate:
    """Return the template, or raise NotFound."""
    template = db.session.get(DirectiveTemplate, template_id)
    if template is None:
        raise NotFound(Msg(N_("No such template.")))
    return template


def upload_template(
    ctx: audit.Context, name: str, language: str, filename: str, data: bytes, store: storage.FileStore
) -> DirectiveTemplate:
    """Check an uploaded .docx template (readable, known placeholders only) and keep it; report every problem."""
    errors: dict[str, Msg] = {}
    name = (name or "").strip()
    if not name or len(name) > 200:
        errors["name"] = Msg(N_("Enter the name."))
    if language not in LANGUAGES:
        errors["language"] = Msg(N_("Choose the language of the documents it makes."))
    report = None
    if not data:
        errors["file"] = Msg(N_("Choose a .docx file."))
    elif len(data) > MAX_TEMPLATE_BYTES:
        errors["file"] = Msg(N_("“%(name)s” is larger than %(mb)s MB."), name=filename, mb=MAX_TEMPLATE_BYTES >> 20)
    else:
        try:
            report = placeholders.inspect_template(data)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    stored = store.put(as_stream(data))
    template = DirectiveTemplate(
        name=name,
        language=language,
        filename=storage.safe_filename(filename or "template.docx"),
        sha256=stored.sha256,
        size=stored.size,
        placeholders=list(report.placeholders),
        foreign_markers=list(report.foreign),
        active=True,
        uploaded_at=clock.now(),
        uploaded_by_id=ctx.actor_id,
    )
    db.session.add(template)
    db.session.flush()
    audit.record_event(ctx, "directive_template.create", "directive_template", template.id, after=template.as_dict())
    db.session.commit()
    return template


def set_active(ctx: audit.Context, template_id: int, active: bool) -> DirectiveTemplate:
    """Offer a template to drafters again, or stop offering it (directives that use it keep it)."""
    template = get_template(template_id)
    audit.record_update(ctx, template, {"active": active}, "directive_template.update", "directive_template")
    db.session.commit()
    return template
