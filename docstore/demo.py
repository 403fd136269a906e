"""A realistic demo office: departments, users for every role, correspondents, a few registered documents and
their routing in every state (awaiting receipt, proposed, being handled with an overdue extra-urgent task, in
circulation, returned and closed), each step done when it plausibly was, over the past working days."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from io import BytesIO
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import select

from docstore import (
    accounts,
    audit,
    clock,
    correspondents,
    extraction,
    numbering,
    organisation,
    registry,
    routing,
    workdays,
)
from docstore.directives import drafts, flow, issuing, kinds
from docstore.extensions import db
from docstore.models import Department, Directive, Document, Task

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
    """A demo register entry. An incoming one was received `days_ago` working days ago at `at` (office time), or
    today `minutes_ago` minutes before the demo was loaded; an outgoing one was registered `minutes_ago` ago."""

    direction: str
    title: str
    correspondent_code: str
    urgency: str
    text: str
    type_code: str
    days_ago: int = 0
    at: str = "09:00"
    minutes_ago: int = 120


DOCUMENTS = [
    DemoDocument(
        "incoming",
        "Solicitud de información sobre el presupuesto 2027",
        "E05068001",
        "urgent",
        "Se solicita la remisión de la información presupuestaria del ejercicio 2027 antes del 15 de diciembre.",
        "SOLICITUD",
        minutes_ago=150,
    ),
    DemoDocument(
        "incoming",
        "关于做好2027年公文处理工作的通知",
        "GWYBGT",
        "normal",
        "各部门要认真做好公文处理工作，确保公文运转高效、规范。",
        "TZ",
        minutes_ago=140,
    ),
    DemoDocument(
        "incoming",
        "Request for the annual records transfer schedule",
        "PDF",
        "normal",
        "Please send the schedule for transferring the 2025 records to the central archive.",
        "HAN",
        minutes_ago=45,
    ),
    DemoDocument(
        "outgoing",
        "Respuesta a la solicitud de información presupuestaria",
        "E05068001",
        "urgent",
        "En respuesta a su solicitud, se remite la información presupuestaria del ejercicio 2027.",
        "OFICIO",
        minutes_ago=20,
    ),
    DemoDocument(
        "incoming",
        "关于做好防汛应急值守工作的紧急通知",
        "SZFBGT",
        "extra_urgent",
        "各单位要立即落实防汛应急值守，24小时值班，重要情况及时报告。",
        "TZ",
        days_ago=5,
        at="08:40",
    ),
    DemoDocument(
        "incoming",
        "Requerimiento de datos de ejecución del gasto del tercer trimestre",
        "E05068001",
        "normal",
        "Se requieren los datos de ejecución del gasto del tercer trimestre, desglosados por capítulo.",
        "SOLICITUD",
        days_ago=1,
        at="10:05",
    ),
    DemoDocument(
        "incoming",
        "Consulta sobre la contratación de personal temporal",
        "L01280796",
        "normal",
        "El Ayuntamiento consulta el procedimiento para la contratación de personal temporal en 2027.",
        "SOLICITUD",
        days_ago=1,
        at="11:30",
    ),
    DemoDocument(
        "incoming",
        "Invitation to the records management seminar",
        "PDF",
        "normal",
        "You are invited to send two colleagues to the records management seminar on 12 May.",
        "HAN",
        days_ago=3,
        at="09:20",
    ),
    DemoDocument(
        "incoming",
        "Notificación de un expediente de otro organismo",
        "L01280796",
        "normal",
        "Se notifica la resolución del expediente 2026/1234, dirigida a la Consejería de Medio Ambiente.",
        "NOTIFICACION",
        minutes_ago=110,
    ),
]

#: How long after its receipt an incoming demo document was registered.
REGISTERED_AFTER = timedelta(minutes=8)


# --- the demo's past ----------------------------------------------------------------------------------------------


class Step(NamedTuple):
    """One thing the demo office did, at the moment it did it."""

    at: datetime
    run: Callable[[], object]


@contextmanager
def _clock_at(moment: datetime) -> Iterator[None]:
    """Let the services see the clock run on from `moment`, then give the clock back (the demo writes a past)."""
    real = clock.now
    started = real()
    clock.now = lambda: moment + (real() - started)
    try:
        yield
    finally:
        clock.now = real


def _commit(function: Callable, *args, **kwargs):
    """Run one service and commit, as a request does (rolling back if it fails)."""
    try:
        result = function(*args, **kwargs)
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return result


def _run(steps: list[Step], now: datetime) -> None:
    """Run `steps` in the order they happened, each at its moment (never later than `now`), and commit each."""
    for step in sorted(steps, key=lambda step: step.at):  # a stable sort: steps at one moment keep their order
        with _clock_at(min(step.at, now)):
            _commit(step.run)


def _working_day_before(calendar: workdays.Calendar, day: date, days: int) -> date:
    """Return the working day `days` working days before `day` (`day` itself for 0)."""
    while days > 0:
        day -= timedelta(days=1)
        if calendar.is_working_day(day):
            days -= 1
    return day


def _office_time(calendar: workdays.Calendar, day: date, at: str) -> datetime:
    """Return the instant of `day` at the office's time `at` ("HH:MM"), in UTC."""
    moment = datetime.combine(day, time.fromisoformat(at), tzinfo=ZoneInfo(calendar.rules.timezone))
    return moment.astimezone(UTC)


def _moment(entry: DemoDocument, now: datetime, calendar: workdays.Calendar) -> datetime:
    """Return when `entry` was received (incoming) or registered (outgoing)."""
    if entry.direction == "incoming" and entry.days_ago:
        return _office_time(calendar, _working_day_before(calendar, calendar.today(), entry.days_ago), entry.at)
    return now - timedelta(minutes=entry.minutes_ago)


def _find(title: str) -> Document | None:
    return db.session.execute(select(Document).where(Document.title == title)).scalar()


# --- documents ------------------------------------------------------------------------------------------------------


def load_demo_documents(store, policy, clerk_username: str = "lucia", calendar: workdays.Calendar | None = None) -> int:
    """Register the demo documents (with a small text attachment each) as the demo clerk, each when it came in, and
    route the incoming ones (see `load_demo_routing`); return how many documents were registered."""
    clerk = accounts.find_user_by_username(clerk_username)
    office = organisation.find_department_by_code("BGS")
    if clerk is None or office is None:
        return 0
    calendar = calendar or workdays.Calendar()
    now = clock.now()
    ctx = audit.Context(clerk.id)
    by_code = {c.code: c.id for c in registry.active_correspondents() if c.code}
    series = {s.direction: s.id for s in registry.list_series()}
    types = {t.code: t.id for t in registry.document_types()}
    steps: list[Step] = []
    received: dict[str, datetime] = {}
    for entry in DOCUMENTS:
        if _find(entry.title) is not None:
            continue
        moment = _moment(entry, now, calendar)
        data = registry.Registration(
            series_id=series[entry.direction],
            title=entry.title,
            urgency=entry.urgency,
            department_id=office.id,
            document_type_id=types.get(entry.type_code),
        )
        if entry.direction == "incoming":
            data.received_at = moment
            data.channel = "email"
            data.correspondent_id = by_code[entry.correspondent_code]
            received[entry.title] = moment
            moment += REGISTERED_AFTER
        else:
            data.main_recipients = [("correspondent", by_code[entry.correspondent_code])]
        upload = registry.Upload("texto.txt", BytesIO(entry.text.encode("utf-8")))
        steps.append(
            Step(moment, partial(registry.register_document, ctx, entry.direction, data, [upload], policy, store))
        )
    registered = len(steps)
    received.update(_pending(calendar))  # documents registered earlier that still await receipt
    routing_steps, _routed = _routing_steps(calendar, clerk_username, received)
    _run(steps + routing_steps, now)
    extraction.wake()
    return registered


# --- routing -------------------------------------------------------------------------------------------------------


def _pending(calendar: workdays.Calendar) -> dict[str, datetime]:
    """Return when each incoming demo document that is registered and still awaits receipt was received."""
    found: dict[str, datetime] = {}
    for entry in DOCUMENTS:
        document = _find(entry.title)
        if document is None or document.direction != "incoming":
            continue
        item = _commit(routing.ensure_item, document.id)
        if item.state == "pending":
            found[entry.title] = clock.as_utc(document.received_at or document.registered_at)
    return found


def load_demo_routing(calendar: workdays.Calendar | None = None, clerk_username: str = "lucia") -> int:
    """Route the incoming demo documents through the routing services, each into a different state, step by step
    from its receipt; return how many were routed now.

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
    now = clock.now()
    steps, routed = _routing_steps(calendar, clerk_username, _pending(calendar))
    _run(steps, now)
    return routed


BUDGET = "Solicitud de información sobre el presupuesto 2027"
NOTICE = "关于做好2027年公文处理工作的通知"
FLOOD = "关于做好防汛应急值守工作的紧急通知"
SPENDING = "Requerimiento de datos de ejecución del gasto del tercer trimestre"
STAFF = "Consulta sobre la contratación de personal temporal"
SEMINAR = "Invitation to the records management seminar"
NOT_OURS = "Notificación de un expediente de otro organismo"


def _routing_steps(
    calendar: workdays.Calendar, clerk_username: str, received: dict[str, datetime]
) -> tuple[list[Step], int]:
    """Return the routing steps of the documents of `received` (title: when it came in), minutes or hours apart
    from their receipt, and how many documents they route. Deadlines are counted from today, so that the demo's
    due-soon task is due soon and its overdue one overdue whenever it is loaded."""
    users = {name: accounts.find_user_by_username(name) for name, *_rest in USERS}
    departments = {code: organisation.find_department_by_code(code) for code, *_rest in DEPARTMENTS}
    if any(user is None for user in users.values()) or any(row is None for row in departments.values()):
        return [], 0
    clerk = audit.Context(users[clerk_username].id)
    director, li_ming = audit.Context(users["director"].id), audit.Context(users["li.ming"].id)
    emma, zhang_wei = audit.Context(users["emma"].id), audit.Context(users["zhang.wei"].id)
    today = calendar.today()
    steps: list[Step] = []

    def doc(title: str) -> int:
        return _find(title).id  # looked up when the step runs: the document may be registered just before

    def department(code: str) -> tuple[str, int]:
        return ("department", departments[code].id)

    def task(title: str, role: str) -> int:
        query = select(Task.id).where(Task.role == role, Task.item.has(document_id=doc(title)))
        return db.session.execute(query).scalar_one()

    def minutes(count: int) -> timedelta:
        return timedelta(minutes=count)

    if (start := received.get(BUDGET)) is not None:
        steps += [
            Step(start + minutes(20), lambda: routing.accept(clerk, doc(BUDGET), "action")),
            Step(
                start + minutes(45),
                lambda: routing.propose(
                    clerk,
                    doc(BUDGET),
                    users["director"].id,
                    [departments["CW"].id, departments["ZCFG"].id],  # the lead first: Finance, then Legal Affairs
                    calendar.add_working_days(today, 5),
                    "Hacienda prepara la respuesta con la información presupuestaria; Asuntos Jurídicos la revisa.",
                    calendar,
                ),
            ),
        ]
    if (start := received.get(NOTICE)) is not None:
        readers = [users[name].id for name in ("juan", "zhang.wei", "emma")]
        steps += [
            Step(start + minutes(12), lambda: routing.accept(clerk, doc(NOTICE), "information")),
            Step(start + minutes(18), lambda: routing.circulate(clerk, doc(NOTICE), readers, True)),
            Step(start + minutes(70), lambda: routing.mark_read(emma, doc(NOTICE))),
        ]
    if (start := received.get(FLOOD)) is not None:
        steps += [
            Step(start + minutes(15), lambda: routing.accept(clerk, doc(FLOOD), "action")),
            # no deadline given: the default one of an extra-urgent document, a working day after its receipt
            Step(
                start + minutes(50),
                lambda: routing.instruct(
                    director,
                    doc(FLOOD),
                    "Urgente: Hacienda coordina el servicio de guardia; el Centro de Información organiza los turnos.",
                    department("CW"),
                    [department("XXZX")],
                    None,
                    calendar,
                ),
            ),
            Step(
                start + minutes(230),
                lambda: routing.complete_task(zhang_wei, task(FLOOD, "co"), "信息中心已安排24小时值班。"),
            ),
        ]
    if (start := received.get(SPENDING)) is not None:
        steps += [
            Step(start + minutes(20), lambda: routing.accept(clerk, doc(SPENDING), "action")),
            Step(
                start + minutes(125),
                lambda: routing.instruct(
                    director,
                    doc(SPENDING),
                    "Hacienda: preparar los datos por capítulo y remitirlos.",
                    department("CW"),
                    [],
                    calendar.add_working_days(today, 2),
                    calendar,
                ),
            ),
        ]
    if (start := received.get(STAFF)) is not None:
        steps += [
            Step(start + minutes(15), lambda: routing.accept(clerk, doc(STAFF), "action")),
            Step(
                start + minutes(70),
                lambda: routing.propose(
                    clerk,
                    doc(STAFF),
                    users["li.ming"].id,
                    [departments["RS"].id],  # Human Resources leads, alone
                    calendar.add_working_days(today, 10),
                    "拟请人事处研究答复。",
                    calendar,
                ),
            ),
        ]
    if (start := received.get(SEMINAR)) is not None:
        received_on = numbering.office_date(start, calendar.rules.timezone)
        next_day = _office_time(calendar, calendar.add_working_days(received_on, 1), "10:15")
        steps += [
            Step(start + minutes(25), lambda: routing.accept(clerk, doc(SEMINAR), "action")),
            Step(
                start + minutes(180),
                lambda: routing.instruct(
                    li_ming, doc(SEMINAR), "请人事处派两名同志参加。", ("user", users["emma"].id), [], None, calendar
                ),
            ),
            Step(
                max(next_day, start + minutes(240)),
                lambda: routing.complete_task(emma, task(SEMINAR, "lead"), "Two colleagues are registered."),
            ),
            Step(
                max(next_day, start + minutes(240)) + minutes(40),
                lambda: routing.close(
                    clerk, doc(SEMINAR), "Attendance confirmed to the Provincial Department of Finance."
                ),
            ),
        ]
    if (start := received.get(NOT_OURS)) is not None:
        steps.append(
            Step(
                start + minutes(25),
                lambda: routing.return_to_sender(
                    clerk,
                    doc(NOT_OURS),
                    "No corresponde a este organismo: va dirigida a la Consejería de Medio Ambiente.",
                ),
            )
        )
    # the records transfer schedule is left awaiting receipt, on the clerks' board
    routed = sum(title in received for title in (BUDGET, NOTICE, FLOOD, SPENDING, STAFF, SEMINAR, NOT_OURS))
    return steps, routed


# --- directives ----------------------------------------------------------------------------------------------------

#: The outgoing registers that number the demo's directives: code, name, pattern, department.
DIRECTIVE_SERIES = [
    ("BGF", "General Office directives · 办公室发文", "市府办发〔{year}〕{seq}号", "BGS"),
    ("CWS", "Finance · Salida de Hacienda", "HAC-S/{year}/{seq:4}", "CW"),
]

DEMO_NOTICE = "关于开展2027年度公文处理工作自查的通知"
DEMO_OFICIO = "Remisión de la liquidación del presupuesto 2026"
DEMO_TO_SIGN = "关于进一步规范会议纪要印发工作的通知"
DEMO_RESOLUCION = "Resolución de concesión de ayudas para formación del personal"

NOTICE_TEXT = """为进一步提高公文处理质量，经研究，决定在全市各部门开展2027年度公文处理工作自查。现将有关事项通知如下。
# 自查内容
## 收文办理
- 收文登记是否及时、完整。
- 拟办、批办、承办、催办是否形成闭环。
## 发文办理
发文是否经过核稿、会签、签发和复核，文号是否连续。
# 工作要求
各部门要高度重视，于规定时间前将自查报告报送市府办公室。
| 阶段 | 时间 | 责任单位 |
|---|---|---|
| 部门自查 | 3月10日前 | 各部门 |
| 汇总报告 | 3月20日前 | 办公室 |"""

OFICIO_TEXT = """En relación con su escrito de referencia, le remito la liquidación del presupuesto del \
ejercicio 2026, aprobada por la Junta de Gobierno, junto con el informe de intervención.

Quedo a su disposición para cualquier aclaración."""


def load_demo_directives(store, policy, calendar: workdays.Calendar | None = None) -> int:
    """Draft and move the demo directives through their steps, each at its moment; return how many were made.

    - a notice asking the departments for a self-check report, issued with replies due (Human Resources replied);
    - an oficio to the Ayuntamiento de Madrid from Finance, issued by e-mail;
    - a notice countersigned by Legal Affairs that waits for the director's sign-off;
    - a resolución being reviewed by the office.
    """
    if db.session.execute(select(Directive.id).limit(1)).first() is not None:
        return 0
    users = {name: accounts.find_user_by_username(name) for name, *_rest in USERS}
    departments = {code: organisation.find_department_by_code(code) for code, *_rest in DEPARTMENTS}
    if any(user is None for user in users.values()) or any(d is None for d in departments.values()):
        return 0
    for code, name, pattern, department in DIRECTIVE_SERIES:
        if not any(s.code == code for s in registry.list_series(include_inactive=True)):
            registry.create_series(
                audit.SYSTEM,
                code=code,
                name=name,
                direction="outgoing",
                pattern=pattern,
                department_id=departments[department].id,
            )
    calendar = calendar or workdays.Calendar()
    now = clock.now()
    start = _office_time(calendar, _working_day_before(calendar, calendar.today(), 3), "09:30")

    def ctx(name: str) -> audit.Context:
        return audit.Context(users[name].id)

    def dept(code: str) -> tuple[str, int]:
        return ("department", departments[code].id)

    by_code = {c.code: c.id for c in registry.active_correspondents() if c.code}
    made: dict[str, int] = {}

    def create(name: str, draft: drafts.Draft) -> Callable[[], object]:
        def run():
            made[draft.title] = drafts.create_draft(ctx(name), draft).id

        return run

    def on(title: str, function: Callable, name: str, *args) -> Callable[[], object]:
        return lambda: function(ctx(name), made[title], *args)

    notice = drafts.Draft(
        kind="notice",
        title=DEMO_NOTICE,
        issuer="某某市人民政府办公室",
        issuer_mark="某某市人民政府办公室文件",
        department_id=departments["BGS"].id,
        signer_id=users["director"].id,
        body=NOTICE_TEXT,
        attachments_note="公文处理工作自查表",
        main_recipients=[dept("CW"), dept("RS"), dept("XXZX")],
        copy_recipients=[dept("BQ")],
        countersign_department_ids=[departments["ZCFG"].id],
        feedback_requested=True,
        feedback_deadline=calendar.add_working_days(calendar.today(), 5),
    )
    oficio = drafts.Draft(
        kind="oficio",
        title=DEMO_OFICIO,
        issuer="Ayuntamiento · Área de Hacienda",
        issuer_mark="AYUNTAMIENTO\nÁrea de Hacienda\nServicio de Presupuestos",
        department_id=departments["CW"].id,
        signer_id=users["director"].id,
        signer_title="La Directora del Área de Hacienda",
        body=OFICIO_TEXT,
        their_reference="L01280796/2026/118",
        place="Madrid",
        main_recipients=[("correspondent", by_code["L01280796"])],
    )
    to_sign = drafts.Draft(
        kind="notice",
        title=DEMO_TO_SIGN,
        issuer="某某市人民政府办公室",
        issuer_mark="某某市人民政府办公室文件",
        department_id=departments["BGS"].id,
        signer_id=users["director"].id,
        body="# 总体要求\n会议纪要应当在会议结束后三个工作日内印发。\n# 审核程序\n- 起草部门核对。\n- 办公室核稿。",
        main_recipients=[dept("CW"), dept("RS"), dept("XXZX"), dept("ZCFG")],
        countersign_department_ids=[departments["ZCFG"].id],
    )
    resolucion = drafts.Draft(
        kind="resolucion",
        title=DEMO_RESOLUCION,
        issuer="Ayuntamiento · Área de Hacienda",
        issuer_mark="AYUNTAMIENTO\nÁrea de Hacienda",
        department_id=departments["CW"].id,
        signer_id=users["director"].id,
        signer_title="La Directora del Área de Hacienda",
        place="Madrid",
        sections={
            "background": "- Por acuerdo de 2 de febrero se convocaron ayudas para la formación del personal.\n"
            "- Finalizado el plazo, se presentaron 42 solicitudes.",
            "grounds": "- Es competente esta Dirección conforme al artículo 12 de las bases reguladoras.",
            "resolved": "- Conceder las ayudas a las personas relacionadas en el anexo.\n- Publicar esta resolución.",
            "appeal": kinds.DEFAULT_APPEAL,
        },
        main_recipients=[dept("RS")],
    )

    def minutes(count: int) -> timedelta:
        return timedelta(minutes=count)

    def reply_from_rs():
        # Human Resources answers the notice: its reply is an internal document linked on the notice's page
        directive = drafts.get_directive(made[DEMO_NOTICE])
        recipient = next(r for r in directive.recipients if r.department_id == departments["RS"].id)
        data = registry.Registration(
            series_id=next(s.id for s in registry.list_series("internal")),
            title="人事处公文处理工作自查报告",
            department_id=departments["RS"].id,
            summary="收文登记完整，发文文号连续；个别催办记录不全，已整改。",
        )
        reply = registry.register_document(ctx("lucia"), "internal", data, [], policy, store)
        issuing.link_reply(ctx("lucia"), directive.id, recipient.id, reply.number)

    # The notice and the oficio were drafted days ago and went out today, after the last demo document came in (a
    # register's numbers follow the order of registration); Human Resources has already answered the notice.
    steps = [
        Step(start, create("wang.fang", notice)),
        Step(start + minutes(30), on(DEMO_NOTICE, flow.submit, "wang.fang")),
        Step(start + minutes(60), on(DEMO_NOTICE, flow.approve_review, "lucia", "格式规范，同意送会签。")),
        Step(start + minutes(120), on(DEMO_NOTICE, flow.countersign, "li.ming", None, True, "无意见。")),
        Step(start + minutes(200), on(DEMO_NOTICE, flow.sign_off, "director", "同意印发。")),
        Step(now - minutes(14), on(DEMO_NOTICE, issuing.register, "wang.fang", policy, store)),
        Step(now - minutes(12), on(DEMO_NOTICE, issuing.issue, "wang.fang", policy, [])),
        Step(now - minutes(3), reply_from_rs),
        Step(start + minutes(10), create("juan", oficio)),
        Step(start + minutes(40), on(DEMO_OFICIO, flow.submit, "juan")),
        Step(start + minutes(70), on(DEMO_OFICIO, flow.approve_review, "lucia", "")),
        Step(start + minutes(180), on(DEMO_OFICIO, flow.sign_off, "director", "Conforme.")),
        Step(now - minutes(10), on(DEMO_OFICIO, issuing.register, "lucia", policy, store)),
        Step(now - minutes(9), on(DEMO_OFICIO, issuing.issue, "lucia", policy, [])),
        Step(now - minutes(180), create("wang.fang", to_sign)),
        Step(now - minutes(170), on(DEMO_TO_SIGN, flow.submit, "wang.fang")),
        Step(now - minutes(150), on(DEMO_TO_SIGN, flow.approve_review, "lucia", "")),
        Step(now - minutes(100), on(DEMO_TO_SIGN, flow.countersign, "li.ming", None, True, "同意。")),
        Step(now - minutes(60), create("juan", resolucion)),
        Step(now - minutes(45), on(DEMO_RESOLUCION, flow.submit, "juan")),
    ]
    _run(steps, now)
    extraction.wake()
    return len(made)


# --- the archive ----------------------------------------------------------------------------------------------------

#: The demo file plan: (code, level, parent code, name, retention, disposal action).
FILE_PLAN = [
    ("J001", "fonds", None, "Oficina · 办公室", "Y", "review"),
    ("WS", "class", "J001", "Documentos administrativos · 文书", "D10", "destroy"),
    ("ZD", "subclass", "WS", "Asuntos relevantes · 重大事项", "Y", ""),
    ("KJ", "class", "J001", "Proyectos · 科技", "D30", "transfer"),
]

#: Documents of 2015, closed and filed in 2016: two in WS, whose ten years have run out, and one kept forever.
ARCHIVED = [
    ("Convocatoria de ayudas para la digitalización de archivos 2015", "E05068001", "WS"),
    ("关于2015年度档案工作检查的通知", "GWYBGT", "WS"),
    ("关于机构编制调整的批复", "SZFBGT", "ZD"),
]


def load_demo_archive(store, policy, rules) -> int:
    """Create the demo file plan and file three documents of 2015 (two past their retention); return how many."""
    from docstore.archive import filing, scheme

    if any(node.code == "J001" for node in scheme.list_classes(include_inactive=True)):
        return 0
    clerk, archivist = accounts.find_user_by_username("lucia"), accounts.find_user_by_username("archivo")
    if clerk is None or archivist is None:
        return 0
    nodes: dict[str, int] = {}
    for code, level, parent, name, retention, action in FILE_PLAN:
        node = scheme.create_class(
            audit.SYSTEM,
            level=level,
            parent_id=nodes.get(parent),
            code=code,
            name=name,
            retention=retention,
            disposal_action=action,
        )
        nodes[code] = node.id
    by_code = {c.code: c.id for c in registry.active_correspondents() if c.code}
    series = {s.direction: s.id for s in registry.list_series()}
    office = organisation.find_department_by_code("BGS")
    steps: list[Step] = []
    received = datetime(2015, 3, 10, 9, 0, tzinfo=UTC)
    for n, (title, sender, class_code) in enumerate(ARCHIVED):
        moment = received + timedelta(days=30 * n)
        data = registry.Registration(
            series_id=series["incoming"],
            title=title,
            department_id=office.id,
            received_at=moment,
            channel="paper",
            correspondent_id=by_code[sender],
        )
        upload = registry.Upload("texto.txt", BytesIO(f"{title}\n".encode()))

        def file(title=title, data=data, upload=upload, class_code=class_code) -> None:
            document = registry.register_document(audit.Context(clerk.id), "incoming", data, [upload], policy, store)
            routing.accept(audit.Context(clerk.id), document.id, "information")
            routing.close(audit.Context(clerk.id), document.id, "Archivado.")
            filing.file_document(audit.Context(archivist.id), document.id, nodes[class_code], rules)

        steps.append(Step(moment + REGISTERED_AFTER, file))
    _run(steps, clock.now())
    extraction.wake()
    return len(steps)
