//! The story bible as both front ends use it: entries (from a form or from a selection), the names
//! found in a scene as the writer types, and the scenes that mention an entry.

pub mod mentions;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use atelier_store::{BibleEntry, EntryKind, NewEntry, Store};
use serde::Serialize;

use crate::error::{Result, StudioError};
use mentions::{Mention, MentionIndex};

/// The longest text `find_mentions` reads: a scene of a few hundred thousand words.
pub const MAX_SCAN_BYTES: usize = 8 << 20;

/// Each project's name index, rebuilt when its bible changes.
#[derive(Default)]
pub struct MentionCache {
    indexes: Mutex<HashMap<i64, ((i64, i64), Arc<MentionIndex>, Arc<Vec<BibleEntry>>)>>,
}

impl MentionCache {
    /// The project's bible and its name index, current as of now.
    pub async fn get(&self, store: &Store, project_id: i64) -> Result<(Arc<MentionIndex>, Arc<Vec<BibleEntry>>)> {
        let revision = store.bible().revision(project_id).await?;
        if let Some((seen, index, entries)) = self.indexes.lock().expect("mention cache").get(&project_id) {
            if *seen == revision {
                return Ok((Arc::clone(index), Arc::clone(entries)));
            }
        }
        let entries = Arc::new(store.bible().list(project_id).await?);
        let for_index = Arc::clone(&entries);
        let index = Arc::new(tokio::task::spawn_blocking(move || MentionIndex::new(&for_index)).await.map_err(|e| StudioError::Invalid(format!("indexing the bible stopped: {e}")))?);
        let mut indexes = self.indexes.lock().expect("mention cache");
        // A library holds a handful of projects; the cache stays small without eviction.
        indexes.insert(project_id, (revision, Arc::clone(&index), Arc::clone(&entries)));
        Ok((index, entries))
    }
}

/// The names in `text` (the open scene) that the project's bible knows, UTF-16 offsets for the editor.
pub async fn find_mentions(cache: &MentionCache, store: &Store, project_id: i64, text: &str) -> Result<Vec<Mention>> {
    if text.len() > MAX_SCAN_BYTES {
        return Err(StudioError::Invalid(format!("This text is over {} MiB; mentions are found in one scene at a time.", MAX_SCAN_BYTES >> 20)));
    }
    let (index, _) = cache.get(store, project_id).await?;
    Ok(index.mentions(text))
}

/// A scene that names an entry, and how often.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct SceneMention {
    /// The scene's binder id.
    pub scene_id: i64,
    pub document_id: i64,
    pub title: String,
    pub count: u32,
}

/// The scenes of the project that mention `entry_id`, in binder order.
pub async fn entry_scenes(cache: &MentionCache, store: &Store, project_id: i64, entry_id: i64) -> Result<Vec<SceneMention>> {
    let (index, entries) = cache.get(store, project_id).await?;
    if !entries.iter().any(|e| e.id == entry_id) {
        return Err(StudioError::NotFound(format!("bible entry {entry_id} is not in this project's bible")));
    }
    let tree = store.projects().tree(project_id).await?;
    let bodies = store.binder().scene_bodies(project_id).await?;
    let scenes: Vec<(i64, i64, String, String)> = tree
        .nodes
        .iter()
        .filter_map(|n| n.document_id.and_then(|d| bodies.get(&d).map(|body| (n.id, d, n.title.clone(), body.clone()))))
        .collect();
    tokio::task::spawn_blocking(move || {
        scenes
            .into_iter()
            .filter_map(|(scene_id, document_id, title, body)| {
                let count = index.counts(&body).get(&entry_id).copied().unwrap_or(0);
                (count > 0).then(|| SceneMention { scene_id, document_id, title, count: count as u32 })
            })
            .collect()
    })
    .await
    .map_err(|e| StudioError::Invalid(format!("the search for mentions stopped: {e}")))
}

/// A new entry from selected text: a short selection is the name, a longer one the description.
pub fn draft_from_selection(project_id: i64, selection: &str, kind: Option<EntryKind>) -> NewEntry {
    let text = selection.trim();
    let one_line = !text.contains('\n');
    let short = one_line && text.split_whitespace().count() <= 6 && text.chars().count() <= 80;
    let kind = kind.unwrap_or(EntryKind::Character);
    let (name, description) = if short {
        // "Mara," selected with its comma: the name without the punctuation around it.
        (text.trim_matches(|c: char| !c.is_alphanumeric()).to_string(), String::new())
    } else {
        (String::new(), text.to_string())
    };
    NewEntry { project_id: Some(project_id), kind, name, aliases: Vec::new(), description, fields: Vec::new(), pinned: kind == EntryKind::StyleGuide }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_selection_names_the_entry_and_a_long_one_describes_it() {
        let short = draft_from_selection(3, "  “Mara Vell,” ", None);
        assert_eq!((short.name.as_str(), short.description.as_str(), short.kind), ("Mara Vell", "", EntryKind::Character));
        let long = draft_from_selection(3, "A narrow town of salt and tar\nwhere the fog never lifts.", Some(EntryKind::Place));
        assert_eq!((long.name.as_str(), long.kind), ("", EntryKind::Place));
        assert!(long.description.starts_with("A narrow town"));
        assert!(draft_from_selection(3, "Short sentences.", Some(EntryKind::StyleGuide)).pinned);
    }
}
