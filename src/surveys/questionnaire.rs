//! The questionnaire of the BTI kartlegging this project offers an administrator to start from, written
//! for the project (bokmål and nynorsk): whether employees know the action guide and the stafettlogg,
//! whether they know whom to talk to, how cooperation across services and transitions work.

use super::api::{DefaultQuestionnaire, Question};

const DEFAULT: &str = include_str!("questionnaire.json");

#[derive(serde::Deserialize)]
struct Parsed {
    title: String,
    questions: Vec<Question>,
}

/// The default questionnaire; its own unit test proves it is a valid survey's.
pub fn default_questionnaire() -> DefaultQuestionnaire {
    let parsed: Parsed = serde_json::from_str(DEFAULT)
        .expect("the default questionnaire is valid JSON (a unit test reads it)");
    DefaultQuestionnaire {
        title: parsed.title,
        questions: parsed.questions,
    }
}

#[cfg(test)]
mod tests {
    use validator::Validate;

    use super::*;
    use crate::surveys::api::SurveyInput;

    #[test]
    fn the_default_questionnaire_is_a_valid_survey_with_unique_keys() {
        let d = default_questionnaire();
        let today = chrono::NaiveDate::from_ymd_opt(2027, 1, 4).unwrap();
        let input = SurveyInput {
            title: d.title,
            opens_on: today,
            closes_on: today + chrono::Days::new(21),
            by_service: false,
            questions: d.questions,
        };
        input.validate().unwrap();
        crate::surveys::rules::keys_are_unique(&input.questions).unwrap();
        assert!(input.questions.len() >= 10);
    }
}
