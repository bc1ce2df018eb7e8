//! DOCX export in standard manuscript format: US Letter, 1-inch margins, 12 pt Courier New (or Times
//! New Roman), double-spaced, half-inch first-line indents; a title page (author top left, "about N
//! words" top right, title and byline halfway down) with no running header; on every later page a
//! right-aligned `Surname / TITLE / page` header; every chapter (and part) on a new page under a centred
//! heading; `#` between scenes; THE END at the close.
//!
//! Chapters are Heading 1, or Heading 2 under Heading 1 parts when the book has parts, so Word's
//! navigation pane and `import::docx` both see the structure. The title page and THE END carry
//! `Atelier…` styles, which tell the importer they are not prose. An untitled chapter has no heading
//! (its first paragraph opens the page), so on import it joins the chapter before it, and an untitled
//! chapter under a part reads back as a chapter titled with the part's name.

use std::io::Cursor;

use docx_rs::{
    AlignmentType, Docx, Header, LineSpacing, LineSpacingType, PageMargin, PageNum, Paragraph, Run, RunFonts,
    SpecialIndentType, Style, StyleType, Tab, TabValueType,
};

use crate::error::{ManuscriptError, Result};
use crate::model::{approximate_word_count, one_line, paragraphs, ExportOptions, Format, Manuscript};
use crate::xml::xml_chars;

pub(crate) const BODY_STYLE: &str = "BodyText";
pub(crate) const BREAK_STYLE: &str = "AtelierSceneBreak";
pub(crate) const CONTACT_STYLE: &str = "AtelierContact";
pub(crate) const BYLINE_STYLE: &str = "AtelierByline";
pub(crate) const END_STYLE: &str = "AtelierEnd";

const INCH: i32 = 1440; // twips
const PAGE_WIDTH: u32 = 12_240; // US Letter, 8.5 × 11 inches
const PAGE_HEIGHT: u32 = 15_840;
const TEXT_WIDTH: usize = PAGE_WIDTH as usize - 2 * INCH as usize;
const DOUBLE: i32 = 480; // "auto" line spacing is in 240ths of a line

pub(crate) fn export(m: &Manuscript, options: &ExportOptions) -> Result<Vec<u8>> {
    let family = options.font.family();
    let fonts = || RunFonts::new().ascii(family).hi_ansi(family).cs(family).east_asia(family);
    let spacing = |line: i32| LineSpacing::new().line(line).line_rule(LineSpacingType::Auto).before(0).after(0);
    let style = |id: &str, name: &str| Style::new(id, StyleType::Paragraph).name(name).based_on("Normal").fonts(fonts()).size(24);
    let centred = |id: &str, name: &str| style(id, name).align(AlignmentType::Center).line_spacing(spacing(DOUBLE)).indent(Some(0), None, None, None);

    let has_parts = m.chapters.iter().any(|c| c.part.is_some());
    let chapter_style = if has_parts { "Heading2" } else { "Heading1" };

    let mut docx = Docx::new()
        .page_size(PAGE_WIDTH, PAGE_HEIGHT)
        .page_margin(PageMargin::new().top(INCH).bottom(INCH).left(INCH).right(INCH).header(INCH / 2).footer(INCH / 2).gutter(0))
        .default_fonts(fonts())
        .default_size(24)
        .add_style(
            style(BODY_STYLE, "Body Text")
                .line_spacing(spacing(DOUBLE))
                .indent(Some(0), Some(SpecialIndentType::FirstLine(INCH / 2)), None, None),
        )
        .add_style(centred("Heading1", "heading 1").outline_lvl(0))
        .add_style(centred("Heading2", "heading 2").outline_lvl(1))
        .add_style(centred("Title", "Title"))
        .add_style(centred(BYLINE_STYLE, "Atelier Byline"))
        .add_style(centred(BREAK_STYLE, "Atelier Scene Break"))
        .add_style(centred(END_STYLE, "Atelier The End"))
        .add_style(style(CONTACT_STYLE, "Atelier Contact").line_spacing(spacing(240)).indent(Some(0), None, None, None))
        .header(Header::new().add_paragraph(running_header(m)))
        // The title page: a first-page header of its own, empty.
        .first_header(Header::new().add_paragraph(Paragraph::new()));

    // Title page.
    let author = one_line(&m.author);
    let estimate = format!("about {} words", thousands(approximate_word_count(m.words())));
    docx = docx
        .add_paragraph(
            Paragraph::new()
                .style(CONTACT_STYLE)
                .add_tab(Tab::new().val(TabValueType::Right).pos(TEXT_WIDTH))
                .add_run(Run::new().add_text(xml_chars(&author)))
                .add_run(Run::new().add_tab().add_text(estimate)),
        )
        // About halfway down the page: 4.5 inches of the 9 inside the margins, less the line above.
        .add_paragraph(Paragraph::new().style("Title").line_spacing(LineSpacing::new().before(6_000)).add_run(Run::new().add_text(xml_chars(&one_line(&m.title)))));
    if !author.is_empty() {
        docx = docx.add_paragraph(Paragraph::new().style(BYLINE_STYLE).add_run(Run::new().add_text(format!("by {}", xml_chars(&author)))));
    }

    for chapter in &m.chapters {
        // Each chapter opens a page; so does a part, and its first chapter then opens the next one.
        if let Some(part) = &chapter.part {
            docx = docx.add_paragraph(heading("Heading1", part));
        }
        let mut page_break = true;
        if !chapter.title.is_empty() {
            docx = docx.add_paragraph(heading(chapter_style, &chapter.title));
            page_break = false;
        }
        for (n, scene) in chapter.scenes.iter().enumerate() {
            if n > 0 {
                docx = docx.add_paragraph(Paragraph::new().style(BREAK_STYLE).add_run(Run::new().add_text("#")));
            }
            for text in paragraphs(&scene.text) {
                let mut paragraph = Paragraph::new().style(BODY_STYLE).add_run(Run::new().add_text(xml_chars(text)));
                if std::mem::take(&mut page_break) {
                    paragraph = paragraph.page_break_before(true);
                }
                docx = docx.add_paragraph(paragraph);
            }
        }
    }
    docx = docx.add_paragraph(Paragraph::new().style(END_STYLE).add_run(Run::new().add_text("THE END")));

    let mut out = Cursor::new(Vec::new());
    docx.build().pack(&mut out).map_err(|e| ManuscriptError::Export { format: Format::Docx, reason: e.to_string() })?;
    Ok(out.into_inner())
}

fn heading(style: &str, title: &str) -> Paragraph {
    Paragraph::new().style(style).page_break_before(true).keep_next(true).add_run(Run::new().add_text(xml_chars(&one_line(title))))
}

/// `Surname / TITLE / ` and the PAGE field, right-aligned.
fn running_header(m: &Manuscript) -> Paragraph {
    let surname = m.author.split_whitespace().last().unwrap_or("");
    let title = one_line(&m.title).to_uppercase();
    let text: Vec<&str> = [surname, title.as_str()].into_iter().filter(|s| !s.is_empty()).collect();
    let mut text = text.join(" / ");
    if !text.is_empty() {
        text.push_str(" / ");
    }
    Paragraph::new().align(AlignmentType::Right).add_run(Run::new().add_text(xml_chars(&text))).add_page_num(PageNum::new())
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn groups_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(900), "900");
        assert_eq!(thousands(150_000), "150,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
