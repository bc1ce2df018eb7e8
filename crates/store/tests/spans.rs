//! Store writes open tracing spans with their ids, so a slow write shows in the log, and never carry the
//! user's text.

use std::io::Write;
use std::sync::{Arc, Mutex};

use atelier_store::*;
use tracing_subscriber::fmt::format::FmtSpan;

/// The log as the app would write it.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn writes_open_spans_with_ids_and_without_the_text() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::default();
    let writer = log.clone();
    // Each span's close line carries its fields and how long it took: where a slow write shows.
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_span_events(FmtSpan::CLOSE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let store = Store::open(dir.path().join("lib.sqlite3")).await.unwrap();

    let doc = store.documents().create("Private title", "A private manuscript.").await.unwrap();
    store.documents().save(doc.id, "Private title", "A private manuscript, revised.", "manual").await.unwrap();
    let run = store.runs().start(RunKind::Generate, &NewRun { prompt: "A private prompt".into(), ..Default::default() }).await.unwrap();
    let member = store
        .runs()
        .add_member(run, &NewMember { position: 0, label: "A".into(), role: MemberRole::Member, round: 0, provider: "local".into(), model: "m".into() })
        .await
        .unwrap();
    store.runs().finish_member(member, &MemberFinish::new(RunStatus::Completed)).await.unwrap();
    store.runs().finish(run, &RunFinish { final_text: Some("A private answer".into()), ..RunFinish::new(RunStatus::Completed) }).await.unwrap();
    store.ledger().record(&NewLedgerEntry { provider: "p".into(), model: "m".into(), run_id: Some(run), bytes_sent: 42, ..Default::default() }).await.unwrap();
    store.documents().delete(doc.id).await.unwrap();
    store.backup(dir.path().join("copy.sqlite3")).await.unwrap();
    store.close().await;

    let expected = [
        "open{path=".to_string(),
        "}:migrate:".to_string(),
        format!("create{{bytes=21 id={}}}", doc.id),
        format!("save{{id={} bytes=30 reason=\"manual\"}}", doc.id),
        format!("start{{kind=\"generate\" run_id={run}}}"),
        format!("add_member{{run_id={run} position=0 round=0 member_id={member}}}"),
        format!("finish_member{{member_id={member} status=\"completed\"}}"),
        format!("finish{{run_id={run} status=\"completed\"}}"),
        format!("record{{run_id={run} bytes_sent=42 id="),
        format!("delete{{id={}}}", doc.id),
        "backup{destination=".to_string(),
    ];
    let missing = |log: &str| -> Vec<String> {
        let closed = |span: &String| log.lines().any(|l| l.contains(span.as_str()) && l.contains("close time.busy="));
        expected.iter().filter(|span| !closed(span)).cloned().collect()
    };
    // A span closes when its last clone drops, and a connection's worker thread lets go of the one it ran
    // a statement in a moment after answering (even after the pool closed): wait for it.
    let mut waited = 0;
    let log = loop {
        let log = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
        if missing(&log).is_empty() || waited >= 5000 {
            break log;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        waited += 10;
    };
    assert!(missing(&log).is_empty(), "spans {:?} never closed in:\n{log}", missing(&log));
    assert!(!log.to_lowercase().contains("private"), "user text in the log:\n{log}");
}
