//! Durability: a writer killed with SIGKILL mid-stream loses no committed write and leaves a sound file;
//! a full disk is reported as such.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use atelier_store::{Store, StoreError};

const CHILD_ENV: &str = "ATELIER_CRASH_WRITER";

/// In the child: write until killed, announcing each committed write on stdout.
async fn writer(path: String) {
    let store = Store::open(&path).await.unwrap();
    let doc = store.documents().create("Manuscript", "").await.unwrap();
    for i in 0..1_000_000 {
        let body = format!("draft {i}");
        store.documents().save(doc.id, "Manuscript", &body, "autosave").await.unwrap();
        let note = store.documents().create(&format!("note {i}"), &body).await.unwrap();
        println!("committed {} {} {}", doc.id, note.id, i);
    }
}

#[tokio::test]
async fn a_killed_writer_loses_no_committed_write() {
    if let Ok(path) = std::env::var(CHILD_ENV) {
        writer(path).await;
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("library.sqlite3");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "a_killed_writer_loses_no_committed_write", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut committed = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("committed ") {
            let parts: Vec<i64> = rest.split(' ').map(|p| p.parse().unwrap()).collect();
            committed.push((parts[0], parts[1], parts[2]));
            if committed.len() == 300 {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL: no destructors, no checkpoint
    child.wait().unwrap();
    assert_eq!(committed.len(), 300, "the writer did not get going");

    let store = Store::open(&path).await.unwrap();
    store.check_integrity().await.unwrap();
    let (doc, _, last) = *committed.last().unwrap();
    let body = store.documents().get(doc).await.unwrap().body;
    let saved: i64 = body.strip_prefix("draft ").unwrap().parse().unwrap();
    assert!(saved >= last, "the manuscript went back from draft {last} to draft {saved}");
    for (_, note, i) in &committed {
        assert_eq!(store.documents().get(*note).await.unwrap().body, format!("draft {i}"));
    }
}

#[tokio::test]
async fn a_full_disk_is_reported_as_such_and_keeps_what_was_saved() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("library.sqlite3")).await.unwrap();
    let doc = store.documents().create("Safe", "saved before the disk filled").await.unwrap();
    // Cap the file at its current size on one connection: the next growth fails as a full disk would.
    let mut conn = store.pool().acquire().await.unwrap();
    let pages: i64 = sqlx::query_scalar("PRAGMA page_count").fetch_one(&mut *conn).await.unwrap();
    sqlx::query(&format!("PRAGMA max_page_count = {pages}")).execute(&mut *conn).await.unwrap();
    let big = "x".repeat(1 << 20);
    let err = sqlx::query("INSERT INTO documents (title, body, created_at, updated_at) VALUES ('big', ?, 0, 0)")
        .bind(&big)
        .execute(&mut *conn)
        .await
        .unwrap_err();
    let err = StoreError::from(err);
    assert!(matches!(err, StoreError::DiskFull), "{err:?}");
    assert!(err.to_string().contains("disk is full"));
    drop(conn);
    assert_eq!(store.documents().get(doc.id).await.unwrap().body, "saved before the disk filled");
}
