"""Uploaded Word templates: checking them at upload and filling them (docstore.directives.placeholders).

Templates are built here with python-docx, as Word would save them (a placeholder split over runs of different
formatting, tags in tables, headers and footers), and the two real Spanish templates in
shared/corpus/templates-real/ are filled after placeholders are typed into their own runs.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date
from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import parse_xml
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

from docstore.directives import placeholders
from docstore.directives.content import Content, parse_body
from docstore.directives.kinds import KINDS
from docstore.errors import TemplateInvalid
from tests.word_support import NS, part_xml, pdf_of, read_docx

REAL_TEMPLATES = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "templates-real"
if not REAL_TEMPLATES.is_dir():  # run from a worktree next to shared/
    REAL_TEMPLATES = Path("/work/shared/corpus/templates-real")

SPANISH = Content(
    kind="oficio",
    language="es",
    issuer="Ayuntamiento de Villa & Río",
    title="Respuesta a “Q&A” <urgente>",
    number="2026/000123",
    main_recipients=("Ana Pérez & Cía", "Luis Gómez <Dirección>"),
    copy_recipients=("Intervención", "Tesorería"),
    attachments=("Informe técnico", "Plano <A3>"),
    signer="María López",
    signer_title="La Alcaldesa",
    signed_on=date(2026, 7, 1),
    place="Sincelejo",
    their_reference="S/REF 45/2026",
    subject="Licencia de obras en C/ Mayor 3 & 5",
    note="Plazo: 10 días <hábiles>",
    address='Plaza Mayor 1\n28001 Madrid "centro"',
    body=parse_body(
        "# Antecedentes\n"
        "El solicitante presentó la instancia el 3 de junio & aportó los planos <revisados>.\n\n"
        "- Primer punto del oficio.\n"
        "- Segundo punto.\n\n"
        "| Concepto | Importe |\n| Tasa | 120 € |\n| Fianza | 300 € |\n\n"
        "Atentamente.",
        "es",
    ),
)

CHINESE = Content(
    kind="notice",
    language="zh",
    issuer="某市人民政府办公室",
    title="关于做好防汛工作的通知",
    number="某政办〔2026〕12号",
    main_recipients=("各区人民政府", "市政府各部门"),
    copy_recipients=("市委办公室", "市人大常委会办公室"),
    attachments=("防汛值班表", "联系人名单"),
    signer="张三",
    signed_on=date(2026, 7, 1),
    body=parse_body("# 总体要求\n各单位要高度重视 & 落实责任。\n\n## 工作措施\n加强值班值守。", "zh"),
)


# ------------------------------------------------------------------------------------------------- helpers


def _save(document: docx.document.Document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _template(*paragraphs: str) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    return _save(document)


def _paragraph_texts(data: bytes, part: str = "word/document.xml") -> list[str]:
    """Return the text of every paragraph of `part`, tables and text boxes included, in document order."""
    root = part_xml(data, part)
    return ["".join(t.text or "" for t in p.iterfind(".//w:t", NS)) for p in root.iterfind(".//w:p", NS)]


def _refusal(data: bytes) -> str:
    with pytest.raises(TemplateInvalid) as caught:
        placeholders.inspect_template(data)
    return str(caught.value.errors["file"])


def _repack(data: bytes, name: str, change) -> bytes:
    """Return the package `data` with the text of its part `name` passed through `change`."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            content = source.read(entry)
            if entry.filename == name:
                content = change(content.decode("utf-8")).encode("utf-8")
            target.writestr(entry.filename, content)
    return out.getvalue()


def _retype(document: docx.document.Document, changes: dict[str, str | list[str]]) -> None:
    """Type placeholders into the real runs of `document`: a run's text -> its new text.

    A list of texts goes into consecutive runs of one paragraph whose texts join to the key (a marker Word split).
    """
    paragraphs = list(document.paragraphs)
    for section in document.sections:
        paragraphs += section.header.paragraphs + section.footer.paragraphs
    for paragraph in paragraphs:
        runs = paragraph.runs
        for old, new in changes.items():
            if isinstance(new, list):
                for start in range(len(runs) - len(new) + 1):
                    if "".join(run.text for run in runs[start : start + len(new)]) == old:
                        for run, text in zip(runs[start : start + len(new)], new, strict=True):
                            run.text = text
            else:
                for run in runs:
                    if run.text == old:
                        run.text = new


def _template_with_everything() -> bytes:
    """Return a template using every kind of tag, in body, table, header and footer."""
    document = docx.Document()
    number = document.add_paragraph("No. ")
    for text, style in (("{{ nu", "bold"), ("mb", "italic"), ("er }}", "size")):
        run = number.add_run(text)
        if style == "bold":
            run.bold = True
            run.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
        elif style == "italic":
            run.italic = True
        else:
            run.font.size = Pt(20)
    document.add_paragraph("{{ title }}").alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph("To: {% for r in main_recipients %}{{ r }}{% if not loop.last %} / {% endif %}{% endfor %}")
    document.add_paragraph("Main: {{ main_recipients }}")
    document.add_paragraph("{% for r in copy_recipients %}")
    document.add_paragraph("Copy {{ loop.index }}: {{ r }}")
    document.add_paragraph("{% endfor %}")
    body = document.add_paragraph("{{ body }}")
    body.paragraph_format.first_line_indent = Pt(32)
    body.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    document.add_paragraph("{% if note %}Note: {{ note }}{% else %}No note{% endif %}")
    table = document.add_table(rows=4, cols=2)
    table.style = "Table Grid"
    table.cell(0, 0).text = "Signed by {{ signer }}"
    table.cell(0, 1).text = "{{ date }}"
    table.cell(1, 0).text = "{% for a in attachments %}"
    table.cell(2, 0).text = "{{ loop.index }}"
    table.cell(2, 1).text = "{{ a | upper }}"
    table.cell(3, 0).text = "{% endfor %}"
    document.sections[0].header.paragraphs[0].text = "{{ issuer }} · {{ number }}"
    document.sections[0].footer.paragraphs[0].text = "{{ address }}"
    return _save(document)


@pytest.fixture(scope="module")
def everything() -> bytes:
    return _template_with_everything()


@pytest.fixture(scope="module")
def filled_es(everything) -> bytes:
    return placeholders.render_template(everything, SPANISH)


@pytest.fixture(scope="module")
def filled_zh(everything) -> bytes:
    return placeholders.render_template(everything, CHINESE)


# ------------------------------------------------------------------------------------------- the vocabulary


def test_placeholders_name_every_printable_field_of_content_and_every_section_of_every_kind():
    fields = set(Content.__dataclass_fields__) - {"kind", "language", "signed_on", "printed_on", "extra"}
    assert fields <= set(placeholders.PLACEHOLDERS)
    assert {"date", "print_date"} <= set(placeholders.PLACEHOLDERS)
    sections = {f"extra.{section.name}" for kind in KINDS.values() for section in kind.sections}
    assert sections == {name for name in placeholders.PLACEHOLDERS if name.startswith("extra.")}
    assert set(placeholders.template_values(SPANISH)) == set(placeholders.PLACEHOLDERS)
    assert all(description.strip() for description in placeholders.PLACEHOLDERS.values())


# ---------------------------------------------------------------------------------------------- rendering


def test_a_placeholder_split_over_three_runs_is_filled_in_the_first_runs_formatting(filled_es):
    paragraph = read_docx(filled_es).paragraphs[0]
    assert paragraph.text == "No. 2026/000123"
    value = next(run for run in paragraph.runs if "2026" in run.text)
    assert value.text == "2026/000123"
    assert value.bold and value.font.color.rgb == RGBColor(0xC0, 0x00, 0x00)
    assert not value.italic and value.font.size is None


def test_values_fill_tables_headers_and_footers(filled_es):
    document = read_docx(filled_es)
    table = document.tables[-1]
    assert table.cell(0, 0).text == "Signed by María López"
    assert table.cell(0, 1).text == "1 de julio de 2026"
    assert document.sections[0].header.paragraphs[0].text == "Ayuntamiento de Villa & Río · 2026/000123"
    assert _paragraph_texts(filled_es, "word/footer1.xml") == ['Plaza Mayor 128001 Madrid "centro"']
    footer = part_xml(filled_es, "word/footer1.xml")
    assert len(footer.findall(".//w:br", NS)) == 1  # the newline of the address is a line break


def test_a_loop_whose_tags_have_paragraphs_of_their_own_repeats_the_paragraphs_between(filled_es):
    texts = _paragraph_texts(filled_es)
    assert "Copy 1: Intervención" in texts and "Copy 2: Tesorería" in texts
    assert texts.index("Copy 2: Tesorería") == texts.index("Copy 1: Intervención") + 1
    assert not any("{%" in text or "{{" in text for text in texts)


def test_a_loop_within_a_paragraph_repeats_the_text_between_its_tags(filled_es):
    assert "To: Ana Pérez & Cía / Luis Gómez <Dirección>" in _paragraph_texts(filled_es)


def test_a_list_alone_is_joined_as_the_documents_language_joins_lists(filled_es, filled_zh):
    assert "Main: Ana Pérez & Cía, Luis Gómez <Dirección>" in _paragraph_texts(filled_es)
    assert "Main: 各区人民政府、市政府各部门" in _paragraph_texts(filled_zh)


def test_a_loop_whose_tags_have_rows_of_their_own_repeats_the_rows_between(filled_es):
    table = read_docx(filled_es).tables[-1]
    assert [[cell.text for cell in row.cells] for row in table.rows] == [
        ["Signed by María López", "1 de julio de 2026"],
        ["1", "INFORME TÉCNICO"],
        ["2", "PLANO <A3>"],
    ]


def test_body_alone_becomes_one_paragraph_per_block_in_that_paragraphs_formatting(filled_es):
    document = read_docx(filled_es)
    texts = [paragraph.text for paragraph in document.paragraphs]
    start = texts.index("1. Antecedentes")
    assert texts[start : start + 4] == [
        "1. Antecedentes",
        "El solicitante presentó la instancia el 3 de junio & aportó los planos <revisados>.",
        "1. Primer punto del oficio.",
        "2. Segundo punto.",
    ]
    assert "Atentamente." in texts
    for paragraph in document.paragraphs[start : start + 4]:
        assert paragraph.paragraph_format.first_line_indent == Pt(32)
        assert paragraph.alignment == WD_ALIGN_PARAGRAPH.JUSTIFY
    assert document.paragraphs[start].runs[0].bold  # a level-1 heading
    table = document.tables[0]
    assert [[cell.text for cell in row.cells] for row in table.rows] == [
        ["Concepto", "Importe"],
        ["Tasa", "120 €"],
        ["Fianza", "300 €"],
    ]
    assert table.rows[0].cells[0].paragraphs[0].runs[0].bold


def test_chinese_headings_take_the_gb_heading_fonts(filled_zh):
    document = read_docx(filled_zh)
    heading1 = next(p for p in document.paragraphs if p.text == "一、总体要求")
    heading2 = next(p for p in document.paragraphs if p.text == "（一）工作措施")
    fonts = [p.runs[0]._r.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) for p in (heading1, heading2)]
    assert fonts == ["黑体", "楷体_GB2312"]


def test_a_condition_keeps_one_branch(everything):
    assert "Note: Plazo: 10 días <hábiles>" in _paragraph_texts(placeholders.render_template(everything, SPANISH))
    assert "No note" in _paragraph_texts(placeholders.render_template(everything, CHINESE))


def test_the_date_is_written_in_the_documents_language_and_blank_on_a_draft(filled_zh, everything):
    assert read_docx(filled_zh).tables[-1].cell(0, 1).text == "2026年7月1日"
    draft = Content(kind="oficio", language="es", issuer="X", title="Borrador")
    assert read_docx(placeholders.render_template(everything, draft)).tables[-1].cell(0, 1).text == ""


def test_values_are_text_and_never_markup_nor_template():
    template = _template("{{ title }}", "{{ note }}", "{{ subject }}")
    content = Content(
        kind="oficio",
        language="es",
        issuer="X",
        title="</w:t><w:t>{{ number }}",
        note="a\tb\x00c\x1f",
        subject="{% for r in main_recipients %}x",
        number="SECRET",
    )
    filled = placeholders.render_template(template, content)
    texts = _paragraph_texts(filled)
    assert texts[:3] == ["</w:t><w:t>{{ number }}", "abc", "{% for r in main_recipients %}x"]
    assert "SECRET" not in "".join(texts)
    assert len(part_xml(filled).findall(".//w:tab", NS)) == 1


def test_an_empty_list_repeats_nothing_and_leaves_the_document_valid():
    document = docx.Document()
    table = document.add_table(rows=3, cols=1)
    table.cell(0, 0).text = "{% for a in attachments %}"
    table.cell(1, 0).text = "{{ a }}"
    table.cell(2, 0).text = "{% endfor %}"
    document.add_paragraph("{% for r in copy_recipients %}")
    document.add_paragraph("{{ r }}")
    document.add_paragraph("{% endfor %}")
    filled = placeholders.render_template(_save(document), Content(kind="oficio", language="es", issuer="X", title="T"))
    assert read_docx(filled).tables == []
    assert not any(text.strip() for text in _paragraph_texts(filled))


def test_text_boxes_and_body_in_a_table_cell_are_filled():
    document = docx.Document()
    document.add_table(rows=1, cols=1).cell(0, 0).text = "{{ body }}"
    paragraph = document.add_paragraph("Before ")
    paragraph._p.append(
        parse_xml(
            f'<w:r xmlns:w="{NS["w"]}" xmlns:v="urn:schemas-microsoft-com:vml"><w:pict><v:shape style="width:200pt;'
            'height:60pt"><v:textbox><w:txbxContent><w:p><w:r><w:t>{{ iss</w:t></w:r><w:r><w:t>uer }}</w:t></w:r></w:p>'
            "<w:p><w:r><w:t>{% for r in main_recipients %}</w:t></w:r></w:p><w:p><w:r><w:t>- {{ r }}</w:t></w:r></w:p>"
            "<w:p><w:r><w:t>{% endfor %}</w:t></w:r></w:p></w:txbxContent></v:textbox></v:shape></w:pict></w:r>"
        )
    )
    filled = placeholders.render_template(_save(document), SPANISH)
    box = part_xml(filled).find(".//w:txbxContent", NS)
    assert ["".join(t.text for t in p.iterfind(".//w:t", NS)) for p in box.iterfind("w:p", NS)] == [
        "Ayuntamiento de Villa & Río",
        "- Ana Pérez & Cía",
        "- Luis Gómez <Dirección>",
    ]
    cell = read_docx(filled).tables[0].cell(0, 0)
    assert cell.paragraphs[0].text == "1. Antecedentes"
    assert [[c.text for c in row.cells] for row in cell.tables[0].rows][1] == ["Tasa", "120 €"]
    assert cell._tc[-1].tag == cell.paragraphs[-1]._p.tag  # a cell ends with a paragraph, as Word requires


def test_rendering_is_pure(everything):
    first = placeholders.render_template(everything, SPANISH)
    placeholders.render_template(everything, CHINESE)
    assert _paragraph_texts(placeholders.render_template(everything, SPANISH)) == _paragraph_texts(first)


# ----------------------------------------------------------------------------------------------- inspecting


def test_inspect_reports_what_the_template_uses(everything):
    report = placeholders.inspect_template(everything)
    assert report.placeholders == (
        "address",
        "attachments",
        "body",
        "copy_recipients",
        "date",
        "issuer",
        "main_recipients",
        "note",
        "number",
        "signer",
        "title",
    )
    assert report.loops == ("attachments", "copy_recipients", "main_recipients")
    assert report.conditions == ("note",)
    assert report.parts == ("/word/document.xml", "/word/footer1.xml", "/word/header1.xml")
    assert report.tables == 1 and report.paragraphs >= 10
    assert report.foreign == ()


def test_unknown_placeholders_are_all_named_at_upload():
    message = _refusal(
        _template(
            "{{ nmber }} of {{ title }}",
            "{{ signer_name }}",
            "{% for r in recipients %}{{ r }}{% endfor %}",
            "{{ extra.resolvd }}",
            "{{ r }}",
        )
    )
    assert (
        "Unknown placeholders: {{ nmber }}, {{ signer_name }}, {{ recipients }}, {{ extra.resolvd }}, {{ r }}."
        in message
    )


@pytest.mark.parametrize(
    "tag",
    [
        "{{ ''.__class__ }}",
        "{% import os %}",
        "{{ title.__class__ }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ title | attr('x') }}",
        "{{ title | safe }}",
        "{{ lipsum() }}",
        "{% set x = 1 %}",
        "{% include 'x' %}",
        "{{ title.upper }}",
        "{{ loop.cycle }}",
    ],
)
def test_anything_beyond_names_loops_and_conditions_is_refused_and_named(tag):
    message = _refusal(_template(f"Dear {tag} and {{{{ title }}}}"))
    assert message.startswith("Not allowed in a template: ")
    assert tag in message


def test_unclosed_and_unmatched_tags_are_refused_and_named():
    message = _refusal(_template("{{ title", "{% for r in main_recipients %}", "{{ r }}", "{% endif %}"))
    assert "Tags not closed within their paragraph: {{ title." in message
    unmatched = message[message.index("Unmatched tags: ") :]
    assert "{% for r in main_recipients %}" in unmatched and "{% endif %}" in unmatched


def test_a_loop_over_a_single_value_and_a_loop_variable_named_like_a_placeholder_are_refused():
    message = _refusal(
        _template("{% for x in title %}{{ x }}{% endfor %}", "{% for title in attachments %}{{ title }}{% endfor %}")
    )
    assert "Only lists can be repeated: {% for x in title %}." in message
    assert "must not be named like a placeholder: {% for title in attachments %}." in message


def test_a_tag_split_across_runs_is_checked_as_a_whole():
    document = docx.Document()
    paragraph = document.add_paragraph()
    for text in ("{", "{ nm", "ber ", "}}"):
        paragraph.add_run(text).bold = text == "{"
    assert "Unknown placeholders: {{ nmber }}." in _refusal(_save(document))


# ------------------------------------------------------------------------------------------ unsafe uploads


def test_a_zip_bomb_is_refused_before_python_docx_opens_it():
    bomb = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(_template("{{ title }}"))) as source,
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            target.writestr(entry, source.read(entry))
        target.writestr("word/media/filler.xml", b"\0" * (20 * 1024 * 1024))
    message = _refusal(bomb.getvalue())
    assert "zip bomb" in message and "word/media/filler.xml" in message


def _macro_enabled(text: str) -> str:
    plain = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    return text.replace(plain, "application/vnd.ms-word.document.macroEnabled.main+xml")


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda data: b"%PDF-1.7\n" + b"0" * 100, "not a Word document"),
        (lambda data: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504, "password-protected"),
        (lambda data: data[: len(data) // 2], "damaged"),
        (lambda data: b"", "empty"),
        (lambda data: _repack(data, "[Content_Types].xml", _macro_enabled), "contains macros"),
        (
            lambda data: _repack(
                data,
                "[Content_Types].xml",
                lambda text: text.replace("wordprocessingml.document.main+xml", "wordprocessingml.template.main+xml"),
            ),
            "Word template (.dotx)",
        ),
        (
            lambda data: _repack(
                data,
                "_rels/.rels",
                lambda text: text.replace(
                    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument",
                    "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument",
                ),
            ),
            "Strict Open XML",
        ),
        (lambda data: _zip_of({"mimetype": "application/vnd.oasis.opendocument.text"}), "not a Word document"),
        (lambda data: _repack(data, "word/document.xml", lambda text: text[:-40]), "cannot be read as a Word"),
    ],
    ids=["pdf", "ole2", "truncated", "empty", "docm", "dotx", "strict", "odt", "broken-xml"],
)
def test_files_that_are_not_plain_docx_are_refused_with_a_clear_message(make, expected):
    assert expected in _refusal(make(_template("{{ title }}")))


def _zip_of(entries: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in entries.items():
            archive.writestr(name, text)
    return out.getvalue()


# ------------------------------------------------------------------------------------------- real templates


def test_the_real_templates_use_other_systems_markers_which_inspect_reports():
    oficio = placeholders.inspect_template((REAL_TEMPLATES / "formato_respuesta_oficio.docx").read_bytes())
    assert oficio.placeholders == () and oficio.parts == ()
    assert {"*RAD_S*", "**RAD_S**", "*ASUNTO*", "*FIRMA_USUARIO*"} <= set(oficio.foreign)
    plantilla = placeholders.inspect_template((REAL_TEMPLATES / "plantilla_1.docx").read_bytes())
    assert plantilla.placeholders == ()
    # Word split this one over five runs; it is still found whole
    assert {"${numeroRadicado}", "${codigoBarrasRadicado}", "${departamentoMunicipio}"} <= set(plantilla.foreign)


def _real_oficio() -> bytes:
    document = docx.Document(REAL_TEMPLATES / "formato_respuesta_oficio.docx")
    _retype(
        document,
        {
            "*F_RAD_S*": "{{ date }}",
            "**RAD_S**": "{{ number }}",
            "*RAD_S*": "{{ number }}",
            "*DIGNATARIO*": "{% for r in main_recipients %}",
            "*NOM_R*": "{{ r }}",
            "*DIR_R*": "{% endfor %}",
            "*MPIO_R* - *DEPTO_R": "{{ place }}",
            "*ASUNTO*": "{{ subject }}",
            "*RAD_E* del": "{{ their_reference }} del",
            "*F_RAD_E* ": "{{ date }}. ",
            "*FIRMA_QR*": "",
            "*FIRMA_USUARIO*": "{{ signer }}",
            "[cargo]": "{{ signer_title }}",
            "Anexos: ": "Anexos: {{ attachments }}",
            "*FUNCIONARIO*": "{{ issuer }}",
        },
    )
    # the placeholder text after "Dando respuesta…" goes; the empty paragraph after it takes the body
    paragraphs = document.paragraphs
    answer = next(index for index, p in enumerate(paragraphs) if p.text.startswith("Dando respuesta"))
    paragraphs[answer].runs[-1].text = ""
    paragraphs[answer + 1].runs[0].text = "{{ body }}"
    document.sections[0].footer.paragraphs[0].runs[0].text = "{{ address }}"
    return _save(document)


def _real_plantilla() -> bytes:
    document = docx.Document(REAL_TEMPLATES / "plantilla_1.docx")
    _retype(
        document,
        {
            "${dependenciaCreador} - ${numeroRadicado}": "{{ issuer }} - {{ number }}",
            "${codigoBarrasRadicado}": ["{{ ", "nu", "mb", "er", " }}"],
            "BOGOTA DC. ${fechaRadicacion}": "BOGOTA DC. {{ date }}",
            "${remitente}": "{{ r }}",
            "${departamentoMunicipio}": ["{{ pla", "c", "e }}"],
            "${asunto}": "{{ subject }}",
            "${firma}": "",
            "${nombreFirma}": "{{ signer }}",
            "${cargo}": "{{ signer_title }}",
            "Anexos: ${folios}": "Anexos: {% for a in attachments %}{{ loop.index }}) {{ a }}{% if not loop.last %}; "
            "{% endif %}{% endfor %}",
            "Cantidad de anexos: ${cantidadAnexos}": "{% if copy_recipients %}Copias: {{ copy_recipients }}{% endif %}",
            "Copia: ${copia}": "{% if note %}Nota: {{ note }}{% endif %}",
            "Proyectó: ${usuarioTramitador} - ${dependenciaTramitador}": "Proyectó: {{ issuer | upper }}",
            "Revisó: ${voBoRadicado}": "S/REF: {{ their_reference }}",
        },
    )
    paragraphs = document.paragraphs
    addressee = next(p for p in paragraphs if p.text == "{{ r }}")
    addressee.insert_paragraph_before("{% for r in main_recipients %}")
    next(p for p in paragraphs if p.text == "Coordinador(a) de procesos").insert_paragraph_before("{% endfor %}")
    lorem = [p for p in paragraphs if p.text and p.text[0] in "Ltqcp" and " " in p.text and "{" not in p.text]
    lorem[0].runs[0].text = "{{ body }}"
    for paragraph in lorem[1:]:
        paragraph._element.getparent().remove(paragraph._element)
    return _save(document)


@pytest.fixture(scope="module")
def real_filled() -> dict[str, bytes]:
    return {
        "oficio": placeholders.render_template(_real_oficio(), SPANISH),
        "plantilla": placeholders.render_template(_real_plantilla(), SPANISH),
    }


def test_placeholders_typed_into_the_real_templates_are_found_at_upload():
    oficio = placeholders.inspect_template(_real_oficio())
    assert oficio.placeholders == (
        "address",
        "attachments",
        "body",
        "date",
        "issuer",
        "main_recipients",
        "number",
        "place",
        "signer",
        "signer_title",
        "subject",
        "their_reference",
    )
    assert oficio.parts == ("/word/document.xml", "/word/footer1.xml")
    plantilla = placeholders.inspect_template(_real_plantilla())
    assert {"number", "place", "body", "attachments", "main_recipients"} <= set(plantilla.placeholders)
    assert plantilla.loops == ("attachments", "main_recipients")


def test_the_real_oficio_is_filled_in_its_own_runs(real_filled):
    texts = _paragraph_texts(real_filled["oficio"])
    assert "Sincelejo – 1 de julio de 2026" in texts
    assert texts.count("2026/000123") == 2
    assert texts[texts.index("Señor(a):") + 1 : texts.index("Señor(a):") + 4] == [
        "Ana Pérez & Cía",
        "Luis Gómez <Dirección>",
        "Sincelejo",
    ]
    assert "Asunto: Licencia de obras en C/ Mayor 3 & 5" in texts
    assert "Dando respuesta a su S/REF 45/2026 del 1 de julio de 2026. " in texts
    assert "1. Antecedentes" in texts and "Anexos: Informe técnico, Plano <A3>" in texts
    document = read_docx(real_filled["oficio"])
    signer = next(p for p in document.paragraphs if p.text == "María López")
    assert signer.runs[0].bold
    assert document.sections[0].footer.paragraphs[0].text.startswith("Plaza Mayor 1")
    assert not any("*" in text or "{" in text for text in texts)


def test_the_real_plantilla_is_filled_in_its_own_runs(real_filled):
    texts = _paragraph_texts(real_filled["plantilla"])
    assert texts[:3] == ["Ayuntamiento de Villa & Río - 2026/000123", "2026/000123", "BOGOTA DC. 1 de julio de 2026"]
    start = texts.index("Señor(a)")
    assert texts[start : start + 4] == [
        "Señor(a)",
        "Ana Pérez & Cía",
        "Luis Gómez <Dirección>",
        "Coordinador(a) de procesos",
    ]
    assert texts[start + 4] == "Sincelejo"
    assert "Anexos: 1) Informe técnico; 2) Plano <A3>" in texts
    assert "Copias: Intervención, Tesorería" in texts and "Nota: Plazo: 10 días <hábiles>" in texts
    assert "Proyectó: AYUNTAMIENTO DE VILLA & RÍO" in texts
    assert not any("${" in text or "{" in text for text in texts)


# ------------------------------------------------------------------------------------------------ LibreOffice


@pytest.fixture(scope="module")
def pdfs(filled_zh, real_filled) -> dict[str, tuple[str, int]]:
    """Convert one filled file of each template (three conversions in all)."""
    return {"everything": pdf_of(filled_zh), **{name: pdf_of(data) for name, data in real_filled.items()}}


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_filled_template_opens_in_libreoffice_with_its_values(pdfs):
    text, pages = pdfs["everything"]
    assert pages == 1
    for value in (
        "某政办〔2026〕12号",
        "关于做好防汛工作的通知",
        "各区人民政府/市政府各部门",
        "2026年7月1日",
        "一、总体要求",
        "落实责任",
        "防汛值班表",
        "某市人民政府办公室",
        "Copy2:市人大常委会办公室",
    ):
        assert _flat(value) in _flat(text), value


@pytest.mark.parametrize("name", ["oficio", "plantilla"])
def test_the_filled_real_templates_open_in_libreoffice_with_their_values(pdfs, name):
    text, pages = pdfs[name]
    assert 1 <= pages <= 2
    for value in (
        "2026/000123",
        "1 de julio de 2026",
        "Ana Pérez & Cía",
        "Luis Gómez <Dirección>",
        "Plano <A3>",
        "Licencia de obras en C/ Mayor 3 & 5",
        "aportó los planos <revisados>",
        "Fianza",
        "María López",
    ):
        assert _flat(value) in _flat(text), value
