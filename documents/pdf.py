"""A :class:`~documents.content.Document` as a PDF (fpdf2, pure Python): the same content as the
Word file, with DejaVu Serif embedded from ``documents/fonts`` (subset to the letters used), so
Kazakh letters print on any machine without system fonts or libraries."""

from __future__ import annotations

import logging
from pathlib import Path

from fpdf import FPDF, FontFace

from documents.content import Document, Paragraph, Table

FONTS = Path(__file__).resolve().parent / "fonts"
FAMILY = "DejaVuSerif"
SIZE = 11
TABLE_SIZE = 9
MARGIN = 15  # mm
# fpdf2 subsets the embedded fonts with fontTools, which logs every step at INFO.
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)


class _Pdf(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, size=8)
        self.set_text_color(110)
        self.cell(0, 5, f"{self.footer_text}   {self.page_no()}", align="R")
        self.set_text_color(0)


def to_pdf(document: Document) -> bytes:
    pdf = _Pdf(orientation="L" if document.landscape else "P", format="A4")
    pdf.footer_text = document.footer
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(auto=True, margin=MARGIN)
    pdf.add_font(FAMILY, "", FONTS / "DejaVuSerif.ttf")
    pdf.add_font(FAMILY, "B", FONTS / "DejaVuSerif-Bold.ttf")
    pdf.set_title(document.title)
    pdf.set_creator("Kezdesu")
    pdf.add_page()

    pdf.set_font(FAMILY, "B", 14)
    pdf.multi_cell(0, 7, document.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "B", SIZE)
    pdf.multi_cell(0, 6, document.subtitle, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for block in document.blocks:
        if isinstance(block, Paragraph):
            _paragraph(pdf, block)
        else:
            _table(pdf, block)
    return bytes(pdf.output())


def _paragraph(pdf: FPDF, block: Paragraph) -> None:
    if block.heading:
        pdf.ln(3)
        if pdf.will_page_break(30):  # keep a title with what follows it
            pdf.add_page()
    pdf.set_font(FAMILY, "B" if block.bold else "", SIZE)
    pdf.multi_cell(
        0,
        5.5,
        block.text,
        align="C" if block.centred else ("L" if "://" in block.text else "J"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(1.5)


def _table(pdf: FPDF, block: Table) -> None:
    pdf.set_font(FAMILY, "", TABLE_SIZE)
    bold = FontFace(emphasis="BOLD")
    with pdf.table(
        col_widths=block.widths,
        text_align="LEFT",
        v_align="TOP",
        line_height=4.2,
        padding=1.2,
        headings_style=FontFace(emphasis="BOLD", fill_color=235),
        repeat_headings=1,
    ) as table:
        header = table.row()
        for text in block.headers:
            header.cell(text, align="C")
        for cells in block.rows:
            row = table.row()
            for cell in cells:
                if cell is None:
                    continue  # covered by the cell above that spans it
                row.cell(cell.text, rowspan=cell.rowspan, style=bold if cell.bold else None)
    pdf.ln(3)
