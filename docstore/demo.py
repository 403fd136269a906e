"""A realistic demo office: departments, users for every role, correspondents, a few registered documents and
their routing in every state (awaiting receipt, proposed, being handled with an overdue extra-urgent task, in
circulation, returned and closed)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from io import BytesIO
from typing import NamedTuple

from sqlalchemy import select

from docstore import accounts, audit, clock, correspondents, extraction, organisation, registry, routing, workdays
from docstore.extensions import db
from docstore.models import Department, Document, Task

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

#: The head of each department (told when one of its extra-urgent tasks is overdue): its leader, or its staff
#: member; the General Office's director heads the district bureaus, which have no users of their own.
HEADS = {
    "BGS": "director",
    "ZCFG": "li.ming",
    "CW": "juan",
    "RS": "emma",
    "XXZX": "zhang.wei",
    "BQ": "director",
    "NQ": "director",
}

CORRESPONDENTS = [
    ("Ministerio de Hacienda y Función Pública", "organisation", "E05068001", "registro@hacienda.gob.es"),
    ("国务院办公厅", "organisation", "GWYBGT", ""),
    ("Ayuntamiento de Madrid", "organisation", "L01280796", "registro@madrid.es"),
    ("Provincial Department of Finance", "organisation", "PDF", "office@finance.example.org"),
    ("省人民政府办公厅", "organisation", "SZFBGT", ""),
    ("María López García", "person", None, "maria.lopez@example.com"),
]


def load_demo(password: str, password_min_length: int) -> bool:
    """Create the demo office (departments and their heads, users, correspondents) unless it is there already;
    return True when it was created."""
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
    for code, username in HEADS.items():
        head = accounts.find_user_by_username(username)
        if head is not None:
            organisation.update_department(ctx, ids[code], {"head_id": head.id})
    for name, kind, code, email in CORRESPONDENTS:
        correspondents.create_correspondent(ctx, name=name, kind=kind, code=code or "", email=email)
    return True


class DemoDocument(NamedTuple):
    """A demo register entry; incoming ones were received `days_ago` days ago (two hours ago when 0)."""

    direction: str
    title: str
    correspondent_code: str
    urgency: str
    text: str
    type_code: str
    days_ago: int = 0


DOCUMENTS = [
    DemoDocument(
        "incoming",
        "Solicitud de información sobre el presupuesto 2027",
        "E05068001",
        "urgent",
        "Se solicita la remisión de la información presupuestaria del ejercicio 2027 antes del 15 de diciembre.",
        "SOLICITUD",
    ),
    DemoDocument(
        "incoming",
        "关于做好2027年公文处理工作的通知",
        "GWYBGT",
        "normal",
        "各部门要认真做好公文处理工作，确保公文运转高效、规范。",
        "TZ",
    ),
    DemoDocument(
        "incoming",
        "Request for the annual records transfer schedule",
        "PDF",
        "normal",
        "Please send the schedule for transferring the 2025 records to the central archive.",
        "HAN",
    ),
    DemoDocument(
        "outgoing",
        "Respuesta a la solicitud de información presupuestaria",
        "E05068001",
        "urgent",
        "En respuesta a su solicitud, se remite la información presupuestaria del ejercicio 2027.",
        "OFICIO",
    ),
    DemoDocument(
        "incoming",
        "关于做好防汛应急值守工作的紧急通知",
        "SZFBGT",
        "extra_urgent",
        "各单位要立即落实防汛应急值守，24小时值班，重要情况及时报告。",
        "TZ",
        days_ago=7,
    ),
    DemoDocument(
        "incoming",
        "Requerimiento de datos de ejecución del gasto del tercer trimestre",
        "E05068001",
        "normal",
        "Se requieren los datos de ejecución del gasto del tercer trimestre, desglosados por capítulo.",
        "SOLICITUD",
        days_ago=1,
    ),
    DemoDocument(
        "incoming",
        "Consulta sobre la contratación de personal temporal",
        "L01280796",
        "normal",
        "El Ayuntamiento consulta el procedimiento para la contratación de personal temporal en 2027.",
        "SOLICITUD",
        days_ago=1,
    ),
    DemoDocument(
        "incoming",
        "Invitation to the records management seminar",
        "PDF",
        "normal",
        "You are invited to send two colleagues to the records management seminar on 12 May.",
        "HAN",
        days_ago=3,
    ),
    DemoDocument(
        "incoming",
        "Notificación de un expediente de otro organismo",
        "L01280796",
        "normal",
        "Se notifica la resolución del expediente 2026/1234, dirigida a la Consejería de Medio Ambiente.",
        "NOTIFICACION",
    ),
]


def load_demo_documents(store, policy, clerk_username: str = "lucia", calendar: workdays.Calendar | None = None) -> int:
    """Register the demo documents (with a small text attachment each) as the demo clerk, and route the incoming
    ones (see `load_demo_routing`); return how many documents were registered."""
    clerk = accounts.find_user_by_username(clerk_username)
    office = organisation.find_department_by_code("BGS")
    if clerk is None or office is None:
        return 0
    ctx = audit.Context(clerk.id)
    by_code = {c.code: c.id for c in registry.active_correspondents() if c.code}
    series = {s.direction: s.id for s in registry.list_series()}
    done = 0
    types = {t.code: t.id for t in registry.document_types()}
    for entry in DOCUMENTS:
        if db.session.execute(select(Document.id).where(Document.title == entry.title)).first() is not None:
            continue
        data = registry.Registration(
            series_id=series[entry.direction],
            title=entry.title,
            urgency=entry.urgency,
            department_id=office.id,
            document_type_id=types.get(entry.type_code),
        )
        if entry.direction == "incoming":
            data.received_at = clock.now() - (timedelta(days=entry.days_ago) if entry.days_ago else timedelta(hours=2))
            data.channel = "email"
            data.correspondent_id = by_code[entry.correspondent_code]
        else:
            data.main_recipients = [("correspondent", by_code[entry.correspondent_code])]
        upload = registry.Upload("texto.txt", BytesIO(entry.text.encode("utf-8")))
        registry.register_document(ctx, entry.direction, data, [upload], policy, store)
        done += 1
    load_demo_routing(calendar, clerk_username)
    extraction.wake()
    return done


# --- routing -------------------------------------------------------------------------------------------------------


def _step(function: Callable, *args, **kwargs):
    """Run one routing service and commit, as a request does (rolling back if it fails)."""
    try:
        result = function(*args, **kwargs)
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return result


def load_demo_routing(calendar: workdays.Calendar | None = None, clerk_username: str = "lucia") -> int:
    """Route the incoming demo documents through the routing services, each into a different state; return how
    many were routed now.

    A document is routed only while it still awaits receipt, so that loading twice changes nothing:
    - the budget request is proposed to the director (Finance to lead, Legal Affairs with it: a proposal names its
      lead department first, and it leads when a leader instructs it as proposed);
    - the notice on document handling is for information and circulated (two readers have not read it yet);
    - the records transfer schedule awaits receipt;
    - the extra-urgent flood-duty notice is being handled by Finance (overdue) and the Information Centre (done);
    - the third-quarter spending request is with Finance, due in two working days;
    - the temporary staff question is proposed to 李明 (Human Resources);
    - the seminar invitation was handled by Emma and closed;
    - the notification for another body was returned to its sender.
    """
    calendar = calendar or workdays.Calendar()
    users = {name: accounts.find_user_by_username(name) for name, *_rest in USERS}
    departments = {code: organisation.find_department_by_code(code) for code, *_rest in DEPARTMENTS}
    if any(user is None for user in users.values()) or any(row is None for row in departments.values()):
        return 0
    clerk = audit.Context(users[clerk_username].id)
    director, li_ming = audit.Context(users["director"].id), audit.Context(users["li.ming"].id)
    today = calendar.today()
    routed = 0

    def pending(title: str) -> Document | None:
        document = db.session.execute(select(Document).where(Document.title == title)).scalar()
        if document is None or document.direction != "incoming":
            return None
        item = _step(routing.ensure_item, document.id)
        return document if item.state == "pending" else None

    def department(code: str) -> tuple[str, int]:
        return ("department", departments[code].id)

    if document := pending("Solicitud de información sobre el presupuesto 2027"):
        _step(routing.accept, clerk, document.id, "action")
        _step(
            routing.propose,
            clerk,
            document.id,
            users["director"].id,
            [departments["CW"].id, departments["ZCFG"].id],  # the lead first: Finance, then Legal Affairs
            calendar.add_working_days(today, 5),
            "Propuesta: Hacienda prepara la respuesta con la información presupuestaria; Asuntos Jurídicos la revisa.",
            calendar,
        )
        routed += 1
    if document := pending("关于做好2027年公文处理工作的通知"):
        _step(routing.accept, clerk, document.id, "information")
        readers = [users[name].id for name in ("juan", "zhang.wei", "emma")]
        _step(routing.circulate, clerk, document.id, readers, True)
        _step(routing.mark_read, audit.Context(users["emma"].id), document.id)
        routed += 1
    if document := pending("关于做好防汛应急值守工作的紧急通知"):
        _step(routing.accept, clerk, document.id, "action")
        # no deadline given: the default one of an extra-urgent document, a working day after its receipt, has passed
        _step(
            routing.instruct,
            director,
            document.id,
            "Urgente: Hacienda coordina el servicio de guardia; el Centro de Información organiza los turnos.",
            department("CW"),
            [department("XXZX")],
            None,
            calendar,
        )
        co_handler = db.session.execute(
            select(Task).where(Task.role == "co", Task.item.has(document_id=document.id))
        ).scalar_one()
        _step(routing.complete_task, audit.Context(users["zhang.wei"].id), co_handler.id, "信息中心已安排24小时值班。")
        routed += 1
    if document := pending("Requerimiento de datos de ejecución del gasto del tercer trimestre"):
        _step(routing.accept, clerk, document.id, "action")
        _step(
            routing.instruct,
            director,
            document.id,
            "Hacienda: preparar los datos por capítulo y remitirlos.",
            department("CW"),
            [],
            calendar.add_working_days(today, 2),
            calendar,
        )
        routed += 1
    if document := pending("Consulta sobre la contratación de personal temporal"):
        _step(routing.accept, clerk, document.id, "action")
        _step(
            routing.propose,
            clerk,
            document.id,
            users["li.ming"].id,
            [departments["RS"].id],  # Human Resources leads, alone
            calendar.add_working_days(today, 10),
            "拟请人事处研究答复。",
            calendar,
        )
        routed += 1
    if document := pending("Invitation to the records management seminar"):
        _step(routing.accept, clerk, document.id, "action")
        _step(
            routing.instruct,
            li_ming,
            document.id,
            "请人事处派两名同志参加。",
            ("user", users["emma"].id),
            [],
            None,
            calendar,
        )
        task = db.session.execute(select(Task).where(Task.item.has(document_id=document.id))).scalar_one()
        _step(routing.complete_task, audit.Context(users["emma"].id), task.id, "Two colleagues are registered.")
        _step(routing.close, clerk, document.id, "Attendance confirmed to the Provincial Department of Finance.")
        routed += 1
    if document := pending("Notificación de un expediente de otro organismo"):
        _step(
            routing.return_to_sender,
            clerk,
            document.id,
            "No corresponde a este organismo: va dirigida a la Consejería de Medio Ambiente.",
        )
        routed += 1
    pending("Request for the annual records transfer schedule")  # left awaiting receipt, on the clerks' board
    return routed
