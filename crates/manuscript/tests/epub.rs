//! The EPUB export checked by epubcheck, and its contents as a reader sees them.

mod common;

use std::io::Read;

use atelier_manuscript::{export, Format};

fn entries(bytes: &[u8]) -> zip::ZipArchive<std::io::Cursor<&[u8]>> {
    zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap()
}

fn read(archive: &mut zip::ZipArchive<std::io::Cursor<&[u8]>>, name: &str) -> String {
    let mut text = String::new();
    archive.by_name(name).unwrap().read_to_string(&mut text).unwrap();
    text
}

fn epubcheck(bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("book.epub");
    std::fs::write(&path, bytes).unwrap();
    let out = common::epubcheck().arg(&path).output().unwrap();
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let problems: Vec<&str> = report.lines().filter(|l| l.starts_with("ERROR") || l.starts_with("FATAL")).collect();
    assert!(out.status.success() && problems.is_empty(), "epubcheck failed:\n{report}");
}

#[test]
fn epub_export_passes_epubcheck() {
    epubcheck(&export(&common::novel(), Format::Epub).unwrap());
}

#[test]
fn epub_of_untitled_short_fiction_passes_epubcheck() {
    let mut m = common::novel();
    m.title.clear();
    m.author.clear();
    for chapter in &mut m.chapters {
        chapter.title.clear();
        chapter.part = None;
    }
    epubcheck(&export(&m, Format::Epub).unwrap());
}

#[test]
fn epub_has_a_file_per_chapter_and_a_contents_listing_each() {
    let m = common::novel();
    let bytes = export(&m, Format::Epub).unwrap();
    let mut archive = entries(&bytes);
    let names: Vec<String> = archive.file_names().map(str::to_string).collect();
    assert_eq!(names.first().map(String::as_str), Some("mimetype"), "mimetype comes first");
    let chapters: Vec<&String> = names.iter().filter(|n| n.starts_with("OEBPS/chapter_") && n.ends_with(".xhtml")).collect();
    assert_eq!(chapters.len(), m.chapters.len(), "{names:?}");

    let nav = read(&mut archive, "OEBPS/nav.xhtml");
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    for chapter in &m.chapters {
        assert!(nav.contains(&escape(&chapter.title)), "nav.xhtml lacks {:?}:\n{nav}", chapter.title);
        if let Some(part) = &chapter.part {
            assert!(nav.contains(&escape(part)), "nav.xhtml lacks the part {part:?}");
        }
    }

    // The prose is escaped, in order, with breaks between scenes.
    let first = read(&mut archive, chapters[0]);
    assert!(first.contains("<h2>Chapter 1: The &lt;Ford&gt;</h2>"), "{first}");
    assert!(first.contains("A gull cried: &lt;nothing&gt; answered."));
    assert!(first.contains("Café lights, naïve rain, 東京 in a letter, and an emoji 🌊."));
    assert_eq!(first.matches("<p class=\"break\">* * *</p>").count(), 1);
    let opf = read(&mut archive, "OEBPS/content.opf");
    assert!(opf.contains("<dc:language") && opf.contains(">en<"), "{opf}");
    assert!(opf.contains("dcterms:modified"));
}

#[test]
fn epub_identifier_is_stable_for_the_same_book() {
    let id = |bytes: &[u8]| {
        let opf = read(&mut entries(bytes), "OEBPS/content.opf");
        let start = opf.find("urn:uuid:").unwrap();
        opf[start..start + 45].to_string()
    };
    let m = common::novel();
    assert_eq!(id(&export(&m, Format::Epub).unwrap()), id(&export(&m, Format::Epub).unwrap()));
    let mut other = m.clone();
    other.title.push('!');
    assert_ne!(id(&export(&m, Format::Epub).unwrap()), id(&export(&other, Format::Epub).unwrap()));
}
