//! Keeps an on-device generation in the library's history — the on-device twin of fusion's
//! `RunRecorder`. The run is stored with its whole [`GenerationSpec`] (action and the text it read,
//! system prompt, chat turns, sampling and seed) before the model starts, so History can run it again.

use std::time::Instant;

use atelier_engine::{Generation, StopReason};
use atelier_store::{MemberFinish, MemberRole, NewMember, NewRun, RunFinish, RunKind, RunStatus, Store};

use crate::error::Result;
use crate::generation::GenerationSpec;

pub struct GenerationRecorder {
    store: Store,
    run_id: i64,
    member: Option<i64>,
    started: Instant,
}

impl GenerationRecorder {
    /// Records the request; nothing has been sent to the model yet.
    pub async fn start(store: &Store, spec: &GenerationSpec, document_id: Option<i64>) -> Result<Self> {
        let run = NewRun {
            document_id,
            action: Some(spec.label()),
            prompt: spec.prompt.clone(),
            seed: Some(spec.sampling.seed as i64),
            settings: Some(serde_json::to_value(spec).map_err(|e| crate::StudioError::Internal(e.to_string()))?),
            ..Default::default()
        };
        let run_id = store.runs().start(RunKind::Generate, &run).await?;
        Ok(Self { store: store.clone(), run_id, member: None, started: Instant::now() })
    }

    pub fn run_id(&self) -> i64 {
        self.run_id
    }

    /// Names the model that answers.
    pub async fn seat(&mut self, model: &str) -> Result<()> {
        let seat = NewMember { position: 0, label: "A".into(), role: MemberRole::Member, round: 0, provider: "local".into(), model: model.into() };
        self.member = Some(self.store.runs().add_member(self.run_id, &seat).await?);
        Ok(())
    }

    /// Records the answer, or why there is none.
    pub async fn finish(self, result: std::result::Result<&Generation, String>) -> Result<()> {
        let runs = self.store.runs();
        match result {
            Ok(g) => {
                let status = if g.stop_reason == StopReason::Cancelled { RunStatus::Cancelled } else { RunStatus::Completed };
                let (prompt_tokens, completion_tokens) = (g.prompt_tokens as i64, g.completion_tokens as i64);
                if let Some(member) = self.member {
                    runs.append_output(member, &g.text).await?;
                    let finish = MemberFinish {
                        prompt_tokens: Some(prompt_tokens),
                        completion_tokens: Some(completion_tokens),
                        cost_usd: Some(0.0),
                        latency_ms: Some(self.started.elapsed().as_millis() as i64),
                        first_token_ms: Some(g.timings.time_to_first_token_ms as i64),
                        cached_tokens: Some(g.prompt_tokens.saturating_sub(g.timings.prompt_tokens_processed) as i64),
                        ..MemberFinish::new(status)
                    };
                    runs.finish_member(member, &finish).await?;
                }
                let finish = RunFinish { final_text: Some(g.text.clone()), prompt_tokens, completion_tokens, ..RunFinish::new(status) };
                runs.finish(self.run_id, &finish).await?;
            }
            Err(message) => {
                if let Some(member) = self.member {
                    runs.finish_member(member, &MemberFinish::failed(&message)).await?;
                }
                runs.finish(self.run_id, &RunFinish::failed(message)).await?;
            }
        }
        Ok(())
    }
}
