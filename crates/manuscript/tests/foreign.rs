//! Files written by people and other programs, not by our export.

mod common;

use std::process::Command;

use atelier_manuscript::{import, Format, ManuscriptError};

fn titles(m: &atelier_manuscript::Manuscript) -> Vec<&str> {
    m.chapters.iter().map(|c| c.title.as_str()).collect()
}

#[test]
fn hand_written_markdown() {
    let text = "# The Lighthouse\n\n\
        An epigraph before anything.\n\n\
        ## Chapter One\n\n\
        It began, as these things do,\nwith a letter.\n\n\
        A second paragraph.\n\n\
        ***\n\n\
        Later that night.\n\n\
        ## Chapter Two ##\n\n\
        Morning.\n\n\
        * * *\n\n\
        Noon.\n\n\
        ---\n\n\
        Evening.\n";
    let m = import(text.as_bytes(), Format::Markdown).unwrap();
    assert_eq!(m.title, "The Lighthouse");
    assert_eq!(titles(&m), ["", "Chapter One", "Chapter Two"]);
    assert_eq!(m.chapters[0].scenes[0].text, "An epigraph before anything.");
    assert_eq!(m.chapters[1].scenes.len(), 2);
    assert_eq!(m.chapters[1].scenes[0].text, "It began, as these things do, with a letter.\n\nA second paragraph.");
    assert_eq!(m.chapters[1].scenes[1].title, "Scene 2");
    assert_eq!(m.chapters[2].scenes.iter().map(|s| s.text.as_str()).collect::<Vec<_>>(), ["Morning.", "Noon.", "Evening."]);
}

#[test]
fn markdown_with_parts_over_chapters() {
    let text = "# Part One\n\n## Arrival\n\nA.\n\n## Departure\n\nB.\n\n# Part Two\n\n## Return\n\nC.\n";
    let m = import(text.as_bytes(), Format::Markdown).unwrap();
    assert_eq!(titles(&m), ["Arrival", "Departure", "Return"]);
    let parts: Vec<Option<&str>> = m.chapters.iter().map(|c| c.part.as_deref()).collect();
    assert_eq!(parts, [Some("Part One"), None, Some("Part Two")]);
}

#[test]
fn plain_text_with_chapter_one_headings() {
    let text = "THE GREY HOUSE\r\nby Jane Doe\r\n\r\n\r\nChapter One\r\n\r\nThe house stood\r\nat the end of the lane.\r\n\r\nNobody lived there.\r\n\r\n#\r\n\r\nUntil spring.\r\n\r\nChapter Two: Spring\r\n\r\nThe doors opened.\r\n\r\nCHAPTER III\r\n\r\nSummer came.\r\n\r\n* * *\r\n\r\nThen autumn.\r\n";
    let m = import(text.as_bytes(), Format::Text).unwrap();
    assert_eq!((m.title.as_str(), m.author.as_str()), ("THE GREY HOUSE", "Jane Doe"));
    assert_eq!(titles(&m), ["Chapter One", "Chapter Two: Spring", "CHAPTER III"]);
    assert_eq!(m.chapters[0].scenes.len(), 2);
    assert_eq!(m.chapters[0].scenes[0].text, "The house stood at the end of the lane.\n\nNobody lived there.");
    assert_eq!(m.chapters[2].scenes.len(), 2);
}

#[test]
fn docx_written_by_python_docx() {
    common::require_python_docx();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("foreign.docx");
    let out = Command::new("python3").arg(common::script()).arg("make").arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let m = import(&std::fs::read(&path).unwrap(), Format::Docx).unwrap();
    assert_eq!(m.title, "The Borrowed Book");
    assert_eq!(m.author, "Someone Else");
    assert_eq!(titles(&m), ["Chapter One", "Chapter Two"]);
    let texts: Vec<Vec<&str>> = m.chapters.iter().map(|c| c.scenes.iter().map(|s| s.text.as_str()).collect()).collect();
    assert_eq!(
        texts,
        [vec!["The first paragraph of the first chapter.\n\nA second paragraph & more.", "After the break."], vec!["Bold words", "The end of it."]]
    );
}

#[test]
fn epub_import_says_it_is_unsupported() {
    let bytes = atelier_manuscript::export(&common::novel(), Format::Epub).unwrap();
    assert!(matches!(import(&bytes, Format::Epub), Err(ManuscriptError::Unsupported(_))));
}

#[test]
fn fountain_from_another_program_splits_at_scene_headings() {
    let text = "Title:\n    BIG FISH\nCredit: written by\nAuthor: John August\n\nFADE IN:\n\nEXT. RIVER - DAY\n\nA river.\n\nint. house - night\n\nA house.\n";
    let m = import(text.as_bytes(), Format::Fountain).unwrap();
    assert_eq!((m.title.as_str(), m.author.as_str()), ("BIG FISH", "John August"));
    let scenes: Vec<&str> = m.chapters[0].scenes.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(scenes, ["Scene 1", "EXT. RIVER - DAY", "int. house - night"]);
    assert_eq!(m.chapters[0].scenes[0].text, "FADE IN:");
}
