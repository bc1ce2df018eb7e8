//! `atelier history …` and `atelier keys …`: the library and the keychain from the command line.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use atelier_keys::{KeyScope, KeyringStore, SecretStore, SecretString};
use atelier_store::{RunFilter, Store, HIGHLIGHT_END, HIGHLIGHT_START};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum HistoryCommand {
    /// Recent runs, newest first.
    List {
        #[arg(long, default_value_t = 20)]
        limit: i64,
        /// generate or fusion.
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Full-text search over documents, chats, prompts and every model output.
    Search {
        query: String,
        #[arg(long, default_value_t = 20)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// Export a run, document or conversation as Markdown (default) or JSON.
    Export {
        /// run, document or conversation.
        what: String,
        id: i64,
        #[arg(long, default_value = "md")]
        format: String,
    },
    /// Run an on-device generation again: the same action on the same text, with the same sampling and
    /// seed (a new run in the history).
    Rerun {
        id: i64,
        #[command(flatten)]
        model: crate::ModelArgs,
        #[command(flatten)]
        output: crate::write::OutputArgs,
    },
    /// Write the whole library to a JSON bundle, or a consistent copy of the database file (--backup).
    Dump {
        output: PathBuf,
        #[arg(long)]
        backup: bool,
    },
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Store a provider's API key in the OS keychain; the key is read from stdin, never from arguments.
    /// The key is bound to the provider's address (the library's, the preset's, or `--url`) and is
    /// never sent anywhere else.
    Set {
        provider: String,
        /// The base URL the key is for (default: the provider's address in the library or its preset).
        #[arg(long)]
        url: Option<String>,
    },
    /// Remove a provider's key from the keychain.
    Delete {
        provider: String,
        #[arg(long)]
        url: Option<String>,
    },
    /// Whether keys are set (never the keys themselves), for each provider's address (or `--url`).
    Status {
        providers: Vec<String>,
        #[arg(long)]
        url: Option<String>,
    },
}

pub fn history(command: HistoryCommand) -> Result<()> {
    if let HistoryCommand::Rerun { id, model, output } = &command {
        return crate::write::rerun(*id, model, *output);
    }
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let store = Store::open_default().await?;
        match command {
            HistoryCommand::List { limit, kind, json } => {
                let runs = store.runs().list(&RunFilter { kind, ..Default::default() }, limit, 0).await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&runs)?);
                } else if runs.is_empty() {
                    println!("no runs yet");
                } else {
                    for r in runs {
                        let prompt: String = r.prompt.chars().take(60).collect();
                        println!("{:>5}  {:<8} {:<10} {:<11} ${:<8.4} {}", r.id, r.kind, r.mode.unwrap_or_default(), r.status, r.cost_usd, prompt.replace('\n', " "));
                    }
                }
            }
            HistoryCommand::Search { query, limit, json } => {
                let hits = store.search(&query, limit, 0).await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&hits)?);
                } else {
                    for h in hits {
                        // Terminals highlight with reverse video.
                        let snippet = h.snippet.replace(HIGHLIGHT_START, "\x1b[7m").replace(HIGHLIGHT_END, "\x1b[0m").replace('\n', " ");
                        println!("{:<10} {:>5}  {}\n           {}", h.kind, h.open_id, h.title, snippet);
                    }
                }
            }
            HistoryCommand::Export { what, id, format } => {
                let text = atelier_studio::export::text(&store, &what, id, &format).await?;
                print!("{text}");
            }
            HistoryCommand::Rerun { .. } => unreachable!("handled above"),
            HistoryCommand::Dump { output, backup } => {
                if backup {
                    store.backup(&output).await?;
                } else {
                    let bundle = store.export_library().await?;
                    std::fs::write(&output, serde_json::to_vec_pretty(&bundle)?).with_context(|| format!("cannot write {}", output.display()))?;
                }
                eprintln!("wrote {}", output.display());
            }
        }
        Ok(())
    })
}

/// The key scope a `keys` command means: `--url`, else the provider's address in the library or preset.
async fn key_scope(provider: &str, url: Option<String>) -> Result<KeyScope> {
    let url = match url {
        Some(url) => url,
        None => {
            let store = Store::open_default().await.ok();
            atelier_studio::providers::base_url(store.as_ref(), provider).await?
        }
    };
    Ok(atelier_studio::providers::scope(provider, &url)?)
}

pub fn keys(command: KeysCommand) -> Result<()> {
    let store = KeyringStore::default();
    let runtime = tokio::runtime::Runtime::new()?;
    match command {
        KeysCommand::Set { provider, url } => {
            let scope = runtime.block_on(key_scope(&provider, url))?;
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                eprint!("API key for {scope} (input hidden): ");
                std::io::stderr().flush()?;
            }
            let key = if stdin.is_terminal() {
                rpassword::read_password().context("cannot read the key")?
            } else {
                let mut line = String::new();
                stdin.lock().read_line(&mut line)?;
                line
            };
            let key = SecretString::from(key.trim().to_string());
            store.set(&scope, &key)?;
            eprintln!("the key for {scope} is in the keychain");
        }
        KeysCommand::Delete { provider, url } => {
            let scope = runtime.block_on(key_scope(&provider, url))?;
            if store.delete(&scope)? {
                eprintln!("deleted the key for {scope}");
            } else {
                eprintln!("no key was set for {scope}");
            }
        }
        KeysCommand::Status { providers, url } => {
            let providers = if providers.is_empty() {
                atelier_fusion::config::presets().into_iter().filter(|p| p.requires_key).map(|p| p.id).collect()
            } else {
                providers
            };
            for p in providers {
                let scope = runtime.block_on(key_scope(&p, url.clone()))?;
                println!("{scope}: {}", if store.has(&scope)? { "set" } else { "not set" });
            }
        }
    }
    Ok(())
}
