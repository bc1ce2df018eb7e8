//! Fuzz target for manuscript import: a DOCX, Markdown, text or Fountain file is whatever the writer was
//! sent, so any bytes must give a manuscript or a clean error — never a panic, a hang or an unbounded
//! allocation — and a manuscript that was read must export again to every format.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use atelier_fuzz::{Bytes, Guard};
use atelier_manuscript::{Chapter, Format, Manuscript, ProjectKind, Scene};

const IMPORTED: [Format; 4] = [Format::Docx, Format::Markdown, Format::Text, Format::Fountain];

fn crash_path(target: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{target}.abort-input"))
}

/// Each format's export of a small book with a part, headings, scene breaks and awkward characters:
/// what the mutations start from, so they reach past the first checks of each reader.
fn seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let scene = |title: &str, text: &str| Scene { title: title.into(), text: text.into() };
        let book = Manuscript {
            title: "The <Salt> & Road".into(),
            author: "Ada \"Marsh\"".into(),
            kind: ProjectKind::Novel,
            chapters: vec![
                Chapter { part: Some("Part One".into()), title: "Chapter 1: Harbour".into(), scenes: vec![scene("Dawn", "Fog.\n\n# not a heading\n\n***"), scene("", "Mara — é 🐈")] },
                Chapter { part: None, title: "INT. FORD - NIGHT".into(), scenes: vec![scene("River", "Cold water.\n\nCHAPTER TWO\n\n* * *")] },
            ],
        };
        IMPORTED.iter().map(|&f| atelier_manuscript::export(&book, f).expect("the seed book exports")).collect()
    })
}

/// The input as a file of one of the imported formats: raw, or a seed with fuzzer-chosen byte edits,
/// insertions and a cut.
fn file_from(input: &[u8]) -> (Format, Vec<u8>) {
    let mut r = Bytes::new(input);
    let which = r.u8() as usize;
    let format = IMPORTED[which % IMPORTED.len()];
    if which & 0x80 != 0 {
        return (format, r.rest().to_vec());
    }
    let mut bytes = seeds()[which % IMPORTED.len()].clone();
    for _ in 0..(r.u8() % 16) {
        if bytes.is_empty() {
            break;
        }
        let at = r.u32() as usize % bytes.len();
        match r.u8() % 4 {
            0 => bytes[at] = r.u8(),
            1 => bytes[at] ^= 1 << (r.u8() % 8),
            2 => {
                let n = r.u8() as usize % 32;
                let insert = r.take(n).to_vec();
                bytes.splice(at..at, insert);
            }
            _ => bytes.truncate(at.max(1)),
        }
    }
    (format, bytes)
}

#[test]
fn manuscript_import() {
    let guard = Guard::new(crash_path("manuscript_import"));
    // A reader that allocates without bound fails here instead of taking the machine down.
    atelier_fuzz::limit_address_space(4 << 30);
    bolero::check!().with_test_time(atelier_fuzz::test_time()).with_max_len(64 << 10).for_each(|input: &[u8]| {
        guard.run(input, || {
            let (format, bytes) = file_from(input);
            if let Ok(book) = atelier_manuscript::import(&bytes, format) {
                assert!(book.chapters.len() <= atelier_manuscript::MAX_CHAPTERS);
                for format in Format::ALL {
                    atelier_manuscript::export(&book, format).expect("a manuscript that was read exports again");
                }
            }
        })
    });
}
