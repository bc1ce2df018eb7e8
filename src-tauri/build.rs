fn main() {
    // App commands are declared so capabilities can grant exactly these and nothing else.
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(&["watch_model_status", "generate", "cancel"])),
    )
    .expect("failed to run tauri-build");
}
