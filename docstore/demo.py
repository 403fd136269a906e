"""A realistic demo office: departments, users for every role, correspondents and a few registered documents."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

from docstore import accounts, audit, clock, correspondents, extraction, organisation, registry
from docstore.models import Department

DEPARTMENTS = [
    # code, name, kind, parent code
    ("BGS", "General Office · 办公室", "office", None),
    ("ZCFG", "Policy and Legal Affairs · Asuntos Jurídicos", "department", "BGS"),
    ("CW", "Finance · Hacienda · 财务处", "department", "BGS"),
    ("RS", "Human Resources · 人事处", "department", "BGS"),
    ("XXZX", "Information Centre · 信息中心", "department", "BGS"),
    ("BQ", "Northern District Bureau · 北区分局", "unit", "BGS"),
    ("NQ", "Southern District Bureau · Delegación Sur", "unit", "BGS"),
]

USERS = [
    # username, full name, department, roles, clearance, locale
    ("lucia", "Lucía Fernández", "BGS", ["clerk"], 1, "es"),
    ("wang.fang", "王芳", "BGS", ["clerk"], 1, "zh_Hans"),
    ("director", "Carmen Ruiz", "BGS", ["leader"], 3, "es"),
    ("li.ming", "李明", "ZCFG", ["leader"], 2, "zh_Hans"),
    ("juan", "Juan Pérez", "CW", ["staff"], 0, "es"),
    ("zhang.wei", "张伟", "XXZX", ["staff"], 0, "zh_Hans"),
    ("emma", "Emma Clarke", "RS", ["staff"], 1, "en"),
    ("archivo", "Ana Torres", "BGS", ["archivist"], 2, None),
]

CORRESPONDENTS = [
    ("Ministerio de Hacienda y Función Pública", "organisation", "E05068001", "registro@hacienda.gob.es"),
    ("国务院办公厅", "organisation", "GWYBGT", ""),
    ("Ayuntamiento de Madrid", "organisation", "L01280796", "registro@madrid.es"),
    ("Provincial Department of Finance", "organisation", "PDF", "office@finance.example.org"),
    ("省人民政府办公厅", "organisation", "SZFBGT", ""),
    ("María López García", "person", None, "maria.lopez@example.com"),
]


def load_demo(password: str, password_min_length: int) -> bool:
    """Create the demo office unless it is there already; return True when it was created."""
    if organisation.find_department_by_code("BGS") is not None:
        return False
    ctx = audit.SYSTEM
    ids: dict[str, int] = {}
    for code, name, kind, parent in DEPARTMENTS:
        department: Department = organisation.create_department(
            ctx, code=code, name=name, kind=kind, parent_id=ids.get(parent) if parent else None
        )
        ids[code] = department.id
    for username, full_name, department, roles, clearance, locale in USERS:
        if accounts.find_user_by_username(username) is None:
            accounts.create_user(
                ctx,
                username=username,
                full_name=full_name,
                password=password,
                password_min_length=password_min_length,
                department_id=ids[department],
                roles=roles,
                clearance=clearance,
                locale=locale,
            )
    for name, kind, code, email in CORRESPONDENTS:
        correspondents.create_correspondent(ctx, name=name, kind=kind, code=code or "", email=email)
    return True


#: Demo register entries: direction, title, correspondent code, urgency, text, document type code.
DOCUMENTS = [
    (
        "incoming",
        "Solicitud de información sobre el presupuesto 2027",
        "E05068001",
        "urgent",
        "Se solicita la remisión de la información presupuestaria del ejercicio 2027 antes del 15 de diciembre.",
        "SOLICITUD",
    ),
    (
        "incoming",
        "关于做好2027年公文处理工作的通知",
        "GWYBGT",
        "normal",
        "各部门要认真做好公文处理工作，确保公文运转高效、规范。",
        "TZ",
    ),
    (
        "incoming",
        "Request for the annual records transfer schedule",
        "PDF",
        "normal",
        "Please send the schedule for transferring the 2025 records to the central archive.",
        "HAN",
    ),
    (
        "outgoing",
        "Respuesta a la solicitud de información presupuestaria",
        "E05068001",
        "urgent",
        "En respuesta a su solicitud, se remite la información presupuestaria del ejercicio 2027.",
        "OFICIO",
    ),
]


def load_demo_documents(store, policy, clerk_username: str = "lucia") -> int:
    """Register a few demo documents (with a small text attachment each) as the demo clerk; return how many."""
    clerk = accounts.find_user_by_username(clerk_username)
    office = organisation.find_department_by_code("BGS")
    if clerk is None or office is None:
        return 0
    ctx = audit.Context(clerk.id)
    by_code = {c.code: c.id for c in registry.active_correspondents() if c.code}
    series = {s.direction: s.id for s in registry.list_series()}
    done = 0
    types = {t.code: t.id for t in registry.document_types()}
    for direction, title, code, urgency, text, type_code in DOCUMENTS:
        data = registry.Registration(
            series_id=series[direction],
            title=title,
            urgency=urgency,
            department_id=office.id,
            document_type_id=types.get(type_code),
        )
        if direction == "incoming":
            data.received_at = clock.now() - timedelta(hours=2)
            data.channel = "email"
            data.correspondent_id = by_code[code]
        else:
            data.main_recipients = [("correspondent", by_code[code])]
        upload = registry.Upload("texto.txt", BytesIO(text.encode("utf-8")))
        registry.register_document(ctx, direction, data, [upload], policy, store)
        done += 1
    extraction.wake()
    return done
