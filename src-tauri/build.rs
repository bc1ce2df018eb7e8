const COMMANDS: &[&str] = &[
    "list_bible", "create_bible_entry", "update_bible_entry", "delete_bible_entry", "restore_bible_entry",
    "draft_bible_entry", "find_mentions", "entry_scenes", "preview_context", "prepare_context", "preview_fusion_context", "chat", "check_continuity",
    "watch_model_status", "write", "generate", "rerun", "cancel", "list_models", "import_model", "set_default_model", "load_model",
    "delete_model", "device_options", "download_model", "model_catalog", "start_catalog_download", "pause_catalog_download", "watch_downloads", "list_documents", "create_document", "get_document",
    "save_document", "delete_document", "restore_document", "list_revisions", "restore_revision",
    "list_conversations", "create_conversation", "list_messages", "add_message", "list_runs", "get_run",
    "delete_run", "search", "export_text", "export_to_file", "backup_library", "list_providers", "save_provider",
    "delete_provider", "set_key", "delete_key", "key_status", "test_provider", "fetch_prices", "estimate_fusion",
    "run_fusion", "privacy_status", "set_offline", "ledger", "ledger_totals", "get_settings", "set_setting",
    "ui_ready", "list_projects", "create_project", "update_project", "delete_project", "restore_project", "project_tree", "project_progress", "add_node", "update_node", "move_node", "delete_node", "restore_node", "chapter_scenes", "export_project", "import_manuscript", "accept_import", "revision_diff",
    "suggest_changes", "panel_choice", "save_panel_choice", "record_pick", "taste_leaderboard",
];

fn main() {
    // App commands are declared so the capability grants exactly these.
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)))
        .expect("failed to run tauri-build");
}
