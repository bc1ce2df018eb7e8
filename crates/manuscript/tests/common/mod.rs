//! The fixtures the integration tests share, and the checks that the external tools are there.
#![allow(dead_code)]

use std::process::Command;

use atelier_manuscript::{Chapter, Manuscript, ProjectKind, Scene};

fn scene(title: &str, text: &str) -> Scene {
    Scene { title: title.into(), text: text.into() }
}

/// A novel in two parts and three chapters, with scene breaks, markup characters and non-ASCII text.
pub fn novel() -> Manuscript {
    Manuscript {
        title: "Salt & <Harbour> \"Lights\"".into(),
        author: "Ada O'Neill-Ström".into(),
        kind: ProjectKind::Novel,
        chapters: vec![
            Chapter {
                part: Some("Part One: Fog & Tide".into()),
                title: "Chapter 1: The <Ford>".into(),
                scenes: vec![
                    scene("Arrival", "The fog lifted slowly over the harbour & the boats went out.\n\n\"Who's there?\" she asked — twice.\nA gull cried: <nothing> answered."),
                    scene("Night", "Café lights, naïve rain, 東京 in a letter, and an emoji 🌊.\n\n1. Not a list, just a year's first line.\n\n- Not a bullet either."),
                ],
            },
            Chapter {
                part: None,
                title: "Chapter 2 — Letters".into(),
                scenes: vec![
                    scene("The letter", "Back\\slash and *stars* in a path: C:\\Users\\*.\n\nShe folded the letter twice."),
                    scene("Reply", "He wrote back at once.\n\nThe ink ran in the rain."),
                    scene("Silence", "Nothing came for a week."),
                ],
            },
            Chapter {
                part: Some("Part Two".into()),
                title: "Chapter 3: 'Home'".into(),
                scenes: vec![scene("Return", "The train came in at dawn.\n\nShe was home, at last, & glad of it.")],
            },
        ],
    }
}

/// A short screenplay: scene text is Fountain as the writer wrote it.
pub fn screenplay() -> Manuscript {
    Manuscript {
        title: "The Heist".into(),
        author: "Jo Writer".into(),
        kind: ProjectKind::Screenplay,
        chapters: vec![
            Chapter {
                part: Some("Act One".into()),
                title: "Setup".into(),
                scenes: vec![
                    scene("Bank", "INT. BANK - NIGHT\n\nA vault door, ajar.\n\nBOB\n(whispering)\nIs it open?\n\nALICE\nIt's *always* open."),
                    scene("Street", "EXT. STREET - CONTINUOUS\n\nRain. A van idles.\n\n> CUT TO:"),
                ],
            },
            Chapter {
                part: Some("Act Two".into()),
                title: "Getaway".into(),
                scenes: vec![scene("", "INT. VAN - MOVING\n\n[[a note to self]]\n\nBOB\nDrive.")],
            },
        ],
    }
}

/// Whitespace-normalised text, for comparing what a format may re-wrap.
pub fn normalised(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The structure two manuscripts must share after a round trip: part, chapter title, scene texts.
pub fn shape(m: &Manuscript) -> Vec<(Option<String>, String, Vec<String>)> {
    m.chapters.iter().map(|c| (c.part.clone(), c.title.clone(), c.scenes.iter().map(|s| normalised(&s.text)).collect())).collect()
}

pub fn require_tool(check: &mut Command, what: &str) {
    let ok = check.output().map(|o| o.status.success()).unwrap_or(false);
    assert!(ok, "{what} is not installed: run `bash scripts/install-deps.sh --test` (CI installs it), then run the tests again");
}

pub fn require_python_docx() {
    require_tool(Command::new("python3").args(["-c", "import docx"]), "python-docx (python3 -m pip install python-docx)");
}

/// A command that runs epubcheck: `epubcheck` itself, or Debian's jar through `java -jar` where the
/// jar's binfmt launcher is not registered (containers without binfmt_misc). `EPUBCHECK_JAR` names
/// another jar.
pub fn epubcheck() -> Command {
    let works = |command: &mut Command| {
        command.arg("--version").output().map(|o| String::from_utf8_lossy(&o.stdout).contains("EPUBCheck")).unwrap_or(false)
    };
    if works(&mut Command::new("epubcheck")) {
        return Command::new("epubcheck");
    }
    let jar = std::env::var("EPUBCHECK_JAR").unwrap_or_else(|_| "/usr/share/java/epubcheck.jar".into());
    let java = || {
        let mut command = Command::new("java");
        command.arg("-jar").arg(&jar);
        command
    };
    assert!(
        works(&mut java()),
        "epubcheck is not installed (apt-get install epubcheck): run `bash scripts/install-deps.sh --test` (CI installs it), then run the tests again"
    );
    java()
}

pub fn script() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/read_docx.py")
}
