//! Preparing the on-device model for the writer's next request while they select a passage or type a
//! question: the request the panel would send is computed into the model's cache in the background,
//! so that pressing the button computes only what changed since (the instruction, the last word).
//! A preparation never delays a request by more than one layer: any request stops it (see
//! [`atelier_fusion::local::LocalEngine::prepare`]), and it never waits for a model to load.

use atelier_engine::{Prepared, SamplingParams};
use atelier_store::Store;

use crate::error::Result;
use crate::generation::{chat_spec, write_spec, ContextFor};
use crate::model_host::ModelHost;

/// Prepares the run `target` describes (the one the Context panel previews); `None` where no model
/// is loaded yet.
pub async fn prepare(host: &ModelHost, store: Option<&Store>, target: &ContextFor) -> Result<Option<Prepared>> {
    let Some(engine) = host.engine_now() else { return Ok(None) };
    let spec = match target {
        // Sampling does not change the prompt; a run draws its own seed.
        ContextFor::Write(params) => write_spec(host, store, &params.input, SamplingParams::default(), params.document_id).await?,
        ContextFor::Chat(params) => chat_spec(host, store, params).await?,
    };
    // Not saved to disk for next time: that is for what runs compute (a preparation at every pause
    // would write the context again and again).
    Ok(Some(engine.prepare(spec.request().prompt).await?))
}
