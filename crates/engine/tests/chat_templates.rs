//! Chat templates render exactly as transformers renders them (tests/fixtures/chat_templates/expected.json,
//! made by tests/reference/chat_templates.py), including the templates' own refusals.

mod common;

use atelier_engine::{ChatFormat, ChatMessage, ChatTemplate, EngineError};

fn cases() -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(common::fixture("chat_templates/expected.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["cases"].as_array().unwrap().clone()
}

fn template(file: &str, bos: &str, eos: &str) -> ChatTemplate {
    let source = std::fs::read_to_string(common::fixture(&format!("chat_templates/{file}"))).unwrap();
    ChatTemplate::new(Some(source), bos.into(), eos.into(), |_| true).unwrap()
}

fn messages(case: &serde_json::Value) -> Vec<ChatMessage> {
    serde_json::from_value(case["messages"].clone()).unwrap()
}

#[test]
fn jinja_templates_render_like_transformers() {
    let cases = cases();
    assert_eq!(cases.len(), 12);
    for case in cases {
        let file = case["template"].as_str().unwrap();
        let t = template(file, case["bos"].as_str().unwrap(), case["eos"].as_str().unwrap());
        let label = format!("{file} / {}", case["conversation"]);
        match (t.render(&messages(&case)), case.get("expected")) {
            (Ok(rendered), Some(expected)) => assert_eq!(rendered, expected.as_str().unwrap(), "{label}"),
            (Err(EngineError::Template(message)), None) => {
                assert_eq!(message, case["error"].as_str().unwrap(), "{label}")
            }
            (other, _) => panic!("{label}: unexpected {other:?}"),
        }
    }
}

#[test]
fn the_mistral_v7_fallback_matches_ministral_3s_own_template() {
    for case in cases().iter().filter(|c| c["template"] == "ministral-3-reasoning-2512.jinja" && c.get("expected").is_some()) {
        let fallback = ChatTemplate::with_format(ChatFormat::MistralV7, "<s>".into(), "</s>".into());
        assert_eq!(fallback.render(&messages(case)).unwrap(), case["expected"].as_str().unwrap());
    }
}

#[test]
fn a_file_without_a_template_gets_the_format_its_tokens_imply() {
    let pick = |tokens: &'static [&'static str]| {
        ChatTemplate::new(None, "<s>".into(), "</s>".into(), |t| tokens.contains(&t)).unwrap().format().clone()
    };
    assert!(matches!(pick(&["[INST]", "[SYSTEM_PROMPT]"]), ChatFormat::MistralV7));
    assert!(matches!(pick(&["[INST]"]), ChatFormat::MistralV3));
    assert!(matches!(pick(&["<|im_start|>"]), ChatFormat::ChatMl));
    assert!(matches!(pick(&[]), ChatFormat::Plain));
}

#[test]
fn the_mistral_v3_fallback_puts_the_system_prompt_in_the_last_user_turn() {
    let t = ChatTemplate::with_format(ChatFormat::MistralV3, "<s>".into(), "</s>".into());
    let rendered = t
        .render(&[
            ChatMessage::system("Be brief."),
            ChatMessage::user("Hi"),
            ChatMessage::assistant("Hello."),
            ChatMessage::user("Bye"),
        ])
        .unwrap();
    assert_eq!(rendered, "<s>[INST] Hi[/INST] Hello.</s>[INST] Be brief.\n\nBye[/INST]");
}

#[test]
fn strftime_now_and_a_broken_template_are_handled() {
    let t = ChatTemplate::new(Some("{{ strftime_now('%Y') }}".into()), String::new(), String::new(), |_| true).unwrap();
    let year = t.render(&[ChatMessage::user("x")]).unwrap();
    assert_eq!(year.len(), 4);
    assert!(year.starts_with("20"));
    let broken = ChatTemplate::new(Some("{% for m in messages %}".into()), String::new(), String::new(), |_| true);
    assert!(matches!(broken, Err(EngineError::Template(_))));
}
