"""The Spanish directives in Word: page and fonts, the oficio's reference block and addressees, the resolución's
sections and appeals footer, the instrucción and the comunicación interior; read back from the produced .docx and
opened with LibreOffice."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH

from docstore.directives import wordes
from docstore.directives.content import Block, Content, parse_body
from docstore.directives.kinds import DEFAULT_APPEAL
from tests.word_support import NS, W, part_xml, pdf_of, read_docx

MARK = (
    "GOBIERNO DE ESPAÑA\nMINISTERIO PARA LA TRANSFORMACIÓN DIGITAL Y DE LA FUNCIÓN PÚBLICA\n"
    "Secretaría General de Administración Digital"
)
BODY = """En relación con su escrito de 12 de junio, le comunico que se adoptarán las medidas siguientes:

- Remitir antes del 15 de julio el inventario de expedientes abiertos.
- Designar un responsable de la coordinación con el Registro Electrónico General.

| Unidad | Expedientes | Plazo |
| Registro | 120 | 15 de julio |
| Archivo | 45 | 30 de julio |

Lo que se comunica para su conocimiento y efectos oportunos."""
TWIPS_PER_CM = 1440 / 2.54


def directive(layout: str = "oficio", **changes) -> Content:
    """Return a complete directive of `layout`, with `changes`."""
    content = Content(
        kind=layout,
        language="es",
        issuer="Secretaría General de Administración Digital",
        title="Inventario de expedientes",
        body=parse_body(BODY, "es"),
        issuer_mark=MARK,
        number="SGAD/2026/000123",
        main_recipients=("Sr. Subdirector General de Archivos", "Sra. Jefa del Área de Registro"),
        copy_recipients=("Gabinete del Secretario General",),
        urgency="Urgente",
        signer="Ana García López",
        signer_title="La Secretaria General",
        signed_on=date(2026, 7, 1),
        place="Madrid",
        their_reference="SGA/45/2026",
        subject="Inventario de expedientes abiertos",
        address="C/ Manuel Cortina, 2 - 28010 MADRID\nsgad@digital.gob.es",
    )
    if layout == "resolucion":
        content = replace(
            content,
            title="por la que se aprueba el calendario de conservación de los expedientes de registro",
            body=parse_body("Visto el expediente, y de acuerdo con los siguientes", "es"),
            extra={
                "background": parse_body(
                    "La Subdirección General de Archivos propuso el calendario el 3 de marzo de 2026.\n\n"
                    "La Comisión Superior Calificadora lo informó favorablemente el 20 de mayo de 2026.",
                    "es",
                ),
                "grounds": parse_body("La Secretaría General es competente según el Real Decreto 1708/2011.", "es"),
                "resolved": parse_body(
                    "- Aprobar el calendario de conservación que figura como anexo.\n"
                    "- Ordenar su publicación en la sede electrónica.",
                    "es",
                ),
                "appeal": parse_body(DEFAULT_APPEAL, "es"),
            },
        )
    elif layout == "instruccion":
        content = replace(
            content,
            number="3/2026",
            title="sobre la tramitación de los asientos de registro",
            body=parse_body(
                "La entrada en funcionamiento del nuevo registro exige unificar criterios.\n\n"
                "- Los asientos se practicarán en el día de la presentación.\n"
                "- Los documentos en papel se digitalizarán antes de su remisión.",
                "es",
            ),
        )
    elif layout == "comunicacion":
        content = replace(content, issuer="Subdirección General de Archivos", urgency="", number="")
    return replace(content, **changes)


def paragraphs(data: bytes) -> list[tuple[str, str]]:
    """Return the style name and the text of each paragraph of the body (not those in tables), in order."""
    return [(paragraph.style.name, paragraph.text) for paragraph in read_docx(data).paragraphs]


def texts(data: bytes) -> list[str]:
    return [text for _, text in paragraphs(data)]


def all_text(data: bytes) -> str:
    """Return every piece of text of the body, header and footer, line breaks included."""
    pieces = []
    for name in ("word/document.xml", *_header_footer_parts(data)):
        for paragraph in part_xml(data, name).iter(f"{{{W}}}p"):
            pieces.append(
                "".join(
                    "\n" if node.tag == f"{{{W}}}br" else node.text or ""
                    for node in paragraph.iter(f"{{{W}}}t", f"{{{W}}}br")
                )
            )
    return "\n".join(pieces)


def _header_footer_parts(data: bytes) -> list[str]:
    document = read_docx(data)
    return [
        rel.target_part.partname.lstrip("/")
        for rel in document.part.rels.values()
        if rel.reltype.endswith(("/header", "/footer"))
    ]


def reference_rows(data: bytes, index: int = 0) -> list[tuple[str, str]]:
    table = read_docx(data).tables[index]
    return [tuple(cell.text for cell in row.cells) for row in table.rows]


def assert_in_order(text: str, pieces: list[str]) -> None:
    at = -1
    for piece in pieces:
        found = text.find(piece, at + 1)
        assert found > at, f"{piece!r} missing or out of order"
        at = found


# --- the page -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", wordes.LAYOUTS)
def test_every_layout_is_a4_with_margins_of_2_5_cm_and_3_cm_on_the_left(layout):
    section = part_xml(wordes.render(directive(layout), layout)).find("w:body/w:sectPr", NS)
    size, margins = section.find("w:pgSz", NS), section.find("w:pgMar", NS)
    assert (size.get(f"{{{W}}}w"), size.get(f"{{{W}}}h")) == ("11906", "16838")
    in_cm = {
        side: round(int(margins.get(f"{{{W}}}{side}")) / TWIPS_PER_CM, 2) for side in ("top", "bottom", "left", "right")
    }
    assert in_cm == {"top": 2.5, "bottom": 2.5, "left": 3.0, "right": 2.5}


def test_text_is_arial_11_pt_justified_in_spanish_with_no_theme_font_left():
    data = wordes.render(directive(), "oficio")
    styles = part_xml(data, "word/styles.xml")
    defaults = styles.find("w:docDefaults/w:rPrDefault/w:rPr", NS)
    fonts = defaults.find("w:rFonts", NS)
    assert fonts.get(f"{{{W}}}ascii") == fonts.get(f"{{{W}}}hAnsi") == "Arial"
    assert not [name for name in fonts.attrib if name.endswith("Theme") or name.endswith("theme")]
    assert defaults.find("w:lang", NS).get(f"{{{W}}}val") == "es-ES"
    normal = read_docx(data).styles["Normal"]
    assert normal.font.size.pt == 11
    assert normal.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.JUSTIFY
    body = [paragraph for paragraph in read_docx(data).paragraphs if paragraph.text.startswith("En relación")]
    assert body[0].style.name == "Normal"


def test_footer_has_the_address_and_page_x_of_y_in_small_type():
    data = wordes.render(directive(), "oficio")
    (footer_name,) = [name for name in _header_footer_parts(data) if "footer" in name]
    footer = part_xml(data, footer_name)
    fields = [field.get(f"{{{W}}}instr").strip() for field in footer.iter(f"{{{W}}}fldSimple")]
    assert fields == ["PAGE", "NUMPAGES"]
    text = "".join(footer.itertext())
    assert "C/ Manuel Cortina, 2 - 28010 MADRID" in text and "sgad@digital.gob.es" in text
    assert re.search(r"Página \d+ de \d+", text)
    assert read_docx(data).styles["Pie"].font.size.pt == 8


def test_footer_keeps_an_empty_address_paragraph_when_there_is_no_address():
    data = wordes.render(directive(address=""), "oficio")
    footer = read_docx(data).sections[0].footer
    assert [paragraph.style.name for paragraph in footer.paragraphs] == ["Pie", "Pie"]
    assert footer.paragraphs[0].text == ""


# --- oficio ---------------------------------------------------------------------------------------------------


def test_oficio_opens_with_the_letterhead_lines_capitals_in_bold():
    lines = paragraphs(wordes.render(directive(), "oficio"))[:3]
    assert lines == [("Membrete", line) for line in MARK.split("\n")]
    document = read_docx(wordes.render(directive(), "oficio"))
    assert [paragraph.runs[0].bold for paragraph in document.paragraphs[:3]] == [True, True, None]


def test_oficio_reference_block_holds_their_reference_our_number_the_date_and_the_subject():
    data = wordes.render(directive(), "oficio")
    assert reference_rows(data) == [
        ("S/REF.:", "SGA/45/2026"),
        ("N/REF.:", "SGAD/2026/000123"),
        ("FECHA:", "1 de julio de 2026"),
        ("ASUNTO:", "Inventario de expedientes abiertos"),
    ]
    table = part_xml(data).find("w:body/w:tbl", NS)
    assert table.find("w:tblPr/w:tblBorders", NS) is None and table.find("w:tblPr/w:tblStyle", NS) is None


def test_oficio_subject_defaults_to_the_title():
    data = wordes.render(directive(subject=""), "oficio")
    assert reference_rows(data)[3] == ("ASUNTO:", "Inventario de expedientes")


def test_oficio_has_no_salutation_and_prints_point_numbers_and_tables():
    data = wordes.render(directive(), "oficio")
    lines = paragraphs(data)
    first_text = next(text for style, text in lines if style == "Normal" and text)
    assert first_text.startswith("En relación con su escrito")
    assert ("Punto", "1.\tRemitir antes del 15 de julio el inventario de expedientes abiertos.") in lines
    assert ("Punto", "2.\tDesignar un responsable de la coordinación con el Registro Electrónico General.") in lines
    assert reference_rows(data, 1) == [
        ("Unidad", "Expedientes", "Plazo"),
        ("Registro", "120", "15 de julio"),
        ("Archivo", "45", "30 de julio"),
    ]


def test_oficio_dates_read_like_1_de_julio_de_2026_in_the_block_and_the_date_line():
    data = wordes.render(directive(signed_on=date(2026, 7, 1)), "oficio")
    assert ("Firma", "Madrid, 1 de julio de 2026") in paragraphs(data)
    assert "01" not in reference_rows(data)[2][1]


def test_oficio_ends_with_antefirma_signature_then_addressees_in_capitals_then_copies():
    lines = paragraphs(wordes.render(directive(), "oficio"))
    assert lines[-6:] == [
        ("Firma", "Madrid, 1 de julio de 2026"),
        ("Firma", "LA SECRETARIA GENERAL"),
        ("Firma", "Ana García López"),
        ("Destinatario", "SR. SUBDIRECTOR GENERAL DE ARCHIVOS"),
        ("Destinatario", "SRA. JEFA DEL ÁREA DE REGISTRO"),
        ("Destinatario", "c.c.: Gabinete del Secretario General"),
    ]
    name = read_docx(wordes.render(directive(), "oficio")).paragraphs[-4]
    assert name.paragraph_format.space_before.pt >= 48  # room to sign


def test_urgency_is_marked_at_the_top_and_classification_on_every_page_header():
    data = wordes.render(directive(urgency="urgente", classification="Reservado"), "oficio")
    assert paragraphs(data)[3] == ("Marca", "URGENTE")
    header = read_docx(data).sections[0].header
    assert [paragraph.text for paragraph in header.paragraphs] == ["RESERVADO"]
    plain = wordes.render(directive(urgency="", classification=""), "oficio")
    assert "Marca" not in [style for style, _ in paragraphs(plain)]
    assert not [name for name in _header_footer_parts(plain) if "header" in name]


def test_a_draft_without_number_or_date_renders_with_blank_cells():
    data = wordes.render(directive(number="", signed_on=None), "oficio")
    rows = reference_rows(data)
    assert rows[1] == ("N/REF.:", "") and rows[2] == ("FECHA:", "")
    assert ("Firma", "Madrid") in paragraphs(data)
    for layout in wordes.LAYOUTS:
        assert wordes.render(directive(layout, number="", signed_on=None), layout)


# --- resolución -----------------------------------------------------------------------------------------------


def test_resolucion_heading_is_centred_bold_and_names_the_type():
    data = wordes.render(directive("resolucion"), "resolucion")
    heading = [paragraph for paragraph in read_docx(data).paragraphs if paragraph.style.name == "Título del documento"]
    assert [paragraph.text for paragraph in heading] == [
        "RESOLUCIÓN POR LA QUE SE APRUEBA EL CALENDARIO DE CONSERVACIÓN DE LOS EXPEDIENTES DE REGISTRO"
    ]
    style = heading[0].style
    assert style.font.bold and style.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER


def test_resolucion_sections_follow_the_preamble_in_order_with_ordinals():
    lines = texts(wordes.render(directive("resolucion"), "resolucion"))
    start = lines.index("Visto el expediente, y de acuerdo con los siguientes")
    assert lines[start + 1 :][:9] == [
        "ANTECEDENTES DE HECHO",
        "PRIMERO. La Subdirección General de Archivos propuso el calendario el 3 de marzo de 2026.",
        "SEGUNDO. La Comisión Superior Calificadora lo informó favorablemente el 20 de mayo de 2026.",
        "FUNDAMENTOS DE DERECHO",
        "ÚNICO. La Secretaría General es competente según el Real Decreto 1708/2011.",
        "RESUELVO",
        "PRIMERO. Aprobar el calendario de conservación que figura como anexo.",
        "SEGUNDO. Ordenar su publicación en la sede electrónica.",
        DEFAULT_APPEAL,
    ]
    styles = {text: style for style, text in paragraphs(wordes.render(directive("resolucion"), "resolucion"))}
    assert styles["RESUELVO"] == "Sección" and styles[DEFAULT_APPEAL] == "Recursos"


def test_resolucion_ends_with_date_antefirma_and_signature_after_the_appeal():
    lines = texts(wordes.render(directive("resolucion", main_recipients=(), copy_recipients=()), "resolucion"))
    assert lines[-4:] == [DEFAULT_APPEAL, "Madrid, 1 de julio de 2026", "LA SECRETARIA GENERAL", "Ana García López"]


def test_resolucion_keeps_ordinals_the_writer_typed_and_numbers_points_beyond_ten():
    resolved = tuple(Block("point", f"Punto {n}.", f"{n}. ") for n in range(1, 13))
    background = (Block("paragraph", "PRIMERO.- Con fecha 3 de marzo se presentó la solicitud."),)
    content = directive("resolucion")
    content = replace(content, extra={**content.extra, "resolved": resolved, "background": background})
    lines = texts(wordes.render(content, "resolucion"))
    assert "PRIMERO.- Con fecha 3 de marzo se presentó la solicitud." in lines
    assert "DÉCIMO. Punto 10." in lines and "UNDÉCIMO. Punto 11." in lines and "DUODÉCIMO. Punto 12." in lines
    bold = [
        run.text
        for paragraph in read_docx(wordes.render(content, "resolucion")).paragraphs
        for run in paragraph.runs
        if run.bold
    ]
    assert "SEGUNDO." in bold


def test_resolucion_shows_its_issuer_only_when_the_letterhead_does_not():
    lines = texts(wordes.render(directive("resolucion", issuer="Dirección General de Archivos"), "resolucion"))
    assert "DIRECCIÓN GENERAL DE ARCHIVOS" in lines
    lines = texts(wordes.render(directive("resolucion"), "resolucion"))
    assert "SECRETARÍA GENERAL DE ADMINISTRACIÓN DIGITAL" not in lines


# --- instrucción and comunicación ----------------------------------------------------------------------------


def test_instruccion_heading_carries_its_number_then_reasons_points_signature_and_recipients():
    lines = paragraphs(wordes.render(directive("instruccion"), "instruccion"))
    texts_only = [text for _, text in lines]
    assert ("Título del documento", "INSTRUCCIÓN 3/2026, SOBRE LA TRAMITACIÓN DE LOS ASIENTOS DE REGISTRO") in lines
    assert_in_order(
        "\n".join(texts_only),
        [
            "INSTRUCCIÓN 3/2026",
            "La entrada en funcionamiento del nuevo registro",
            "1.\tLos asientos se practicarán",
            "2.\tLos documentos en papel",
            "Madrid, 1 de julio de 2026",
            "LA SECRETARIA GENERAL",
            "Ana García López",
            "DESTINATARIOS:",
            "SR. SUBDIRECTOR GENERAL DE ARCHIVOS",
            "SRA. JEFA DEL ÁREA DE REGISTRO",
            "c.c.: Gabinete del Secretario General",
        ],
    )


def test_instruccion_draft_heading_has_no_number():
    lines = texts(wordes.render(directive("instruccion", number=""), "instruccion"))
    assert "INSTRUCCIÓN SOBRE LA TRAMITACIÓN DE LOS ASIENTOS DE REGISTRO" in lines


def test_comunicacion_opens_with_de_a_fecha_asunto_and_is_signed_without_a_date_line():
    data = wordes.render(directive("comunicacion"), "comunicacion")
    assert "COMUNICACIÓN INTERIOR" in texts(data)
    assert reference_rows(data) == [
        ("DE:", "Subdirección General de Archivos"),
        ("A:", "Sr. Subdirector General de Archivos\nSra. Jefa del Área de Registro"),
        ("FECHA:", "1 de julio de 2026"),
        ("ASUNTO:", "Inventario de expedientes abiertos"),
    ]
    lines = texts(data)
    assert lines[-3:] == ["LA SECRETARIA GENERAL", "Ana García López", "c.c.: Gabinete del Secretario General"]
    assert "Madrid, 1 de julio de 2026" not in lines
    with_number = wordes.render(directive("comunicacion", number="SGA/2026/7"), "comunicacion")
    assert reference_rows(with_number)[-1] == ("N/REF.:", "SGA/2026/7")


# --- every field, every layout --------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", wordes.LAYOUTS)
def test_xml_special_characters_survive_in_every_field(layout):
    odd = ' & <b> "x"'
    content = directive(
        layout,
        issuer="Secretaría" + odd,
        title="Título" + odd,
        body=(
            Block("paragraph", "Texto" + odd),
            Block("point", "Punto" + odd, "1. "),
            Block("table", rows=(("a" + odd, "b"),)),
        ),
        issuer_mark="GOBIERNO" + odd + "\nUnidad" + odd,
        number="N" + odd,
        main_recipients=("Destino" + odd,),
        copy_recipients=("Copia" + odd,),
        urgency="urgente" + odd,
        classification="reservado" + odd,
        signer="Firmante" + odd,
        signer_title="Cargo" + odd,
        place="Lugar" + odd,
        their_reference="Ref" + odd,
        subject="Asunto" + odd,
        address="Calle" + odd,
        extra={name: (Block("paragraph", name + odd),) for name in ("background", "grounds", "resolved", "appeal")},
    )
    text = all_text(wordes.render(content, layout))
    expected = [
        "GOBIERNO" + odd,
        "Unidad" + odd,
        "URGENTE" + odd.upper(),
        "RESERVADO" + odd.upper(),
        "Texto" + odd,
        "Punto" + odd,
        "a" + odd,
        "CARGO" + odd.upper(),
        "Firmante" + odd,
        "Calle" + odd,
        "Copia" + odd,
    ]
    expected += {
        "oficio": ["Ref" + odd, "N" + odd, "Asunto" + odd, "Lugar" + odd, "DESTINO" + odd.upper()],
        "resolucion": ["N" + odd, "TÍTULO" + odd.upper(), "background" + odd, "resolved" + odd, "appeal" + odd],
        "instruccion": ["INSTRUCCIÓN N" + odd.upper(), "DESTINO" + odd.upper()],
        "comunicacion": ["Secretaría" + odd, "Destino" + odd, "Asunto" + odd, "N" + odd],
    }[layout]
    for piece in expected:
        assert piece in text, piece


def test_characters_a_word_file_cannot_hold_are_dropped():
    data = wordes.render(directive(title="Inventario\x00 de\x0c expedientes", subject=""), "oficio")
    assert reference_rows(data)[3] == ("ASUNTO:", "Inventario de expedientes")


def test_the_same_content_gives_the_same_bytes_and_properties_name_it():
    first, second = (wordes.render(directive(), "oficio") for _ in range(2))
    assert first == second
    properties = read_docx(first).core_properties
    assert (properties.title, properties.identifier, properties.language) == (
        "Inventario de expedientes",
        "SGAD/2026/000123",
        "es-ES",
    )


def test_an_unknown_layout_is_refused():
    with pytest.raises(ValueError, match="gb"):
        wordes.render(directive(), "gb")


# --- LibreOffice --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pdfs() -> dict[str, tuple[str, int]]:
    """Return the PDF text and page count of each layout, converted once by LibreOffice."""
    return {layout: pdf_of(wordes.render(directive(layout), layout)) for layout in wordes.LAYOUTS}


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_libreoffice_prints_the_oficio_on_one_page_in_order(pdfs):
    text, pages = pdfs["oficio"]
    assert pages == 1
    assert_in_order(
        flat(text),
        [
            "GOBIERNO DE ESPAÑA",
            "URGENTE",
            "S/REF.:",
            "SGA/45/2026",
            "N/REF.:",
            "FECHA:",
            "1 de julio de 2026",
            "ASUNTO:",
            "En relación con su escrito",
            "Registro 120",
            "Madrid, 1 de julio de 2026",
            "LA SECRETARIA GENERAL",
            "Ana García López",
            "SR. SUBDIRECTOR GENERAL DE ARCHIVOS",
            "c.c.:",
        ],
    )
    assert "Página 1 de 1" in flat(text)


def test_libreoffice_prints_the_resolucion_sections_in_order(pdfs):
    text, pages = pdfs["resolucion"]
    assert pages in (1, 2)
    assert_in_order(
        flat(text),
        [
            "RESOLUCIÓN POR LA QUE SE APRUEBA",
            "ANTECEDENTES DE HECHO",
            "PRIMERO.",
            "SEGUNDO.",
            "FUNDAMENTOS DE DERECHO",
            "ÚNICO.",
            "RESUELVO",
            "PRIMERO. Aprobar",
            "SEGUNDO. Ordenar",
            "Contra la presente resolución",
            "Madrid, 1 de julio de 2026",
            "Ana García López",
        ],
    )
    assert f"Página {pages} de {pages}" in flat(text)


def test_libreoffice_prints_the_instruccion_and_the_comunicacion(pdfs):
    text, pages = pdfs["instruccion"]
    assert pages == 1
    assert_in_order(flat(text), ["INSTRUCCIÓN 3/2026", "Los asientos", "Ana García López", "DESTINATARIOS:"])
    text, pages = pdfs["comunicacion"]
    assert pages == 1
    assert_in_order(flat(text), ["COMUNICACIÓN INTERIOR", "DE:", "A:", "FECHA:", "ASUNTO:", "En relación", "c.c.:"])
