//! Hostile and broken input: every import answers with an error (or an empty book), never a panic, and
//! never reads past its caps.

mod common;

use std::io::{Cursor, Write};

use atelier_manuscript::{export, import, Format, ManuscriptError, MAX_CHAPTERS, MAX_INPUT_BYTES};
use zip::write::SimpleFileOptions;

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content) in entries {
        writer.start_file(*name, SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated)).unwrap();
        writer.write_all(content).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn docx_error(bytes: &[u8]) -> ManuscriptError {
    match import(bytes, Format::Docx) {
        Ok(m) => panic!("imported {m:?}"),
        Err(e) => e,
    }
}

#[test]
fn empty_and_random_bytes_are_not_a_docx() {
    assert!(matches!(docx_error(b""), ManuscriptError::Invalid { .. }));
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let random: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    assert!(matches!(docx_error(&random), ManuscriptError::Invalid { .. }));
    let mut pk = b"PK\x03\x04".to_vec();
    pk.extend_from_slice(&random);
    assert!(matches!(docx_error(&pk), ManuscriptError::Invalid { .. }));
    let error = docx_error(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest of an old .doc");
    assert!(error.to_string().contains(".doc"), "{error}");
}

#[test]
fn a_truncated_docx_is_an_error() {
    let bytes = export(&common::novel(), Format::Docx).unwrap();
    for cut in [bytes.len() / 2, bytes.len() - 30, 100] {
        assert!(matches!(docx_error(&bytes[..cut]), ManuscriptError::Invalid { .. }), "cut at {cut}");
    }
}

#[test]
fn a_zip_that_is_not_a_docx_says_so() {
    let error = docx_error(&zip_of(&[("notes.txt", b"hello")]));
    assert!(error.to_string().contains("word/document.xml"), "{error}");
}

#[test]
fn malformed_document_xml_is_an_error() {
    let error = docx_error(&zip_of(&[("word/document.xml", b"<w:document><w:body><w:p><w:t>unclosed</w:p></w:document>")]));
    assert!(matches!(error, ManuscriptError::Invalid { .. }), "{error}");
}

#[test]
fn a_zip_bomb_stops_at_the_cap() {
    // 80 MiB of spaces deflate to well under a megabyte.
    let huge = vec![b' '; 80 << 20];
    let bomb = zip_of(&[("word/document.xml", &huge)]);
    assert!(bomb.len() < 1 << 20);
    let error = docx_error(&bomb);
    assert!(matches!(error, ManuscriptError::TooLarge { .. }), "{error}");
}

#[test]
fn a_zip_with_too_many_entries_is_refused() {
    let names: Vec<String> = (0..10_001).map(|i| format!("f{i}")).collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
    let error = docx_error(&zip_of(&entries));
    assert!(matches!(error, ManuscriptError::TooMany { .. }), "{error}");
}

#[test]
fn damaged_copies_of_a_real_docx_never_panic() {
    let bytes = export(&common::novel(), Format::Docx).unwrap();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..300 {
        let mut copy = bytes.clone();
        for _ in 0..8 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let at = (state % copy.len() as u64) as usize;
            copy[at] = (state >> 32) as u8;
        }
        let _ = import(&copy, Format::Docx);
    }
}

#[test]
fn input_over_the_cap_is_refused_in_every_format() {
    let big = vec![b'a'; MAX_INPUT_BYTES + 1];
    for format in Format::ALL {
        assert!(matches!(import(&big, format), Err(ManuscriptError::TooLarge { .. })), "{format}");
    }
}

#[test]
fn binary_data_is_not_text() {
    for format in [Format::Markdown, Format::Text, Format::Fountain] {
        assert!(matches!(import(b"PK\x03\x04\x00\x00binary", format), Err(ManuscriptError::Invalid { .. })), "{format}");
        assert!(import(b"", format).unwrap().chapters.is_empty());
        // Not UTF-8, but text: imported with replacement characters for the preview to show.
        let m = import(b"caf\xE9 au lait", format).unwrap();
        assert!(m.chapters[0].scenes[0].text.contains("caf\u{FFFD}"));
    }
}

#[test]
fn too_many_chapters_is_an_error_not_a_slow_preview() {
    let text = "## c\n\n".repeat(MAX_CHAPTERS + 1);
    assert!(matches!(import(text.as_bytes(), Format::Markdown), Err(ManuscriptError::TooMany { what: "chapters", .. })));
    let scenes = "a\n\n***\n\n".repeat(MAX_CHAPTERS + 1);
    assert!(matches!(import(scenes.as_bytes(), Format::Markdown), Err(ManuscriptError::TooMany { what: "scenes", .. })));
}
