"""python-docx's view of a DOCX, for the Rust tests (tests/docx.rs, tests/foreign.rs).

  python3 read_docx.py read FILE.docx   prints JSON: section layout, headers, styles, paragraphs
  python3 read_docx.py make FILE.docx   writes a manuscript the way another program would
"""
import json
import sys

import docx
from docx.shared import Pt


def length(value):
    return None if value is None else int(value)


def read(path):
    doc = docx.Document(path)
    section = doc.sections[0]
    body = doc.styles["Body Text"]
    paragraphs = []
    for p in doc.paragraphs:
        paragraphs.append({
            "style": p.style.name if p.style is not None else None,
            "text": p.text,
            "page_break_before": bool(p.paragraph_format.page_break_before),
            "alignment": None if p.alignment is None else int(p.alignment),
            "style_alignment": None if p.style is None or p.style.paragraph_format.alignment is None else int(p.style.paragraph_format.alignment),
        })
    out = {
        "page_width": length(section.page_width),
        "page_height": length(section.page_height),
        "margins": [length(section.top_margin), length(section.bottom_margin), length(section.left_margin), length(section.right_margin)],
        "different_first_page": bool(section.different_first_page_header_footer),
        "header_text": "".join(p.text for p in section.header.paragraphs),
        "header_alignment": [None if p.alignment is None else int(p.alignment) for p in section.header.paragraphs],
        "header_has_page_field": "PAGE" in section.header._element.xml and "fldChar" in section.header._element.xml,
        "first_header_text": "".join(p.text for p in section.first_page_header.paragraphs),
        "body_style": {
            "font": body.font.name,
            "size_pt": body.font.size.pt if body.font.size is not None else None,
            "line_spacing": body.paragraph_format.line_spacing,
            "first_line_indent": length(body.paragraph_format.first_line_indent),
        },
        "paragraphs": paragraphs,
    }
    print(json.dumps(out))


def make(path):
    doc = docx.Document()
    doc.add_heading("The Borrowed Book", 0)
    doc.add_paragraph("by Someone Else")
    doc.add_heading("Chapter One", level=1)
    doc.add_paragraph("The first paragraph of the first chapter.")
    doc.add_paragraph("A second paragraph & more.")
    doc.add_paragraph("* * *")
    doc.add_paragraph("After the break.")
    doc.add_heading("Chapter Two", level=1)
    run = doc.add_paragraph().add_run("Bold words")
    run.bold = True
    run.font.size = Pt(14)
    doc.add_paragraph("***")
    doc.add_paragraph("The end of it.")
    doc.save(path)


if __name__ == "__main__":
    {"read": read, "make": make}[sys.argv[1]](sys.argv[2])
