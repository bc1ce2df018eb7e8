//! The DOCX export read back by python-docx: standard manuscript format as Word sees it.

mod common;

use std::process::Command;

use atelier_manuscript::{approximate_word_count, export, export_with, ExportOptions, Format, ManuscriptFont};
use serde_json::Value;

fn read_with_python_docx(bytes: &[u8]) -> Value {
    common::require_python_docx();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("manuscript.docx");
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new("python3").arg(common::script()).arg("read").arg(&path).output().unwrap();
    assert!(out.status.success(), "python-docx could not read the export: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn docx_export_is_standard_manuscript_format() {
    let m = common::novel();
    let doc = read_with_python_docx(&export(&m, Format::Docx).unwrap());

    // US Letter, 1-inch (914,400 EMU) margins all round.
    assert_eq!(doc["page_width"], 7_772_400);
    assert_eq!(doc["page_height"], 10_058_400);
    assert_eq!(doc["margins"], serde_json::json!([914_400, 914_400, 914_400, 914_400]));

    // The body: Courier New 12 pt, double-spaced, half-inch first-line indent.
    let body = &doc["body_style"];
    assert_eq!(body["font"], "Courier New");
    assert_eq!(body["size_pt"], 12.0);
    assert_eq!(body["line_spacing"], 2.0);
    assert_eq!(body["first_line_indent"], 457_200);

    // Running header on every page but the title page: "Surname / TITLE / " then the PAGE field, right-aligned.
    assert_eq!(doc["different_first_page"], true);
    assert_eq!(doc["first_header_text"], "");
    let header = doc["header_text"].as_str().unwrap();
    assert!(header.starts_with("O'Neill-Ström / SALT & <HARBOUR> \"LIGHTS\" / "), "{header}");
    assert_eq!(doc["header_has_page_field"], true);
    assert_eq!(doc["header_alignment"][0], 2, "the header is right-aligned");

    let paragraphs = doc["paragraphs"].as_array().unwrap();
    let text = |p: &Value| p["text"].as_str().unwrap().to_string();
    let style = |p: &Value| p["style"].as_str().unwrap_or("").to_string();

    // Title page: author and word count on the first line, then the title and byline.
    let words = approximate_word_count(m.words());
    assert_eq!(text(&paragraphs[0]), format!("Ada O'Neill-Ström\tabout {words} words"));
    assert_eq!(style(&paragraphs[1]), "Title");
    assert_eq!(text(&paragraphs[1]), m.title);
    assert_eq!(text(&paragraphs[2]), "by Ada O'Neill-Ström");

    // Parts are Heading 1 and chapters Heading 2, each on a new page.
    let headings: Vec<(String, String, bool)> = paragraphs
        .iter()
        .filter(|p| style(p).starts_with("Heading"))
        .map(|p| (style(p), text(p), p["page_break_before"].as_bool().unwrap()))
        .collect();
    let expected = [
        ("Heading 1", "Part One: Fog & Tide"),
        ("Heading 2", "Chapter 1: The <Ford>"),
        ("Heading 2", "Chapter 2 — Letters"),
        ("Heading 1", "Part Two"),
        ("Heading 2", "Chapter 3: 'Home'"),
    ];
    assert_eq!(headings.len(), expected.len(), "{headings:?}");
    for ((style, text, page_break), (want_style, want_text)) in headings.iter().zip(expected) {
        assert_eq!((style.as_str(), text.as_str()), (want_style, want_text));
        assert!(page_break, "{text} does not start a new page");
    }

    // Every scene's paragraphs, in order, with a centred `#` between the scenes of a chapter.
    let mut expected_body = Vec::new();
    for chapter in &m.chapters {
        for (n, scene) in chapter.scenes.iter().enumerate() {
            if n > 0 {
                expected_body.push("#".to_string());
            }
            expected_body.extend(scene.text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string));
        }
    }
    let body: Vec<String> = paragraphs.iter().filter(|p| style(p) == "Body Text" || text(p) == "#").map(text).collect();
    assert_eq!(body, expected_body);
    let breaks: Vec<&Value> = paragraphs.iter().filter(|p| text(p) == "#").collect();
    assert_eq!(breaks.len(), 3);
    assert!(breaks.iter().all(|p| p["style_alignment"] == 1 && p["alignment"].is_null()), "scene breaks are centred (by their style)");
    let centred_headings = paragraphs.iter().filter(|p| style(p).starts_with("Heading")).all(|p| p["style_alignment"] == 1);
    assert!(centred_headings, "headings are centred");
    assert_eq!(text(paragraphs.last().unwrap()), "THE END");
}

#[test]
fn docx_export_can_use_times_new_roman() {
    let bytes = export_with(&common::novel(), Format::Docx, &ExportOptions { font: ManuscriptFont::TimesNewRoman }).unwrap();
    let doc = read_with_python_docx(&bytes);
    assert_eq!(doc["body_style"]["font"], "Times New Roman");
}

#[test]
fn docx_word_count_on_a_long_manuscript_is_rounded_to_thousands() {
    let mut m = common::novel();
    m.chapters[0].scenes[0].text = "word ".repeat(12_345);
    let doc = read_with_python_docx(&export(&m, Format::Docx).unwrap());
    let first = doc["paragraphs"][0]["text"].as_str().unwrap();
    assert!(first.ends_with("about 12,000 words"), "{first}");
}
