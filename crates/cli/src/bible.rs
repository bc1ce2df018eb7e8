//! `atelier bible …`: a project's story bible from the command line — add an entry, list the bible,
//! show an entry with the scenes that mention it, delete one.

use anyhow::{bail, Context, Result};
use atelier_store::{BibleEntry, EntryField, EntryKind, NewEntry, Store};
use atelier_studio::bible::{entry_scenes, MentionCache};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum BibleCommand {
    /// Add an entry to a project's bible (or, with --global, to every project's).
    Add {
        /// The entry's name, as the text names it.
        name: String,
        /// The project: its id or its title.
        #[arg(long, required_unless_present = "global", conflicts_with = "global")]
        project: Option<String>,
        /// character, place, object, lore or style_guide.
        #[arg(long, value_parser = parse_kind)]
        kind: EntryKind,
        /// Another name the text may use for it (repeatable).
        #[arg(long = "alias")]
        aliases: Vec<String>,
        #[arg(long, default_value = "")]
        description: String,
        /// One of your own fields, NAME=VALUE (repeatable).
        #[arg(long = "field", value_parser = parse_field)]
        fields: Vec<EntryField>,
        /// Always in the model's context, mentioned or not.
        #[arg(long)]
        pinned: bool,
        /// In every project's bible.
        #[arg(long)]
        global: bool,
        #[arg(long)]
        json: bool,
    },
    /// A project's bible: its own entries and the global ones, style guides first.
    List {
        /// The project: its id or its title.
        #[arg(long)]
        project: String,
        #[arg(long)]
        json: bool,
    },
    /// An entry with all its fields, and the scenes that mention it (by name or alias).
    Show {
        id: i64,
        /// For a global entry: look for mentions in this project only (default: every project).
        #[arg(long)]
        project: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Move an entry to the trash.
    Delete { id: i64 },
}

fn kind_names() -> String {
    EntryKind::ALL.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")
}

fn parse_kind(name: &str) -> Result<EntryKind, String> {
    EntryKind::parse(name).ok_or_else(|| format!("unknown kind {name:?}: choose one of {}", kind_names()))
}

fn parse_field(text: &str) -> Result<EntryField, String> {
    let (name, value) = text.split_once('=').ok_or_else(|| format!("a field is NAME=VALUE, not {text:?}"))?;
    if name.trim().is_empty() {
        return Err(format!("the field {text:?} has no name before the `=`"));
    }
    Ok(EntryField { name: name.trim().to_string(), value: value.trim().to_string() })
}

/// A project named by its id or by its title (ignoring case).
pub(crate) async fn resolve_project(store: &Store, project: &str) -> Result<i64> {
    if let Ok(id) = project.trim().parse::<i64>() {
        return Ok(store.projects().get(id).await?.id);
    }
    let projects = store.projects().list().await?;
    let mut matching = projects.iter().filter(|p| p.title.trim().eq_ignore_ascii_case(project.trim()));
    match (matching.next(), matching.next()) {
        (Some(p), None) => Ok(p.id),
        (None, _) => bail!("no project titled {project:?} (`atelier project list` shows them)"),
        (Some(_), Some(_)) => bail!("several projects are titled {project:?}: give its id"),
    }
}

pub fn bible(command: BibleCommand) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let store = Store::open_default().await?;
        match command {
            BibleCommand::Add { name, project, kind, aliases, description, fields, pinned, global, json } => {
                let project_id = match (&project, global) {
                    (Some(project), false) => Some(resolve_project(&store, project).await?),
                    (None, true) => None,
                    _ => bail!("give --project, or --global for an entry in every project's bible"),
                };
                let entry = store
                    .bible()
                    .create(&NewEntry { project_id, kind, name, aliases, description, fields, pinned })
                    .await
                    .context("cannot add the entry")?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&entry)?);
                } else {
                    let whose = project_id.map(|p| format!("project {p}")).unwrap_or_else(|| "every project".into());
                    println!("bible entry {} added to {whose}'s bible: {} ({})", entry.id, entry.name, entry.kind.label());
                }
            }
            BibleCommand::List { project, json } => {
                let project_id = resolve_project(&store, &project).await?;
                let entries = store.bible().list(project_id).await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&entries)?);
                } else if entries.is_empty() {
                    println!("project {project_id}'s bible is empty: `atelier bible add --project {project_id} --kind character NAME` adds an entry");
                } else {
                    println!("{:>5}  {:<12} {:<30} {:<30} {}", "id", "kind", "name", "aliases", "pinned");
                    for e in &entries {
                        let name = if e.project_id.is_none() { format!("{} (global)", e.name) } else { e.name.clone() };
                        println!("{:>5}  {:<12} {:<30} {:<30} {}", e.id, e.kind.label(), clip(&name, 30), clip(&e.aliases.join(", "), 30), if e.pinned { "yes" } else { "" });
                    }
                }
            }
            BibleCommand::Show { id, project, json } => {
                let entry = store.bible().get(id).await?;
                let projects = match (entry.project_id, &project) {
                    (Some(own), Some(named)) => {
                        let named = resolve_project(&store, named).await?;
                        if named != own {
                            bail!("bible entry {id} is in project {own}'s bible, not project {named}'s");
                        }
                        vec![own]
                    }
                    (Some(own), None) => vec![own],
                    (None, Some(named)) => vec![resolve_project(&store, named).await?],
                    (None, None) => store.projects().list().await?.into_iter().map(|p| p.id).collect(),
                };
                let cache = MentionCache::default();
                let mut scenes = Vec::new();
                for project_id in projects {
                    for scene in entry_scenes(&cache, &store, project_id, id).await? {
                        scenes.push((project_id, scene));
                    }
                }
                if json {
                    let mut out = serde_json::to_value(&entry)?;
                    out["scenes"] = scenes
                        .iter()
                        .map(|(project_id, s)| serde_json::json!({ "project_id": project_id, "scene_id": s.scene_id, "document_id": s.document_id, "title": s.title, "count": s.count }))
                        .collect();
                    println!("{}", serde_json::to_string_pretty(&out)?);
                } else {
                    print_entry(&entry);
                    if scenes.is_empty() {
                        println!("  no scene mentions it yet");
                    } else {
                        println!("  mentioned in");
                        for (project_id, s) in &scenes {
                            println!("    scene {:>5}  {}  ({}×, project {project_id})", s.scene_id, s.title, s.count);
                        }
                    }
                }
            }
            BibleCommand::Delete { id } => {
                let entry = store.bible().get(id).await?;
                store.bible().delete(id).await?;
                println!("bible entry {id} ({}) moved to the trash", entry.name);
            }
        }
        Ok(())
    })
}

fn print_entry(entry: &BibleEntry) {
    let whose = entry.project_id.map(|p| format!("project {p}")).unwrap_or_else(|| "global".into());
    println!("{} — {} ({}, {whose}){}", entry.id, entry.name, entry.kind.label(), if entry.pinned { ", pinned" } else { "" });
    if !entry.aliases.is_empty() {
        println!("  also called  {}", entry.aliases.join(", "));
    }
    if !entry.description.is_empty() {
        for line in entry.description.lines() {
            println!("  {line}");
        }
    }
    for field in &entry.fields {
        println!("  {}: {}", field.name, field.value);
    }
}

/// `text` within `width` characters, with an ellipsis when cut.
pub(crate) fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}
