//! Atelier's desktop shell: Tauri commands that wire the crates to the UI. Logic lives in the crates.

mod bible;
mod catalog;
mod dialogs;
mod engine;
mod fusion;
mod library;
mod manuscript;
mod state;

pub use state::{AppState, CommandError};

/// Every command the UI may call, with the types they carry: the invoke handler, and the TypeScript
/// bindings (ui/src/lib/bindings.ts, written by tests/bindings.rs) generated from them. build.rs declares the same list so
/// capabilities can grant them.
pub fn ipc() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new()
        .commands(tauri_specta::collect_commands![
            ui_ready,
            engine::watch_model_status,
            engine::write,
            engine::generate,
            engine::rerun,
            engine::cancel,
            engine::list_models,
            engine::import_model,
            engine::set_default_model,
            engine::load_model,
            engine::delete_model,
            engine::device_options,
            engine::download_model,
            catalog::model_catalog,
            catalog::start_catalog_download,
            catalog::pause_catalog_download,
            catalog::watch_downloads,
            library::list_documents,
            library::create_document,
            library::get_document,
            library::save_document,
            library::delete_document,
            library::restore_document,
            library::list_revisions,
            library::restore_revision,
            library::list_conversations,
            library::create_conversation,
            library::list_messages,
            library::add_message,
            library::list_runs,
            library::get_run,
            library::delete_run,
            library::search,
            library::export_text,
            library::export_to_file,
            library::backup_library,
            bible::list_bible,
            bible::create_bible_entry,
            bible::update_bible_entry,
            bible::delete_bible_entry,
            bible::restore_bible_entry,
            bible::draft_bible_entry,
            bible::find_mentions,
            bible::entry_scenes,
            bible::preview_context,
            bible::prepare_context,
            bible::preview_fusion_context,
            bible::chat,
            bible::check_continuity,
            manuscript::list_projects,
            manuscript::create_project,
            manuscript::update_project,
            manuscript::delete_project,
            manuscript::restore_project,
            manuscript::project_tree,
            manuscript::project_progress,
            manuscript::add_node,
            manuscript::update_node,
            manuscript::move_node,
            manuscript::delete_node,
            manuscript::restore_node,
            manuscript::chapter_scenes,
            manuscript::export_project,
            manuscript::import_manuscript,
            manuscript::accept_import,
            manuscript::revision_diff,
            manuscript::suggest_changes,
            fusion::list_providers,
            fusion::save_provider,
            fusion::delete_provider,
            fusion::set_key,
            fusion::delete_key,
            fusion::key_status,
            fusion::test_provider,
            fusion::fetch_prices,
            fusion::estimate_fusion,
            fusion::run_fusion,
            fusion::privacy_status,
            fusion::set_offline,
            fusion::ledger,
            fusion::ledger_totals,
            fusion::get_settings,
            fusion::set_setting,
            fusion::panel_choice,
            fusion::save_panel_choice,
            fusion::record_pick,
            fusion::taste_leaderboard,
        ])
        // Commands throw their CommandError; api.ts turns it into an AtelierError.
        .error_handling(tauri_specta::ErrorHandlingMode::Throw)
        // Ids, token counts and byte sizes stay far below 2^53.
        .dangerously_cast_bigints_to_number()
        // One shape per type: the UI reads and sends the same objects.
        .disable_serde_phases()
        .constant("MAX_PANEL", atelier_fusion::MAX_PANEL)
}


/// When this process started running Atelier's code: the origin of the cold-start measurement.
static LAUNCHED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Set once the UI's first screen is up: the model starts loading then, so it does not compete with the
/// webview for the CPU while the window opens.
static UI_UP: std::sync::OnceLock<std::sync::mpsc::SyncSender<()>> = std::sync::OnceLock::new();

/// How long the model waits for the window before loading anyway (a UI that never reports, a slow machine).
const MODEL_LOAD_DEFER: std::time::Duration = std::time::Duration::from_secs(3);

/// The UI calls this once its first screen is drawn and filled; the log keeps the cold-start time.
#[tauri::command]
#[specta::specta]
fn ui_ready() -> u64 {
    let elapsed = LAUNCHED.get().map(|t| t.elapsed().as_millis() as u64).unwrap_or(0);
    log::info!("window interactive {elapsed} ms after launch");
    if let Some(up) = UI_UP.get() {
        let _ = up.try_send(());
    }
    elapsed
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    LAUNCHED.get_or_init(std::time::Instant::now);
    tauri::Builder::default()
        // A second launch focuses the running window instead of opening another library writer.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            use tauri::Manager;
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.unminimize();
                let _ = window.set_focus();
            }
        }))
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_dialog::init())
        .plugin(
            tauri_plugin_log::Builder::new()
                .level(log::LevelFilter::Info)
                // Our own crates log no prompt text or keys; third-party chatter stays out.
                .level_for("tao", log::LevelFilter::Warn)
                .level_for("wry", log::LevelFilter::Warn)
                .build(),
        )
        .setup(|app| {
            use tauri::Manager;
            // An installed package carries the embedded model among its resources.
            if let Ok(resources) = app.path().resource_dir() {
                atelier_engine::default_model::set_bundled_models_dir(resources.join("models"));
            }
            let state = tauri::async_runtime::block_on(async {
                let store = atelier_store::Store::open_default().await.map_err(|e| e.to_string());
                AppState::open(store, std::sync::Arc::new(atelier_keys::KeyringStore::default())).await
            });
            app.manage(state);
            // The model is found and loaded off the UI thread, once the window is up; the UI shows "loading".
            let (ui_up, wait_for_ui) = std::sync::mpsc::sync_channel(1);
            let _ = UI_UP.set(ui_up);
            let handle = app.handle().clone();
            std::thread::Builder::new()
                .name("model-loader".into())
                .spawn(move || {
                    let _ = wait_for_ui.recv_timeout(MODEL_LOAD_DEFER);
                    let state = handle.state::<AppState>();
                    let runtime = tauri::async_runtime::handle();
                    let moved = state.load_startup_model(runtime.inner());
                    // Catalog downloads an earlier run left unfinished carry on from their `.part`.
                    runtime.block_on(state.resume_downloads());
                    if !moved.is_empty() {
                        log::info!("API keys bound to their provider's address: {}", moved.join(", "));
                    }
                })
                .expect("cannot start the model loader thread");
            Ok(())
        })
        // A file dropped on the window counts as chosen by the user (the Models view imports it).
        .on_window_event(|window, event| {
            use tauri::Manager;
            if let tauri::WindowEvent::DragDrop(tauri::DragDropEvent::Drop { paths, .. }) = event {
                let state = window.state::<AppState>();
                for path in paths {
                    state.picked.allow(path);
                }
            }
        })
        .invoke_handler(ipc().invoke_handler())
        .run(tauri::generate_context!())
        .expect("error while running Atelier");
}
