//! A GGUF's chat template is untrusted code: it runs on a work budget, its output is capped, its
//! helpers refuse bad input, and none of that can hang or panic.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::time::Duration;

use atelier_engine::chat::MAX_OUTPUT;
use atelier_engine::{ChatMessage, ChatTemplate, EngineError};

/// Renders `source` on its own thread; fails the test if it panics or takes more than a few seconds.
fn render(source: &str) -> Result<String, EngineError> {
    let source = source.to_string();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let result = catch_unwind(AssertUnwindSafe(|| {
            let t = ChatTemplate::new(Some(source), "<s>".into(), "</s>".into(), |_| true)?;
            t.render(&[ChatMessage::user("hello")])
        }));
        let _ = tx.send(result);
    });
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => panic!("rendering panicked"),
        Err(_) => panic!("rendering hung"),
    }
}

fn assert_too_expensive(source: &str) {
    match render(source) {
        Err(EngineError::TemplateTooExpensive(_)) => {}
        other => panic!("{source}: {other:?}"),
    }
}

#[test]
fn a_billion_iteration_loop_runs_out_of_fuel() {
    assert_too_expensive("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}");
    assert_too_expensive("{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}");
}

#[test]
fn exponential_string_growth_runs_out_of_fuel() {
    assert_too_expensive("{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}");
    assert_too_expensive("{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s|length }}");
}

#[test]
fn output_past_the_cap_is_refused() {
    // About 3 MiB of output in few instructions.
    let source = format!("{{% for i in range(3000) %}}{{{{ 'x' * {} }}}}{{% endfor %}}", 1024);
    match render(&source) {
        Err(EngineError::TemplateTooExpensive(message)) => assert!(message.contains("output"), "{message}"),
        other => panic!("{other:?}"),
    }
    // Just under the cap is fine.
    let ok = render(&format!("{{{{ 'x' * {} }}}}", MAX_OUTPUT - 1024)).unwrap();
    assert_eq!(ok.len(), MAX_OUTPUT - 1024);
}

#[test]
fn strftime_now_rejects_a_format_chrono_cannot_render() {
    for format in ["%Q", "%", "%Y-%m-%d %Ez", "%.9"] {
        match render(&format!("{{{{ strftime_now('{format}') }}}}")) {
            Err(EngineError::Template(message)) => assert!(message.contains("strftime_now"), "{message}"),
            other => panic!("{format}: {other:?}"),
        }
    }
    assert_eq!(render("{{ strftime_now('%d %B %Y') }}").unwrap().split(' ').count(), 3);
}

#[test]
fn the_real_templates_still_fit_the_budget_with_a_long_conversation() {
    // A long manuscript in a long chat: each fixture template renders it in full.
    let chapter = "It was a dark and stormy night. ".repeat(10_000);
    let mut messages = vec![ChatMessage::system("You are an editor.")];
    for i in 0..20 {
        messages.push(ChatMessage::user(format!("Part {i}: {chapter}")));
        messages.push(ChatMessage::assistant("Noted."));
    }
    messages.push(ChatMessage::user("Summarise."));
    for file in std::fs::read_dir(common::fixture("chat_templates")).unwrap() {
        let path = file.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("jinja") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        let t = ChatTemplate::new(Some(source), "<s>".into(), "</s>".into(), |_| true).unwrap();
        match t.render(&messages) {
            Ok(text) => assert!(text.len() > 20 * chapter.len(), "{}", path.display()),
            // Templates that refuse this role order say so; that is not a budget failure.
            Err(EngineError::Template(_)) => {}
            Err(e) => panic!("{}: {e}", path.display()),
        }
    }
}
