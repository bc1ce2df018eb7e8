//! Export then import gives the same book back: chapters, parts, scene counts and texts
//! (whitespace-normalised), and scene titles where the format carries them.

mod common;

use atelier_manuscript::{export, import, Format, Manuscript, ProjectKind};

fn round_trip(m: &Manuscript, format: Format) -> Manuscript {
    let bytes = export(m, format).unwrap();
    import(&bytes, format).unwrap_or_else(|e| panic!("{format} import of our own export failed: {e}\n{}", String::from_utf8_lossy(&bytes)))
}

fn assert_same_shape(original: &Manuscript, back: &Manuscript, format: Format) {
    assert_eq!(common::shape(back), common::shape(original), "{format} round trip changed the book");
    assert_eq!(back.title, original.title, "{format} title");
    assert_eq!(back.author, original.author, "{format} author");
}

fn scene_titles(m: &Manuscript) -> Vec<Vec<String>> {
    m.chapters.iter().map(|c| c.scenes.iter().map(|s| s.title.clone()).collect()).collect()
}

#[test]
fn markdown_round_trip_keeps_everything() {
    let m = common::novel();
    let back = round_trip(&m, Format::Markdown);
    assert_same_shape(&m, &back, Format::Markdown);
    assert_eq!(scene_titles(&back), scene_titles(&m));
    assert_eq!(back.kind, ProjectKind::Novel);
}

#[test]
fn markdown_round_trip_survives_prose_that_looks_like_markdown() {
    let mut m = common::novel();
    m.kind = ProjectKind::ShortFiction;
    m.chapters[1].scenes[0].text = "# not a heading\n\n***\n\n<!-- scene: fake -->\n\n> not a quote\n\n```\n\n1999. A year.\n\nEnds with a hash #".into();
    m.chapters[1].scenes[1].title = "A --> tricky \\ title".into();
    m.chapters[2].title = "Ends with #".into();
    let back = round_trip(&m, Format::Markdown);
    assert_same_shape(&m, &back, Format::Markdown);
    assert_eq!(scene_titles(&back), scene_titles(&m));
    assert_eq!(back.kind, ProjectKind::ShortFiction);
}

#[test]
fn text_round_trip_keeps_chapters_parts_and_scenes() {
    let m = common::novel();
    let back = round_trip(&m, Format::Text);
    assert_same_shape(&m, &back, Format::Text);
    // Plain text has nowhere to keep scene titles.
    assert_eq!(back.chapters[1].scenes.iter().map(|s| s.title.as_str()).collect::<Vec<_>>(), ["Scene 1", "Scene 2", "Scene 3"]);
}

#[test]
fn fountain_round_trip_keeps_the_script_verbatim() {
    let m = common::screenplay();
    let back = round_trip(&m, Format::Fountain);
    assert_same_shape(&m, &back, Format::Fountain);
    assert_eq!(scene_titles(&back), scene_titles(&m));
    assert_eq!(back.kind, ProjectKind::Screenplay);
    // Not just the words: every line (Fountain's blank lines carry meaning).
    for (a, b) in m.chapters.iter().flat_map(|c| &c.scenes).zip(back.chapters.iter().flat_map(|c| &c.scenes)) {
        assert_eq!(a.text, b.text);
    }
}

#[test]
fn fountain_round_trip_of_prose_works_too() {
    let m = common::novel();
    let back = round_trip(&m, Format::Fountain);
    assert_eq!(common::shape(&back), common::shape(&m));
}

#[test]
fn docx_round_trip_keeps_chapters_parts_and_scenes() {
    let m = common::novel();
    let back = round_trip(&m, Format::Docx);
    assert_same_shape(&m, &back, Format::Docx);
}

#[test]
fn untitled_short_fiction_round_trips_in_every_text_format() {
    let mut m = common::novel();
    m.kind = ProjectKind::ShortFiction;
    m.chapters.truncate(1);
    m.chapters[0].title.clear();
    m.chapters[0].part = None;
    for format in [Format::Markdown, Format::Text, Format::Fountain, Format::Docx] {
        let back = round_trip(&m, format);
        assert_eq!(common::shape(&back), common::shape(&m), "{format}");
        if format != Format::Fountain {
            assert_eq!(back.kind, ProjectKind::ShortFiction, "{format}");
        }
    }
}

#[test]
fn an_untitled_chapter_after_titled_ones_survives_markdown_and_fountain() {
    let mut m = common::novel();
    m.chapters[1].title.clear();
    for format in [Format::Markdown, Format::Fountain] {
        assert_eq!(common::shape(&round_trip(&m, format)), common::shape(&m), "{format}");
    }
}

#[test]
fn a_part_over_an_untitled_first_chapter_stays_a_part() {
    let mut m = common::novel();
    m.chapters[0].title.clear();
    m.chapters[1].title.clear();
    for format in [Format::Markdown, Format::Fountain] {
        assert_eq!(common::shape(&round_trip(&m, format)), common::shape(&m), "{format}");
    }
    // Untitled, with a single part: front matter says there is no title, so `#` is still the part.
    m.title.clear();
    m.chapters[2].part = None;
    assert_eq!(common::shape(&round_trip(&m, Format::Markdown)), common::shape(&m));
    // The whole book one untitled chapter in a part: a bare chapter marker keeps the part a part.
    m.chapters.truncate(1);
    for format in [Format::Markdown, Format::Fountain] {
        assert_eq!(common::shape(&round_trip(&m, format)), common::shape(&m), "{format}");
    }
}

#[test]
fn empty_manuscript_exports_in_every_format() {
    let m = Manuscript::default();
    for format in Format::ALL {
        let bytes = export(&m, format).unwrap();
        if format != Format::Epub {
            let back = import(&bytes, format).unwrap();
            assert!(back.chapters.is_empty(), "{format}: {back:?}");
        }
    }
}
