//! Deleted documents stay restorable for the undo window, then are purged for good (with their
//! revisions): "deleted" means deleted, not kept in the library file forever.

use std::time::Duration;

use atelier_store::Store;

/// How long Undo can bring a deleted document back (the UI's toast shows for 5 s).
pub const UNDO_WINDOW: Duration = Duration::from_secs(30);

/// Purges what was deleted more than `window` ago (documents, and the parts and chapters of the
/// binder); returns how many documents went.
pub async fn purge(store: &Store, window: Duration) -> atelier_store::Result<u64> {
    let documents = store.documents().purge_deleted(window.as_millis() as i64).await?;
    store.binder().purge_deleted(window.as_millis() as i64).await?;
    Ok(documents)
}

fn purge_later(store: &Store, window: Duration) {
    let store = store.clone();
    tokio::spawn(async move {
        tokio::time::sleep(window + Duration::from_millis(50)).await;
        if let Err(e) = purge(&store, window).await {
            tracing::warn!("purging deleted documents failed: {e}");
        }
    });
}

/// Deletes a binder item (and what is under it) now, purged once its undo window has passed.
pub async fn delete_node(store: &Store, id: i64, window: Duration) -> atelier_store::Result<()> {
    store.binder().delete(id).await?;
    purge_later(store, window);
    Ok(())
}

/// Deletes a document now and purges it once its undo window has passed (unless it was restored).
pub async fn delete(store: &Store, id: i64, window: Duration) -> atelier_store::Result<()> {
    store.documents().delete(id).await?;
    purge_later(store, window);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_deleted_document_is_purged_after_its_undo_window_and_a_restored_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("library.sqlite3")).await.unwrap();
        let gone = store.documents().create("Gone", "secret draft words").await.unwrap();
        store.documents().save(gone.id, "Gone", "secret draft words, revised", "manual").await.unwrap();
        let kept = store.documents().create("Kept", "kept words").await.unwrap();
        let window = Duration::from_millis(200);
        delete(&store, gone.id, window).await.unwrap();
        delete(&store, kept.id, window).await.unwrap();
        // Within the window both can come back; restore one.
        store.documents().restore(kept.id).await.unwrap();
        tokio::time::sleep(window * 3).await;
        assert!(store.documents().restore(gone.id).await.is_err(), "the purged document came back");
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM documents WHERE id = ?").bind(gone.id).fetch_one(store.pool()).await.unwrap();
        let revisions: i64 = sqlx::query_scalar("SELECT count(*) FROM revisions WHERE document_id = ?").bind(gone.id).fetch_one(store.pool()).await.unwrap();
        assert_eq!((rows, revisions), (0, 0));
        assert_eq!(store.documents().get(kept.id).await.unwrap().body, "kept words");
    }
}
