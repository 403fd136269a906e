"""Helpers for the tests that read produced Word files back and open them with LibreOffice."""

from __future__ import annotations

import io
import zipfile

import docx
import pypdf
import pytest
from lxml import etree
from pypdf import PdfReader

from docstore.directives import pdf

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W}


def read_docx(data: bytes) -> docx.document.Document:
    """Return the python-docx document of `data`."""
    return docx.Document(io.BytesIO(data))


def part_xml(data: bytes, name: str = "word/document.xml") -> etree._Element:
    """Return the parsed XML of one part of the package `data`."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return etree.fromstring(archive.read(name))


def pdf_of(data: bytes) -> tuple[str, int]:
    """Return the text and the page count of `data` converted to PDF by LibreOffice (which the tests require)."""
    if pdf.office_binary() is None:  # `make test` installs it; never skip silently
        pytest.fail("LibreOffice (soffice) is not installed: run `make office`")
    reader = PdfReader(io.BytesIO(pdf.convert_to_pdf(data)))
    return "\n".join(page.extract_text() or "" for page in reader.pages), len(reader.pages)


def pdf_reader_of(data: bytes) -> PdfReader:
    """Return the PDF that LibreOffice makes of `data`, opened, to look at its pages one by one."""
    if pdf.office_binary() is None:  # `make test` installs it; never skip silently
        pytest.fail("LibreOffice (soffice) is not installed: run `make office`")
    return PdfReader(io.BytesIO(pdf.convert_to_pdf(data)))


def placed_text(page: pypdf.PageObject) -> list[tuple[str, float, float, float]]:
    """Return the pieces of text of a PDF page as (text, x, y, size): points from the page's bottom left corner."""
    pieces: list[tuple[str, float, float, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            pieces.append((text, x, y, size * abs(tm[3] * cm[3]) if tm[3] and cm[3] else size))

    page.extract_text(visitor_text=visit)
    return pieces


def placed_lines(page: pypdf.PageObject) -> list[tuple[float, str]]:
    """Return the lines of text of a PDF page as (y, text), top down; y in points from the bottom of the page."""
    rows: dict[int, list[tuple[float, str]]] = {}
    for text, x, y, _ in placed_text(page):
        rows.setdefault(round(y), []).append((x, text))
    return [(y, "".join(text for _, text in sorted(row))) for y, row in sorted(rows.items(), reverse=True)]
