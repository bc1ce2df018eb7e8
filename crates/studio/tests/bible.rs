//! The story bible through the studio, on a fixture project: the context a Continue reads (a golden
//! file, counted with the embedded model's tokenizer), the run's record of it, what a cloud member of a
//! fusion receives (seen by a loopback server) with the project's cloud switch off and on, the ledger's
//! list of what left the device, and a continuity check whose scripted judge plants a contradiction.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atelier_engine::LoadOptions;
use atelier_fusion::client::OutboundClient;
use atelier_fusion::PriceBook;
use atelier_keys::MemoryStore;
use atelier_store::{EntryField, EntryKind, NewEntry, NewNode, NewProject, NodeKind, NodePatch, ProjectKind, ProjectPatch, Store};
use atelier_studio::context::{ContextView, ItemState};
use atelier_studio::continuity::{self, Citation, ContinuityParams};
use atelier_studio::fusion::FusionParams;
use atelier_studio::generation::{self, ContextFor, EventSink, WriteParams};
use atelier_studio::providers::{self, ProviderInput};
use atelier_studio::{ActionInput, ModelHost, WritingAction};
use tokio_util::sync::CancellationToken;

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/continue-context.txt");

fn host(context_length: usize) -> ModelHost {
    let host = ModelHost::new();
    let path = atelier_engine::find_default_model().expect("the embedded model (scripts/fetch-default-model.sh)");
    host.load(Ok(path), &LoadOptions { threads: Some(2), context_length: Some(context_length), ..Default::default() }).unwrap();
    host
}

fn quiet() -> EventSink {
    Arc::new(|_| {})
}

struct Fixture {
    store: Store,
    _dir: tempfile::TempDir,
    project: i64,
    /// The document of the third scene, "The Lighthouse".
    scene: i64,
    mara: i64,
    tomas: i64,
}

const LIGHTHOUSE: &str = "The lamp room smelled of paraffin. Mara climbed the last steps, the Captain's letter in her coat.\n\n\
\"You came,\" said Tomas from the dark, his green eyes on the lens.";

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("library.sqlite3")).await.unwrap();
    let project = store.projects().create(&NewProject { title: "The Salt Road".into(), kind: ProjectKind::Novel, author: "Ada Marsh".into(), word_goal: None }).await.unwrap().id;
    let chapter = store
        .binder()
        .add(&NewNode { project_id: project, parent_id: None, kind: NodeKind::Chapter, title: "One".into(), index: None, text: None, synopsis: None })
        .await
        .unwrap()
        .id;
    let mut documents = Vec::new();
    for (title, text, synopsis) in [
        ("Arrival", "Mara stepped off the ferry into the fog.", "Mara arrives in Saltmouth on the morning ferry."),
        ("The Drowning", "They pulled Tomas from the harbour at dusk.", "Tomas drowns in the harbour; the town mourns him."),
        ("The Lighthouse", LIGHTHOUSE, ""),
    ] {
        let node = store
            .binder()
            .add(&NewNode { project_id: project, parent_id: Some(chapter), kind: NodeKind::Scene, title: title.into(), index: None, text: Some(text.into()), synopsis: None })
            .await
            .unwrap();
        if !synopsis.is_empty() {
            store.binder().update(node.id, &NodePatch { synopsis: Some(synopsis.into()), ..Default::default() }).await.unwrap();
        }
        documents.push(node.document_id.unwrap());
    }
    let entry = |kind, name: &str, aliases: &[&str], description: &str, pinned| NewEntry {
        project_id: Some(project),
        kind,
        name: name.into(),
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
        description: description.into(),
        fields: Vec::new(),
        pinned,
    };
    let bible = store.bible();
    bible.create(&entry(EntryKind::StyleGuide, "House style", &[], "Close third person, past tense. British spelling.", false)).await.unwrap();
    bible.create(&entry(EntryKind::Place, "Saltmouth", &[], "A fishing town on a grey estuary.", true)).await.unwrap();
    let mara = bible
        .create(&NewEntry {
            fields: vec![EntryField { name: "Eyes".into(), value: "grey".into() }],
            ..entry(EntryKind::Character, "Mara Vell", &["Mara"], "A harbour pilot's daughter, twenty-six.", false)
        })
        .await
        .unwrap()
        .id;
    let tomas = bible
        .create(&NewEntry {
            fields: vec![EntryField { name: "Eyes".into(), value: "brown".into() }],
            ..entry(EntryKind::Character, "Tomas Reyes", &["Tomas"], "Mara's brother. Drowned in the harbour.", false)
        })
        .await
        .unwrap()
        .id;
    bible.create(&entry(EntryKind::Object, "The Captain's letter", &["the Captain's letter"], "Sealed; never opened.", false)).await.unwrap();
    // Never named in the scene: stays out.
    bible.create(&entry(EntryKind::Character, "Old Hennessy", &["Hennessy"], "The ferryman.", false)).await.unwrap();
    Fixture { store, _dir: dir, project, scene: documents[2], mara, tomas }
}

fn continue_at_end() -> ActionInput {
    ActionInput { action: Some(WritingAction::Continue), before: LIGHTHOUSE.into(), document: LIGHTHOUSE.into(), ..Default::default() }
}

/// The view as the golden file keeps it: every item in order, then the totals.
fn render(view: &ContextView) -> String {
    let mut out = String::new();
    for item in &view.items {
        out.push_str(&format!("{:<14} {:<11} {:>4} tok  {:<8} {} — {}\n", item.key, format!("{:?}", item.state), item.tokens, if item.cloud { "cloud" } else { "device" }, item.label, item.reason));
    }
    out.push_str(&format!("total {} of {} tokens (context {}, answer {})\n", view.tokens, view.budget, view.context_length, view.answer_tokens));
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_continue_reads_the_style_guide_pinned_and_mentioned_entries_synopses_then_the_text_and_records_it() {
    let f = fixture().await;
    let host = host(1024);
    let params = WriteParams { input: continue_at_end(), document_id: Some(f.scene), seed: Some(7) };
    let view = generation::preview(&host, Some(&f.store), &ContextFor::Write(params.clone())).await.unwrap();
    let rendered = render(&view);
    if std::env::var("ATELIER_UPDATE_GOLDEN").is_ok() {
        std::fs::write(GOLDEN, &rendered).unwrap();
    }
    let golden = std::fs::read_to_string(GOLDEN).expect("the golden file (ATELIER_UPDATE_GOLDEN=1 writes it)");
    assert_eq!(rendered, golden, "the assembled context changed; if that is intended, rerun with ATELIER_UPDATE_GOLDEN=1");
    assert!(view.tokens <= view.budget, "over the budget: {rendered}");
    assert!(!rendered.contains("Old Hennessy"), "an entry the scene never names was included");

    // Drop Tomas: the run reads everything else, and its record keeps exactly what was sent.
    let dropped = format!("entry:{}", f.tomas);
    let mut input = continue_at_end();
    input.dropped = vec![dropped.clone()];
    let generation = generation::write(&host, Some(&f.store), &input, generation::sampling(None, Some(7)).unwrap(), Some(f.scene), CancellationToken::new(), quiet())
        .await
        .unwrap();
    assert!(!generation.text.is_empty());
    let run = f.store.runs().list(&Default::default(), 10, 0).await.unwrap().remove(0);
    let spec = generation::recorded_spec(&f.store.runs().get(run.id).await.unwrap().run).unwrap();
    let system = spec.system.as_deref().unwrap();
    let state_of = |key: &str| spec.context.iter().find(|i| i.key == key).map(|i| i.state);
    assert_eq!(state_of(&dropped), Some(ItemState::Dropped));
    assert_eq!(state_of(&format!("entry:{}", f.mara)), Some(ItemState::Included));
    assert!(system.contains("### Mara Vell (character)") && system.contains("Eyes: grey"), "{system}");
    assert!(!system.contains("Tomas Reyes (character)"), "a dropped entry was sent: {system}");
    assert!(system.find("## Style guide").unwrap() < system.find("## Story bible").unwrap());
    assert!(spec.prompt.starts_with("The text so far:") && spec.prompt.ends_with("Write only the next paragraph, with no preamble."), "{}", spec.prompt);
    assert_eq!(run.project_id, Some(f.project));
}

/// A loopback OpenAI-compatible server that keeps each request body and answers from a script: the
/// judge gets a verdict whose final answer is `final_answer`, members a short line.
struct Loopback {
    url: String,
    bodies: Arc<Mutex<Vec<String>>>,
}

fn serve(final_answer: &'static str) -> Loopback {
    serve_script(Script { final_answer, ..Script::default() })
}

/// What the loopback server answers: the judge's final answer and unique insights, and a line for each
/// member model (else "The tide turned.").
#[derive(Clone, Copy, Default)]
struct Script {
    final_answer: &'static str,
    insights: &'static [(&'static str, &'static str)],
    members: &'static [(&'static str, &'static str)],
}

fn serve_script(script: Script) -> Loopback {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&bodies);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let log = Arc::clone(&log);
            std::thread::spawn(move || answer(stream, log, script));
        }
    });
    Loopback { url, bodies }
}

fn answer(mut stream: std::net::TcpStream, log: Arc<Mutex<Vec<String>>>, script: Script) {
    let Some((request, body_start)) = common::read_request(&mut stream) else { return };
    let body = String::from_utf8_lossy(&request[body_start..]).to_string();
    let text = if body.contains("You are the judge") {
        let insights: Vec<serde_json::Value> = script.insights.iter().map(|(label, insight)| serde_json::json!({"response": label, "insight": insight})).collect();
        let verdict = serde_json::json!({"consensus": ["the scene contradicts the bible"], "contradictions": [], "unique_insights": insights, "blind_spots": [],
            "scores": {"A": 8}, "best": "A", "minority_report": null});
        format!("{verdict}\n=== FINAL ANSWER ===\n{}", script.final_answer)
    } else {
        let model = serde_json::from_str::<serde_json::Value>(&body).ok().and_then(|v| v["model"].as_str().map(str::to_string)).unwrap_or_default();
        script.members.iter().find(|(m, _)| *m == model).map(|(_, line)| line.to_string()).unwrap_or_else(|| "The tide turned.".to_string())
    };
    log.lock().unwrap().push(body);
    // Realistic SSE: the text in two deltas, then the finish, usage and [DONE].
    let (a, b) = text.split_at(text.len() / 2);
    let chunk = |t: &str| format!("data: {}\n\n", serde_json::json!({"choices": [{"delta": {"content": t}, "finish_reason": null}]}));
    let sse = format!(
        "{}{}data: {}\n\ndata: {}\n\ndata: [DONE]\n\n",
        chunk(a),
        chunk(b),
        serde_json::json!({"choices": [{"delta": {}, "finish_reason": "stop"}]}),
        serde_json::json!({"choices": [], "usage": {"prompt_tokens": 40, "completion_tokens": 12}})
    );
    let response = format!("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{sse}", sse.len());
    let _ = stream.write_all(response.as_bytes());
}

async fn builder(store: &Store, url: &str) -> atelier_fusion::config::PanelBuilder {
    providers::save(store, &ProviderInput { id: "loop".into(), name: "Loopback cloud".into(), base_url: url.into(), models: vec![], enabled: true, max_concurrent: None }).await.unwrap();
    let client = OutboundClient::new(Duration::from_secs(5)).with_ledger(atelier_fusion::persist::StoreLedger::new(store.clone(), None));
    providers::panel_builder(store, Arc::new(MemoryStore::default()), client, None, Arc::new(PriceBook::default())).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cloud_member_gets_only_the_selection_and_instruction_unless_the_project_allows_more_and_the_ledger_says_what_left() {
    let f = fixture().await;
    let host = host(2048);
    let server = serve("The lamp burned low.");
    let mut builder = builder(&f.store, &server.url).await;
    builder.local = Some(host.engine().await.unwrap());
    let selection = "\"You came,\" said Tomas from the dark, his green eyes on the lens.";
    let params = FusionParams {
        prompt: "Polish this line of dialogue.".into(),
        document_id: Some(f.scene),
        selection: selection.into(),
        members: vec!["local".into(), "loop:polisher".into()],
        judge: Some("loop:polisher".into()),
        max_tokens: Some(24),
        seed: Some(3),
        ..Default::default()
    };

    // The on-device member reads the bible and the text; the cloud member only the request.
    let request = atelier_studio::fusion::request(&host, Some(&f.store), &builder, &params).await.unwrap();
    let joined = |seat: usize| request.messages_for(&request.members[seat]).iter().map(|m| m.content.clone()).collect::<Vec<_>>().join("\n");
    assert!(joined(0).contains("### Tomas Reyes (character)") && joined(0).contains("The lamp room smelled of paraffin"), "{}", joined(0));
    assert!(!joined(1).contains("Tomas Reyes (character)") && !joined(1).contains("paraffin"), "{}", joined(1));

    let result = atelier_studio::fusion::fuse(&host, Some(&f.store), &builder, &params, CancellationToken::new(), atelier_fusion::events::discard()).await.unwrap();
    assert_eq!(result.outcome.final_text.as_deref(), Some("The lamp burned low."));
    let bodies = server.bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 2, "one member request and one judge request: {bodies:?}");
    for body in &bodies {
        for private in ["Saltmouth", "Mara Vell", "grey estuary", "paraffin", "Tomas drowns", "Close third person"] {
            assert!(!body.contains(private), "`{private}` left the device: {body}");
        }
    }
    assert!(bodies[0].contains("Polish this line of dialogue.") && bodies[0].contains("his green eyes on the lens"), "{}", bodies[0]);
    let ledger = wait_for_ledger(&f.store, result.run_id.unwrap(), 2).await;
    for entry in &ledger {
        assert_eq!(entry.items, ["Selection", "Instruction"], "{entry:?}");
    }

    // The project allows its context to go: the cloud member reads what the on-device one does.
    f.store.projects().update(f.project, &ProjectPatch { cloud_context: Some(true), ..Default::default() }).await.unwrap();
    let result = atelier_studio::fusion::fuse(&host, Some(&f.store), &builder, &params, CancellationToken::new(), atelier_fusion::events::discard()).await.unwrap();
    let bodies = server.bodies.lock().unwrap().clone();
    assert!(bodies[2].contains("Tomas Reyes (character)") && bodies[2].contains("paraffin"), "{}", bodies[2]);
    let ledger = wait_for_ledger(&f.store, result.run_id.unwrap(), 2).await;
    assert!(ledger[0].items.iter().any(|i| i == "Tomas Reyes (character)") && ledger[0].items.iter().any(|i| i == "Text so far"), "{:?}", ledger[0].items);
    assert!(ledger[0].items.iter().any(|i| i == "House style (style guide)"), "{:?}", ledger[0].items);
}

/// The run's ledger entries once the ledger writer has stored them.
async fn wait_for_ledger(store: &Store, run_id: i64, n: usize) -> Vec<atelier_store::LedgerEntry> {
    for _ in 0..100 {
        let entries: Vec<_> = store.ledger().list(100, 0).await.unwrap().into_iter().filter(|e| e.run_id == Some(run_id)).collect();
        if entries.len() >= n {
            return entries;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the ledger never held {n} entries for run {run_id}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_continuity_check_lists_the_planted_contradiction_citing_the_entry_and_the_scene() {
    let f = fixture().await;
    let host = host(2048);
    let server = serve(
        "```json\n[{\"quote\": \"his green eyes\", \"problem\": \"Tomas has brown eyes in the bible\", \"source\": \"Tomas Reyes\"},\n\
         {\"quote\": \"said Tomas\", \"problem\": \"Tomas drowned in an earlier scene\", \"source\": \"The Drowning\"}]\n```",
    );
    let builder = builder(&f.store, &server.url).await;
    f.store.projects().update(f.project, &ProjectPatch { cloud_context: Some(true), ..Default::default() }).await.unwrap();
    let params = ContinuityParams { document_id: f.scene, members: vec!["loop:checker".into(), "loop:second-reader".into()], judge: Some("loop:checker".into()), seed: Some(1), ..Default::default() };
    let report = continuity::check(&host, &f.store, Some(&builder), &params, CancellationToken::new(), quiet(), atelier_fusion::events::discard()).await.unwrap();
    assert!(report.parsed, "{}", report.raw);
    assert_eq!(report.issues.len(), 2, "{:?}", report.issues);
    assert_eq!(report.issues[0].citation, Some(Citation::Entry { entry_id: f.tomas, name: "Tomas Reyes".into() }));
    assert!(matches!(&report.issues[1].citation, Some(Citation::Scene { title, .. }) if title == "The Drowning"), "{:?}", report.issues[1]);
    // The checker read the bible's fact and the earlier scene's synopsis it contradicts.
    let bodies = server.bodies.lock().unwrap().clone();
    assert!(bodies[0].contains("Eyes: brown") && bodies[0].contains("Tomas drowns in the harbour"), "{}", bodies[0]);
    assert!(report.run_id.is_some());

    // On the on-device model alone the check runs and is recorded, whatever the small model answers.
    let local = ContinuityParams { document_id: f.scene, seed: Some(1), ..Default::default() };
    let report = continuity::check(&host, &f.store, None, &local, CancellationToken::new(), quiet(), atelier_fusion::events::discard()).await.unwrap();
    let run = f.store.runs().get(report.run_id.unwrap()).await.unwrap().run;
    assert_eq!(run.action.as_deref(), Some("continuity"));
    assert!(run.prompt.contains("his green eyes on the lens"), "{}", run.prompt);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chat_turn_reads_the_scene_and_its_bible_from_the_library_and_records_them() {
    let f = fixture().await;
    let host = host(2048);
    let params = generation::ChatParams {
        question: "Why does Tomas speak here?".into(),
        history: vec![atelier_engine::ChatMessage::user("Is the lamp lit?"), atelier_engine::ChatMessage::assistant("Yes.")],
        document_id: Some(f.scene),
        seed: Some(5),
        ..Default::default()
    };
    let view = generation::preview(&host, Some(&f.store), &ContextFor::Chat(params.clone())).await.unwrap();
    let keys: Vec<&str> = view.items.iter().map(|i| i.key.as_str()).collect();
    assert!(keys.contains(&format!("entry:{}", f.tomas).as_str()) && keys.contains(&"text") && keys.last() == Some(&"instruction"), "{keys:?}");
    generation::chat(&host, Some(&f.store), &params, CancellationToken::new(), quiet()).await.unwrap();
    let run = f.store.runs().list(&Default::default(), 10, 0).await.unwrap().remove(0);
    let spec = generation::recorded_spec(&f.store.runs().get(run.id).await.unwrap().run).unwrap();
    assert_eq!(spec.label(), "chat");
    assert_eq!(spec.history.len(), 2, "the earlier turns go along");
    assert!(spec.system.as_deref().unwrap().contains("### Tomas Reyes (character)"));
    assert!(spec.prompt.contains("paraffin") && spec.prompt.ends_with("Why does Tomas speak here?"), "{}", spec.prompt);
    assert_eq!(spec.context.len(), view.items.len());
}

/// The writer's picks in a project: kept in the library, ranked, distilled into a rubric, and — with the
/// style guide — read by the judge; by a cloud judge only where the project lets its context leave.
#[tokio::test(flavor = "multi_thread")]
async fn the_writers_blind_picks_rank_the_contestants_and_become_the_judges_criteria() {
    use atelier_store::{NewPick, PickOutcome};
    use atelier_studio::taste;
    let f = fixture().await;
    let tight = "The gulls woke first. Mara watched.";
    let loose = "The gulls, who were always the first to wake in Saltmouth, slowly and noisily rose while Mara quietly watched them.";
    for (left, right, outcome, reason) in [
        ("fused:merge", "loop:polisher", PickOutcome::Left, None),
        ("loop:polisher", "fused:merge", PickOutcome::Right, Some("less throat-clearing")),
        ("fused:merge", "local", PickOutcome::Left, None),
    ] {
        let (left_text, right_text) = if outcome == PickOutcome::Left { (tight, loose) } else { (loose, tight) };
        let pick = NewPick {
            project_id: Some(f.project),
            run_id: None,
            left_name: left.into(),
            right_name: right.into(),
            outcome,
            left_text: left_text.into(),
            right_text: right_text.into(),
            reason: reason.map(str::to_string),
        };
        taste::record(&f.store, &pick).await.unwrap();
    }
    let same = NewPick { project_id: Some(f.project), run_id: None, left_name: "a".into(), right_name: "a".into(), outcome: PickOutcome::Tie, left_text: String::new(), right_text: String::new(), reason: None };
    assert!(taste::record(&f.store, &same).await.is_err(), "a pick compares two different contestants");

    let board = taste::leaderboard(&f.store, Some(f.project)).await.unwrap();
    assert_eq!(board.picks, 3);
    assert_eq!(board.ratings[0].name, "fused:merge");
    assert_eq!((board.ratings[0].wins, board.ratings[0].losses), (3, 0));
    // Three picks: a leader, not a verdict.
    assert!(board.ratings[1].high > board.ratings[0].low, "{:?}", board.ratings);
    assert!(board.rubric.iter().any(|l| l.starts_with("Prefers the tighter answer")), "{:?}", board.rubric);
    assert!(taste::leaderboard(&f.store, None).await.unwrap().ratings.is_empty(), "picks stay in their project");

    let server = serve("The lamp burned low.");
    let builder = builder(&f.store, &server.url).await;
    let params = FusionParams {
        prompt: "Polish this line.".into(),
        document_id: Some(f.scene),
        selection: "\"You came,\" said Tomas.".into(),
        members: vec!["loop:polisher".into(), "loop:editor".into()],
        judge: Some("loop:polisher".into()),
        max_tokens: Some(24),
        seed: Some(3),
        ..Default::default()
    };
    let host = ModelHost::without_model("not needed");
    let judge_body = |bodies: &[String]| bodies.iter().find(|b| b.contains("You are the judge")).cloned().unwrap();
    atelier_studio::fusion::fuse(&host, Some(&f.store), &builder, &params, CancellationToken::new(), atelier_fusion::events::discard()).await.unwrap();
    let private = judge_body(&server.bodies.lock().unwrap());
    assert!(!private.contains("author's taste") && !private.contains("Close third person"), "the project keeps its context here: {private}");

    f.store.projects().update(f.project, &ProjectPatch { cloud_context: Some(true), ..Default::default() }).await.unwrap();
    server.bodies.lock().unwrap().clear();
    atelier_studio::fusion::fuse(&host, Some(&f.store), &builder, &params, CancellationToken::new(), atelier_fusion::events::discard()).await.unwrap();
    let shared = judge_body(&server.bodies.lock().unwrap());
    assert!(shared.contains("Judge by this author's taste."), "{shared}");
    assert!(shared.contains("Close third person, past tense."), "{shared}");
    assert!(shared.contains("Prefers the tighter answer: shorter in 3 of 3 picks"), "{shared}");
    assert!(shared.contains("less throat-clearing"), "{shared}");
}

/// A writing action asked of the panel reads the same instruction the on-device run does.
#[tokio::test(flavor = "multi_thread")]
async fn a_writing_action_sent_to_the_panel_carries_its_own_instruction() {
    let f = fixture().await;
    let server = serve("unused");
    let builder = builder(&f.store, &server.url).await;
    let params = FusionParams {
        document_id: Some(f.scene),
        selection: "\"You came,\" said Tomas from the dark, his green eyes on the lens.".into(),
        members: vec!["loop:polisher".into(), "loop:editor".into()],
        action: Some(WritingAction::Rewrite),
        tone: Some(atelier_studio::Tone::Formal),
        ..Default::default()
    };
    let request = atelier_studio::fusion::request(&ModelHost::without_model("not needed"), Some(&f.store), &builder, &params).await.unwrap();
    let asked = request.messages_for(&request.members[0]).iter().map(|m| m.content.clone()).collect::<Vec<_>>().join("\n");
    let instruction = atelier_studio::ResolvedAction {
        action: WritingAction::Rewrite,
        tone: Some(atelier_studio::Tone::Formal),
        instruction: None,
        text: String::new(),
        truncated: false,
        selection: params.selection.clone(),
        max_tokens: 0,
    }
    .instruction_text();
    assert!(asked.contains(&instruction), "{asked}");
    assert!(asked.contains("his green eyes on the lens"), "{asked}");
    // A prompt the writer typed wins over the action's.
    let typed = FusionParams { prompt: "Make it sing.".into(), ..params };
    assert_eq!(typed.resolved().prompt, "Make it sing.");
    assert!(server.bodies.lock().unwrap().is_empty(), "building a request sends nothing");
}

/// A rewrite asked of the panel comes back as suggestions against the selection: applying them all gives
/// the fused text (the whitespace around the passage kept), none gives the passage, and each change is
/// credited to the member whose words it uses or whose insight the judge named.
#[tokio::test(flavor = "multi_thread")]
async fn a_rewrite_through_the_panel_comes_back_as_credited_suggestions() {
    let f = fixture().await;
    let server = serve_script(Script {
        final_answer: "\"You came,\" said Tomas quietly from the dark, his green eyes on the lamp.",
        // The judge saw the answers shuffled; its labels are mapped back to the members before crediting.
        insights: &[("A", "Turns the gaze to the lamp"), ("B", "Turns the gaze to the lamp")],
        members: &[("polisher", "\"You came,\" said Tomas quietly."), ("editor", "Tomas watched the lens.")],
    });
    let builder = builder(&f.store, &server.url).await;
    let selection = "\n\"You came,\" said Tomas from the dark, his green eyes on the lens. ";
    let params = FusionParams {
        document_id: Some(f.scene),
        selection: selection.into(),
        members: vec!["loop:polisher".into(), "loop:editor".into()],
        judge: Some("loop:polisher".into()),
        action: Some(WritingAction::Rewrite),
        tone: Some(atelier_studio::Tone::Plainer),
        seed: Some(5),
        ..Default::default()
    };
    let host = ModelHost::without_model("not needed");
    let result = atelier_studio::fusion::fuse(&host, Some(&f.store), &builder, &params, CancellationToken::new(), atelier_fusion::events::discard()).await.unwrap();
    let hunks = &result.suggestions;
    assert!(hunks.len() >= 2, "{hunks:?}");
    let all = atelier_manuscript::apply_suggestions(selection, hunks, &vec![true; hunks.len()]);
    assert_eq!(all, format!("\n{} ", result.outcome.final_text.as_deref().unwrap().trim()));
    assert_eq!(atelier_manuscript::apply_suggestions(selection, hunks, &[]), selection);
    let credited = |words: &str| hunks.iter().find(|h| h.insert.contains(words)).map(|h| h.sources.clone()).unwrap_or_else(|| panic!("no hunk with {words}: {hunks:?}"));
    assert_eq!(credited("quietly"), vec!["A · loop:polisher".to_string()]);
    let lamp = credited("lamp");
    assert!(lamp.iter().any(|s| s.ends_with("loop:polisher")) && lamp.iter().any(|s| s.ends_with("loop:editor")), "both insights name the lamp: {lamp:?}");
    // A fused answer cut off mid-sentence (its token limit) never deletes the rest of the passage.
    let cut = serve_script(Script { final_answer: "\"You came,\" said Tomas quietly from the dark, his", ..Script::default() });
    let cut_builder = crate::builder(&f.store, &cut.url).await;
    let result = atelier_studio::fusion::fuse(&host, Some(&f.store), &cut_builder, &params, CancellationToken::new(), atelier_fusion::events::discard()).await.unwrap();
    let kept = atelier_manuscript::apply_suggestions(selection, &result.suggestions, &vec![true; result.suggestions.len()]);
    assert!(kept.contains("quietly") && kept.ends_with("his green eyes on the lens. "), "{kept:?} from {:?}", result.suggestions);
    // Actions that write no revision (a critique) come back without suggestions.
    let critique = FusionParams { action: Some(WritingAction::Critique), ..params };
    let result = atelier_studio::fusion::fuse(&host, Some(&f.store), &builder, &critique, CancellationToken::new(), atelier_fusion::events::discard()).await.unwrap();
    assert!(result.suggestions.is_empty(), "{:?}", result.suggestions);
}
