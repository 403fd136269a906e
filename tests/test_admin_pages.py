"""The administration and address-book pages, through the real HTTP stack (CSRF is tested in test_security)."""

from __future__ import annotations

from datetime import date

from docstore import accounts, audit, organisation, registry
from docstore.models import Correspondent, Department, User
from tests.conftest import PASSWORD


def test_admin_creates_department_and_user_who_can_sign_in(app, client, admin, sign_in):
    sign_in("admin")
    response = client.post("/admin/departments/new", data={"code": "cw", "name": "Finance", "kind": "department"})
    assert response.status_code == 302
    department = organisation.find_department_by_code("CW")
    response = client.post(
        "/admin/users/new",
        data={
            "username": "Juan", "full_name": "Juan Pérez", "department_id": str(department.id),
            "roles": ["staff", "leader"], "clearance": "1", "locale": "es", "password": PASSWORD,
        },
    )
    assert response.status_code == 302
    juan = accounts.find_user_by_username("juan")
    assert juan.roles == {"staff", "leader"} and juan.department_id == department.id and juan.clearance == 1
    client.post("/sign-out")
    assert sign_in("juan").status_code == 302
    assert "Juan Pérez" in client.get("/").get_data(as_text=True)


def test_invalid_user_form_shows_errors_next_to_fields_and_saves_nothing(app, client, admin, sign_in):
    sign_in("admin")
    before = app.extensions["sqlalchemy"].session.query(User).count()
    response = client.post("/admin/users/new", data={"username": "x y", "full_name": "", "password": "short"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="username-error"' in page and 'id="password-error"' in page and 'aria-invalid="true"' in page
    assert app.extensions["sqlalchemy"].session.query(User).count() == before


def test_admin_deactivates_and_reactivates_a_user(app, client, admin, make_user, sign_in):
    user = make_user("emma", "staff")
    sign_in("admin")
    client.post(f"/admin/users/{user.id}/active", data={"active": "0"})
    assert not accounts.get_user(user.id).active
    assert "deactivated" in client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    client.post(f"/admin/users/{user.id}/active", data={"active": "1"})
    assert accounts.get_user(user.id).active


def test_user_page_shows_the_history_of_changes(app, client, admin, make_user, sign_in):
    user = make_user("emma", "staff")
    sign_in("admin")
    client.post(f"/admin/users/{user.id}", data={"full_name": "Emma Clarke", "roles": ["staff"], "clearance": "2"})
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "User changed" in page and "Emma Clarke" in page and "Full name" in page


def test_admin_names_a_substitute_with_dates(app, client, admin, make_user, sign_in):
    leader = make_user("director", "leader")
    deputy = make_user("deputy", "leader")
    sign_in("admin")
    response = client.post(
        f"/admin/users/{leader.id}/substitutions",
        data={"substitute_id": str(deputy.id), "starts_on": "2026-08-01", "ends_on": "2026-08-15", "reason": "Leave"},
    )
    assert response.status_code == 302
    assert [s.substitute_id for s in accounts.substitutions_of(leader.id)] == [deputy.id]
    bad = client.post(
        f"/admin/users/{leader.id}/substitutions",
        data={"substitute_id": str(deputy.id), "starts_on": "2026-08-15", "ends_on": "2026-08-01"},
    )
    assert bad.status_code == 422 and 'id="ends_on-error"' in bad.get_data(as_text=True)


#: The note under a register list and the search hits for those who do not see the whole office.
DEPARTMENT_NOTE = "You see the documents of your department and those you registered, up to your clearance."


def test_a_substitute_for_a_leader_is_not_told_they_see_only_their_department(
    app, client, make_user, sign_in, fake_clock, index_now
):
    index_now()  # an (empty) index, for the search page to answer
    leader = make_user("director", "leader")
    clerk = make_user("clerk", "clerk")
    deputy = make_user("deputy", "staff")

    def notes() -> list[bool]:
        """Return, for the register list and the search page, whether each shows the note (once)."""
        pages = [client.get("/documents/"), client.get("/search?q=presupuesto")]
        assert [page.status_code for page in pages] == [200, 200]
        return [page.get_data(as_text=True).count(DEPARTMENT_NOTE) == 1 for page in pages]

    sign_in("deputy")
    assert notes() == [True, True]  # said once on each page
    accounts.add_substitution(audit.SYSTEM, leader.id, deputy.id, date(2026, 3, 2), date(2026, 3, 6))
    assert notes() == [False, False]  # acting for the leader today (the fake clock's Monday): the whole office
    fake_clock.advance(days=7)
    assert notes() == [True, True]  # the substitution is over
    client.post("/sign-out")
    sign_in("clerk")
    assert notes() == [False, False]
    assert clerk.has_role(*registry.OFFICE_WIDE_ROLES)


def test_deactivating_a_busy_department_explains_why_not(app, client, admin, make_user, sign_in):
    department = organisation.create_department(organisation.audit.SYSTEM, code="CW", name="Finance")
    make_user("juan", "staff", department_id=department.id)
    sign_in("admin")
    response = client.post(f"/admin/departments/{department.id}/active", data={"active": "0"}, follow_redirects=True)
    assert "Move or deactivate its 1 active users" in response.get_data(as_text=True)
    assert app.extensions["sqlalchemy"].session.get(Department, department.id).active


def test_admin_names_the_head_of_a_department_from_its_members_first(app, client, admin, make_user, sign_in):
    department = organisation.create_department(organisation.audit.SYSTEM, code="CW", name="Finance")
    fay = make_user("fay", "staff", full_name="Fay Head", department_id=department.id)
    make_user("al", "staff", full_name="Al Other")
    sign_in("admin")
    form = client.get(f"/admin/departments/{department.id}").get_data(as_text=True)
    members, others = form.index('label="Members of this department"'), form.index('label="Other users"')
    assert members < form.index("Fay Head") < others < form.index("Al Other")
    assert 'for="head_id">Head</label>' in form
    data = {"code": "CW", "name": "Finance", "kind": "department", "parent_id": "", "head_id": str(fay.id)}
    response = client.post(f"/admin/departments/{department.id}", data=data)
    assert response.status_code == 302
    assert organisation.get_department(department.id).head_id == fay.id
    listing = client.get("/admin/departments").get_data(as_text=True)
    assert ">Head</th>" in listing and "<td>Fay Head</td>" in listing
    history = client.get(f"/admin/departments/{department.id}").get_data(as_text=True)
    assert "Department changed" in history and history.count("Fay Head") >= 2  # the select, and the change

    bad = client.post(f"/admin/departments/{department.id}", data=data | {"head_id": "999999"})
    assert bad.status_code == 422 and 'id="head_id-error"' in bad.get_data(as_text=True)
    created = client.post(
        "/admin/departments/new", data={"code": "LEG", "name": "Legal", "kind": "department", "head_id": str(fay.id)}
    )
    assert created.status_code == 302 and organisation.find_department_by_code("LEG").head_id == fay.id


def test_audit_log_page_filters_by_action_and_verifies(app, client, admin, make_user, sign_in):
    make_user("emma", "staff")
    sign_in("admin")
    page = client.get("/admin/audit?action=user.create").get_data(as_text=True)
    assert "user.create" in page and "auth.sign_in" not in page
    verified = client.post("/admin/audit/verify").get_data(as_text=True)
    assert "The chain is intact" in verified


def test_users_list_is_paginated(app, client, admin, make_user, sign_in, settings):
    for number in range(3):
        make_user(f"user{number}")
    app.config["PAGE_SIZE"] = 2
    sign_in("admin")
    first = client.get("/admin/users").get_data(as_text=True)
    assert "Page 1 of 2" in first and 'rel="next"' in first
    second = client.get("/admin/users?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second and 'rel="prev"' in second


def test_clerk_adds_a_correspondent_and_anyone_finds_it(app, client, make_user, sign_in):
    make_user("lucia", "clerk")
    make_user("juan", "staff")
    sign_in("lucia")
    response = client.post(
        "/correspondents/new", data={"name": "国务院办公厅", "kind": "organisation", "code": "gwybgt"}
    )
    assert response.status_code == 302
    client.post("/sign-out")
    sign_in("juan")
    page = client.get("/correspondents/?q=国务院").get_data(as_text=True)
    assert "国务院办公厅" in page and "GWYBGT" in page
    assert client.get("/correspondents/new").status_code == 403
    correspondent = app.extensions["sqlalchemy"].session.query(Correspondent).one()
    assert client.post(f"/correspondents/{correspondent.id}", data={"name": "X", "kind": "person"}).status_code == 403


def test_duplicate_correspondent_code_is_refused_next_to_the_field(app, client, make_user, sign_in):
    make_user("lucia", "clerk")
    sign_in("lucia")
    client.post("/correspondents/new", data={"name": "Ayuntamiento", "kind": "organisation", "code": "L01"})
    response = client.post("/correspondents/new", data={"name": "Otro", "kind": "organisation", "code": "l01"})
    assert response.status_code == 422 and 'id="code-error"' in response.get_data(as_text=True)


def test_every_page_of_the_demo_office_renders(app, client, admin, sign_in):
    from docstore import demo

    demo.load_demo("docstore-demo", 10)
    sign_in("admin")
    session = app.extensions["sqlalchemy"].session
    user = session.query(User).filter_by(username="lucia").one()
    department = session.query(Department).first()
    correspondent = session.query(Correspondent).first()
    for url in [
        "/", "/account/", "/admin/users", "/admin/users/new", f"/admin/users/{user.id}", "/admin/departments",
        "/admin/departments/new", f"/admin/departments/{department.id}", "/admin/audit", "/correspondents/",
        "/correspondents/new", f"/correspondents/{correspondent.id}",
    ]:
        assert client.get(url).status_code == 200, url


def test_admin_adds_renames_and_retires_a_document_type(app, client, admin, make_user, sign_in):
    from docstore import registry

    sign_in("admin")
    response = client.post("/admin/document-types", data={"code": "circ", "name": "Circular"})
    assert response.status_code == 302
    created = next(t for t in registry.document_types() if t.code == "CIRC")
    assert client.post("/admin/document-types", data={"code": "CIRC", "name": "Again"}).status_code == 422
    client.post(f"/admin/document-types/{created.id}", data={"code": "CIRC", "name": "Circular interna"})
    assert [t.name for t in registry.document_types() if t.code == "CIRC"] == []  # unchecked box: not offered
    assert registry.get_document_type(created.id).name == "Circular interna"
    make_user("emma", "staff")
    client.post("/sign-out")
    sign_in("emma")
    assert client.get("/admin/document-types").status_code == 403
