//! EPUB 3 export (epub-builder, its in-process zip writer): a title page, an inline table of contents,
//! one XHTML file per part and per chapter, `* * *` between scenes, a small stylesheet, language `en`,
//! and an identifier derived from title and author (the same book keeps its identity across exports).
//! Every piece of text is XML-escaped here; epub-builder escapes the metadata it writes.

use std::io::{Cursor, Read, Write};

use epub_builder::{EpubBuilder, EpubContent, EpubVersion, ReferenceType, ZipLibrary};
use zip::write::SimpleFileOptions;

use crate::error::{ManuscriptError, Result};
use crate::model::{one_line, paragraphs, Format, Manuscript};
use crate::xml::{escape, xml_chars};

const STYLESHEET: &str = "body { font-family: serif; line-height: 1.4; margin: 0 5%; }
h1, h2 { text-align: center; font-weight: normal; margin: 3em 0 1.5em; page-break-before: always; }
h1.part { font-size: 1.8em; margin-top: 30%; }
p { margin: 0; text-indent: 1.5em; text-align: justify; }
h1 + p, h2 + p, p.break + p { text-indent: 0; }
p.break { text-indent: 0; text-align: center; margin: 1em 0; }
.title-page { text-align: center; margin-top: 30%; }
.title-page h1 { font-size: 2em; page-break-before: avoid; }
.title-page p { text-align: center; text-indent: 0; }
";

/// A fixed namespace for the v5 identifiers (a v4 UUID generated once for Atelier).
const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x5b2e_6f0a_9c1d_4e7b_8a3f_2d6c_1b0e_9f47);

fn err(e: epub_builder::Error) -> ManuscriptError {
    ManuscriptError::Export { format: Format::Epub, reason: e.to_string() }
}

/// epub-builder 0.8's EPUB 3 template gives `dc:language` and `dc:creator` the same id
/// (`epub-creator-0`), which epubcheck rejects, and its `Zip` trait is private; so the finished
/// package is copied entry by entry (compressed data as is, `mimetype` still first and stored) with
/// the language's id renamed in content.opf.
fn fix_package(epub: &[u8]) -> zip::result::ZipResult<Vec<u8>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(epub))?;
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::with_capacity(epub.len() + 64)));
    for i in 0..archive.len() {
        if archive.by_index_raw(i)?.name() == "OEBPS/content.opf" {
            let mut opf = String::new();
            archive.by_index(i)?.read_to_string(&mut opf)?;
            let opf = opf.replace("<dc:language id=\"epub-creator-", "<dc:language id=\"epub-language-");
            out.start_file("OEBPS/content.opf", SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated))?;
            out.write_all(opf.as_bytes())?;
        } else {
            out.raw_copy_file(archive.by_index_raw(i)?)?;
        }
    }
    Ok(out.finish()?.into_inner())
}

pub(crate) fn export(m: &Manuscript) -> Result<Vec<u8>> {
    let title = one_line(&xml_chars(&m.title));
    let author = one_line(&xml_chars(&m.author));
    let book_title = if title.is_empty() { "Untitled".to_string() } else { title.clone() };

    let mut builder = EpubBuilder::new(ZipLibrary::new().map_err(err)?).map_err(err)?;
    builder.epub_version(EpubVersion::V30);
    builder.set_title(book_title.clone());
    if !author.is_empty() {
        builder.add_author(author.clone());
    }
    builder.add_language("en");
    builder.set_generator("Atelier");
    builder.set_toc_name("Contents");
    builder.set_uuid(uuid::Uuid::new_v5(&NAMESPACE, format!("{title}\u{0}{author}").as_bytes()));
    builder.stylesheet(STYLESHEET.as_bytes()).map_err(err)?;

    let mut title_page = format!("<section class=\"title-page\" epub:type=\"titlepage\">\n<h1>{}</h1>\n", escape(&book_title));
    if !author.is_empty() {
        title_page.push_str(&format!("<p>by {}</p>\n", escape(&author)));
    }
    title_page.push_str("</section>\n");
    builder
        .add_content(
            EpubContent::new("title.xhtml", page(&book_title, &title_page).as_bytes())
                .title("Title Page")
                .reftype(ReferenceType::TitlePage),
        )
        .map_err(err)?;
    builder.inline_toc();

    let mut in_part = false;
    for (index, chapter) in m.chapters.iter().enumerate() {
        let n = index + 1;
        if let Some(part) = &chapter.part {
            let part = one_line(&xml_chars(part));
            let body = format!("<section epub:type=\"part\">\n<h1 class=\"part\">{}</h1>\n</section>\n", escape(&part));
            builder
                .add_content(EpubContent::new(format!("part_{n:04}.xhtml"), page(&part, &body).as_bytes()).title(part.clone()).level(1))
                .map_err(err)?;
            in_part = true;
        }
        let chapter_title = one_line(&xml_chars(&chapter.title));
        let mut body = String::with_capacity(chapter.scenes.iter().map(|s| s.text.len() + 64).sum::<usize>() + 128);
        body.push_str("<section epub:type=\"chapter\">\n");
        if !chapter_title.is_empty() {
            body.push_str(&format!("<h2>{}</h2>\n", escape(&chapter_title)));
        }
        for (s, scene) in chapter.scenes.iter().enumerate() {
            if s > 0 {
                body.push_str("<p class=\"break\">* * *</p>\n");
            }
            for paragraph in paragraphs(&scene.text) {
                body.push_str("<p>");
                body.push_str(&escape(paragraph));
                body.push_str("</p>\n");
            }
        }
        body.push_str("</section>\n");
        let page_title = if chapter_title.is_empty() { &book_title } else { &chapter_title };
        // An untitled chapter is in the spine but not in the contents (there is nothing to list).
        let xhtml = page(page_title, &body);
        let mut content = EpubContent::new(format!("chapter_{n:04}.xhtml"), xhtml.as_bytes()).title(chapter_title).level(if in_part { 2 } else { 1 });
        if index == 0 {
            // The landmark where reading starts.
            content = content.reftype(ReferenceType::Text);
        }
        builder.add_content(content).map_err(err)?;
    }

    let mut out = Vec::new();
    builder.generate(&mut out).map_err(err)?;
    fix_package(&out).map_err(|e| ManuscriptError::Export { format: Format::Epub, reason: e.to_string() })
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" xmlns:epub=\"http://www.idpf.org/2007/ops\" xml:lang=\"en\" lang=\"en\">\n<head>\n<meta charset=\"UTF-8\"/>\n<title>{}</title>\n<link rel=\"stylesheet\" type=\"text/css\" href=\"stylesheet.css\"/>\n</head>\n<body>\n{body}</body>\n</html>\n",
        escape(title)
    )
}
