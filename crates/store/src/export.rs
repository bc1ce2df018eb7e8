//! Export to Markdown and JSON, and the whole library as one JSON bundle (export and import).

use serde::{Deserialize, Serialize};

use crate::{Conversation, Document, LedgerEntry, Message, ProviderRecord, Result, Revision, Run, RunMember, RunWithMembers, Store, StoreError};

/// Everything a user wrote and ran, in one file. Models are references to files on disk and are not
/// part of it; keys never are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LibraryBundle {
    pub format: String,
    pub version: u32,
    pub exported_at: i64,
    pub documents: Vec<Document>,
    pub revisions: Vec<Revision>,
    pub conversations: Vec<Conversation>,
    pub messages: Vec<Message>,
    pub runs: Vec<Run>,
    pub run_members: Vec<RunMember>,
    pub providers: Vec<ProviderRecord>,
    pub settings: serde_json::Map<String, serde_json::Value>,
    pub ledger: Vec<LedgerEntry>,
}

const FORMAT: &str = "atelier-library";

/// What to export: one run, document or conversation, by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum ExportTarget {
    Run(i64),
    Document(i64),
    Conversation(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Markdown,
    Json,
}

impl ExportTarget {
    /// The target a front end names: `run`, `document` or `conversation`.
    pub fn parse(what: &str, id: i64) -> Result<Self> {
        match what {
            "run" => Ok(Self::Run(id)),
            "document" => Ok(Self::Document(id)),
            "conversation" => Ok(Self::Conversation(id)),
            _ => Err(StoreError::Invalid(format!("cannot export `{what}`: choose run, document or conversation"))),
        }
    }
}

impl ExportFormat {
    /// `md` or `markdown`, or `json`.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "md" | "markdown" => Ok(Self::Markdown),
            "json" => Ok(Self::Json),
            _ => Err(StoreError::Invalid(format!("unknown export format `{name}`: choose md (Markdown) or json"))),
        }
    }

    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Markdown => "md",
            Self::Json => "json",
        }
    }

    /// The name a save dialog shows.
    pub fn label(self) -> &'static str {
        match self {
            Self::Markdown => "Markdown",
            Self::Json => "JSON",
        }
    }
}

impl Store {
    /// A run, document or conversation as Markdown or JSON text.
    pub async fn export(&self, target: ExportTarget, format: ExportFormat) -> Result<String> {
        use ExportFormat::{Json, Markdown};
        match (target, format) {
            (ExportTarget::Run(id), Markdown) => self.export_run_markdown(id).await,
            (ExportTarget::Run(id), Json) => self.export_run_json(id).await,
            (ExportTarget::Document(id), Markdown) => self.export_document_markdown(id).await,
            (ExportTarget::Document(id), Json) => self.export_document_json(id).await,
            (ExportTarget::Conversation(id), Markdown) => self.export_conversation_markdown(id).await,
            (ExportTarget::Conversation(id), Json) => self.export_conversation_json(id).await,
        }
    }

    async fn export_document_markdown(&self, id: i64) -> Result<String> {
        let doc = self.documents().get(id).await?;
        Ok(format!("# {}\n\n{}\n", doc.title, doc.body.trim_end()))
    }

    async fn export_document_json(&self, id: i64) -> Result<String> {
        let doc = self.documents().get(id).await?;
        let revisions = self.documents().revisions(id).await?;
        Ok(serde_json::to_string_pretty(&serde_json::json!({ "document": doc, "revisions": revisions }))?)
    }

    async fn export_conversation_markdown(&self, id: i64) -> Result<String> {
        let conversation = self.conversations().get(id).await?;
        let mut out = format!("# {}\n", conversation.title);
        for m in self.conversations().messages(id).await? {
            let who = match m.role.as_str() {
                "user" => "You",
                "assistant" => "Atelier",
                _ => "System",
            };
            out.push_str(&format!("\n## {who}\n\n{}\n", m.content.trim_end()));
        }
        Ok(out)
    }

    async fn export_conversation_json(&self, id: i64) -> Result<String> {
        let conversation = self.conversations().get(id).await?;
        let messages = self.conversations().messages(id).await?;
        Ok(serde_json::to_string_pretty(&serde_json::json!({ "conversation": conversation, "messages": messages }))?)
    }

    async fn export_run_markdown(&self, id: i64) -> Result<String> {
        let RunWithMembers { run, members } = self.runs().get(id).await?;
        let mut out = format!("# {} run {}\n\n", if run.kind == "fusion" { "Fusion" } else { "Generation" }, run.id);
        if let Some(mode) = &run.mode {
            out.push_str(&format!("Mode: {mode}"));
            if let Some(judge) = &run.judge {
                out.push_str(&format!(" · judge: {judge}"));
            }
            out.push_str("\n\n");
        }
        out.push_str(&format!("Status: {} · {} + {} tokens · ${:.4}\n\n", run.status, run.prompt_tokens, run.completion_tokens, run.cost_usd));
        out.push_str(&format!("## Prompt\n\n{}\n", run.prompt.trim_end()));
        for m in &members {
            let heading = if m.role == "judge" {
                format!("Judge ({} · {})", m.provider, m.model)
            } else if m.round > 0 {
                format!("Response {} — round {} ({} · {})", m.label, m.round, m.provider, m.model)
            } else {
                format!("Response {} ({} · {})", m.label, m.provider, m.model)
            };
            out.push_str(&format!("\n## {heading}\n\n"));
            if let Some(error) = &m.error {
                out.push_str(&format!("> Failed: {error}\n\n"));
            }
            out.push_str(&format!("{}\n", m.output.trim_end()));
        }
        if let Some(analysis) = &run.analysis {
            let value: serde_json::Value = serde_json::from_str(analysis)?;
            out.push_str(&format!("\n## Analysis\n\n```json\n{}\n```\n", serde_json::to_string_pretty(&value)?));
        }
        if let Some(text) = &run.final_text {
            out.push_str(&format!("\n## Final answer\n\n{}\n", text.trim_end()));
        }
        Ok(out)
    }

    async fn export_run_json(&self, id: i64) -> Result<String> {
        Ok(serde_json::to_string_pretty(&self.runs().get(id).await?)?)
    }

    pub async fn export_library(&self) -> Result<LibraryBundle> {
        let pool = self.pool();
        Ok(LibraryBundle {
            format: FORMAT.into(),
            version: 1,
            exported_at: crate::now_ms(),
            documents: sqlx::query_as("SELECT id, title, body, created_at, updated_at FROM documents WHERE deleted_at IS NULL ORDER BY id")
                .fetch_all(pool)
                .await?,
            revisions: sqlx::query_as(
                "SELECT r.id, r.document_id, r.title, r.body, r.reason, r.created_at FROM revisions r \
                 JOIN documents d ON d.id = r.document_id WHERE d.deleted_at IS NULL ORDER BY r.id",
            )
            .fetch_all(pool)
            .await?,
            conversations: sqlx::query_as("SELECT id, document_id, title, created_at, updated_at FROM conversations ORDER BY id")
                .fetch_all(pool)
                .await?,
            messages: sqlx::query_as("SELECT id, conversation_id, role, content, run_id, created_at FROM messages ORDER BY id")
                .fetch_all(pool)
                .await?,
            runs: sqlx::query_as("SELECT * FROM runs ORDER BY id").fetch_all(pool).await?,
            run_members: sqlx::query_as("SELECT * FROM run_members ORDER BY id").fetch_all(pool).await?,
            providers: self.providers().list().await?,
            settings: self.settings().all().await?,
            ledger: sqlx::query_as("SELECT * FROM ledger ORDER BY id").fetch_all(pool).await?,
        })
    }

    /// Adds a bundle's contents to this library in one transaction. Rows get new ids; references between
    /// them are remapped. Providers and settings with the same id/key are overwritten.
    #[tracing::instrument(level = "info", skip_all, fields(documents = bundle.documents.len(), runs = bundle.runs.len()))]
    pub async fn import_library(&self, bundle: &LibraryBundle) -> Result<()> {
        if bundle.format != FORMAT || bundle.version != 1 {
            return Err(StoreError::Invalid(format!("not an Atelier library bundle ({} v{})", bundle.format, bundle.version)));
        }
        use std::collections::HashMap;
        let mut tx = crate::write_tx(self.pool()).await?;
        let mut docs = HashMap::new();
        for d in &bundle.documents {
            let id = crate::documents::insert(&mut tx, &d.title, &d.body, d.created_at, d.updated_at).await?;
            docs.insert(d.id, id);
        }
        for r in &bundle.revisions {
            let Some(&doc) = docs.get(&r.document_id) else { continue };
            sqlx::query("INSERT INTO revisions (document_id, title, body, reason, created_at) VALUES (?, ?, ?, ?, ?)")
                .bind(doc)
                .bind(&r.title)
                .bind(&r.body)
                .bind(&r.reason)
                .bind(r.created_at)
                .execute(&mut *tx)
                .await?;
        }
        let mut runs = HashMap::new();
        for r in &bundle.runs {
            let id = sqlx::query(
                "INSERT INTO runs (kind, document_id, action, prompt, mode, judge, seed, status, final_text, analysis, error, \
                 settings, prompt_tokens, completion_tokens, cost_usd, started_at, finished_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&r.kind)
            .bind(r.document_id.and_then(|d| docs.get(&d).copied()))
            .bind(&r.action)
            .bind(&r.prompt)
            .bind(&r.mode)
            .bind(&r.judge)
            .bind(r.seed)
            .bind(&r.status)
            .bind(&r.final_text)
            .bind(&r.analysis)
            .bind(&r.error)
            .bind(&r.settings)
            .bind(r.prompt_tokens)
            .bind(r.completion_tokens)
            .bind(r.cost_usd)
            .bind(r.started_at)
            .bind(r.finished_at)
            .execute(&mut *tx)
            .await?
            .last_insert_rowid();
            runs.insert(r.id, id);
        }
        for m in &bundle.run_members {
            let Some(&run) = runs.get(&m.run_id) else { continue };
            sqlx::query(
                "INSERT INTO run_members (run_id, position, label, role, round, provider, model, output, status, error, \
                 prompt_tokens, completion_tokens, cost_usd, latency_ms, first_token_ms, cached_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(run)
            .bind(m.position)
            .bind(&m.label)
            .bind(&m.role)
            .bind(m.round)
            .bind(&m.provider)
            .bind(&m.model)
            .bind(&m.output)
            .bind(&m.status)
            .bind(&m.error)
            .bind(m.prompt_tokens)
            .bind(m.completion_tokens)
            .bind(m.cost_usd)
            .bind(m.latency_ms)
            .bind(m.first_token_ms)
            .bind(m.cached_tokens)
            .execute(&mut *tx)
            .await?;
        }
        let mut conversations = HashMap::new();
        for c in &bundle.conversations {
            let id = sqlx::query("INSERT INTO conversations (document_id, title, created_at, updated_at) VALUES (?, ?, ?, ?)")
                .bind(c.document_id.and_then(|d| docs.get(&d).copied()))
                .bind(&c.title)
                .bind(c.created_at)
                .bind(c.updated_at)
                .execute(&mut *tx)
                .await?
                .last_insert_rowid();
            conversations.insert(c.id, id);
        }
        for m in &bundle.messages {
            let Some(&conversation) = conversations.get(&m.conversation_id) else { continue };
            sqlx::query("INSERT INTO messages (conversation_id, role, content, run_id, created_at) VALUES (?, ?, ?, ?, ?)")
                .bind(conversation)
                .bind(&m.role)
                .bind(&m.content)
                .bind(m.run_id.and_then(|r| runs.get(&r).copied()))
                .bind(m.created_at)
                .execute(&mut *tx)
                .await?;
        }
        for p in &bundle.providers {
            sqlx::query(
                "INSERT INTO providers (id, name, kind, base_url, models, enabled, max_concurrent, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT(id) DO UPDATE SET name = excluded.name, kind = excluded.kind, base_url = excluded.base_url, \
                 models = excluded.models, enabled = excluded.enabled, max_concurrent = excluded.max_concurrent, updated_at = excluded.updated_at",
            )
            .bind(&p.id)
            .bind(&p.name)
            .bind(&p.kind)
            .bind(&p.base_url)
            .bind(sqlx::types::Json(&p.models))
            .bind(p.enabled)
            .bind(p.max_concurrent.filter(|n| (1..=64).contains(n)))
            .bind(p.created_at)
            .bind(p.updated_at)
            .execute(&mut *tx)
            .await?;
        }
        for (key, value) in &bundle.settings {
            sqlx::query("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
                .bind(key)
                .bind(serde_json::to_string(value)?)
                .execute(&mut *tx)
                .await?;
        }
        for e in &bundle.ledger {
            sqlx::query(
                "INSERT INTO ledger (at, provider, model, endpoint, run_id, bytes_sent, bytes_received, prompt_tokens, \
                 completion_tokens, cost_usd, status, items) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(e.at)
            .bind(&e.provider)
            .bind(&e.model)
            .bind(&e.endpoint)
            .bind(e.run_id.and_then(|r| runs.get(&r).copied()))
            .bind(e.bytes_sent)
            .bind(e.bytes_received)
            .bind(e.prompt_tokens)
            .bind(e.completion_tokens)
            .bind(e.cost_usd)
            .bind(&e.status)
            .bind(sqlx::types::Json(&e.items))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        // The bundle's documents (a format without projects) become scenes of the first project.
        self.projects().adopt_loose_documents().await?;
        Ok(())
    }
}
