//! The UI is compiled against ui/src/lib/bindings.ts: it must be what the Rust types export now, so a
//! Rust change the UI has not followed fails here (and then, regenerated, in svelte-check).

const BINDINGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/src/lib/bindings.ts");

#[test]
fn the_ui_bindings_are_generated_from_the_current_rust_types() {
    let current = atelier_app_lib::bindings();
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
