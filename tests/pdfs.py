"""Small PDFs made on the fly for service tests (the parser's layout corpus is elsewhere)."""

from __future__ import annotations

import io

from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

ROWS = [
    ('Hemoglobin', '11.2', 'g/dL', '13.0 - 17.0'),
    ('Platelet Count', '250', '10^3/uL', '150 - 410'),
    ('Glucose Fasting', '92', 'mg/dL', '70 - 100'),
    ('Creatinine', '0.9', 'mg/dL', '0.7 - 1.3'),
]


def simple_report(rows: list[tuple[str, str, str, str]] | None = None, pages: int = 1) -> bytes:
    """A plain one-table lab report: name, result, unit, reference range."""
    pdf = FPDF()
    pdf.set_font('Helvetica', size=11)
    for page in range(pages):
        pdf.add_page()
        pdf.cell(0, 8, 'City Lab - Test Report', new_x='LMARGIN', new_y='NEXT')
        pdf.cell(0, 8, 'Age: 45 Years   Sex: Female   Collected: 02/03/2024', new_x='LMARGIN', new_y='NEXT')
        pdf.cell(0, 8, f'COMPLETE BLOOD COUNT (page {page + 1})', new_x='LMARGIN', new_y='NEXT')
        for name, value, unit, ref in rows or ROWS:
            pdf.cell(70, 7, name)
            pdf.cell(30, 7, value)
            pdf.cell(30, 7, unit)
            pdf.cell(0, 7, ref, new_x='LMARGIN', new_y='NEXT')
    return bytes(pdf.output())


def not_a_lab_report() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font('Helvetica', size=12)
    pdf.multi_cell(0, 8, 'Minutes of the garden committee. We agreed to plant more tulips next spring.')
    return bytes(pdf.output())


def image_only() -> bytes:
    """A 'scanned' page: drawings only, no text layer."""
    pdf = FPDF()
    pdf.add_page()
    for i in range(20):
        pdf.rect(10 + i * 5, 10 + i * 5, 50, 10, style='F')
    return bytes(pdf.output())


def encrypted(user_password: str = 'secret') -> bytes:
    reader = PdfReader(io.BytesIO(simple_report()))
    writer = PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    writer.encrypt(user_password=user_password, owner_password='owner', algorithm='AES-128')
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def truncated() -> bytes:
    data = simple_report()
    return data[: len(data) // 3]
