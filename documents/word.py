"""A :class:`~documents.content.Document` as a Word file (python-docx): A4, Times New Roman, the
tables with a grid, and a problem issue with several measures spanning its rows (its number and
title cells merged down), as in the published report."""

from __future__ import annotations

import io

from docx import Document as new_docx
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph as WordParagraph

from documents.content import Document, Paragraph, Table

FONT = "Times New Roman"  # carries the Kazakh letters on every system Word runs on
SIZE = Pt(12)
TABLE_SIZE = Pt(10)
MARGIN = Cm(2)


def to_docx(document: Document) -> bytes:
    word = new_docx()
    section = word.sections[0]
    width, height = Cm(21), Cm(29.7)  # A4
    if document.landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        width, height = height, width
    section.page_width, section.page_height = width, height
    section.left_margin = section.right_margin = MARGIN
    section.top_margin = section.bottom_margin = Cm(1.5)
    style = word.styles["Normal"]
    style.font.name = FONT
    style.font.size = SIZE
    style.paragraph_format.space_after = Pt(4)

    for text, size in ((document.title, Pt(14)), (document.subtitle, SIZE)):
        paragraph = word.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = paragraph.add_run(text)
        run.bold = True
        run.font.size = size
    usable = width - 2 * MARGIN
    for block in document.blocks:
        if isinstance(block, Paragraph):
            paragraph = word.add_paragraph()
            if block.centred:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            else:  # a link would be stretched across the line
                link = "://" in block.text
                paragraph.alignment = (
                    WD_ALIGN_PARAGRAPH.LEFT if link else WD_ALIGN_PARAGRAPH.JUSTIFY
                )
                paragraph.paragraph_format.first_line_indent = Cm(1.25)
            if block.heading:
                paragraph.paragraph_format.keep_with_next = True
                paragraph.paragraph_format.space_before = Pt(10)
            paragraph.add_run(block.text).bold = block.bold
        else:
            _add_table(word.add_table(rows=0, cols=len(block.headers)), block, usable)
    buffer = io.BytesIO()
    word.save(buffer)
    return buffer.getvalue()


def _add_table(table: DocxTable, block: Table, usable: int) -> None:
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    total = sum(block.widths)
    widths = [int(usable * w / total) for w in block.widths]
    header = table.add_row()
    for index, text in enumerate(block.headers):
        _fill(header.cells[index].paragraphs[0], text, bold=True, centred=True)
    first_row = len(table.rows)
    for row in block.rows:
        cells = table.add_row().cells
        for index, cell in enumerate(row):
            if cell is not None:
                _fill(cells[index].paragraphs[0], cell.text, bold=cell.bold)
    for offset, row in enumerate(block.rows):
        for index, cell in enumerate(row):
            if cell is not None and cell.rowspan > 1:
                top = table.cell(first_row + offset, index)
                top.merge(table.cell(first_row + offset + cell.rowspan - 1, index))
    for row_ in table.rows:
        for index, cell_ in enumerate(row_.cells):
            cell_.width = widths[index]


def _fill(
    paragraph: WordParagraph, text: str, *, bold: bool = False, centred: bool = False
) -> None:
    if centred:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.space_after = Pt(0)
    lines = text.split("\n")
    run = paragraph.add_run(lines[0])
    run.bold = bold
    run.font.size = TABLE_SIZE
    for line in lines[1:]:
        run.add_break()
        run = paragraph.add_run(line)
        run.bold = bold
        run.font.size = TABLE_SIZE
