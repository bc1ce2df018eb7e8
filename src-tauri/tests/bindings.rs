//! The UI is compiled against ui/src/lib/bindings.ts: it must be what the Rust types export now, so a
//! Rust change the UI has not followed fails here (and then, regenerated, in svelte-check).

/// The TypeScript the UI is compiled against, as the app's `ipc()` describes it now.
fn bindings() -> String {
    // Tests run in parallel threads of one process: each export gets its own folder, or one test
    // removes the file the other is about to read.
    static EXPORTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let export = EXPORTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("atelier-bindings-{}-{export}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("bindings.ts");
    let language = specta_typescript::Typescript::default().header("// Generated from the Rust types by src-tauri/tests/bindings.rs. Do not edit: run\n// `ATELIER_WRITE_BINDINGS=1 cargo test -p atelier-app --test bindings` after changing a type.\n");
    atelier_app_lib::ipc().export(language, &path).expect("the IPC types export to TypeScript");
    let text = std::fs::read_to_string(&path).expect("the exported bindings are readable");
    let _ = std::fs::remove_dir_all(&dir);
    text
}

const BINDINGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/src/lib/bindings.ts");

#[test]
fn the_ui_bindings_are_generated_from_the_current_rust_types() {
    let current = bindings();
    if std::env::var_os("ATELIER_WRITE_BINDINGS").is_some() {
        std::fs::write(BINDINGS, &current).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(BINDINGS).unwrap_or_default();
    assert!(
        committed == current,
        "ui/src/lib/bindings.ts is stale: run `ATELIER_WRITE_BINDINGS=1 cargo test -p atelier-app --test bindings`, \
         then make the UI follow (npm --prefix ui run check)"
    );
}

/// Every command the UI can call is declared in build.rs and granted to the main window: a command
/// left out is refused in the real app ("not allowed"), which the page tests' mock backend never sees.
#[test]
fn every_command_the_ui_calls_is_declared_and_granted() {
    let bindings = bindings();
    // `__TAURI_INVOKE<Reply>("command", …)`: the calls, not the import.
    let called: Vec<&str> = bindings.split("__TAURI_INVOKE").filter(|s| s.starts_with('<')).filter_map(|s| s.split('"').nth(1)).collect();
    assert!(called.len() > 50, "the command list was not found in the bindings");
    let build = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/build.rs")).unwrap();
    let capability = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/capabilities/default.json")).unwrap();
    let undeclared: Vec<&&str> = called.iter().filter(|c| !build.contains(&format!("\"{c}\""))).collect();
    let ungranted: Vec<&&str> = called.iter().filter(|c| !capability.contains(&format!("\"allow-{}\"", c.replace('_', "-")))).collect();
    assert!(undeclared.is_empty(), "commands missing from build.rs COMMANDS: {undeclared:?}");
    assert!(ungranted.is_empty(), "commands missing from capabilities/default.json: {ungranted:?}");
}
