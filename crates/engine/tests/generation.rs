//! Generation on the embedded model: determinism, streaming, stop conditions, cancellation, cache reuse.

mod common;

use atelier_engine::{
    CancelToken, ChatMessage, GenerateRequest, Generation, KvCacheType, LoadOptions, Model, Prompt, SamplingParams, StopReason,
};

fn model() -> Model {
    Model::load(common::default_model(), &LoadOptions { context_length: Some(1024), ..Default::default() }).unwrap()
}

fn request(prompt: &str, max_tokens: usize, sampling: SamplingParams) -> GenerateRequest {
    GenerateRequest { prompt: Prompt::Chat(vec![ChatMessage::user(prompt)]), max_tokens, sampling, stop: vec![], response_format: None }
}

fn run(model: &mut Model, request: &GenerateRequest) -> (Generation, Vec<String>) {
    let mut pieces = Vec::new();
    let generation = model.generate(request, &CancelToken::new(), &mut |c| pieces.push(c.text.to_string())).unwrap();
    (generation, pieces)
}

#[test]
fn greedy_generation_is_deterministic_and_streams_its_text() {
    let mut model = model();
    let req = request("Name three colours.", 24, SamplingParams::greedy());
    let (first, pieces) = run(&mut model, &req);
    let (second, _) = run(&mut model, &req);
    assert!(!first.text.trim().is_empty());
    assert_eq!(first.text, second.text);
    assert_eq!(pieces.concat(), first.text);
    assert!(first.completion_tokens > 0 && first.completion_tokens <= 24);
    // A fresh model (no cache) agrees with the warm one.
    let (fresh, _) = run(&mut self::model(), &req);
    assert_eq!(fresh.text, first.text);
}

#[test]
fn same_seed_same_text_and_other_seed_differs() {
    same_seed_same_text(&mut model());
    // With the f16 cache too: the repeat continues the first run's cache (decode's path for its tail).
    let f16 = LoadOptions { context_length: Some(1024), kv_cache: KvCacheType::F16, ..Default::default() };
    same_seed_same_text(&mut Model::load(common::default_model(), &f16).unwrap());
}

fn same_seed_same_text(model: &mut Model) {
    let sampled = |seed| SamplingParams { temperature: 1.2, top_p: 1.0, top_k: 0, min_p: 0.0, seed, ..Default::default() };
    let req = |seed| request("Write a short line about autumn.", 32, sampled(seed));
    let a = run(model, &req(1)).0.text;
    let b = run(model, &req(1)).0.text;
    let c = run(model, &req(2)).0.text;
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn max_tokens_bounds_the_reply() {
    let mut model = model();
    let (g, _) = run(&mut model, &request("Tell me a long story about a lighthouse keeper.", 5, SamplingParams::greedy()));
    assert_eq!(g.completion_tokens, 5);
    assert_eq!(g.stop_reason, StopReason::MaxTokens);
}

#[test]
fn the_model_ends_its_turn_on_its_own() {
    let mut model = model();
    let (g, _) = run(&mut model, &request("Say hi.", 200, SamplingParams::greedy()));
    assert_eq!(g.stop_reason, StopReason::EndOfTurn);
    assert!(!g.text.contains("<|im_end|>"));
}

#[test]
fn a_stop_string_cuts_the_text_before_it() {
    let mut model = model();
    let base = request("Count from 1 to 10, separated by commas.", 40, SamplingParams::greedy());
    let (full, _) = run(&mut model, &base);
    assert!(full.text.contains('5'), "unexpected reply: {}", full.text);
    let stopped = GenerateRequest { stop: vec!["5".into()], ..base };
    let (g, pieces) = run(&mut model, &stopped);
    assert_eq!(g.stop_reason, StopReason::StopString);
    assert_eq!(g.text, full.text[..full.text.find('5').unwrap()]);
    assert_eq!(pieces.concat(), g.text);
}

#[test]
fn cancelling_stops_at_the_next_token() {
    let mut model = model();
    let cancel = CancelToken::new();
    let mut pieces = 0;
    let req = request("Write a long essay about the history of printing.", 200, SamplingParams::greedy());
    let g = model
        .generate(&req, &cancel, &mut |_chunk| {
            pieces += 1;
            if pieces == 3 {
                cancel.cancel();
            }
        })
        .unwrap();
    assert_eq!(g.stop_reason, StopReason::Cancelled);
    assert!(g.completion_tokens < 10, "{} tokens after cancelling", g.completion_tokens);
}

#[test]
fn timings_are_reported() {
    let mut model = model();
    let (g, _) = run(&mut model, &request("Describe rain in one sentence.", 16, SamplingParams::greedy()));
    let t = &g.timings;
    assert_eq!(t.prompt_tokens_processed, g.prompt_tokens);
    assert!(t.prompt_tokens_per_second > 0.0);
    assert!(t.decode_tokens_per_second > 0.0);
    assert!(t.time_to_first_token_ms > 0.0 && t.time_to_first_token_ms <= t.total_ms);
}

#[test]
fn a_continued_conversation_reuses_the_cache_and_matches_a_fresh_run() {
    let mut warm = model();
    let first = request("Give me a name for a cat.", 12, SamplingParams::greedy());
    let (reply, _) = run(&mut warm, &first);
    let follow_up = GenerateRequest {
        prompt: Prompt::Chat(vec![
            ChatMessage::user("Give me a name for a cat."),
            ChatMessage::assistant(reply.text.clone()),
            ChatMessage::user("And one for a dog?"),
        ]),
        ..first
    };
    let (continued, _) = run(&mut warm, &follow_up);
    assert!(continued.timings.prompt_tokens_processed < continued.prompt_tokens);
    let (fresh, _) = run(&mut model(), &follow_up);
    assert_eq!(fresh.timings.prompt_tokens_processed, fresh.prompt_tokens);
    assert_eq!(continued.text, fresh.text);
}

/// A prompt prepared ahead (while the writer selects or types) leaves only its last token for the
/// request, in steps whose sizes do not change the result: the text is a cold run's. A request that
/// differs from the prepared guess recomputes from its first changed token only.
#[test]
fn a_prepared_prompt_costs_its_request_one_token_and_the_same_text() {
    let scene = "The keeper climbed the stairs and lit the lamp while the storm came in. ".repeat(10);
    let rewrite = request(&format!("{scene}\n\nRewrite the passage above to be more vivid."), 16, SamplingParams::greedy());
    let shorten = request(&format!("{scene}\n\nShorten the passage above."), 16, SamplingParams::greedy());
    let (cold, _) = run(&mut model(), &rewrite);
    let (cold_shorten, _) = run(&mut model(), &shorten);

    let mut warm = model();
    let prepared = warm.prepare(&rewrite.prompt, &CancelToken::new()).unwrap();
    assert_eq!((prepared.cached_tokens, prepared.computed_tokens, prepared.cancelled), (0, cold.prompt_tokens - 1, false), "{prepared:?}");
    let (ready, _) = run(&mut warm, &rewrite);
    assert_eq!(ready.timings.prompt_tokens_processed, 1);
    assert_eq!(ready.text, cold.text);

    // Preparing again finds everything computed; another action shares all but its instruction.
    let again = warm.prepare(&rewrite.prompt, &CancelToken::new()).unwrap();
    assert_eq!((again.cached_tokens, again.computed_tokens), (cold.prompt_tokens - 1, 0));
    let (other, _) = run(&mut warm, &shorten);
    assert!(other.timings.prompt_tokens_processed * 5 < other.prompt_tokens, "{:?}", other.timings);
    assert_eq!(other.text, cold_shorten.text);

    // A cancelled preparation computes nothing and leaves the cache as it was.
    let stopped = CancelToken::new();
    stopped.cancel();
    let mut fresh = model();
    let nothing = fresh.prepare(&rewrite.prompt, &stopped).unwrap();
    assert_eq!((nothing.computed_tokens, nothing.cancelled), (0, true));
    let (after, _) = run(&mut fresh, &rewrite);
    assert_eq!((after.timings.prompt_tokens_processed, after.text.as_str()), (cold.prompt_tokens, cold.text.as_str()));
}

#[test]
fn a_prompt_longer_than_the_context_is_refused() {
    let mut model =
        Model::load(common::default_model(), &LoadOptions { context_length: Some(32), ..Default::default() }).unwrap();
    let long = "word ".repeat(100);
    let err = model.generate(&request(&long, 4, SamplingParams::greedy()), &CancelToken::new(), &mut |_| {}).unwrap_err();
    assert!(matches!(err, atelier_engine::EngineError::ContextOverflow { context_length: 32, .. }), "{err}");
    // The model still works afterwards.
    let (g, _) = run(&mut model, &request("Hi", 4, SamplingParams::greedy()));
    assert!(g.completion_tokens > 0);
}

/// A chapter, a chat question about something else, then the chapter again: the chapter's cache was
/// parked, not overwritten, so only the new tail is computed, and the text is a fresh model's.
#[test]
fn going_back_to_an_earlier_context_continues_its_parked_cache() {
    let chapter = "The lighthouse keeper counted the ships that passed each night. ".repeat(12);
    let continue_it = request(&format!("{chapter}\n\nContinue the story."), 12, SamplingParams::greedy());
    let rewrite_it = request(&format!("{chapter}\n\nRewrite the last sentence."), 12, SamplingParams::greedy());
    // Long enough to be worth parking in turn (shorter contexts are simply recomputed).
    let chat = request(&format!("{}What rhymes with orange? Answer in one line.", "I have a question about poetry. ".repeat(10)), 8, SamplingParams::greedy());

    let mut warm = model();
    let (first, _) = run(&mut warm, &continue_it);
    assert_eq!(first.timings.prompt_tokens_processed, first.prompt_tokens);
    let (question, _) = run(&mut warm, &chat);
    assert_eq!(warm.parked_contexts().0, 1, "the chapter is parked while the chat runs");
    let (rewritten, _) = run(&mut warm, &rewrite_it);
    let computed = rewritten.timings.prompt_tokens_processed;
    assert!(computed * 4 < rewritten.prompt_tokens, "only the tail after the chapter runs: {computed} of {}", rewritten.prompt_tokens);
    // The chat's own context was parked in turn: asking again reuses it.
    let (again, _) = run(&mut warm, &chat);
    assert!(again.timings.prompt_tokens_processed < again.prompt_tokens);

    let (fresh_rewrite, _) = run(&mut model(), &rewrite_it);
    let (fresh_chat, _) = run(&mut model(), &chat);
    assert_eq!((rewritten.text.as_str(), again.text.as_str()), (fresh_rewrite.text.as_str(), fresh_chat.text.as_str()));
    assert_eq!(question.text, fresh_chat.text);

    // With no budget for slots the chat overwrites the chapter, and the rewrite recomputes it.
    let mut single = Model::load(common::default_model(), &LoadOptions { context_length: Some(1024), cache_slots_bytes: Some(0), ..Default::default() }).unwrap();
    run(&mut single, &continue_it);
    run(&mut single, &chat);
    let (recomputed, _) = run(&mut single, &rewrite_it);
    assert_eq!(single.parked_contexts(), (0, 0));
    // Only the chat template's opening is shared with the chat; the chapter runs again.
    assert!(recomputed.timings.prompt_tokens_processed > 4 * computed, "{:?}", recomputed.timings);
    assert_eq!(recomputed.text, fresh_rewrite.text);
}

/// A context saved with an f16 cache is read back by an f16 model (half the bytes of an f32 save), and
/// an f32 model on the same file neither reads it nor removes it: each lists only what it can use.
#[test]
fn an_f16_cache_is_saved_and_read_back_and_an_f32_model_leaves_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    let at = |kv_cache| LoadOptions { context_length: Some(1024), kv_cache, saved_contexts_dir: Some(dir.path().to_path_buf()), ..Default::default() };
    let chapter = "The lighthouse keeper counted the ships that passed each night, and wrote their names down. ".repeat(24);
    let continue_it = request(&format!("{chapter}\n\nContinue the story."), 8, SamplingParams::greedy());
    let rewrite_it = request(&format!("{chapter}\n\nRewrite the last sentence."), 8, SamplingParams::greedy());
    let files = || std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.path()).collect::<Vec<_>>();
    let size = |f: &std::path::Path| std::fs::metadata(f).unwrap().len();

    let mut compact = Model::load(common::default_model(), &at(KvCacheType::F16)).unwrap();
    let (fresh, _) = run(&mut compact, &rewrite_it);
    compact.reset();
    run(&mut compact, &continue_it);
    assert!(compact.save_context().unwrap());
    drop(compact);
    let f16_file = files().pop().unwrap();

    let mut exact = Model::load(common::default_model(), &at(KvCacheType::F32)).unwrap();
    let (computed, _) = run(&mut exact, &rewrite_it);
    assert!(computed.timings.prompt_tokens_processed * 2 > computed.prompt_tokens, "an f32 model read an f16 file: {:?}", computed.timings);
    assert!(f16_file.exists(), "an f32 model removed the f16 model's file");
    exact.reset();
    run(&mut exact, &continue_it);
    assert!(exact.save_context().unwrap());
    let f32_file = files().into_iter().find(|f| *f != f16_file).unwrap();
    // The same tokens, so the same header and ids (at most 4,188 bytes with the checksum); the cache is
    // half the bytes: f32 − f16 is what the f16 file holds beyond its header.
    let (small, large) = (size(&f16_file), size(&f32_file));
    assert!(large > small && small - (large - small) <= 4_188, "{small} vs {large}");

    // A file of the first version (named without its value type) can never be read: it goes.
    let model_prefix = f16_file.file_name().unwrap().to_string_lossy().split('-').next().unwrap().to_string();
    let legacy = dir.path().join(format!("{model_prefix}-00112233445566778899aabb.atkv"));
    std::fs::write(&legacy, b"ATKV version one").unwrap();

    let mut reopened = Model::load(common::default_model(), &at(KvCacheType::F16)).unwrap();
    let (continued, _) = run(&mut reopened, &rewrite_it);
    assert!(continued.timings.prompt_tokens_processed * 4 < continued.prompt_tokens, "{:?}", continued.timings);
    assert_eq!(continued.text, fresh.text, "a context read back continues as the one computed");
    assert!(!legacy.exists(), "an unreadable first-version file stays");
    assert!(f32_file.exists(), "the f16 model removed the f32 model's file");
}

/// A context saved by one run of the app is read back by the next (a new model on the same file): only
/// the new tail is computed and the text is a fresh model's. A damaged or cut file is ignored and removed.
#[test]
fn a_saved_context_is_continued_after_a_restart_and_a_damaged_one_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let options = LoadOptions { context_length: Some(1024), saved_contexts_dir: Some(dir.path().to_path_buf()), ..Default::default() };
    let chapter = "The lighthouse keeper counted the ships that passed each night, and wrote their names down. ".repeat(24);
    let continue_it = request(&format!("{chapter}\n\nContinue the story."), 8, SamplingParams::greedy());
    let rewrite_it = request(&format!("{chapter}\n\nRewrite the last sentence."), 8, SamplingParams::greedy());
    let (fresh, _) = run(&mut model(), &rewrite_it);

    let mut first = Model::load(common::default_model(), &options).unwrap();
    run(&mut first, &continue_it);
    assert!(first.save_context().unwrap());
    assert!(!first.save_context().unwrap(), "saved already: nothing is written twice");
    drop(first);
    let files = || std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.path()).collect::<Vec<_>>();
    assert_eq!(files().len(), 1);

    let mut reopened = Model::load(common::default_model(), &options).unwrap();
    let (continued, _) = run(&mut reopened, &rewrite_it);
    assert!(continued.timings.prompt_tokens_processed * 4 < continued.prompt_tokens, "{:?}", continued.timings);
    assert_eq!(continued.text, fresh.text);

    // One flipped byte in the keys: the checksum fails, the file goes, and the prompt is computed.
    let file = files().pop().unwrap();
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&file, &bytes).unwrap();
    let mut damaged = Model::load(common::default_model(), &options).unwrap();
    let (recomputed, _) = run(&mut damaged, &rewrite_it);
    assert!(recomputed.timings.prompt_tokens_processed * 2 > recomputed.prompt_tokens, "{:?}", recomputed.timings);
    assert_eq!(recomputed.text, fresh.text);
    assert!(!file.exists(), "a damaged file is removed");

    // A file cut short is not even listed, and is removed too.
    damaged.save_context().unwrap();
    let file = files().pop().unwrap();
    let len = std::fs::metadata(&file).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&file).unwrap().set_len(len / 3).unwrap();
    let mut cut = Model::load(common::default_model(), &options).unwrap();
    let (again, _) = run(&mut cut, &continue_it);
    assert!(again.timings.prompt_tokens_processed * 2 > again.prompt_tokens);
    assert!(!file.exists());

    // A context larger than the folder's cap is never written (it would be evicted at once).
    let capped = LoadOptions { saved_contexts_bytes: Some(1 << 20), ..options.clone() };
    let mut small = Model::load(common::default_model(), &capped).unwrap();
    run(&mut small, &continue_it);
    assert!(!small.save_context().unwrap());
    assert!(files().iter().all(|f| f.extension().is_some_and(|e| e == "atkv")), "no partial file is left");
}
