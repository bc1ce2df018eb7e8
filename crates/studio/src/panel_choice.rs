//! The panel the writer last set up: the Fusion page edits it, the Assist panel's "Ask the panel"
//! runs it. Kept in the library's settings (`fusion_panel`) and checked like every other input.

use atelier_fusion::config::{default_personas, Persona};
use atelier_fusion::modes::ModeKind;
use atelier_fusion::MAX_PANEL;
use serde::{Deserialize, Serialize};

use crate::error::{Result, StudioError};
use crate::limits;

pub const SETTING: &str = "fusion_panel";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[derive(specta::Type)]
pub struct PanelChoice {
    /// `local` or `provider:model`, as in [`crate::fusion::FusionParams::members`].
    pub members: Vec<String>,
    pub judge: Option<String>,
    pub mode: ModeKind,
    pub rounds: usize,
    pub budget_usd: Option<f64>,
    pub max_tokens: usize,
    /// Offline self-fusion: how many samples of the on-device model.
    pub samples: usize,
    pub personas: Vec<Persona>,
}

impl Default for PanelChoice {
    fn default() -> Self {
        Self {
            members: vec!["local".into()],
            judge: Some("local".into()),
            mode: ModeKind::Merge,
            rounds: 1,
            budget_usd: Some(0.05),
            max_tokens: 400,
            samples: 3,
            personas: default_personas(),
        }
    }
}

impl PanelChoice {
    pub fn check(&self) -> Result<()> {
        if self.members.len() > MAX_PANEL || self.personas.len() > MAX_PANEL {
            return Err(StudioError::Invalid(format!("a panel has at most {MAX_PANEL} members and personas")));
        }
        if !(1..=MAX_PANEL).contains(&self.samples) {
            return Err(StudioError::Invalid(format!("self-fusion takes 1 to {MAX_PANEL} samples (got {})", self.samples)));
        }
        let too_long = |s: &str| s.chars().count() > 200;
        if self.members.iter().chain(&self.judge).any(|m| too_long(m)) || self.personas.iter().any(|p| too_long(&p.description)) {
            return Err(StudioError::Invalid("a member name or persona is over 200 characters".into()));
        }
        for persona in &self.personas {
            limits::temperature(persona.temperature)?;
        }
        limits::rounds(self.rounds)?;
        limits::max_tokens(self.max_tokens)?;
        if let Some(budget) = self.budget_usd {
            limits::budget_usd(budget)?;
        }
        Ok(())
    }

    /// The stored choice; a missing or unreadable one is the default (an older build's, or none yet).
    pub fn from_setting(value: Option<serde_json::Value>) -> Self {
        value.and_then(|v| serde_json::from_value::<Self>(v).ok()).filter(|c| c.check().is_ok()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_choice_round_trips_and_a_bad_one_is_refused_or_replaced() {
        let choice = PanelChoice { members: vec!["local".into(), "openrouter:gpt".into()], samples: 5, ..Default::default() };
        let stored = serde_json::to_value(&choice).unwrap();
        assert_eq!(PanelChoice::from_setting(Some(stored)), choice);
        assert_eq!(PanelChoice::from_setting(Some(serde_json::json!({"members": 3}))), PanelChoice::default());
        assert_eq!(PanelChoice::from_setting(None), PanelChoice::default());
        assert!(PanelChoice { samples: 0, ..Default::default() }.check().is_err());
        assert!(PanelChoice { members: vec!["local".into(); MAX_PANEL + 1], ..Default::default() }.check().is_err());
        assert!(PanelChoice { max_tokens: 0, ..Default::default() }.check().is_err());
        let hot = Persona { temperature: f32::NAN, description: "feverish".into() };
        assert!(PanelChoice { personas: vec![hot], ..Default::default() }.check().is_err());
    }
}
