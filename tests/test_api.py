"""The JSON API under /api/v1: its OpenAPI description, tokens, roles, every resource and its errors."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from docstore import accounts, audit, correspondents, organisation
from docstore.extensions import db
from docstore.models import AuditEvent, Correspondent, Department, User
from tests.api_support import assert_error
from tests.conftest import PASSWORD
from tests.test_audit import SECRETS, route_a_secret

API = "/api/v1"
SYSTEM = audit.SYSTEM
HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def admin_auth(admin, token_for):
    return token_for(admin)


@pytest.fixture
def staff(make_user):
    return make_user("sam", "staff", full_name="Sam Staff")


@pytest.fixture
def staff_auth(staff, token_for):
    return token_for(staff)


# --- the OpenAPI description -----------------------------------------------------------------------------------


def test_openapi_description_is_public_and_openapi_3_1(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.1.")
    assert spec["servers"] == [{"url": API}]
    assert spec["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}


def test_openapi_documents_every_api_route_and_method(app, client):
    spec = client.get(f"{API}/openapi.json").get_json()
    registered = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API + "/"):
            path = re.sub(r"<(?:[a-z]+:)?(\w+)>", r"{\1}", rule.rule.removeprefix(API))
            registered |= {(path, method.lower()) for method in rule.methods & HTTP_METHODS}
    documented = {(path, method) for path, operations in spec["paths"].items() for method in operations}
    assert registered == documented
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), (path, method)
            assert operation["responses"], (path, method)


def test_openapi_marks_its_own_address_as_needing_no_token(client):
    spec = client.get(f"{API}/openapi.json").get_json()
    assert spec["paths"]["/openapi.json"]["get"]["security"] == []


def test_every_schema_reference_in_openapi_resolves(client):
    spec = client.get(f"{API}/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    refs = []

    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    assert refs, "the description uses references"
    prefix = "#/components/schemas/"
    unresolved = [ref for ref in refs if not ref.startswith(prefix) or ref.removeprefix(prefix) not in schemas]
    assert unresolved == []


# --- tokens ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer    "},
        {"Authorization": "Basic YWRtaW46cGFzc3dvcmQ="},
        {"Authorization": "Token ds_abc"},
        {"Authorization": "Bearer ds_this-token-was-never-issued"},
    ],
    ids=["none", "empty", "bearer-without-token", "bearer-blank", "basic", "other-scheme", "unknown-token"],
)
def test_request_without_a_valid_token_is_refused(app, client, headers):
    response = client.get(f"{API}/me", headers=headers)
    assert_error(response, 401, "invalid_token")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_token_is_refused_saying_it_expired(app, client, staff, token_for, fake_clock):
    auth = token_for(staff, days=1)
    assert client.get(f"{API}/me", headers=auth).status_code == 200
    fake_clock.advance(days=2)
    error = assert_error(client.get(f"{API}/me", headers=auth), 401, "invalid_token")
    assert "expired" in error["message"]


def test_revoked_token_is_refused(app, client, staff, staff_auth):
    created = client.post(f"{API}/tokens", json={"name": "script"}, headers=staff_auth).get_json()
    other = {"Authorization": f"Bearer {created['token']}"}
    assert client.get(f"{API}/me", headers=other).status_code == 200
    assert client.delete(f"{API}/tokens/{created['id']}", headers=staff_auth).status_code == 204
    error = assert_error(client.get(f"{API}/me", headers=other), 401, "invalid_token")
    assert "revoked" in error["message"]
    assert client.get(f"{API}/me", headers=staff_auth).status_code == 200


def test_deactivated_users_token_is_refused(app, client, admin_auth, staff, staff_auth):
    assert client.get(f"{API}/me", headers=staff_auth).get_json()["username"] == "sam"
    response = client.patch(f"{API}/users/{staff.id}", json={"active": False}, headers=admin_auth)
    assert response.status_code == 200 and response.get_json()["active"] is False
    error = assert_error(client.get(f"{API}/me", headers=staff_auth), 401, "invalid_token")
    assert "deactivated" in error["message"]


# --- roles -----------------------------------------------------------------------------------------------------


def test_staff_token_is_forbidden_administration(app, client, staff, staff_auth):
    attempts = {
        ("GET", "/users"): None,
        ("POST", "/users"): {"username": "mole", "full_name": "Mole", "password": PASSWORD, "roles": ["admin"]},
        ("PATCH", f"/users/{staff.id}"): {"roles": ["admin", "staff"], "clearance": 3},
        ("POST", "/departments"): {"code": "X", "name": "Shadow unit"},
        ("GET", "/audit-events"): None,
        ("GET", "/audit-events/verify"): None,
    }
    users_before, departments_before = count(User), count(Department)
    for (method, path), body in attempts.items():
        response = client.open(f"{API}{path}", method=method, json=body, headers=staff_auth)
        assert_error(response, 403, "forbidden")
    assert (count(User), count(Department)) == (users_before, departments_before)
    assert accounts.get_user(staff.id).roles == {"staff"}


def test_staff_token_reads_the_shared_lists(app, client, staff_auth):
    for path in ("/departments", "/correspondents", "/me", "/tokens"):
        response = client.get(f"{API}{path}", headers=staff_auth)
        assert response.status_code == 200, path
        assert "items" in response.get_json() or path == "/me"


# --- users -----------------------------------------------------------------------------------------------------


def test_admin_creates_a_user_with_roles_and_clearance(app, client, admin_auth):
    department = organisation.create_department(SYSTEM, code="CW", name="Finance")
    response = client.post(
        f"{API}/users",
        json={
            "username": "Li.Ming",
            "full_name": "李明",
            "password": PASSWORD,
            "email": "li.ming@example.org",
            "department_id": department.id,
            "roles": ["leader", "staff"],
            "clearance": 2,
            "locale": "zh_Hans",
        },
        headers=admin_auth,
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["username"] == "li.ming" and body["full_name"] == "李明"
    assert body["roles"] == ["leader", "staff"] and body["clearance"] == 2 and body["active"] is True
    assert "password" not in body and "password_hash" not in body
    user = accounts.get_user(body["id"])
    assert user.department_id == department.id and accounts.password_matches(user.password_hash, PASSWORD)
    got = client.get(f"{API}/users/{user.id}", headers=admin_auth).get_json()
    assert got == body


def test_invalid_user_names_every_bad_field_and_saves_nothing(app, client, admin, admin_auth):
    before = count(User)
    response = client.post(
        f"{API}/users",
        json={
            "username": "admin",
            "full_name": " ",
            "password": "short",
            "email": "not-an-address",
            "department_id": 9999,
            "roles": ["wizard"],
            "clearance": 7,
            "locale": "fr",
        },
        headers=admin_auth,
    )
    error = assert_error(response, 422, "validation_failed")
    assert set(error["fields"]) == {
        "username", "full_name", "password", "email", "department_id", "roles", "clearance", "locale",
    }
    assert all(isinstance(text, str) and text for text in error["fields"].values())
    assert count(User) == before


#: (method, path, body, the field to be named): JSON values of a type the API description does not allow.
MISTYPED = [
    ("POST", "/users", {"email": 5}, "email"),
    ("POST", "/users", {"roles": "admin"}, "roles"),
    ("POST", "/users", {"roles": [5]}, "roles"),
    ("POST", "/users", {"department_id": "finance"}, "department_id"),
    ("POST", "/users", {"clearance": True}, "clearance"),
    ("PATCH", "/users/{user}", {"full_name": 5}, "full_name"),
    ("PATCH", "/users/{user}", {"department_id": "1"}, "department_id"),
    ("POST", "/departments", {"code": 5, "name": "Five"}, "code"),
    ("POST", "/departments", {"code": "P", "name": "P", "parent_id": "top"}, "parent_id"),
    ("PATCH", "/departments/{department}", {"name": "Renamed", "active": "no"}, "active"),
    ("POST", "/correspondents", {"name": ["A", "list"]}, "name"),
    ("POST", "/correspondents", {"name": "Kind", "kind": ["person"]}, "kind"),
    ("PATCH", "/correspondents/{correspondent}", {"phone": 915551234}, "phone"),
    ("POST", "/tokens", {"name": 5}, "name"),
    ("POST", "/tokens", {"name": "script", "days": "30"}, "days"),
    ("POST", "/users/{user}/substitutions", {"substitute_id": "x", "starts_on": "2026-08-01", "ends_on": "2026-08-02"},
     "substitute_id"),
    ("POST", "/users/{user}/password", {"password": 1234567890123}, "password"),
]


def test_field_of_the_wrong_json_type_is_refused_and_nothing_changes(app, client, admin, admin_auth):
    department = organisation.create_department(SYSTEM, code="CW", name="Finance")
    correspondent = correspondents.create_correspondent(SYSTEM, name="Ayuntamiento de Madrid")
    events_before = count(AuditEvent)
    answers = {}
    for method, path, body, field in MISTYPED:
        url = API + path.format(user=admin.id, department=department.id, correspondent=correspondent.id)
        full = {"username": "newbie", "full_name": "New Bie", "password": PASSWORD} if path == "/users" else {}
        response = client.open(url, method=method, json=full | body, headers=admin_auth)
        fields = response.get_json()["error"].get("fields", {}) if response.status_code >= 400 else {}
        answers[method, path, field] = (response.status_code, field in fields)
    assert answers == {(method, path, field): (422, True) for method, path, _body, field in MISTYPED}
    assert count(AuditEvent) == events_before
    assert organisation.get_department(department.id).name == "Finance"
    assert accounts.password_matches(accounts.get_user(admin.id).password_hash, PASSWORD)


def test_body_that_is_not_a_json_object_is_refused(app, client, admin_auth):
    before = count(User)
    for kwargs in (
        {"data": "username=x&full_name=y", "content_type": "application/x-www-form-urlencoded"},
        {"data": "{not json", "content_type": "application/json"},
        {"json": ["a", "list"]},
        {},
    ):
        error = assert_error(client.post(f"{API}/users", headers=admin_auth, **kwargs), 422, "validation_failed")
        assert list(error["fields"]) == ["body"]
    assert count(User) == before


def test_unknown_field_is_refused_not_ignored(app, client, admin, admin_auth, staff):
    before = count(User)
    response = client.post(
        f"{API}/users",
        json={"username": "eve", "full_name": "Eve", "password": PASSWORD, "is_superuser": True},
        headers=admin_auth,
    )
    assert assert_error(response, 422, "validation_failed")["fields"].keys() == {"is_superuser"}
    assert count(User) == before
    response = client.patch(f"{API}/users/{staff.id}", json={"username": "root"}, headers=admin_auth)
    assert assert_error(response, 422, "validation_failed")["fields"].keys() == {"username"}
    assert accounts.get_user(staff.id).username == "sam"


def test_patch_changes_and_deactivates_a_user(app, client, admin_auth, staff):
    response = client.patch(
        f"{API}/users/{staff.id}", json={"full_name": "Samuel Staff", "clearance": 1}, headers=admin_auth
    )
    assert response.status_code == 200
    assert response.get_json()["full_name"] == "Samuel Staff" and response.get_json()["clearance"] == 1
    response = client.patch(f"{API}/users/{staff.id}", json={"active": False}, headers=admin_auth)
    assert response.get_json()["active"] is False
    assert not accounts.get_user(staff.id).active
    listed = client.get(f"{API}/users?active=false", headers=admin_auth).get_json()
    assert [user["username"] for user in listed["items"]] == ["sam"]


def test_admin_cannot_deactivate_themselves(app, client, admin, admin_auth):
    response = client.patch(f"{API}/users/{admin.id}", json={"active": False}, headers=admin_auth)
    assert "active" in assert_error(response, 422, "validation_failed")["fields"]
    assert accounts.get_user(admin.id).active


# --- departments -----------------------------------------------------------------------------------------------


def test_department_tree_refuses_a_cycle(app, client, admin_auth):
    office = client.post(f"{API}/departments", json={"code": "bgs", "name": "Office", "kind": "office"},
                         headers=admin_auth)
    assert office.status_code == 201 and office.get_json()["code"] == "BGS"
    office_id = office.get_json()["id"]
    finance = client.post(f"{API}/departments", json={"code": "CW", "name": "Finance", "parent_id": office_id},
                          headers=admin_auth).get_json()
    assert finance["parent_id"] == office_id
    listed = client.get(f"{API}/departments", headers=admin_auth).get_json()["items"]
    assert [(row["code"], row["depth"]) for row in listed] == [("BGS", 0), ("CW", 1)]
    response = client.patch(f"{API}/departments/{office_id}", json={"parent_id": finance["id"]}, headers=admin_auth)
    assert "parent_id" in assert_error(response, 422, "validation_failed")["fields"]
    response = client.patch(f"{API}/departments/{office_id}", json={"parent_id": office_id}, headers=admin_auth)
    assert "parent_id" in assert_error(response, 422, "validation_failed")["fields"]
    assert organisation.get_department(office_id).parent_id is None


def test_a_department_head_is_set_through_the_api_as_its_description_says(app, client, admin_auth, staff):
    created = client.post(
        f"{API}/departments", json={"code": "CW", "name": "Finance", "head_id": staff.id}, headers=admin_auth
    )
    assert created.status_code == 201 and created.get_json()["head_id"] == staff.id
    department_id = created.get_json()["id"]
    changed = client.patch(f"{API}/departments/{department_id}", json={"head_id": None}, headers=admin_auth)
    assert changed.get_json()["head_id"] is None and organisation.get_department(department_id).head_id is None
    listed = client.get(f"{API}/departments", headers=admin_auth).get_json()["items"]

    schemas = client.get(f"{API}/openapi.json").get_json()["components"]["schemas"]
    described = schemas["Department"]["properties"]
    assert set(described) == set(listed[0]) == set(changed.get_json()) | {"depth"}  # every field it sends
    assert described["head_id"]["type"] == ["integer", "null"]
    taken = schemas["DepartmentInput"]["properties"]
    assert set(taken) == {*organisation.DEPARTMENT_FIELDS, "active"}  # every field it takes
    assert taken["head_id"]["type"] == ["integer", "null"]


def test_department_with_active_users_cannot_be_deactivated(app, client, admin_auth, make_user):
    department = organisation.create_department(SYSTEM, code="CW", name="Finance")
    make_user("juan", "staff", department_id=department.id)
    response = client.patch(f"{API}/departments/{department.id}", json={"active": False}, headers=admin_auth)
    assert_error(response, 409, "conflict")
    response = client.patch(
        f"{API}/departments/{department.id}", json={"name": "Treasury", "active": False}, headers=admin_auth
    )
    assert_error(response, 409, "conflict")
    department = organisation.get_department(department.id)
    assert department.active and department.name == "Finance"


def test_empty_department_is_deactivated_and_hidden_from_the_list(app, client, admin_auth):
    department = organisation.create_department(SYSTEM, code="OLD", name="Old unit")
    response = client.patch(f"{API}/departments/{department.id}", json={"active": False}, headers=admin_auth)
    assert response.status_code == 200 and response.get_json()["active"] is False
    assert client.get(f"{API}/departments", headers=admin_auth).get_json()["items"] == []
    everything = client.get(f"{API}/departments?include_inactive=true", headers=admin_auth).get_json()["items"]
    assert [row["code"] for row in everything] == ["OLD"]


# --- correspondents --------------------------------------------------------------------------------------------


@pytest.fixture
def address_book(app):
    for name, kind, code, email in [
        ("Ministerio de Hacienda y Función Pública", "organisation", "E05068001", "registro@hacienda.gob.es"),
        ("AYUNTAMIENTO DE ÁVILA", "organisation", "L01050190", "registro@ayuntamientoavila.es"),
        ("国务院办公厅", "organisation", "GWYBGT", ""),
        ("省人民政府办公厅", "organisation", "SZFBGT", ""),
        ("María López García", "person", "", "maria.lopez@example.com"),
    ]:
        correspondents.create_correspondent(SYSTEM, name=name, kind=kind, code=code, email=email)


def test_correspondent_search_matches_name_code_and_email_ignoring_case(app, client, staff_auth, address_book):
    expected = {
        "hacienda": ["Ministerio de Hacienda y Función Pública"],
        "FUNCIÓN": ["Ministerio de Hacienda y Función Pública"],
        "ávila": ["AYUNTAMIENTO DE ÁVILA"],
        "maría lópez": ["María López García"],
        "MARÍA": ["María López García"],
        "l01050190": ["AYUNTAMIENTO DE ÁVILA"],
        "MARIA.LOPEZ@EXAMPLE": ["María López García"],
        "国务院": ["国务院办公厅"],
        "办公厅": ["国务院办公厅", "省人民政府办公厅"],
        "%": [],
        "_": [],
    }
    found = {}
    for query in expected:
        response = client.get(f"{API}/correspondents", query_string={"q": query}, headers=staff_auth)
        found[query] = sorted(item["name"] for item in response.get_json()["items"])
    assert found == expected


def test_clerk_creates_and_changes_correspondents_but_staff_cannot(app, client, make_user, token_for, staff_auth):
    clerk_auth = token_for(make_user("lucia", "clerk"))
    response = client.post(
        f"{API}/correspondents",
        json={"name": "Ayuntamiento de Madrid", "code": "l01280796", "email": "registro@madrid.es"},
        headers=clerk_auth,
    )
    assert response.status_code == 201
    created = response.get_json()
    assert created["code"] == "L01280796" and created["kind"] == "organisation" and created["active"] is True
    duplicate = client.post(f"{API}/correspondents", json={"name": "Other", "code": "L01280796"}, headers=clerk_auth)
    assert "code" in assert_error(duplicate, 422, "validation_failed")["fields"]

    response = client.patch(
        f"{API}/correspondents/{created['id']}", json={"phone": "+34 915 881 000", "active": False}, headers=clerk_auth
    )
    assert response.status_code == 200 and response.get_json()["active"] is False
    assert correspondents.get_correspondent(created["id"]).phone == "+34 915 881 000"

    assert_error(client.post(f"{API}/correspondents", json={"name": "Nope"}, headers=staff_auth), 403, "forbidden")
    patched = client.patch(f"{API}/correspondents/{created['id']}", json={"name": "Hijacked"}, headers=staff_auth)
    assert_error(patched, 403, "forbidden")
    assert count(Correspondent) == 1
    assert correspondents.get_correspondent(created["id"]).name == "Ayuntamiento de Madrid"


def test_lists_are_paged_with_a_total_and_a_capped_page_size(app, client, staff_auth):
    for number in range(3):
        correspondents.create_correspondent(SYSTEM, name=f"Correspondent {number}")
    first = client.get(f"{API}/correspondents?per_page=2", headers=staff_auth).get_json()
    assert (first["page"], first["per_page"], first["total"], len(first["items"])) == (1, 2, 3, 2)
    second = client.get(f"{API}/correspondents?per_page=2&page=2", headers=staff_auth).get_json()
    assert [item["name"] for item in second["items"]] == ["Correspondent 2"]
    beyond = client.get(f"{API}/correspondents?per_page=2&page=9", headers=staff_auth).get_json()
    assert beyond["items"] == [] and beyond["total"] == 3
    capped = client.get(f"{API}/correspondents?per_page=5000", headers=staff_auth).get_json()
    assert capped["per_page"] == 200 and len(capped["items"]) == 3
    for query in ("page=0", "per_page=0", "page=-1", "page=two", "per_page=1.5"):
        response = client.get(f"{API}/correspondents?{query}", headers=staff_auth)
        assert_error(response, 422, "validation_failed")


# --- API tokens ------------------------------------------------------------------------------------------------


def test_token_secret_is_returned_once_and_never_listed(app, client, staff, staff_auth):
    response = client.post(f"{API}/tokens", json={"name": "scanner", "days": 30}, headers=staff_auth)
    assert response.status_code == 201
    created = response.get_json()
    secret = created["token"]
    assert secret.startswith("ds_") and len(secret) > 30
    assert created["user_id"] == staff.id and created["expires_at"] is not None
    assert client.get(f"{API}/me", headers={"Authorization": f"Bearer {secret}"}).get_json()["id"] == staff.id
    listing = client.get(f"{API}/tokens", headers=staff_auth)
    names = [token["name"] for token in listing.get_json()["items"]]
    assert sorted(names) == ["scanner", "tests"]
    assert secret not in listing.get_data(as_text=True)
    assert all("token" not in token for token in listing.get_json()["items"])
    forever = client.post(f"{API}/tokens", json={"name": "forever", "days": 0}, headers=staff_auth).get_json()
    assert forever["expires_at"] is None
    bad = client.post(f"{API}/tokens", json={"name": " ", "days": 5000}, headers=staff_auth)
    assert assert_error(bad, 422, "validation_failed")["fields"].keys() == {"name", "days"}


def test_user_cannot_revoke_another_users_token_but_an_admin_can(app, client, admin_auth, staff, staff_auth,
                                                                make_user, token_for):
    other_auth = token_for(make_user("emma", "staff"))
    token_id = client.get(f"{API}/tokens", headers=staff_auth).get_json()["items"][0]["id"]
    assert_error(client.delete(f"{API}/tokens/{token_id}", headers=other_auth), 404, "not_found")
    assert client.get(f"{API}/me", headers=staff_auth).status_code == 200
    assert client.delete(f"{API}/tokens/{token_id}", headers=admin_auth).status_code == 204
    assert_error(client.get(f"{API}/me", headers=staff_auth), 401, "invalid_token")
    assert_error(client.delete(f"{API}/tokens/{token_id}", headers=admin_auth), 409, "conflict")
    assert_error(client.delete(f"{API}/tokens/99999", headers=admin_auth), 404, "not_found")


# --- the audit log ---------------------------------------------------------------------------------------------


def test_audit_events_are_filtered_by_action_prefix_and_object(app, client, admin, admin_auth, staff):
    client.patch(f"{API}/users/{staff.id}", json={"full_name": "Samuel"}, headers=admin_auth)
    client.post(f"{API}/departments", json={"code": "CW", "name": "Finance"}, headers=admin_auth)

    users = client.get(f"{API}/audit-events?action=user.", headers=admin_auth).get_json()
    assert [event["action"] for event in users["items"]] == ["user.update", "user.create", "user.create"]
    update = users["items"][0]
    assert update["actor_id"] == admin.id and update["object_id"] == str(staff.id)
    assert update["before"] == {"full_name": "Sam Staff"} and update["after"] == {"full_name": "Samuel"}
    assert len(update["hash"]) == 64

    about_staff = client.get(
        f"{API}/audit-events", query_string={"object_type": "user", "object_id": staff.id}, headers=admin_auth
    ).get_json()
    assert [event["action"] for event in about_staff["items"]] == ["user.update", "user.create"]
    departments = client.get(f"{API}/audit-events?object_type=department", headers=admin_auth).get_json()
    assert [event["action"] for event in departments["items"]] == ["department.create"]
    everything = client.get(f"{API}/audit-events?per_page=2", headers=admin_auth).get_json()
    assert everything["total"] == count(AuditEvent) and len(everything["items"]) == 2
    assert everything["items"][0]["seq"] > everything["items"][1]["seq"]


def test_audit_action_prefix_is_taken_literally(app, client, admin_auth):
    organisation.create_department(SYSTEM, code="CW", name="Finance")
    assert client.get(f"{API}/audit-events?action=department.", headers=admin_auth).get_json()["total"] == 1
    # "_" and "%" are LIKE wildcards: "department_" must not match "department.create"
    for prefix in ("department_", "%", "_"):
        assert client.get(f"{API}/audit-events", query_string={"action": prefix},
                          headers=admin_auth).get_json()["total"] == 0


@pytest.fixture
def office_in_madrid(settings):
    settings["OFFICE_TIMEZONE"] = "Europe/Madrid"


def test_audit_events_since_without_offset_is_office_time(office_in_madrid, app, client, admin_auth, fake_clock):
    assert app.config["OFFICE_TIMEZONE"] == "Europe/Madrid"
    organisation.create_department(SYSTEM, code="CW", name="Finance")  # 09:00 UTC is 10:00 in Madrid (CET)

    def actions(**query):
        items = client.get(f"{API}/audit-events", query_string=query, headers=admin_auth).get_json()["items"]
        return [event["action"] for event in items if event["object_type"] == "department"]

    assert actions(since="2026-03-02T09:30") == ["department.create"]
    assert actions(since="2026-03-02T10:30") == []
    assert actions(since="2026-03-02T09:30:00+00:00") == []
    assert actions(until="2026-03-02T10:30") == ["department.create"]
    assert_error(client.get(f"{API}/audit-events?since=yesterday", headers=admin_auth), 422, "validation_failed")


def test_audit_chain_verifies_as_intact(app, client, admin_auth, staff):
    client.patch(f"{API}/users/{staff.id}", json={"clearance": 2}, headers=admin_auth)
    report = client.get(f"{API}/audit-events/verify", headers=admin_auth).get_json()
    assert report == {"intact": True, "checked": count(AuditEvent), "problems": []}
    assert report["checked"] == 4  # two users created, a token, one change


def test_audit_events_withhold_the_handling_of_a_document_above_the_admins_clearance(
    app, client, make_user, sender, fake_clock, token_for
):
    o = route_a_secret(make_user, sender)
    boss = make_user("boss", "admin", clearance=0)
    chief = make_user("chief", "admin", clearance=3)
    secret = {("document", str(o.secret.id)), ("routing_item", str(o.item.id)), ("task", str(o.task.id))}

    def events(user: User) -> list[dict]:
        response = client.get(f"{API}/audit-events?per_page=100", headers=token_for(user)).get_json()
        assert response["total"] == len(response["items"])  # every event on one page
        return response["items"]

    low = events(boss)
    withheld = [event for event in low if event["withheld"]]
    assert {(event["object_type"], event["object_id"]) for event in withheld} == secret
    assert len(withheld) == 1 + 5 + 2  # registered; five steps of its handling; a comment and a result on its task
    assert all(event["before"] is None and event["after"] is None for event in withheld)
    assert all(event["withheld"] for event in low if (event["object_type"], event["object_id"]) in secret)
    assert [words for words in SECRETS if words in json.dumps(low)] == []
    assert any(event["object_type"] == "routing_item" and event["after"] for event in low)  # the open document's
    high = events(chief)
    assert [event for event in high if event["withheld"]] == []
    assert [words for words in SECRETS if words not in json.dumps(high, ensure_ascii=False)] == []


@pytest.fixture
def unguarded_audit_log(app):
    """Lift the database's append-only guard on audit events, as an attacker with database access could."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
    else:
        db.session.execute(sa.text("DROP TRIGGER audit_event_no_update"))
    db.session.commit()


def test_audit_chain_verification_reports_a_tampered_event(app, client, admin_auth, unguarded_audit_log):
    db.session.execute(sa.text("UPDATE audit_event SET after = '{\"username\":\"eve\"}' WHERE seq = 1"))
    db.session.commit()
    report = client.get(f"{API}/audit-events/verify", headers=admin_auth).get_json()
    assert report["intact"] is False
    assert [problem["seq"] for problem in report["problems"]] == [1]


# --- substitutions ---------------------------------------------------------------------------------------------


def test_substitutions_are_created_listed_and_cancelled(app, client, admin, admin_auth, staff):
    url = f"{API}/users/{staff.id}/substitutions"
    response = client.post(
        url, json={"substitute_id": admin.id, "starts_on": "2026-08-01", "ends_on": "2026-08-15", "reason": "Leave"},
        headers=admin_auth,
    )
    assert response.status_code == 201
    created = response.get_json()
    assert created | {"id": 0} == {
        "id": 0, "user_id": staff.id, "substitute_id": admin.id, "starts_on": "2026-08-01",
        "ends_on": "2026-08-15", "reason": "Leave", "cancelled": False,
    }
    assert client.get(url, headers=admin_auth).get_json()["items"] == [created]
    cancelled = client.post(f"{API}/substitutions/{created['id']}/cancel", headers=admin_auth)
    assert cancelled.status_code == 200 and cancelled.get_json()["cancelled"] is True
    assert client.get(url, headers=admin_auth).get_json()["items"][0]["cancelled"] is True
    assert_error(client.post(f"{API}/substitutions/{created['id']}/cancel", headers=admin_auth), 409, "conflict")
    assert_error(client.post(f"{API}/substitutions/99999/cancel", headers=admin_auth), 404, "not_found")


def test_invalid_substitution_is_refused_naming_the_field(app, client, admin, admin_auth, staff):
    days = {"starts_on": "2026-08-01", "ends_on": "2026-08-15"}
    cases = {
        "end before start": ({"substitute_id": admin.id, "starts_on": "2026-08-15", "ends_on": "2026-08-01"},
                             "ends_on"),
        "self": ({"substitute_id": staff.id, **days}, "substitute_id"),
        "unknown substitute": ({"substitute_id": 99999, **days}, "substitute_id"),
        "no substitute": (days, "substitute_id"),
        "bad date": ({"substitute_id": admin.id, **days, "starts_on": "1 August"}, "starts_on"),
        "null date": ({"substitute_id": admin.id, **days, "ends_on": None}, "ends_on"),
        "no dates": ({"substitute_id": admin.id}, "starts_on"),
    }
    answers = {}
    for case, (body, field) in cases.items():
        response = client.post(f"{API}/users/{staff.id}/substitutions", json=body, headers=admin_auth)
        answers[case] = (response.status_code, field in response.get_json()["error"].get("fields", {}))
    assert answers == dict.fromkeys(cases, (422, True))
    assert accounts.substitutions_of(staff.id) == []


# --- errors ----------------------------------------------------------------------------------------------------


def test_every_error_is_json_with_a_stable_code(app, client, admin_auth):
    assert_error(client.get(f"{API}/nope", headers=admin_auth), 404, "not_found")
    assert_error(client.get(f"{API}/nope"), 404, "not_found")
    assert_error(client.get(f"{API}/users/99999", headers=admin_auth), 404, "not_found")
    assert_error(client.get(f"{API}/users/abc", headers=admin_auth), 404, "not_found")
    assert_error(client.get(f"{API}/departments/99999", headers=admin_auth), 404, "not_found")
    assert_error(client.get(f"{API}/correspondents/99999", headers=admin_auth), 404, "not_found")
    not_allowed = client.delete(f"{API}/me", headers=admin_auth)
    assert_error(not_allowed, 405, "method_not_allowed")
    assert "GET" in not_allowed.headers.get("Allow", "")
    assert_error(client.put(f"{API}/users", json={}, headers=admin_auth), 405, "method_not_allowed")
    assert_error(client.get(f"{API}/users?role=wizard", headers=admin_auth), 422, "validation_failed")
    assert_error(client.get(f"{API}/users?active=maybe", headers=admin_auth), 422, "validation_failed")
