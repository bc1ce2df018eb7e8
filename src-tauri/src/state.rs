//! What crosses IPC when a command fails: the studio's error kind and its message for the user.

use atelier_studio::{ErrorKind, StudioError};
use serde::Serialize;

pub use atelier_studio::Studio as AppState;

/// An error as the UI receives it: a stable kind to branch on and a message for the user.
#[derive(Debug, Serialize, specta::Type)]
pub struct CommandError {
    pub kind: ErrorKind,
    pub message: String,
}

impl From<StudioError> for CommandError {
    fn from(err: StudioError) -> Self {
        Self { kind: err.kind(), message: err.to_string() }
    }
}

/// Every crate's error reaches the UI through the studio's kinds.
macro_rules! through_studio {
    ($($error:ty),*) => {
        $(impl From<$error> for CommandError {
            fn from(err: $error) -> Self {
                StudioError::from(err).into()
            }
        })*
    };
}
through_studio!(atelier_store::StoreError, atelier_engine::EngineError, atelier_keys::KeysError, atelier_fusion::FusionError, atelier_fusion::MemberError, atelier_manuscript::ManuscriptError);

pub type CmdResult<T> = Result<T, CommandError>;
