"""A summary of the recipients' replies to a directive, as a Word file for the leader (in the directive's language)."""

from __future__ import annotations

import io
from datetime import date

import docx
from docx.shared import Pt

from docstore.directives.content import chinese_date, spanish_date
from docstore.directives.drafts import language_of
from docstore.directives.issuing import feedback, openable
from docstore.models import Directive, User

LABELS = {
    "zh": {
        "heading": "关于《{title}》的反馈情况汇总",
        "number": "文号：{number}",
        "deadline": "反馈截止：{deadline}",
        "made": "汇总日期：{today}",
        "columns": ("序号", "单位", "收文号", "状态", "回复文号", "回复内容"),
        "states": {"sent": "已发送", "received": "已收文", "read": "已阅", "replied": "已回复", "overdue": "逾期未复"},
        "counts": "共{total}个单位，已回复{replied}个，逾期{overdue}个。",
    },
    "es": {
        "heading": "Resumen de respuestas: {title}",
        "number": "N/REF.: {number}",
        "deadline": "Plazo de respuesta: {deadline}",
        "made": "Fecha del resumen: {today}",
        "columns": ("Nº", "Destinatario", "Registro de entrada", "Estado", "Respuesta", "Contenido"),
        "states": {
            "sent": "enviado",
            "received": "recibido",
            "read": "leído",
            "replied": "respondido",
            "overdue": "sin respuesta, fuera de plazo",
        },
        "counts": "{total} destinatarios: {replied} han respondido, {overdue} fuera de plazo.",
    },
}


def feedback_summary(directive: Directive, today: date, viewer: User) -> bytes:
    """Return a .docx summarising, per main recipient, whether and how they replied, for `viewer`: a reply they may
    not open shows its number only."""
    language = language_of(directive)
    labels = LABELS[language]
    when = chinese_date if language == "zh" else spanish_date
    rows = [row for row in feedback(directive, today) if row.expects_reply or not directive.feedback_requested]
    seen = openable(directive, viewer, rows)
    document = docx.Document()
    style = document.styles["Normal"]
    style.font.size = Pt(11)
    document.add_heading(labels["heading"].format(title=directive.title), level=1)
    number = directive.document.number if directive.document else ""
    document.add_paragraph(labels["number"].format(number=number))
    if directive.feedback_deadline:
        document.add_paragraph(labels["deadline"].format(deadline=when(directive.feedback_deadline)))
    document.add_paragraph(labels["made"].format(today=when(today)))
    table = document.add_table(rows=1, cols=len(labels["columns"]))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, labels["columns"], strict=True):
        cell.text = text
    for position, row in enumerate(rows, start=1):
        reply = row.reply
        cells = table.add_row().cells
        values = (
            str(position),
            row.recipient.name,
            row.received.number if row.received else "",
            labels["states"][row.state],
            f"{reply.number} ({when(reply.registered_at.date())})" if reply else "",
            (reply.title + ("：" if language == "zh" else ": ") + (reply.summary or ""))[:500]
            if reply and reply.id in seen
            else "",
        )
        for cell, text in zip(cells, values, strict=True):
            cell.text = text
    counts = {state: sum(1 for row in rows if row.state == state) for state in ("replied", "overdue")}
    document.add_paragraph(labels["counts"].format(total=len(rows), **counts))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
