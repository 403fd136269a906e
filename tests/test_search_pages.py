"""The search page and the search index's admin page, through the real HTTP stack, a real database and a real
Whoosh index (applied with the `index_now` fixture, as the background writer would)."""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import search
from docstore import audit, correspondents, extraction, indexing, organisation, registry
from docstore.extensions import db
from docstore.models import Series
from tests import test_search

# Whoosh leaves a damaged index's .toc file open when it cannot read it: see tests/test_search.py.
IGNORE_LEAKED_TOC = test_search.IGNORE_LEAKED_TOC
collect_garbage = test_search.collect_garbage

POLICY = registry.UploadPolicy(frozenset({"text", "pdf"}), 1 << 20, "UTC")
FACET = re.compile(
    r'<input type="checkbox" id="facet-(?P<name>\w+)-(?P<value>[^"]+)"[^>]*?(?P<checked> checked)?>\s*'
    r'<span>(?P<label>[^<]*)</span> <span class="facet-count">(?P<count>[\d,.]+)</span>'
)


@pytest.fixture
def settings(settings):
    """Two hits a page, to see paging at work with a few documents."""
    return {**settings, "SEARCH_PAGE_SIZE": 2}


@pytest.fixture
def office(app, make_user, index_now):
    """Register documents of two departments, one of them confidential, and index them; return their ids."""
    finance = organisation.create_department(audit.SYSTEM, code="CW", name="Finance")
    legal = organisation.create_department(audit.SYSTEM, code="FJ", name="Legal")
    ministry = correspondents.create_correspondent(audit.SYSTEM, name="Ministerio de Hacienda", code="E05")
    city = correspondents.create_correspondent(audit.SYSTEM, name="Ayuntamiento de Madrid", code="L01")
    clerk = make_user("lucia", "clerk", full_name="Lucía Fernández", clearance=1)
    make_user("juan", "staff", full_name="Juan Pérez", department_id=finance.id, clearance=0)
    make_user("ana", "staff", full_name="Ana Torres", department_id=finance.id, locale="es")
    make_user("wang", "staff", full_name="王芳", department_id=finance.id, locale="zh_Hans")
    store = extraction.file_store(app.config)
    incoming = db.session.query(Series).filter_by(code="IN").one().id

    def register(title: str, sender, department, files=(), **fields) -> int:
        data = registry.Registration(
            series_id=incoming,
            title=title,
            received_at=datetime.now(UTC) - timedelta(hours=1),
            channel="paper",
            correspondent_id=sender.id,
            department_id=department.id,
            **fields,
        )
        uploads = [registry.Upload(name, io.BytesIO(text.encode())) for name, text in files]
        return registry.register_document(audit.Context(clerk.id), "incoming", data, uploads, POLICY, store).id

    ids = {
        "budget": register(
            "Presupuesto anual de gestión",
            ministry,
            finance,
            files=[("informe.txt", "El presupuesto de gestión documental para el año próximo.")],
            urgency="urgent",
        ),
        "report": register("Annual budget report", city, finance, summary="The presupuesto in English words."),
        "notice": register("关于报送年度预算的通知", ministry, finance, summary="presupuesto 预算"),
        "counsel": register("Presupuesto de asesoría jurídica", ministry, legal),
        "secret": register("Presupuesto reservado", ministry, finance, classification=1),
        "void": register("Presupuesto duplicado", city, finance),
    }
    registry.void_document(audit.Context(clerk.id), ids["void"], "Registered twice")
    ids.update(finance=finance.id, legal=legal.id, ministry=ministry.id, city=city.id)
    extraction.drain(store, extraction.Limits(min_seconds=10, max_seconds=30))
    index_now()  # (the writer leaves the session empty: the objects above are detached from here on)
    db.session.commit()
    return ids


def text_of(response) -> str:
    return response.get_data(as_text=True)


def facets(page: str) -> dict[str, dict[str, tuple[str, int, bool]]]:
    """Return facet -> value -> (label, count, checked) as the sidebar shows them."""
    found: dict[str, dict[str, tuple[str, int, bool]]] = {}
    for match in FACET.finditer(page):
        count = int(re.sub(r"\D", "", match["count"]))
        shown = (html.unescape(match["label"]), count, bool(match["checked"]))
        found.setdefault(match["name"], {})[match["value"]] = shown
    return found


def numbers(page: str) -> list[str]:
    return re.findall(r'class="doc-number">([^<]+)</a>', page)


def number_of(document_id: int) -> str:
    return registry.get_document(document_id).number


# --- the page --------------------------------------------------------------------------------------------------


def test_search_page_shows_highlighted_hits_with_their_details_and_facet_counts(client, office, sign_in):
    sign_in("lucia")
    response = client.get("/search?q=presupuesto&per_page=10")
    page = text_of(response)

    assert response.status_code == 200
    assert "6 documents found" in page
    assert "<mark>Presupuesto</mark> anual de gestión" in page  # the title, marked
    assert "El <mark>presupuesto</mark> de gestión documental" in page  # a passage of the attached file
    assert "Ministerio de Hacienda" in page and 'class="badge urgency-badge">Urgent<' in page
    assert '<li class="hit void' in page and ">void</small>" in page
    shown = facets(page)
    assert shown["department"] == {
        str(office["finance"]): ("Finance", 5, False),
        str(office["legal"]): ("Legal", 1, False),
    }
    assert shown["status"]["void"] == ("Void", 1, False)
    assert shown["urgency"]["urgent"] == ("Urgent", 1, False)
    assert shown["files"]["yes"] == ("With attachments", 1, False)
    assert shown["sender"][str(office["city"])] == ("Ayuntamiento de Madrid", 2, False)
    assert 'aria-current="page">Search</a>' in page


def test_a_page_past_the_end_goes_to_the_last_page_with_the_same_search(client, office, sign_in):
    sign_in("lucia")
    last = text_of(client.get(f"/search?q=presupuesto&sender={office['ministry']}&page=1"))
    pages = int(re.search(r"Page 1 of (\d+)", last).group(1))
    response = client.get(f"/search?q=presupuesto&sender={office['ministry']}&page=99")
    assert response.status_code == 302
    target = response.headers["Location"]
    assert f"page={pages}" in target and "q=presupuesto" in target and f"sender={office['ministry']}" in target


def test_a_facet_filter_narrows_the_hits_and_shows_the_filter_chosen(client, office, sign_in):
    sign_in("lucia")
    page = text_of(client.get(f"/search?q=presupuesto&department={office['legal']}"))

    assert "1 document found" in page
    assert numbers(page) == [number_of(office["counsel"])]
    # the other departments stay on offer, with what ticking them would add
    assert facets(page)["department"] == {
        str(office["legal"]): ("Legal", 1, True),
        str(office["finance"]): ("Finance", 5, False),
    }
    assert "Clear the filters" in page and 'href="/search?q=presupuesto"' in page


def test_several_values_of_a_facet_add_up_and_pages_keep_every_filter(client, office, sign_in):
    sign_in("lucia")
    query = f"/search?q=presupuesto&sender={office['ministry']}&sender={office['city']}&sort=-registered"
    first = text_of(client.get(query))

    assert "6 documents found" in first and "Page 1 of 3" in first
    assert numbers(first) == [number_of(office["void"]), number_of(office["secret"])]  # newest first
    following = re.search(r'href="([^"]+)" rel="next"', first)[1]
    following = html.unescape(following)
    assert f"sender={office['ministry']}" in following and f"sender={office['city']}" in following
    assert "q=presupuesto" in following and "sort=-registered" in following
    second = text_of(client.get(following))
    assert "Page 2 of 3" in second
    assert numbers(second) == [number_of(office["counsel"]), number_of(office["notice"])]


def test_a_misspelt_word_offers_the_corrected_search_as_a_link(client, office, sign_in):
    sign_in("lucia")
    page = text_of(client.get(f"/search?q=presupesto&department={office['finance']}"))

    assert "No document found." in page
    link = re.search(r'Did you mean <a href="([^"]+)">presupuesto</a>\?', page)
    assert link, page
    assert html.unescape(link[1]) == f"/search?q=presupuesto&department={office['finance']}"
    assert "5 documents found" in text_of(client.get(html.unescape(link[1])))


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("((", "Type words to search for."),
        ("NOT presupuesto", "Say what to look for as well as what to leave out"),
        ("p*", "Put at least two letters before *"),
        ("x" * 1001, "The search is too long"),
        ("asunto:presupuesto", "“asunto:” is not something you can search by."),
    ],
)
def test_a_query_that_cannot_be_used_is_explained_on_the_page(client, office, sign_in, typed, message):
    sign_in("lucia")
    response = client.get("/search", query_string={"q": typed})
    page = text_of(response)

    assert response.status_code == 200
    alert = re.search(r'<p id="search-q-problem" class="flash flash-error" role="alert">([^<]*)</p>', page)
    assert alert and message in html.unescape(alert[1])
    assert 'aria-invalid="true" aria-describedby="search-q-problem"' in page
    assert "documents found" not in page


def test_a_date_that_is_not_one_is_marked_at_its_field_and_nothing_is_searched(client, office, sign_in):
    sign_in("lucia")
    response = client.get("/search?q=presupuesto&date_from=2026-13-45")
    page = text_of(response)

    assert response.status_code == 422
    assert 'id="search-from-error" class="field-error">Enter a date as YYYY-MM-DD.' in page
    assert 'value="2026-13-45"' in page  # kept, to be corrected
    assert "documents found" not in page


def test_a_date_range_narrows_the_hits(client, office, sign_in):
    sign_in("lucia")
    today = datetime.now(UTC).date()
    assert "6 documents found" in text_of(client.get(f"/search?q=presupuesto&date_from={today - timedelta(days=1)}"))
    page = text_of(client.get(f"/search?q=presupuesto&date_until={today - timedelta(days=1)}"))
    assert "No document found." in page


def test_the_page_without_a_query_explains_how_to_search(client, office, sign_in):
    sign_in("lucia")
    page = text_of(client.get("/search"))
    assert "How to search" in page and "<code>gest*</code>" in page and "<code>sender:Madrid</code>" in page
    assert "autofocus" in page and "documents found" not in page


def test_the_search_page_asks_anonymous_visitors_to_sign_in(client, office):
    response = client.get("/search?q=presupuesto")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")


def test_every_page_has_a_search_box_for_signed_in_users_only(client, office, sign_in):
    assert 'id="header-search-q"' not in text_of(client.get("/sign-in"))
    sign_in("lucia")
    page = text_of(client.get("/documents/"))
    assert '<form method="get" action="/search" class="header-search" role="search">' in page
    assert '<label for="header-search-q" class="visually-hidden">Search the documents</label>' in page


# --- who sees what ---------------------------------------------------------------------------------------------


def test_a_user_sees_neither_the_hits_nor_the_counts_of_documents_they_may_not_open(client, office, sign_in):
    sign_in("juan")  # finance, no clearance
    page = text_of(client.get("/search?q=presupuesto&per_page=10"))

    assert "4 documents found" in page
    assert sorted(numbers(page)) == sorted(number_of(office[k]) for k in ("budget", "report", "notice", "void"))
    assert "asesoría" not in page and "reservado" not in page
    shown = facets(page)
    assert shown["department"] == {str(office["finance"]): ("Finance", 4, False)}
    assert "Legal" not in page
    # asking for the other department's documents by their facet finds nothing either
    assert "No document found." in text_of(client.get(f"/search?q=presupuesto&department={office['legal']}"))


# --- languages -------------------------------------------------------------------------------------------------


def test_the_search_page_speaks_spanish(client, office, sign_in):
    sign_in("ana")
    page = text_of(client.get("/search?q=presupuesto"))
    assert '<html lang="es"' in page
    assert "4 documentos encontrados" in page
    assert "<legend>Libro de registro</legend>" in page and "<legend>Urgencia</legend>" in page
    assert "Con anexos" in page
    assert "no es algo por lo que se pueda buscar" in text_of(client.get("/search?q=asunto:presupuesto"))


def test_the_search_page_speaks_chinese_and_finds_chinese_words(client, office, sign_in):
    sign_in("wang")
    page = text_of(client.get("/search", query_string={"q": "年度预算"}))
    assert '<html lang="zh-Hans"' in page
    assert "找到 1 份公文" in page
    assert "关于报送<mark>年度预算</mark>的通知" in page
    assert "<legend>登记簿</legend>" in page and "<legend>紧急程度</legend>" in page


# --- an unreadable index ---------------------------------------------------------------------------------------


def spoil(app) -> None:
    """Write garbage over every file of the live index, as a failing disk might."""
    index = indexing.index_for(app)
    index.close()
    for path in (Path(app.config["INDEX_DIR"]) / index.live_generation()).iterdir():
        path.write_bytes(b"not an index " * 10)


@IGNORE_LEAKED_TOC
def test_an_unreadable_index_is_rebuilt_while_the_page_says_so_and_the_registers_still_work(
    app, client, office, sign_in, caplog, collect_garbage
):
    spoil(app)
    sign_in("lucia")

    response = client.get("/search?q=presupuesto")
    page = text_of(response)
    assert "search unavailable" in caplog.text
    caplog.clear()  # the logged error holds the file Whoosh left open: let it go within this test

    assert response.status_code == 200
    assert "Search is being rebuilt and will be back shortly." in page
    assert 'class="flash flash-info search-rebuilding" role="status"' in page
    assert "documents found" not in page
    assert indexing.status(indexing.index_for(app))["rebuild_requested"] is True
    documents = client.get("/documents/")
    assert documents.status_code == 200 and number_of(office["budget"]) in text_of(documents)
    assert client.get(f"/documents/{office['budget']}").status_code == 200


@IGNORE_LEAKED_TOC
def test_the_rebuilding_notice_is_translated(app, client, office, sign_in, caplog, collect_garbage):
    spoil(app)
    sign_in("wang")
    page = text_of(client.get("/search?q=预算"))
    caplog.clear()  # as above
    assert "搜索索引正在重建" in page


def test_a_search_failing_on_a_readable_index_says_so_and_asks_for_no_rebuild(
    app, client, office, sign_in, monkeypatch, caplog
):
    sign_in("lucia")
    client.get("/search?q=presupuesto")  # the index is read once, fine

    def failing(request, access):
        raise search.IndexUnavailable("a bug, not a damaged index")

    monkeypatch.setattr(indexing.index_for(app), "_search", failing)
    page = text_of(client.get("/search?q=presupuesto"))
    assert 'class="flash flash-error search-failed" role="alert"' in page
    assert "This search could not be run just now." in page
    assert "being rebuilt" not in page and "documents found" not in page
    assert indexing.status(indexing.index_for(app))["rebuild_requested"] is False


# --- the admin page --------------------------------------------------------------------------------------------


def test_the_admin_sees_the_state_of_the_index_and_asks_for_a_rebuild(client, office, admin, sign_in):
    sign_in("admin")
    assert 'href="/admin/search"' in text_of(client.get("/admin/users"))
    page = text_of(client.get("/admin/search"))
    assert "<h1>Search index</h1>" in page
    assert "<dt>State</dt>" in page and "Readable" in page
    assert re.search(r"<dt>Documents in the index</dt>\s*<dd>6</dd>", page)

    response = client.post("/admin/search/rebuild")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/search"
    page = text_of(client.get("/admin/search"))
    assert "The index will be rebuilt in the background." in page
    assert "Requested, starting soon" in page and "asked by admin" in page


def test_only_admins_reach_the_search_index_page(client, office, sign_in):
    sign_in("lucia")
    assert client.get("/admin/search").status_code == 403
    assert client.post("/admin/search/rebuild").status_code == 403
