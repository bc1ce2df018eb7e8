//! The book as both front ends handle it: a project's binder turned into a manuscript for export (a
//! whole project, a part or a chapter), imported files previewed before they become a project, and the
//! text a writing action on a scene reads before it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use atelier_manuscript::{Chapter, Format, Manuscript, Scene};
use atelier_store::{BinderNode, NewNode, NewProject, NodeKind, Project, ProjectKind, Store};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StudioError};
use crate::writing::ActionInput;

/// Between scenes in the text a model reads, as in a manuscript.
const SCENE_BREAK: &str = "\n\n#\n\n";

fn manuscript_kind(kind: ProjectKind) -> atelier_manuscript::ProjectKind {
    match kind {
        ProjectKind::Novel => atelier_manuscript::ProjectKind::Novel,
        ProjectKind::Screenplay => atelier_manuscript::ProjectKind::Screenplay,
        ProjectKind::ShortFiction => atelier_manuscript::ProjectKind::ShortFiction,
        ProjectKind::Other => atelier_manuscript::ProjectKind::Other,
    }
}

fn project_kind(kind: atelier_manuscript::ProjectKind) -> ProjectKind {
    match kind {
        atelier_manuscript::ProjectKind::Novel => ProjectKind::Novel,
        atelier_manuscript::ProjectKind::Screenplay => ProjectKind::Screenplay,
        atelier_manuscript::ProjectKind::ShortFiction => ProjectKind::ShortFiction,
        atelier_manuscript::ProjectKind::Other => ProjectKind::Other,
    }
}

/// The project (or the part or chapter `node` of it) as a manuscript: chapters in binder order, a
/// part's title on its first chapter, scenes outside any chapter gathered into untitled chapters.
pub async fn to_manuscript(store: &Store, project_id: i64, node: Option<i64>) -> Result<Manuscript> {
    let tree = store.projects().tree(project_id).await?;
    let bodies = store.binder().scene_bodies(project_id).await?;
    let nodes: &[BinderNode] = match node {
        Some(id) => match atelier_store::subtree(&tree.nodes, id) {
            [] => return Err(StudioError::NotFound(format!("binder item {id} is not in this project"))),
            subtree => subtree,
        },
        None => &tree.nodes,
    };
    let by_id: HashMap<i64, &BinderNode> = tree.nodes.iter().map(|n| (n.id, n)).collect();
    let mut chapters: Vec<Chapter> = Vec::new();
    let mut pending_part: Option<String> = None;
    // The chapter (binder id, or the loose scenes' parent) that scenes are being gathered into.
    let mut open: Option<Option<i64>> = None;
    for n in nodes {
        match n.kind {
            NodeKind::Part => {
                pending_part = Some(n.title.clone());
                open = None;
            }
            NodeKind::Chapter => {
                chapters.push(Chapter { part: pending_part.take(), title: n.title.clone(), scenes: Vec::new() });
                open = Some(Some(n.id));
            }
            NodeKind::Scene => {
                let chapter = n.parent_id.filter(|p| by_id.get(p).is_some_and(|p| p.kind == NodeKind::Chapter));
                if open != Some(chapter) || chapters.is_empty() {
                    // Scenes directly in a part or at the top level: a chapter without a title.
                    chapters.push(Chapter { part: pending_part.take(), title: String::new(), scenes: Vec::new() });
                    open = Some(chapter);
                }
                let text = n.document_id.and_then(|d| bodies.get(&d)).cloned().unwrap_or_default();
                chapters.last_mut().expect("a chapter was just opened").scenes.push(Scene { title: n.title.clone(), text });
            }
        }
    }
    Ok(Manuscript { title: tree.project.title, author: tree.project.author, kind: manuscript_kind(tree.project.kind), chapters })
}

/// The file name a save dialog suggests: the project's (or chapter's) title and the format's extension.
pub fn suggested_name(title: &str, format: Format) -> String {
    let stem: String = title.chars().map(|c| if c.is_alphanumeric() || c == ' ' || c == '-' { c } else { ' ' }).collect();
    let stem = stem.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("{}.{}", if stem.is_empty() { "manuscript" } else { &stem }, format.extension())
}

/// Exports the project (or one part or chapter) to `path`, written whole (a temporary file renamed
/// over it). Returns the bytes written.
pub async fn export_to_file(store: &Store, project_id: i64, node: Option<i64>, format: Format, path: &Path) -> Result<u64> {
    let manuscript = to_manuscript(store, project_id, node).await?;
    let bytes = tokio::task::spawn_blocking(move || atelier_manuscript::export(&manuscript, format))
        .await
        .map_err(|e| StudioError::Invalid(format!("the export stopped: {e}")))??;
    crate::export::write_whole(path, &bytes).await?;
    Ok(bytes.len() as u64)
}

/// An imported file as the writer sees it before accepting: the chapters and scenes it will become.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
pub struct ImportPreview {
    /// Hands the accepted preview back to [`Studio::accept_import`](crate::Studio::accept_import).
    pub token: String,
    pub file_name: String,
    pub title: String,
    pub author: String,
    pub kind: ProjectKind,
    pub words: u32,
    pub chapters: Vec<PreviewChapter>,
}

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
pub struct PreviewChapter {
    pub part: Option<String>,
    pub title: String,
    pub scenes: Vec<PreviewScene>,
}

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
pub struct PreviewScene {
    pub title: String,
    pub words: u32,
    /// The scene's first words.
    pub opening: String,
}

/// Imported manuscripts waiting for the writer's yes, by token.
#[derive(Default)]
pub struct PendingImports(Mutex<HashMap<String, Manuscript>>);

/// At most this many previews wait at once; older ones are dropped (the writer imports again).
const MAX_PENDING: usize = 4;

impl PendingImports {
    fn put(&self, manuscript: Manuscript) -> String {
        let mut pending = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if pending.len() >= MAX_PENDING {
            pending.clear();
        }
        let token = format!("import-{:016x}", rand::random::<u64>());
        pending.insert(token.clone(), manuscript);
        token
    }

    fn take(&self, token: &str) -> Option<Manuscript> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(token)
    }
}

/// Reads a DOCX, Markdown, plain-text or Fountain file (by its extension) into a manuscript, titled
/// after the file when it names no title.
pub async fn read_file(path: &Path) -> Result<Manuscript> {
    let format = path.extension().and_then(|e| e.to_str()).and_then(Format::from_extension).filter(|f| *f != Format::Epub).ok_or_else(|| {
        StudioError::Invalid(format!("{} is not a file Atelier imports: choose a .docx, .md, .txt or .fountain file", path.display()))
    })?;
    let size = tokio::fs::metadata(path).await.map_err(|e| StudioError::io(format!("cannot read {}", path.display()), e))?.len();
    if size > atelier_manuscript::MAX_INPUT_BYTES as u64 {
        return Err(StudioError::Invalid(format!("{} is larger than the {} MiB Atelier imports", path.display(), atelier_manuscript::MAX_INPUT_BYTES >> 20)));
    }
    let bytes = tokio::fs::read(path).await.map_err(|e| StudioError::io(format!("cannot read {}", path.display()), e))?;
    let mut manuscript = tokio::task::spawn_blocking(move || atelier_manuscript::import(&bytes, format))
        .await
        .map_err(|e| StudioError::Invalid(format!("the import stopped: {e}")))??;
    if manuscript.title.trim().is_empty() {
        manuscript.title = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "Imported".into());
    }
    Ok(manuscript)
}

/// Reads a file into a preview (nothing is written until it is accepted).
pub async fn preview_import(pending: &PendingImports, path: &Path) -> Result<ImportPreview> {
    let manuscript = read_file(path).await?;
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(preview_of(pending, manuscript, file_name))
}

fn preview_of(pending: &PendingImports, manuscript: Manuscript, file_name: String) -> ImportPreview {
    let chapters = preview_chapters(&manuscript);
    let (title, author, kind, words) = (manuscript.title.clone(), manuscript.author.clone(), project_kind(manuscript.kind), manuscript.words() as u32);
    ImportPreview { token: pending.put(manuscript), file_name, title, author, kind, words, chapters }
}

/// The chapters and scenes a manuscript will become, with each scene's words and opening.
pub fn preview_chapters(manuscript: &Manuscript) -> Vec<PreviewChapter> {
    manuscript
        .chapters
        .iter()
        .map(|c| PreviewChapter {
            part: c.part.clone(),
            title: c.title.clone(),
            scenes: c
                .scenes
                .iter()
                .map(|s| PreviewScene { title: s.title.clone(), words: atelier_manuscript::word_count(&s.text) as u32, opening: s.text.split_whitespace().take(24).collect::<Vec<_>>().join(" ") })
                .collect(),
        })
        .collect()
}

/// Creates a project from a manuscript: parts, chapters and scenes as the preview showed them.
pub async fn create_project(store: &Store, manuscript: &Manuscript, title: Option<&str>, kind: Option<ProjectKind>) -> Result<Project> {
    let title = title.map(str::trim).filter(|t| !t.is_empty()).unwrap_or(&manuscript.title);
    let project = store
        .projects()
        .create(&NewProject { title: title.to_string(), kind: kind.unwrap_or(project_kind(manuscript.kind)), author: manuscript.author.clone(), word_goal: None })
        .await?;
    let add = |parent: Option<i64>, kind: NodeKind, title: &str, text: Option<&str>| NewNode {
        project_id: project.id,
        parent_id: parent,
        kind,
        title: title.to_string(),
        index: None,
        text: text.map(str::to_string),
        synopsis: None,
    };
    let mut part: Option<i64> = None;
    for chapter in &manuscript.chapters {
        if let Some(part_title) = &chapter.part {
            part = Some(store.binder().add(&add(None, NodeKind::Part, part_title, None)).await?.id);
        }
        let parent = if chapter.title.is_empty() && chapter.part.is_none() && part.is_none() {
            None
        } else if chapter.title.is_empty() {
            part
        } else {
            Some(store.binder().add(&add(part, NodeKind::Chapter, &chapter.title, None)).await?.id)
        };
        for (index, scene) in chapter.scenes.iter().enumerate() {
            let title = if scene.title.trim().is_empty() { format!("Scene {}", index + 1) } else { scene.title.clone() };
            store.binder().add(&add(parent, NodeKind::Scene, &title, Some(&scene.text))).await?;
        }
    }
    Ok(project)
}

/// Accepts a preview: the project it showed, created now.
pub async fn accept_import(store: &Store, pending: &PendingImports, token: &str, title: Option<&str>, kind: Option<ProjectKind>) -> Result<Project> {
    let manuscript = pending.take(token).ok_or_else(|| StudioError::Invalid("This import preview has expired; import the file again.".into()))?;
    create_project(store, &manuscript, title, kind).await
}

/// A writing action on a scene reads what comes before it in its chapter: the earlier scenes' text
/// goes before the text before the cursor (and before the document, for actions that read it whole),
/// separated as scenes are. The action's token budget then keeps the end of it.
pub async fn with_scene_context(store: &Store, document_id: Option<i64>, input: &ActionInput) -> Result<ActionInput> {
    let Some(document_id) = document_id else { return Ok(input.clone()) };
    let Some(scene) = store.binder().scene_of_document(document_id).await? else { return Ok(input.clone()) };
    let earlier = preceding_scenes(store, &scene).await?;
    if earlier.is_empty() {
        return Ok(input.clone());
    }
    let mut with = input.clone();
    let join = |own: &str| if own.trim().is_empty() { earlier.clone() } else { format!("{earlier}{SCENE_BREAK}{own}") };
    with.before = join(&input.before);
    with.document = join(&input.document);
    Ok(with)
}

/// The text of the scenes before `scene` in its chapter (or, outside a chapter, among its siblings).
async fn preceding_scenes(store: &Store, scene: &BinderNode) -> Result<String> {
    let Some(parent) = scene.parent_id else {
        return Ok(String::new());
    };
    let scenes = store.binder().scenes_under(parent).await?;
    let texts: Vec<&str> = scenes.iter().take_while(|s| s.node.id != scene.id).map(|s| s.document.body.trim()).filter(|t| !t.is_empty()).collect();
    Ok(texts.join(SCENE_BREAK))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggested_names_keep_the_title_readable_and_safe() {
        assert_eq!(suggested_name("The Salt Road", Format::Docx), "The Salt Road.docx");
        assert_eq!(suggested_name("../../etc/passwd", Format::Epub), "etc passwd.epub");
        assert_eq!(suggested_name("///", Format::Markdown), "manuscript.md");
    }
}
