"""The built-in directive types, their layouts, and the drafting rules a machine can check (DOMAIN.md §2.2, §4.4)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from docstore.errors import N_, Msg

#: A layout -> the renderer that draws it (see docstore.directives.render).
LAYOUTS = ("gb", "gb_letter", "gb_minutes", "oficio", "resolucion", "instruccion", "comunicacion", "template")


@dataclass(frozen=True)
class Section:
    """A part of a type's content kept apart from the body (a resolución's RESUELVO, the attendees of minutes)."""

    name: str
    label: str  # English, marked for translation
    required: bool = False


@dataclass(frozen=True)
class Kind:
    """A directive type: its code, its name in the document's language, its layout and its extra sections."""

    code: str
    label: str  # English, marked for translation
    name: str  # as the document itself names its type: 通知, Oficio
    language: str  # "zh" or "es"
    layout: str
    sections: tuple[Section, ...] = ()
    #: Goes up to a superior body (请示, 报告): one main recipient, never copied to subordinates.
    upward: bool = False
    #: Needs at least one main recipient.
    addressed: bool = True


KINDS: dict[str, Kind] = {
    kind.code: kind
    for kind in (
        Kind("notice", N_("Notice (通知)"), "通知", "zh", "gb"),
        Kind("decision", N_("Decision (决定)"), "决定", "zh", "gb"),
        Kind("letter", N_("Letter (函)"), "函", "zh", "gb_letter"),
        Kind("request", N_("Request (请示)"), "请示", "zh", "gb", upward=True),
        Kind("report", N_("Report (报告)"), "报告", "zh", "gb", upward=True),
        Kind(
            "minutes",
            N_("Minutes (纪要)"),
            "纪要",
            "zh",
            "gb_minutes",
            sections=(
                Section("present", N_("Present (出席)"), required=True),
                Section("absent", N_("Excused (请假)")),
                Section("attending", N_("In attendance (列席)")),
            ),
            addressed=False,
        ),
        Kind("oficio", N_("Oficio"), "Oficio", "es", "oficio"),
        Kind(
            "resolucion",
            N_("Resolución"),
            "Resolución",
            "es",
            "resolucion",
            sections=(
                Section("background", N_("Antecedentes de hecho"), required=True),
                Section("grounds", N_("Fundamentos de derecho"), required=True),
                Section("resolved", N_("Resuelvo"), required=True),
                Section("appeal", N_("Appeals footer (recursos)"), required=True),
            ),
        ),
        Kind("instruccion", N_("Instrucción"), "Instrucción", "es", "instruccion"),
        Kind("comunicacion", N_("Comunicación interior"), "Comunicación interior", "es", "comunicacion"),
    )
}

#: The appeals footer a new resolución starts with (Ley 39/2015 arts. 112, 121–124; Ley 29/1998 art. 46).
DEFAULT_APPEAL = (
    "Contra la presente resolución, que no pone fin a la vía administrativa, podrá interponerse recurso de alzada "
    "ante el órgano superior jerárquico en el plazo de un mes a contar desde el día siguiente al de su "
    "notificación, de conformidad con los artículos 121 y 122 de la Ley 39/2015, de 1 de octubre, del "
    "Procedimiento Administrativo Común de las Administraciones Públicas."
)

#: Words that make a report (报告) carry a request, which art. 15 forbids.
_REQUEST_WORDS = re.compile(r"请示|请批准|请批复|请审批|妥否|请予批准|请核准")
#: Brackets that look like 〔〕 but are not.
_WRONG_BRACKETS = re.compile(r"[\[\]【】〈〉（）()]")


@dataclass(frozen=True)
class Addressee:
    """A recipient as the rules see it."""

    name: str
    subordinate: bool = False  # one of our subordinate units


def check(
    kind: Kind,
    title: str,
    main: list[Addressee],
    copies: list[Addressee],
    body: str,
    sections: dict[str, str],
    number_pattern: str = "",
) -> list[Msg]:
    """Return the warnings the drafting rules give for a draft of `kind` (an empty list: nothing to say)."""
    warnings: list[Msg] = []
    if kind.addressed and not main:
        warnings.append(Msg(N_("Name at least one main recipient.")))
    elif not main and not copies:
        warnings.append(Msg(N_("Name at least one recipient to send it to.")))
    if kind.upward:
        if len(main) > 1:
            warnings.append(Msg(N_("A %(type)s goes to one main recipient only."), type=kind.name))
        if any(addressee.subordinate for addressee in copies):
            warnings.append(Msg(N_("A %(type)s is never copied to subordinate units."), type=kind.name))
    if kind.code == "report" and _REQUEST_WORDS.search(f"{title}\n{body}"):
        warnings.append(Msg(N_("A report must not contain a request: send a request (请示) for it.")))
    if kind.language == "zh" and title and not title.rstrip().endswith(kind.name):
        warnings.append(Msg(N_("The title of a %(type)s usually ends with “%(type)s”."), type=kind.name))
    if kind.language == "zh" and number_pattern and "〔{year}〕" not in number_pattern:
        warnings.append(Msg(N_("The issuing register's numbers should put the year in 〔〕, as in 代字〔2026〕12号.")))
    if kind.language == "zh" and _WRONG_BRACKETS.search(re.sub(r"\{[^}]*\}", "", number_pattern)):
        warnings.append(Msg(N_("Use 〔〕 around the year in a document number, not [ ] or 【】.")))
    for section in kind.sections:
        if section.required and not (sections.get(section.name) or "").strip():
            warnings.append(Msg(N_("“%(section)s” is empty."), section=Msg(section.label)))
    if not body.strip() and kind.layout not in ("resolucion",):
        warnings.append(Msg(N_("The body is empty.")))
    return warnings
