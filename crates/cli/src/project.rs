//! `atelier project …`: projects from the command line — create, list, show the binder, import a
//! manuscript (with the split shown first), export one.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use atelier_manuscript::Format;
use atelier_store::{NewProject, NodeKind, ProjectKind, Store};
use atelier_studio::manuscript;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum ProjectCommand {
    /// Start a project.
    New {
        title: String,
        /// novel, screenplay, short_fiction or other.
        #[arg(long, default_value = "novel", value_parser = parse_kind)]
        kind: ProjectKind,
        #[arg(long, default_value = "")]
        author: String,
        /// The project's word-count goal.
        #[arg(long)]
        goal: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// Every project, most recently changed first.
    List {
        #[arg(long)]
        json: bool,
    },
    /// A project's binder: parts, chapters and scenes with their words and status.
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Make a project of a DOCX, Markdown, plain-text or Fountain file: chapters at headings, scenes at
    /// `#`/`***` breaks. The split is printed first; `--preview` stops there.
    Import {
        path: PathBuf,
        /// The project's title (default: the file's).
        #[arg(long)]
        title: Option<String>,
        #[arg(long, value_parser = parse_kind)]
        kind: Option<ProjectKind>,
        /// Show the split and create nothing.
        #[arg(long)]
        preview: bool,
        #[arg(long)]
        json: bool,
    },
    /// Export a project (or one part or chapter of it) to DOCX (standard manuscript format), EPUB 3,
    /// Markdown, plain text or Fountain.
    Export {
        id: i64,
        /// docx, epub, md, txt or fountain.
        #[arg(long, value_parser = parse_format)]
        format: Format,
        #[arg(long)]
        out: PathBuf,
        /// Only this part or chapter (a binder id from `atelier project show`).
        #[arg(long)]
        node: Option<i64>,
    },
}

fn parse_kind(name: &str) -> Result<ProjectKind, String> {
    serde_json::from_value(serde_json::Value::String(name.replace('-', "_")))
        .map_err(|_| format!("unknown kind {name:?}: choose novel, screenplay, short_fiction or other"))
}

fn parse_format(name: &str) -> Result<Format, String> {
    Format::from_extension(name).ok_or_else(|| format!("unknown format {name:?}: choose docx, epub, md, txt or fountain"))
}

pub fn project(command: ProjectCommand) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let store = Store::open_default().await?;
        match command {
            ProjectCommand::New { title, kind, author, goal, json } => {
                let project = store.projects().create(&NewProject { title, kind, author, word_goal: goal }).await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&project)?);
                } else {
                    println!("project {} created: {}", project.id, project.title);
                }
            }
            ProjectCommand::List { json } => {
                let projects = store.projects().list().await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&projects)?);
                } else if projects.is_empty() {
                    println!("no projects yet: `atelier project new TITLE` starts one");
                } else {
                    for p in projects {
                        let goal = p.word_goal.map(|g| format!(" of {g}")).unwrap_or_default();
                        println!("{:>5}  {:<40} {:>14}  {:>7} words{goal}  {} scenes", p.id, p.title, kind_name(p.kind), p.words, p.scenes);
                    }
                }
            }
            ProjectCommand::Show { id, json } => {
                let tree = store.projects().tree(id).await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&tree)?);
                } else {
                    println!("{} — {} ({}, {} words)", tree.project.title, if tree.project.author.is_empty() { "no author" } else { &tree.project.author }, kind_name(tree.project.kind), tree.words);
                    let mut depth = std::collections::HashMap::new();
                    for n in &tree.nodes {
                        let d = n.parent_id.and_then(|p| depth.get(&p).copied()).map_or(0, |d: usize| d + 1);
                        depth.insert(n.id, d);
                        let status = if n.kind == NodeKind::Scene { format!("  [{}]", serde_json::to_value(n.status)?.as_str().unwrap_or_default()) } else { String::new() };
                        println!("{:>5}  {}{} {}  ({} words){status}", n.id, "  ".repeat(d), kind_mark(n.kind), n.title, n.words);
                    }
                }
            }
            ProjectCommand::Import { path, title, kind, preview, json } => {
                let read = manuscript::read_file(&path).await?;
                let chapters = manuscript::preview_chapters(&read);
                if json && preview {
                    println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "title": read.title, "author": read.author, "words": read.words(), "chapters": chapters }))?);
                    return Ok(());
                }
                if !json {
                    println!("{} — {} words in {} chapters", read.title, read.words(), chapters.len());
                    for chapter in &chapters {
                        if let Some(part) = &chapter.part {
                            println!("  {part}");
                        }
                        println!("    {}", if chapter.title.is_empty() { "(no chapter heading)" } else { &chapter.title });
                        for scene in &chapter.scenes {
                            println!("      {} ({} words): {}…", scene.title, scene.words, scene.opening);
                        }
                    }
                }
                if preview {
                    return Ok(());
                }
                let project = manuscript::create_project(&store, &read, title.as_deref(), kind).await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&project)?);
                } else {
                    println!("project {} created: {}", project.id, project.title);
                }
            }
            ProjectCommand::Export { id, format, out, node } => {
                if out.is_dir() {
                    bail!("{} is a folder: give the file to write", out.display());
                }
                let bytes = manuscript::export_to_file(&store, id, node, format, &out).await.with_context(|| format!("cannot export project {id}"))?;
                eprintln!("wrote {} ({} bytes, {format})", out.display(), bytes);
            }
        }
        Ok(())
    })
}

fn kind_name(kind: ProjectKind) -> &'static str {
    match kind {
        ProjectKind::Novel => "novel",
        ProjectKind::Screenplay => "screenplay",
        ProjectKind::ShortFiction => "short fiction",
        ProjectKind::Other => "other",
    }
}

fn kind_mark(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Part => "▸",
        NodeKind::Chapter => "§",
        NodeKind::Scene => "·",
    }
}
