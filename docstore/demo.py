"""A realistic demo office: departments, users for every role and correspondents, in three languages."""

from __future__ import annotations

from docstore import accounts, audit, correspondents, organisation
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
