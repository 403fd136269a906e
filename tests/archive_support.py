"""What the archive tests share: a file plan, closed documents with real files, filing them."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select

from docstore import audit, clock, organisation, registry, routing
from docstore.archive import filing, scheme
from docstore.extensions import db
from docstore.models import Series
from tests.service_support import act, ctx

POLICY = registry.UploadPolicy(frozenset({"text", "pdf", "docx"}), 1 << 24, "UTC")
RULES = filing.FilingRules(
    pattern="{fonds}-{category}·{year}-{retention}-{department}-{item}",
    default_department="BGS",
    issuer="",
    timezone="UTC",
)


class Plan:
    """A small file plan: fonds J001 (permanent, review) with WS (文书, D10, destroy) and KJ (科技, D30, transfer)."""

    def __init__(self) -> None:
        self.fonds = scheme.create_class(
            audit.SYSTEM, level="fonds", code="J001", name="Oficina", retention="Y", disposal_action="review"
        )
        self.ws = scheme.create_class(
            audit.SYSTEM,
            level="class",
            parent_id=self.fonds.id,
            code="WS",
            name="文书",
            retention="D10",
            disposal_action="destroy",
        )
        self.kj = scheme.create_class(
            audit.SYSTEM,
            level="class",
            parent_id=self.fonds.id,
            code="KJ",
            name="科技",
            retention="D30",
            disposal_action="transfer",
        )
        self.permanent = scheme.create_class(
            audit.SYSTEM, level="subclass", parent_id=self.ws.id, code="ZD", name="重大事项", retention="Y"
        )


def department(code: str = "BGS", name: str = "办公室"):
    found = organisation.find_department_by_code(code)
    if found is not None:
        return found
    return organisation.create_department(audit.SYSTEM, code=code, name=name)


def series_id(code: str) -> int:
    return db.session.scalar(select(Series.id).where(Series.code == code))


def files(*contents: tuple[str, bytes]) -> list[registry.Upload]:
    return [registry.Upload(name, io.BytesIO(data)) for name, data in contents]


def closed_incoming(clerk, sender, store, title: str = "Solicitud de presupuesto", uploads=(), **fields):
    """Register an incoming document with `uploads`, receive it for information and close it; return it."""
    data = registry.Registration(
        series_id=series_id("IN"),
        title=title,
        received_at=clock.now() - timedelta(hours=1),
        channel="paper",
        correspondent_id=sender.id,
        **fields,
    )
    document = act(registry.register_document, ctx(clerk), "incoming", data, list(uploads), POLICY, store)
    act(routing.accept, ctx(clerk), document.id, "information")
    act(routing.close, ctx(clerk), document.id, result="Leído y archivado.")
    return document


def outgoing(clerk, sender, store, title: str = "Respuesta", uploads=(), **fields):
    """Register an outgoing document (closed once registered); return it."""
    fields.setdefault("department_id", department().id)
    data = registry.Registration(
        series_id=series_id("OUT"),
        title=title,
        main_recipients=[("correspondent", sender.id)],
        **fields,
    )
    return act(registry.register_document, ctx(clerk), "outgoing", data, list(uploads), POLICY, store)
