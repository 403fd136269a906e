"""Search shows each user exactly what the register would let them open: hits, totals, facets and passages.

The reference is `registry.visible_to`, the SQL rule the register pages use; search must agree with it for every
kind of user (office-wide roles, department staff at several clearances, someone with no department, the people
a document was routed to: a task's user, a department with a task, a reader, their substitutes, and the substitute
of a leader, who sees office-wide within their own clearance) and never let the words of a hidden document through a
title, a passage or a spelling suggestion.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest
from sqlalchemy import select

import search
from docstore import (
    accounts,
    audit,
    clock,
    correspondents,
    database,
    extraction,
    fulltext,
    indexing,
    numbering,
    organisation,
    registry,
    routing,
)
from docstore.extensions import db
from docstore.models import Document, RoutingItem, Series, Task, User
from tests.test_registry import POLICY


@dataclass(frozen=True)
class Spec:
    """A document of the test office, described by what decides who sees it and what it says."""

    key: str  # a word found in this document only (title, summary or attached text): its leaks are looked for
    department: str | None
    level: int
    registered_by: str
    series: str = "IN"
    urgency: str = "normal"
    summary: str = ""
    attached: str = ""  # the text of an attached file, when it has one

    @property
    def words(self) -> str:
        return " ".join((self.title, self.summary, self.attached)).lower()

    @property
    def title(self) -> str:
        return f"Expediente {self.key}"


SPECS = [
    Spec("alfa", "A", 0, "clerk", summary="Presupuesto de obras"),
    Spec("bravo", "A", 1, "clerk", urgency="urgent", attached="Anexo del presupuesto bravo"),
    Spec("charlie", "A", 2, "wang", summary="Material reservado", attached="Informe reservado charlie"),
    Spec("delta", "A", 3, "wang", summary="Material reservado", urgency="urgent"),
    Spec("echo", "B", 0, "clerk", series="INT", summary="Presupuesto de personal"),
    Spec("foxtrot", "B", 1, "ana", urgency="urgent"),  # registered by staff of A: she may open it
    Spec("golf", "B", 2, "wang", summary="Material reservado presupuesto"),
    Spec("hotel", "B", 3, "quique", summary="Operación quimera"),  # registered by the user with no department
    Spec("india", None, 0, "quique", attached="Nota suelta india"),
    Spec("juliet", None, 1, "clerk", series="INT", urgency="urgent"),
    Spec("kilo", None, 3, "wang", summary="Material reservado presupuesto"),
]

#: name -> (roles, department, clearance)
USERS = {
    "admin": (("admin",), None, 3),
    "clerk": (("clerk",), None, 1),  # office-wide, but only up to clearance 1
    "wang": (("clerk",), None, 3),
    "leader": (("leader",), "A", 2),
    "pablo": (("staff",), "A", 0),
    "ana": (("staff",), "A", 2),
    "bea": (("staff",), "B", 1),
    "quique": (("staff",), None, 3),  # no department: only what he registered
    # the people documents are routed to (see ROUTING)
    "hana": (("staff",), "B", 1),  # her task on alfa (done), her co-task on charlie (above her clearance)
    "carmen": (("staff",), "C", 3),  # C's department tasks on charlie and golf
    "dario": (("staff",), "C", 0),  # also in C, but cleared for neither
    "rosa": (("staff",), None, 1),  # reads foxtrot; sent kilo too, above her clearance
    "tomas": (("staff",), None, 3),  # his lead task on hotel; those on charlie (replaced) and delta (closed) ended
    "sami": (("staff",), None, 3),  # acts today for hana and carmen; his time for rosa is over
    "uma": (("staff",), None, 3),  # acts for tomas, and for the admin, from tomorrow only
    "vera": (("staff",), None, 1),  # acts today for the leader (office-wide, cleared to 2): office-wide up to 1
}

#: name -> (acts for, first day, last day) in days from today: the substitutes of the test office.
SUBSTITUTIONS = {
    "sami": [("hana", 0, 5), ("carmen", -2, 0), ("rosa", -10, -1)],
    "uma": [("tomas", 1, 5), ("admin", 1, 5)],
    "vera": [("leader", 0, 2)],
}

#: What each user may open, worked out by hand from the rules: the office exercises every one of them.
MAY_OPEN = {
    "admin": {s.key for s in SPECS},
    "clerk": {"alfa", "bravo", "echo", "foxtrot", "india", "juliet"},
    "wang": {s.key for s in SPECS},
    "leader": {"alfa", "bravo", "charlie", "echo", "foxtrot", "golf", "india", "juliet"},
    "pablo": {"alfa"},
    "ana": {"alfa", "bravo", "charlie", "foxtrot"},
    "bea": {"echo", "foxtrot"},
    "quique": {"hotel", "india"},
    "hana": {"echo", "foxtrot", "alfa"},
    "carmen": {"charlie", "golf"},
    "dario": set(),
    "rosa": {"foxtrot"},
    "tomas": {"hotel"},
    "sami": {"alfa", "charlie", "golf"},  # for hana (her clearance is not his) and for carmen (C's tasks)
    "uma": set(),
    "vera": {"alfa", "bravo", "echo", "foxtrot", "india", "juliet"},  # as the leader sees, but her clearance
}

QUERIES = [
    fulltext.Params(text="expediente"),
    fulltext.Params(text="presupuesto"),
    fulltext.Params(text="reservado"),
    fulltext.Params(text="expediente", filters={"urgency": ("urgent",)}),
    fulltext.Params(text="", filters={"files": ("yes",)}),  # filters alone, no words
    fulltext.Params(text="", filters={"urgency": ("normal",)}),
]


def matches(spec: Spec, params: fulltext.Params) -> bool:
    """Return whether `spec` answers `params`, worked out from what the test wrote, not from the index."""
    if params.text and params.text not in spec.words:
        return False
    if "urgency" in params.filters and spec.urgency not in params.filters["urgency"]:
        return False
    if "files" in params.filters and ("yes" if spec.attached else "no") not in params.filters["files"]:
        return False
    return True


@dataclass
class Office:
    users: dict[str, int]
    documents: dict[str, int]  # key -> document id
    departments: dict[str, int]

    def user(self, name: str) -> User:
        return db.session.get(User, self.users[name])

    def ctx(self, name: str) -> audit.Context:
        return audit.Context(self.users[name])

    def tasks(self, key: str) -> list[Task]:
        query = select(Task).join(RoutingItem).where(RoutingItem.document_id == self.documents[key]).order_by(Task.id)
        return list(db.session.scalars(query))


def act(function, *args, **kwargs):
    """Call a routing service in a writing transaction and commit, as a POST request does."""
    with database.writing():
        result = function(*args, **kwargs)
        db.session.commit()
    return result


def route(office: Office, index_now) -> None:
    """Route the documents of the test office as USERS and MAY_OPEN describe, through the real services.

    The index is brought up to date halfway, so that the tasks ended afterwards must reach it through the queue.
    """
    doc, user, dept = office.documents, office.users, office.departments
    for key in ("alfa", "charlie", "delta", "golf", "hotel"):
        act(routing.accept, office.ctx("wang"), doc[key], "action")
    for key in ("foxtrot", "kilo"):
        act(routing.accept, office.ctx("wang"), doc[key], "information")
    leader = office.ctx("leader")
    act(routing.instruct, leader, doc["alfa"], "Hana answers.", ("user", user["hana"]))
    act(routing.instruct, leader, doc["charlie"], "Tomás leads.", ("user", user["tomas"]), [("user", user["hana"])])
    act(routing.instruct, leader, doc["golf"], "C handles it.", ("department", dept["C"]))
    act(routing.instruct, leader, doc["delta"], "Tomás handles it.", ("user", user["tomas"]))
    act(routing.instruct, leader, doc["hotel"], "Tomás handles it.", ("user", user["tomas"]))
    act(routing.circulate, office.ctx("wang"), doc["foxtrot"], [user["rosa"]], required=True)
    act(routing.circulate, office.ctx("wang"), doc["kilo"], [user["rosa"]])
    index_now()
    act(routing.complete_task, office.ctx("hana"), office.tasks("alfa")[0].id, "Answered.")  # done still counts
    act(routing.instruct, leader, doc["charlie"], "C leads instead.", ("department", dept["C"]))  # Tomás's ends
    act(routing.close, office.ctx("wang"), doc["delta"], reason="Withdrawn by the sender.")  # cancels his task


@pytest.fixture
def office(app, make_user, index_now) -> Office:
    departments = {
        code: organisation.create_department(audit.SYSTEM, code=code, name=f"Department {code}").id
        for code in ("A", "B", "C")
    }
    users = {
        name: make_user(name, *roles, department_id=departments.get(dept), clearance=clearance).id
        for name, (roles, dept, clearance) in USERS.items()
    }
    sender = correspondents.create_correspondent(audit.SYSTEM, name="Ayuntamiento de Soria").id
    series = {code: ident for code, ident in db.session.execute(select(Series.code, Series.id))}
    store = extraction.file_store(app.config)
    documents = {}
    for spec in SPECS:
        data = registry.Registration(
            series_id=series[spec.series],
            title=spec.title,
            summary=spec.summary,
            urgency=spec.urgency,
            classification=spec.level,
            department_id=departments.get(spec.department),
        )
        direction = "internal"
        if spec.series == "IN":
            direction = "incoming"
            data.received_at = clock.now()
            data.channel = "paper"
            data.correspondent_id = sender
        files = [registry.Upload(f"{spec.key}.txt", io.BytesIO(spec.attached.encode()))] if spec.attached else []
        document = registry.register_document(
            audit.Context(users[spec.registered_by]), direction, data, files, POLICY, store
        )
        documents[spec.key] = document.id
    extraction.drain(store, extraction.Limits(min_seconds=10, max_seconds=30))
    index_now()
    today = numbering.office_date(clock.now(), app.config["OFFICE_TIMEZONE"])
    for substitute, periods in SUBSTITUTIONS.items():
        for person, first, last in periods:
            accounts.add_substitution(
                audit.SYSTEM, users[person], users[substitute], today + timedelta(first), today + timedelta(last)
            )
    office = Office(users, documents, departments)
    route(office, index_now)  # after a first indexing: the routing's changes reach the index through the queue
    index_now()
    assert indexing.check(indexing.index_for(app), app.config).clean
    return office


def visible_ids(user: User) -> set[int]:
    return set(db.session.scalars(registry.visible_to(select(Document.id), user)))


def facet_counts(ids: set[int]) -> dict[str, dict[str, int]]:
    """Count the documents `ids` by the value of each facet, from the database."""
    counts: dict[str, dict[str, int]] = {name: {} for name in fulltext.FACET_TITLES}
    for document in db.session.scalars(select(Document).where(Document.id.in_(ids))):
        values = {
            "series": document.series_id,
            "year": document.year,
            "type": document.document_type_id,
            "urgency": document.urgency,
            "status": document.status,
            "department": document.department_id,
            "sender": document.correspondent_id,
            "files": "yes" if document.attachments else "no",
        }
        for name, value in values.items():
            if value not in (None, ""):
                counts[name][str(value)] = counts[name].get(str(value), 0) + 1
    return counts


def test_can_view_and_visible_to_agree_on_every_user_and_document(office):
    for name in USERS:
        user = office.user(name)
        visible = visible_ids(user)
        assert {key for key, ident in office.documents.items() if ident in visible} == MAY_OPEN[name], name
        for key, ident in office.documents.items():
            assert registry.can_view(user, db.session.get(Document, ident)) == (ident in visible), (name, key)


def test_the_index_names_who_handles_each_routed_document(app, office):
    entries = indexing.entries_for(office.documents.values(), 1000)
    handlers = {key: entries[ident].handlers for key, ident in office.documents.items()}
    u = {name: f"u{ident}" for name, ident in office.users.items()}
    d = {code: f"d{ident}" for code, ident in office.departments.items()}
    assert handlers == {
        "alfa": (u["hana"],),
        "bravo": (),
        "charlie": tuple(sorted([d["C"], u["hana"]])),  # Tomás's task was replaced
        "delta": (),  # closed: Tomás's task was cancelled
        "echo": (),
        "foxtrot": (u["rosa"],),
        "golf": (d["C"],),
        "hotel": (u["tomas"],),
        "india": (),
        "juliet": (),
        "kilo": (u["rosa"],),
    }


def test_kept_permission_flags_follow_a_change_of_who_handles_a_document(app, office, index_now):
    """What an Access may open is kept per segment of the index (`search.segments`). A segment never changes: a
    document whose handlers change is written into a new one, whose flags are worked out afresh, and its old copy is
    deleted, so the flags kept for the old segment never answer for it."""
    bea, india = office.user("bea"), office.documents["india"]  # no department, registered by Quique: not hers
    access = fulltext.access_for(bea)
    index = indexing.index_for(app)

    def found() -> set[int]:
        return {hit.id for hit in index.search(search.Request("india"), access).hits}

    assert found() == set()
    assert any(access in columns._allowed for columns in index._columns._segments.values())  # her flags are kept
    act(routing.accept, office.ctx("wang"), india)
    act(routing.instruct, office.ctx("leader"), india, "Bea handles it.", ("user", office.users["bea"]))
    index_now()
    assert fulltext.access_for(bea) == access  # the same key for the kept flags
    assert found() == {india}
    act(routing.instruct, office.ctx("leader"), india, "Hana instead.", ("user", office.users["hana"]))
    index_now()
    assert found() == set()
    outcome = fulltext.run(bea, fulltext.Params(text="india"), app.config, app)
    assert (outcome.total, outcome.items) == (0, [])


def shown(outcome: fulltext.Outcome) -> str:
    """Everything of an outcome a page or the API shows, as one text."""
    parts = [str(item.title) + " " + str(item.snippet) for item in outcome.items]
    parts += [str(value.label) for values in outcome.facets.values() for value in values]
    return " ".join(parts + [outcome.suggestion or ""]).lower()


def test_each_user_finds_exactly_what_the_register_lets_them_open(app, office):
    for name in USERS:
        user = office.user(name)
        visible = visible_ids(user)
        assert {key for key, ident in office.documents.items() if ident in visible} == MAY_OPEN[name]
        for params in QUERIES:
            params = fulltext.Params(text=params.text, filters=params.filters, per_page=200)
            expected = {office.documents[s.key] for s in SPECS if matches(s, params)} & visible
            outcome = fulltext.run(user, params, app.config, app)
            assert outcome.problem is None and not outcome.rebuilding
            assert {item.document.id for item in outcome.items} == expected, (name, params)
            assert outcome.total == len(expected), (name, params)
            counts = {facet: {v.value: v.count for v in values if v.count} for facet, values in outcome.facets.items()}
            wanted = facet_counts(expected)
            for facet in params.filters:  # a filtered facet counts what the other filters leave, still only visible
                others = replace(params, filters={k: v for k, v in params.filters.items() if k != facet})
                wanted[facet] = facet_counts({office.documents[s.key] for s in SPECS if matches(s, others)} & visible)[
                    facet
                ]
            assert counts == wanted, (name, params)


def test_hidden_documents_never_show_their_words(app, office):
    admin = office.user("admin")  # sees everything: the suggestion below works, so its absence means something
    assert fulltext.run(admin, fulltext.Params(text="quimeta"), app.config, app).suggestion == "quimera"
    numbers = {key: registry.get_document(ident).number for key, ident in office.documents.items()}
    for name in USERS:
        user = office.user(name)
        visible = visible_ids(user)
        hidden = [spec for spec in SPECS if office.documents[spec.key] not in visible]
        for params in QUERIES:
            params = fulltext.Params(text=params.text, filters=params.filters, per_page=200)
            text = shown(fulltext.run(user, params, app.config, app))
            for spec in hidden:
                assert spec.key not in text, (name, spec.key, params)
        for spec in hidden:  # a hidden document's own words, nearly its words (a suggestion), its number
            typed = [spec.key, spec.key[:-1] + "x", f"number:{numbers[spec.key]}"]
            secret = [spec.key] + (["quimera"] if spec.key == "hotel" else [])
            for text in typed + (["quimeta"] if spec.key == "hotel" else []):
                outcome = fulltext.run(user, fulltext.Params(text=text, per_page=200), app.config, app)
                assert outcome.total == 0 and outcome.items == [], (name, text)
                assert all(values == [] for values in outcome.facets.values()), (name, text)
                assert not any(word in shown(outcome) for word in secret), (name, text, outcome.suggestion)
