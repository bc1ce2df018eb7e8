//! The model library with both formats: an OpenVINO folder imports (as the folder, also when its
//! openvino_model.xml is what was picked), is listed as format OpenVINO beside the GGUF files, is reported
//! missing when its folder goes, and a broken folder is refused with the reason and adds nothing.

use std::path::{Path, PathBuf};

use atelier_studio::download::register;
use atelier_studio::models::{self, ModelFormat};
use atelier_studio::ModelHost;

mod common;

fn ir_fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/mistral3-tiny-openvino")
}

/// The fixture folder copied under `dir`, as a user's downloaded folder would be.
fn copy_folder(dir: &Path) -> PathBuf {
    let folder = dir.join("mistral3-tiny-openvino");
    std::fs::create_dir_all(&folder).unwrap();
    for entry in std::fs::read_dir(ir_fixture()).unwrap().flatten() {
        std::fs::copy(entry.path(), folder.join(entry.file_name())).unwrap();
    }
    folder
}

#[tokio::test]
async fn an_openvino_folder_is_imported_and_listed_as_format_openvino() {
    let s = common::setup().await;
    let folder = copy_folder(&s.dir);
    let gguf = s.dir.join("tiny.gguf");
    atelier_engine::synthetic::SyntheticSpec::tiny_llama().write(&gguf).unwrap();

    // Picking the folder's openvino_model.xml in the file dialog imports the folder.
    let record = register(&s.store, &folder.join("openvino_model.xml"), None, None).await.unwrap();
    assert_eq!(Path::new(&record.path), folder);
    assert_eq!((record.architecture.as_str(), record.quantization.as_str()), ("ministral3", "FP32"));
    assert!(record.size_bytes > 100_000 && record.parameters > 0, "{record:?}");
    // The folder itself (a dropped folder) is the same entry, not a second one.
    let again = register(&s.store, &folder, None, None).await.unwrap();
    assert_eq!(again.id, record.id);
    register(&s.store, &gguf, None, None).await.unwrap();

    let host = ModelHost::new();
    let listed = models::list(&s.store, &host).await.unwrap();
    let formats: Vec<(ModelFormat, bool)> = listed.iter().map(|m| (m.format, m.missing)).collect();
    assert_eq!(listed.len(), 2);
    assert!(formats.contains(&(ModelFormat::Openvino, false)) && formats.contains(&(ModelFormat::Gguf, false)), "{formats:?}");
    assert_eq!(ModelFormat::Openvino.label(), "OpenVINO");

    // A folder that is gone is missing (and still an OpenVINO entry); the list never loads it.
    std::fs::remove_dir_all(&folder).unwrap();
    let listed = models::list(&s.store, &host).await.unwrap();
    let gone = listed.iter().find(|m| m.record.id == record.id).unwrap();
    assert!(gone.missing && gone.format == ModelFormat::Openvino);
}

#[tokio::test]
async fn a_broken_folder_is_refused_with_its_reason_and_adds_nothing() {
    let s = common::setup().await;
    let folder = copy_folder(&s.dir);
    std::fs::remove_file(folder.join("tokenizer.json")).unwrap();
    let error = register(&s.store, &folder, None, None).await.unwrap_err().to_string();
    assert!(error.contains("tokenizer.json is missing"), "{error}");
    let not_a_model = s.dir.join("notes");
    std::fs::create_dir_all(&not_a_model).unwrap();
    let error = register(&s.store, &not_a_model, None, None).await.unwrap_err().to_string();
    assert!(error.contains("openvino_model.xml is missing"), "{error}");
    assert!(s.store.models().list().await.unwrap().is_empty());
}

#[tokio::test]
async fn deleting_an_openvino_entry_with_its_files_removes_the_folder() {
    let s = common::setup().await;
    let folder = copy_folder(&s.dir);
    let record = register(&s.store, &folder, None, None).await.unwrap();
    models::delete(&s.store, &ModelHost::new(), &s.dir, record.id, true).await.unwrap();
    assert!(!folder.exists());
    assert!(s.store.models().list().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_folder_outside_the_models_folder_is_never_deleted() {
    let s = common::setup().await;
    // A folder the writer imported from elsewhere (their Downloads), which holds their own files too.
    let downloads = s.dir.parent().unwrap().join("Downloads");
    let folder = copy_folder(&downloads);
    std::fs::write(folder.join("my-notes.txt"), "mine").unwrap();
    let record = register(&s.store, &folder, None, None).await.unwrap();
    // A link inside the models folder to it is no way round.
    #[cfg(unix)]
    std::os::unix::fs::symlink(&folder, s.dir.join("linked")).unwrap();

    let error = models::delete(&s.store, &ModelHost::new(), &s.dir, record.id, true).await.unwrap_err().to_string();
    assert!(error.contains("outside Atelier's models folder") && error.contains("delete the folder yourself"), "{error}");
    assert!(folder.join("openvino_model.xml").is_file() && folder.join("my-notes.txt").is_file());
    assert_eq!(s.store.models().list().await.unwrap().len(), 1, "nothing is forgotten when the delete is refused");
    #[cfg(unix)]
    {
        let linked = register(&s.store, &s.dir.join("linked"), None, None).await.unwrap();
        assert!(models::delete(&s.store, &ModelHost::new(), &s.dir, linked.id, true).await.is_err());
        assert!(folder.join("my-notes.txt").is_file());
    }

    // Forgetting it without its files works and leaves the folder.
    models::delete(&s.store, &ModelHost::new(), &s.dir, record.id, false).await.unwrap();
    assert!(folder.join("openvino_model.xml").is_file());
}
