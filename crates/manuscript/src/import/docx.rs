//! DOCX import with `zip` and `quick-xml` (streaming, so a hostile file costs at most what it may
//! inflate to): the paragraphs of the main document and the heading levels their styles give them.
//!
//! - Title style (before any heading) → the manuscript's title; Heading N, or a paragraph outline
//!   level, → a heading; levels per [`super::heading_roles`] (Heading 1 over Heading 2 → parts over
//!   chapters; only one of them → chapters; Heading 3 and deeper → titled scenes). A `by …` paragraph
//!   right under the title gives the author.
//! - A paragraph that is only `#`, `***`, `* * *`, `⁂` (…) → a scene break.
//! - The title-page and THE END paragraphs of our own export (`Atelier…` styles) give the author and
//!   are not prose.
//! - Drawings, text boxes, field codes, deleted text and tracked formatting changes are skipped.
//! - Bounded: at most [`MAX_ENTRIES`] zip entries and [`MAX_INPUT_BYTES`] inflated in all; every
//!   failure is an error naming what is wrong with the file, never a panic.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::{heading_roles, Builder, Join, Role, MAX_INPUT_BYTES};
use crate::docx::{BYLINE_STYLE, CONTACT_STYLE, END_STYLE};
use crate::error::{ManuscriptError, Result};
use crate::model::{is_scene_break, Format, Manuscript};

pub const MAX_ENTRIES: usize = 10_000;

fn invalid(reason: impl Into<String>) -> ManuscriptError {
    ManuscriptError::Invalid { format: Format::Docx, reason: reason.into() }
}

type Archive<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

pub(crate) fn import(bytes: &[u8]) -> Result<Manuscript> {
    if bytes.is_empty() {
        return Err(invalid("the file is empty"));
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(invalid("it is an old Word .doc or a password-protected document; save it as .docx without a password"));
    }
    if !bytes.starts_with(b"PK") {
        return Err(invalid("it is not a zip archive, which every .docx is"));
    }
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| invalid(format!("the zip archive is damaged ({e})")))?;
    if archive.len() > MAX_ENTRIES {
        return Err(ManuscriptError::TooMany { what: "zip entries", limit: MAX_ENTRIES });
    }
    let mut budget = MAX_INPUT_BYTES as u64;
    let main = read_entry(&mut archive, "_rels/.rels", &mut budget)?
        .and_then(|rels| main_document(&rels))
        .unwrap_or_else(|| "word/document.xml".to_string());
    let document = read_entry(&mut archive, &main, &mut budget)?
        .ok_or_else(|| invalid(format!("it has no {main}: a zip archive, but not a Word document")))?;
    let styles_path = match main.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/styles.xml"),
        None => "styles.xml".to_string(),
    };
    let styles = match read_entry(&mut archive, &styles_path, &mut budget)? {
        Some(xml) => read_styles(&xml)?,
        None => HashMap::new(),
    };
    let paragraphs = read_paragraphs(&document)?;
    build(&paragraphs, &styles)
}

/// One zip entry, inflated within what is left of the budget; `None` when the archive has no such entry.
fn read_entry(archive: &mut Archive<'_>, name: &str, budget: &mut u64) -> Result<Option<Vec<u8>>> {
    let too_large = || ManuscriptError::TooLarge { what: format!("the document once unpacked ({name})"), limit: MAX_INPUT_BYTES as u64 };
    let mut file = match archive.by_name(name) {
        Ok(file) => file,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(invalid(format!("{name} cannot be read ({e})"))),
    };
    // The declared size is only a hint (a bomb lies about it), so the read itself is capped too.
    if file.size() > *budget {
        return Err(too_large());
    }
    let mut out = Vec::with_capacity(file.size().min(8 << 20) as usize);
    (&mut file).take(*budget + 1).read_to_end(&mut out).map_err(|e| invalid(format!("{name} is damaged ({e})")))?;
    if out.len() as u64 > *budget {
        return Err(too_large());
    }
    *budget -= out.len() as u64;
    Ok(Some(out))
}

fn attr(e: &BytesStart<'_>, local: &[u8]) -> Option<String> {
    // Attribute values of a DOCX are UTF-8 (Word writes nothing else); ones that are not are ignored.
    let a = e.attributes().flatten().find(|a| a.key.local_name().as_ref() == local)?;
    let raw = std::str::from_utf8(&a.value).ok()?;
    quick_xml::escape::unescape(raw).ok().map(|v| v.into_owned())
}

/// The package's main part, from `_rels/.rels` (usually `word/document.xml`, not always).
fn main_document(rels: &[u8]) -> Option<String> {
    let mut reader = Reader::from_reader(rels);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e))
                if e.local_name().as_ref() == b"Relationship" && attr(&e, b"Type").is_some_and(|t| t.ends_with("/officeDocument")) =>
            {
                return attr(&e, b"Target").map(|target| target.trim_start_matches('/').to_string());
            }
            Ok(Event::Eof) | Err(_) => return None,
            _ => {}
        }
        buf.clear();
    }
}

#[derive(Default)]
struct StyleInfo {
    name: String,
    outline: Option<usize>,
    based_on: Option<String>,
}

fn read_styles(xml: &[u8]) -> Result<HashMap<String, StyleInfo>> {
    let mut styles = HashMap::new();
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut current: Option<(String, StyleInfo)> = None;
    loop {
        match reader.read_event_into(&mut buf) {
            Err(e) => return Err(invalid(format!("its styles are not well-formed XML ({e})"))),
            Ok(Event::Eof) => break,
            Ok(Event::Start(e) | Event::Empty(e)) => match e.local_name().as_ref() {
                b"style" => current = attr(&e, b"styleId").map(|id| (id, StyleInfo::default())),
                b"name" => {
                    if let Some((_, info)) = &mut current {
                        info.name = attr(&e, b"val").unwrap_or_default().to_lowercase();
                    }
                }
                b"outlineLvl" => {
                    if let Some((_, info)) = &mut current {
                        info.outline = attr(&e, b"val").and_then(|v| v.parse().ok());
                    }
                }
                b"basedOn" => {
                    if let Some((_, info)) = &mut current {
                        info.based_on = attr(&e, b"val");
                    }
                }
                _ => {}
            },
            Ok(Event::End(e)) if e.local_name().as_ref() == b"style" => {
                if let Some((id, info)) = current.take() {
                    styles.insert(id, info);
                }
            }
            _ => {}
        }
        buf.clear();
    }
    Ok(styles)
}

#[derive(Default, Debug)]
struct Para {
    style: Option<String>,
    outline: Option<usize>,
    text: String,
}

/// Elements whose text is not the document's prose (or repeats it).
const SKIPPED: &[&[u8]] = &[b"drawing", b"pict", b"object", b"Fallback", b"instrText", b"delText", b"del", b"pPrChange", b"rPrChange", b"moveFrom"];

fn read_paragraphs(xml: &[u8]) -> Result<Vec<Para>> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut paragraphs = Vec::new();
    let mut current = Para::default();
    let (mut depth, mut skip, mut in_text, mut in_properties) = (0usize, 0usize, false, false);
    let damaged = |e: &dyn std::fmt::Display| invalid(format!("its document is not well-formed XML ({e})"));
    loop {
        let event = reader.read_event_into(&mut buf).map_err(|e| damaged(&e))?;
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => {
                let name = e.local_name();
                let name = name.as_ref();
                if skip > 0 || SKIPPED.contains(&name) {
                    if !empty {
                        skip += 1;
                    }
                    buf.clear();
                    continue;
                }
                match name {
                    // A paragraph inside a paragraph (a text box that escaped the skip list) joins the outer one.
                    b"p" => {
                        depth += 1;
                        if depth == 1 {
                            current = Para::default();
                        }
                        if empty {
                            depth -= 1;
                            if depth == 0 {
                                paragraphs.push(std::mem::take(&mut current));
                            }
                        }
                    }
                    b"pPr" if !empty => in_properties = true,
                    b"pStyle" if in_properties && depth == 1 => current.style = attr(&e, b"val"),
                    b"outlineLvl" if in_properties && depth == 1 => current.outline = attr(&e, b"val").and_then(|v| v.parse().ok()),
                    b"t" if !empty => in_text = true,
                    b"tab" if !in_properties && depth > 0 => current.text.push('\t'),
                    b"br" | b"cr" if depth > 0 => current.text.push('\n'),
                    b"noBreakHyphen" if depth > 0 => current.text.push('-'),
                    _ => {}
                }
            }
            Event::End(e) => {
                if skip > 0 {
                    skip -= 1;
                    buf.clear();
                    continue;
                }
                match e.local_name().as_ref() {
                    b"p" if depth > 0 => {
                        depth -= 1;
                        if depth == 0 {
                            paragraphs.push(std::mem::take(&mut current));
                        }
                    }
                    b"pPr" => in_properties = false,
                    b"t" => in_text = false,
                    _ => {}
                }
            }
            Event::Text(t) if in_text && skip == 0 && depth > 0 => current.text.push_str(&t.xml10_content().map_err(|e| damaged(&e))?),
            Event::CData(t) if in_text && skip == 0 && depth > 0 => current.text.push_str(&t.decode().map_err(|e| damaged(&e))?),
            Event::GeneralRef(r) if in_text && skip == 0 && depth > 0 => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    current.text.push(c);
                } else {
                    match r.decode().map_err(|e| damaged(&e))?.as_ref() {
                        "amp" => current.text.push('&'),
                        "lt" => current.text.push('<'),
                        "gt" => current.text.push('>'),
                        "quot" => current.text.push('"'),
                        "apos" => current.text.push('\''),
                        // A custom entity would need a DTD; Word never writes one, and none is expanded.
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        buf.clear();
    }
    Ok(paragraphs)
}

enum Kind {
    Title,
    Heading(usize),
    Ours(&'static str),
    Body,
}

fn kind(p: &Para, styles: &HashMap<String, StyleInfo>) -> Kind {
    if let Some(ours) = [CONTACT_STYLE, BYLINE_STYLE, END_STYLE].into_iter().find(|s| p.style.as_deref() == Some(*s)) {
        return Kind::Ours(ours);
    }
    if let Some(level) = p.outline {
        return if level < 9 { Kind::Heading(level + 1) } else { Kind::Body };
    }
    let mut id = match &p.style {
        Some(id) => id.clone(),
        None => return Kind::Body,
    };
    for _ in 0..10 {
        let info = styles.get(&id);
        let name = info.map(|i| i.name.clone()).unwrap_or_else(|| id.to_lowercase());
        if name == "title" {
            return Kind::Title;
        }
        if let Some(n) = name.strip_prefix("heading").map(str::trim).and_then(|n| n.parse::<usize>().ok()) {
            return if (1..=9).contains(&n) { Kind::Heading(n) } else { Kind::Body };
        }
        if let Some(level) = info.and_then(|i| i.outline) {
            return if level < 9 { Kind::Heading(level + 1) } else { Kind::Body };
        }
        match info.and_then(|i| i.based_on.clone()) {
            Some(parent) => id = parent,
            None => break,
        }
    }
    Kind::Body
}

fn build(paragraphs: &[Para], styles: &HashMap<String, StyleInfo>) -> Result<Manuscript> {
    let kinds: Vec<Kind> = paragraphs.iter().map(|p| kind(p, styles)).collect();
    let roles = heading_roles(kinds.iter().zip(paragraphs).filter_map(|(k, p)| match k {
        Kind::Heading(level) if !p.text.trim().is_empty() => Some(*level),
        _ => None,
    }));
    let mut builder = Builder::new(Join::Wrap);
    let mut seen_heading = false;
    let mut after_title = false;
    for (p, kind) in paragraphs.iter().zip(&kinds) {
        let text = p.text.trim();
        // "by …" just under the title: the author, as other programs lay out a title page.
        if std::mem::take(&mut after_title) && matches!(kind, Kind::Body) && builder.author.is_empty() {
            if let Some(author) = text.strip_prefix("by ").or_else(|| text.strip_prefix("By ")) {
                builder.author = author.trim().to_string();
                continue;
            }
        }
        match kind {
            Kind::Ours(style) if *style == CONTACT_STYLE => {
                if builder.author.is_empty() {
                    builder.author = text.split('\t').next().unwrap_or("").trim().to_string();
                }
            }
            Kind::Ours(style) if *style == BYLINE_STYLE => {
                builder.author = text.strip_prefix("by ").unwrap_or(text).trim().to_string();
            }
            Kind::Ours(_) => {}
            Kind::Title if !seen_heading && builder.title.is_empty() => {
                builder.title = text.to_string();
                after_title = true;
            }
            // A stray empty heading is no chapter.
            Kind::Title | Kind::Heading(_) if text.is_empty() => {}
            Kind::Title | Kind::Heading(_) => {
                seen_heading = true;
                let level = if let Kind::Heading(level) = kind { *level } else { 1 };
                match roles(level) {
                    Role::Part => builder.part(text)?,
                    Role::Chapter => builder.chapter(text)?,
                    Role::Scene => builder.scene(text)?,
                }
            }
            Kind::Body if is_scene_break(text) => builder.scene_break()?,
            Kind::Body => {
                for line in text.split('\n').map(str::trim).filter(|l| !l.is_empty()) {
                    builder.line(line);
                    builder.blank();
                }
            }
        }
    }
    builder.finish()
}
