"""Notifications: notify (once per key, even in a race), reading and marking them, the bell, the page and the API."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from docstore import audit, clock, database, extraction, notifications, registry
from docstore.extensions import db
from docstore.models import MailOutbox, Notification, Series
from tests.api_support import assert_error

API = "/api/v1"
DEADLINE = date(2026, 3, 16)


@pytest.fixture
def ana(make_user):
    """A staff member who reads Spanish and has an e-mail address."""
    return make_user("ana", "staff", full_name="Ana Ruiz", locale="es", email="ana@example.org")


@pytest.fixture
def bo(make_user):
    return make_user("bo", "staff", full_name="Bo Li")


def register_document(app, clerk, sender, title: str = "Solicitud de información", classification: int = 0):
    """Register an incoming document through the real service (also used by tests/test_mail.py)."""
    data = registry.Registration(
        series_id=db.session.query(Series).filter_by(code="IN").one().id,
        title=title,
        received_at=clock.now() - timedelta(hours=1),
        channel="paper",
        correspondent_id=sender.id,
        classification=classification,
    )
    policy, store = registry.upload_policy(app.config), extraction.file_store(app.config)
    return registry.register_document(audit.Context(clerk.id), "incoming", data, [], policy, store)


def stored(user=None) -> list[Notification]:
    db.session.rollback()
    query = select(Notification).order_by(Notification.id)
    if user is not None:
        query = query.where(Notification.user_id == user.id)
    return list(db.session.scalars(query))


def say(recipients, text: str = "Hello", key: str | None = None) -> int:
    """Notify `recipients` with a plain message and commit, as a service would."""
    with database.writing():
        count = notifications.notify(recipients, "message", key=key, text=text)
        db.session.commit()
    return count


# --- notify ----------------------------------------------------------------------------------------------------


def test_notify_tells_each_active_recipient_once(app, ana, bo, make_user):
    gone = make_user("gone", "staff")
    gone.active = False
    db.session.commit()
    assert say([ana, bo.id, ana, gone], "Reunión a las 10") == 2
    rows = stored()
    assert sorted(row.user_id for row in rows) == sorted([ana.id, bo.id])
    assert {row.kind for row in rows} == {"message"} and rows[0].params == {"text": "Reunión a las 10"}
    assert all(row.read_at is None and row.document_id is None for row in rows)


def test_a_key_makes_a_notification_happen_once_per_user(app, ana, bo):
    assert say([ana], key="task-7-due-soon") == 1
    assert say([ana], key="task-7-due-soon") == 0  # the reminder job ran again
    assert say([ana, bo], key="task-7-due-soon") == 1  # only Bo is new
    assert say([ana], key="task-7-overdue") == 1
    assert say([ana]) == 1 and say([ana]) == 1  # without a key, every call notifies
    assert len(stored(ana)) == 4 and len(stored(bo)) == 1


def test_notify_belongs_to_the_callers_transaction(app, ana):
    with database.writing():
        notifications.notify([ana], "message", text="Never saved")
        db.session.rollback()
    assert stored() == []


def test_racing_notifications_with_the_same_key_store_one(app, ana):
    """The second writer waits for the first one's transaction, then finds the key taken: nothing is stored twice."""
    first_inserted, results, ana_id = threading.Event(), {}, ana.id

    def first():
        with app.app_context(), database.writing():
            results["first"] = notifications.notify([ana_id], "message", key="chase-1", text="First")
            first_inserted.set()
            threading.Event().wait(0.5)  # the second one is blocked on the key (or the write lock) meanwhile
            db.session.commit()
            db.session.remove()

    def second():
        first_inserted.wait(10)
        with app.app_context(), database.writing():
            results["second"] = notifications.notify([ana_id], "message", key="chase-1", text="Second")
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == {"first": 1, "second": 0}
    assert [row.params["text"] for row in stored(ana)] == ["First"]


def test_many_schedulers_at_once_send_each_reminder_once(app, ana, bo):
    start, totals, errors, users = threading.Barrier(4), [], [], [ana.id, bo.id]

    def scheduler():
        try:
            start.wait(10)
            with app.app_context():
                for number in range(5):
                    with database.writing():
                        totals.append(notifications.notify(users, "message", key=f"reminder-{number}", text="Due"))
                        db.session.commit()
                db.session.remove()
        except Exception as exc:  # reported below: an assertion in a thread would go unnoticed
            errors.append(exc)

    threads = [threading.Thread(target=scheduler) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(totals) == 10
    assert len(stored()) == 10


@pytest.mark.parametrize(
    ("kind", "params", "problem"),
    [
        ("gossip", {"text": "x"}, "unknown notification kind"),
        ("message", {}, "takes the parameters"),
        ("message", {"text": "x", "extra": 1}, "takes the parameters"),
        ("task_due_soon", {"deadline": DEADLINE}, "needs a document"),
        ("message", {"text": ["a", "list"]}, "text or a whole number"),
    ],
)
def test_a_wrong_call_of_notify_is_a_programming_error(app, ana, kind, params, problem):
    with pytest.raises(ValueError, match=problem):
        notifications.notify([ana], kind, **params)


def test_notifications_with_a_document_are_worded_from_it(app, ana, clerk, sender):
    document = register_document(app, clerk, sender)
    with database.writing():
        notifications.notify([ana], "task_assigned", document, actor="Lucía", deadline=DEADLINE)
        notifications.notify(
            [ana], "extension_decided", document.id, actor="Lucía", decision="refused", deadline=DEADLINE
        )
        db.session.commit()
    assigned, refused = [notifications.show(row, ana) for row in stored(ana)]
    assert assigned.message.params == {"actor": "Lucía", "deadline": DEADLINE, "number": document.number}
    assert str(assigned.label) == "New task"
    assert str(assigned.message) == f"Lucía assigned you {document.number}, due on 2026-03-16."
    assert str(refused.label) == "More time refused"
    assert stored(ana)[0].params == {"actor": "Lucía", "deadline": "2026-03-16"}  # kept as JSON


def test_mail_is_queued_only_when_smtp_is_configured(app, ana):
    assert not app.config["SMTP_HOST"]
    say([ana])
    assert db.session.scalar(select(func.count()).select_from(MailOutbox)) == 0


# --- reading and marking ---------------------------------------------------------------------------------------


def test_unread_count_and_marking_touch_only_the_owners_notifications(app, ana, bo):
    for text in ("one", "two", "three"):
        say([ana, bo], text)
    ana_ids = [row.id for row in stored(ana)]
    bo_ids = [row.id for row in stored(bo)]
    assert notifications.unread_count(ana) == 3
    assert notifications.mark_read(ana, [ana_ids[0], *bo_ids]) == 1  # Bo's ids are ignored
    assert notifications.mark_read(ana, [ana_ids[0]]) == 0  # already read
    assert (notifications.unread_count(ana), notifications.unread_count(bo)) == (2, 3)
    assert notifications.mark_all_read(ana) == 2
    assert (notifications.unread_count(ana), notifications.unread_count(bo)) == (0, 3)


def test_list_is_newest_first_and_can_show_only_the_unread(app, ana):
    for number in range(5):
        say([ana], f"note {number}")
    notifications.mark_read(ana, [stored(ana)[-1].id])
    page = notifications.list_notifications(ana, 1, 3)
    assert [str(item.message) for item in page.items] == ["note 4", "note 3", "note 2"]
    assert page.total == 5 and page.pages == 2 and not page.items[0].unread and page.items[1].unread
    unread = notifications.list_notifications(ana, 1, 10, unread_only=True)
    assert [str(item.message) for item in unread.items] == ["note 3", "note 2", "note 1", "note 0"]


# --- the bell and the page -------------------------------------------------------------------------------------


def test_bell_says_how_many_notifications_are_unread_in_words(app, client, ana, bo, sign_in):
    sign_in("bo")
    page = client.get("/").get_data(as_text=True)
    assert "Notifications, none unread" in page and 'class="bell-count"' not in page
    for text in ("one", "two", "three"):
        say([bo], text)
    page = client.get("/").get_data(as_text=True)
    assert '<span class="visually-hidden">3 unread notifications</span>' in page
    assert '<span class="bell-count" aria-hidden="true">3</span>' in page
    client.post("/sign-out")
    say([ana], "uno")
    sign_in("ana")
    assert "1 notificación sin leer" in client.get("/").get_data(as_text=True)


def test_bell_costs_one_query_per_page(app, client, bo, sign_in):
    for number in range(30):
        say([bo], f"note {number}")
    sign_in("bo")
    statements = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        client.get("/")
        client.get("/notifications/")
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    about_notifications = [s for s in statements if "notification" in s.lower()]
    # the home page: the bell's count; the list: the bell, the page's count and its rows (documents joined)
    assert len(about_notifications) == 1 + 3, about_notifications


def test_notifications_page_marks_the_unread_and_links_documents(app, client, ana, clerk, sender, sign_in):
    document = register_document(app, clerk, sender, title="Informe anual")
    with database.writing():
        notifications.notify([clerk], "message", text="Bienvenida")
        notifications.notify([clerk], "circulation", document, actor="Ana Ruiz")
        db.session.commit()
    notifications.mark_read(clerk, [stored(clerk)[0].id])
    sign_in("lucia")
    page = client.get("/notifications/").get_data(as_text=True)
    assert f"Ana Ruiz sent you {document.number} to read." in page
    assert f'href="/documents/{document.id}"' in page and "Informe anual" in page
    assert page.count('class="badge unread-badge"') == 1  # the circulation; the welcome was read
    assert page.count("Mark as read") == 1 and "Mark all as read" in page
    assert page.index("Ana Ruiz sent you") < page.index("Bienvenida")  # newest first


def test_a_document_the_reader_may_not_open_is_not_linked(app, client, bo, clerk, sender, sign_in):
    secret = register_document(app, clerk, sender, title="Plan reservado", classification=1)
    with database.writing():
        notifications.notify([bo], "circulation", secret, actor="Lucía")
        db.session.commit()
    sign_in("bo")
    page = client.get("/notifications/").get_data(as_text=True)
    assert f"Lucía sent you {secret.number} to read." in page
    assert "Plan reservado" not in page and f"/documents/{secret.id}" not in page


def test_marking_as_read_in_the_page(app, client, ana, bo, sign_in):
    for text in ("one", "two", "three"):
        say([bo], text)
    say([ana], "for Ana")
    first, *_ = stored(bo)
    sign_in("bo")
    response = client.post(f"/notifications/{first.id}/read", data={"unread": "1", "page": "1"})
    assert response.status_code == 302 and response.headers["Location"] == "/notifications/?unread=1&page=1"
    assert notifications.unread_count(bo) == 2
    client.post(f"/notifications/{stored(ana)[0].id}/read")  # another user's: nothing happens
    assert notifications.unread_count(ana) == 1
    page = client.get("/notifications/?unread=1").get_data(as_text=True)
    assert "two" in page and "three" in page and ">one<" not in page
    client.post("/notifications/read")
    assert notifications.unread_count(bo) == 0 and notifications.unread_count(ana) == 1
    page = client.get("/notifications/?unread=1").get_data(as_text=True)
    assert "You have no unread notifications." in page and "Mark all as read" not in page


def test_notifications_page_is_paginated(app, client, settings, bo, sign_in):
    app.config["PAGE_SIZE"] = 2
    for number in range(5):
        say([bo], f"note {number}")
    sign_in("bo")
    page = client.get("/notifications/?page=2").get_data(as_text=True)
    assert "note 2" in page and "note 1" in page and "note 4" not in page and "note 0" not in page
    assert "Page 2 of 3" in page
    assert "5 notifications" in page and "5 results" not in page


def test_a_page_past_the_end_of_the_notifications_leads_to_the_last_one(app, client, settings, bo, sign_in):
    app.config["PAGE_SIZE"] = 2
    for number in range(5):
        say([bo], f"note {number}")
    sign_in("bo")
    response = client.get("/notifications/?page=99&unread=1")
    assert response.status_code == 302 and response.headers["Location"] == "/notifications/?page=3&unread=1"
    assert "note 0" in client.get(response.headers["Location"]).get_data(as_text=True)
    client.post("/notifications/read")
    response = client.get("/notifications/?page=2&unread=1")  # nothing unread is left: page 1 says so
    assert response.status_code == 302 and response.headers["Location"] == "/notifications/?page=1&unread=1"
    assert client.get("/notifications/?page=1").status_code == 200


def test_notifications_page_needs_a_sign_in(client):
    response = client.get("/notifications/")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_notifications_page_speaks_the_readers_language(app, client, ana, clerk, sender, sign_in):
    document = register_document(app, clerk, sender)
    with database.writing():
        notifications.notify([ana], "task_due_soon", document, deadline=DEADLINE)
        db.session.commit()
    sign_in("ana")
    page = client.get("/notifications/").get_data(as_text=True)
    assert "<h1>Notificaciones</h1>" in page
    assert "Tarea próxima a vencer" in page
    assert f"Su tarea sobre {document.number} vence el 16 mar 2026." in page
    assert "1 notificación" in page and "resultado" not in page


# --- the API ---------------------------------------------------------------------------------------------------


def test_api_lists_the_callers_notifications(app, client, ana, bo, clerk, sender, token_for):
    document = register_document(app, clerk, sender, title="Informe anual")
    say([bo], "first")
    with database.writing():
        notifications.notify([bo], "task_overdue", document, deadline=DEADLINE)
        db.session.commit()
    say([ana], "not Bo's")
    auth = token_for(bo)
    body = client.get(f"{API}/notifications", headers=auth).get_json()
    assert (body["total"], body["unread"], body["page"]) == (2, 2, 1)
    newest, oldest = body["items"]
    assert newest["kind"] == "task_overdue" and newest["label"] == "Task overdue"
    assert newest["message"] == f"Your task on {document.number} was due on Mar 16, 2026 and is not done."
    assert newest["params"] == {"deadline": "2026-03-16"} and newest["read_at"] is None
    assert newest["document"] is None  # Bo (staff, no department) may not open it
    assert oldest["message"] == "first" and oldest["document"] is None
    body = client.get(f"{API}/notifications", headers={**auth, "Accept-Language": "es"}).get_json()
    assert body["items"][0]["label"] == "Tarea vencida"
    clerk_auth = token_for(clerk)
    with database.writing():
        notifications.notify([clerk], "circulation", document, actor="Bo Li")
        db.session.commit()
    item = client.get(f"{API}/notifications", headers=clerk_auth).get_json()["items"][0]
    assert item["document"] == {
        "id": document.id,
        "number": document.number,
        "title": "Informe anual",
        "url": f"{API}/documents/{document.id}",
    }


def test_api_marks_notifications_as_read(app, client, ana, bo, token_for):
    for text in ("one", "two", "three"):
        say([bo], text)
    say([ana], "for Ana")
    auth = token_for(bo)
    first, second, _third = (row.id for row in stored(bo))
    response = client.post(f"{API}/notifications/read", json={"ids": [first, stored(ana)[0].id]}, headers=auth)
    assert response.status_code == 200 and response.get_json() == {"marked": 1, "unread": 2}
    unread = client.get(f"{API}/notifications?unread=1&per_page=1", headers=auth).get_json()
    assert unread["total"] == 2 and len(unread["items"]) == 1 and unread["items"][0]["message"] == "three"
    assert client.post(f"{API}/notifications/read", json={"all": True}, headers=auth).get_json() == {
        "marked": 2,
        "unread": 0,
    }
    assert notifications.unread_count(ana) == 1
    read = client.get(f"{API}/notifications", headers=auth).get_json()["items"]
    assert all(item["read_at"] for item in read)
    assert second in {item["id"] for item in read}


@pytest.mark.parametrize(
    "body",
    [{}, {"ids": [1], "all": True}, {"all": False}, {"ids": "1"}, {"ids": [1], "other": 2}, {"ids": [2**40]}],
)
def test_api_refuses_a_malformed_request_to_mark_as_read(app, client, bo, token_for, body):
    response = client.post(f"{API}/notifications/read", json=body, headers=token_for(bo))
    assert_error(response, 422, "validation_failed")


def test_api_notifications_need_a_token(client):
    assert_error(client.get(f"{API}/notifications"), 401, "invalid_token")
    assert_error(client.post(f"{API}/notifications/read", json={"all": True}), 401, "invalid_token")
