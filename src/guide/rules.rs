//! The guide's rules as plain functions: what makes a document publishable, what one reader gets out of
//! it, and where a case stands in it.

use std::collections::HashSet;

use super::api::{PublicLevel, PublicStep, PublicTool};
use super::document::{Audience, DocStep, GuideDocument, Lang, Text};
use crate::http::error::{AppError, FieldError};

/// The longest text of a guide (one step's body in one language): a long web page, not a book.
pub const MAX_TEXT: usize = 20_000;
/// Titles are shown in lists and on cases.
pub const MAX_TITLE: usize = 300;
pub const MAX_STEPS_PER_LEVEL: usize = 50;
pub const MAX_TOOLS_PER_STEP: usize = 20;

fn key_ok(key: &str, max: usize) -> bool {
    let b = key.as_bytes();
    !b.is_empty()
        && b.len() <= max
        && b[0].is_ascii_alphanumeric()
        && !b[0].is_ascii_uppercase()
        && b.iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase() || b"._-".contains(c))
}

/// Collects what is wrong with a document, each problem named by its field path.
struct Findings(Vec<FieldError>);

impl Findings {
    fn add(&mut self, field: String, message: impl Into<String>) {
        self.0.push(FieldError {
            field,
            message: message.into(),
        });
    }

    fn text(&mut self, path: String, t: &Text, max: usize) {
        for (lang, value) in [("nb", Some(&t.nb)), ("nn", t.nn.as_ref())] {
            let Some(value) = value else { continue };
            let len = value.chars().count();
            if value.trim().is_empty() {
                self.add(format!("{path}.{lang}"), "must not be empty");
            } else if len > max {
                self.add(
                    format!("{path}.{lang}"),
                    format!("at most {max} characters (this has {len})"),
                );
            }
        }
    }

    fn step(&mut self, path: &str, step: &DocStep, keys: &mut HashSet<String>) {
        if !key_ok(&step.key, 20) {
            self.add(
                format!("{path}.key"),
                "1-20 of a-z, 0-9, '.', '_', '-', starting with a letter or digit",
            );
        } else if !keys.insert(step.key.clone()) {
            self.add(
                format!("{path}.key"),
                format!("`{}` is the key of another step", step.key),
            );
        }
        if step.audiences.is_empty() {
            self.add(format!("{path}.audiences"), "name at least one audience");
        } else if (1..step.audiences.len())
            .any(|i| step.audiences[i..].contains(&step.audiences[i - 1]))
        {
            self.add(format!("{path}.audiences"), "name each audience once");
        }
        self.text(format!("{path}.title"), &step.title, MAX_TITLE);
        self.text(format!("{path}.body"), &step.body, MAX_TEXT);
        if step.tools.len() > MAX_TOOLS_PER_STEP {
            self.add(
                format!("{path}.tools"),
                format!("at most {MAX_TOOLS_PER_STEP} tools"),
            );
        }
        let mut tool_keys = HashSet::new();
        for (t, tool) in step.tools.iter().enumerate() {
            let tp = format!("{path}.tools[{t}]");
            if !key_ok(&tool.key, 40) {
                self.add(format!("{tp}.key"), "1-40 of a-z, 0-9, '.', '_', '-'");
            } else if !tool_keys.insert(tool.key.as_str()) {
                self.add(
                    format!("{tp}.key"),
                    "another tool of this step has this key",
                );
            }
            self.text(format!("{tp}.title"), &tool.title, MAX_TITLE);
            if let Some(body) = &tool.body {
                self.text(format!("{tp}.body"), body, MAX_TEXT);
            }
            match &tool.url {
                Some(url) if !crate::http::extract::url_ok(url) => self.add(
                    format!("{tp}.url"),
                    "an http:// or https:// address of at most 2000 characters",
                ),
                None if tool.body.is_none() => {
                    self.add(format!("{tp}.url"), "a tool needs a url, a body or both")
                }
                _ => {}
            }
        }
    }
}

/// A document is publishable when levels 0-3 each appear once, each with at least one step for employees
/// (a case always stands on a step), step keys are unique in the whole guide (a case finds its step by
/// key alone), every title and text is present and of sane size, and every tool has a URL or a text.
pub fn check_document(doc: &GuideDocument) -> Result<(), AppError> {
    let mut f = Findings(Vec::new());
    let mut seen_levels = [false; 4];
    let mut keys = HashSet::new();
    for (l, level) in doc.levels.iter().enumerate() {
        let path = format!("levels[{l}]");
        match usize::try_from(level.level).ok().filter(|n| *n <= 3) {
            None => f.add(format!("{path}.level"), "levels are 0-3"),
            Some(n) if seen_levels[n] => {
                f.add(format!("{path}.level"), format!("level {n} appears twice"))
            }
            Some(n) => seen_levels[n] = true,
        }
        f.text(
            format!("{path}.summary.employee"),
            &level.summary.employee,
            MAX_TEXT,
        );
        for (name, t) in [
            ("adult", &level.summary.adult),
            ("youth", &level.summary.youth),
        ] {
            if let Some(t) = t {
                f.text(format!("{path}.summary.{name}"), t, MAX_TEXT);
            }
        }
        if level.steps.len() > MAX_STEPS_PER_LEVEL {
            f.add(
                format!("{path}.steps"),
                format!("at most {MAX_STEPS_PER_LEVEL} steps"),
            );
        }
        if !level
            .steps
            .iter()
            .any(|s| s.audiences.contains(&Audience::Employee))
        {
            f.add(
                format!("{path}.steps"),
                "needs at least one step for `employee`: cases walk through them",
            );
        }
        for (s, step) in level.steps.iter().enumerate() {
            f.step(&format!("{path}.steps[{s}]"), step, &mut keys);
        }
    }
    for (n, seen) in seen_levels.iter().enumerate() {
        if !seen {
            f.add("levels".into(), format!("level {n} is missing"));
        }
    }
    if f.0.is_empty() {
        Ok(())
    } else {
        Err(AppError::invalid_fields(f.0))
    }
}

/// What one audience reads in one language: levels in order, each with its name (from the level
/// definitions), summary and the steps written for that audience.
pub fn render(
    doc: &GuideDocument,
    names: &[String; 4],
    audience: Audience,
    lang: Lang,
) -> Vec<PublicLevel> {
    let mut levels: Vec<_> = doc.levels.iter().collect();
    levels.sort_by_key(|l| l.level);
    levels
        .into_iter()
        .map(|l| PublicLevel {
            level: l.level,
            name: names[l.level.clamp(0, 3) as usize].clone(),
            summary: l.summary.for_audience(audience).pick(lang).to_string(),
            steps: l
                .steps
                .iter()
                .filter(|s| s.audiences.contains(&audience))
                .map(|s| PublicStep {
                    key: s.key.clone(),
                    title: s.title.pick(lang).to_string(),
                    body: s.body.pick(lang).to_string(),
                    tools: s
                        .tools
                        .iter()
                        .map(|t| PublicTool {
                            key: t.key.clone(),
                            title: t.title.pick(lang).to_string(),
                            kind: t.kind,
                            url: t.url.clone(),
                            body: t.body.as_ref().map(|b| b.pick(lang).to_string()),
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect()
}

/// A step as a case remembers it: key and title (bokmål) as they were in its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRef {
    pub key: String,
    pub title: String,
}

/// Where a case stands: the step, and the one after it in the same level (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub version: i32,
    pub step: StepRef,
    pub next: Option<StepRef>,
}

/// The steps of a level that a case walks through: those for employees, in order.
fn case_steps(doc: &GuideDocument, level: i16) -> Vec<StepRef> {
    doc.levels
        .iter()
        .filter(|l| l.level == level)
        .flat_map(|l| l.steps.iter())
        .filter(|s| s.audiences.contains(&Audience::Employee))
        .map(|s| StepRef {
            key: s.key.clone(),
            title: s.title.nb.clone(),
        })
        .collect()
}

/// A case that opens or changes level stands on the first employee step of that level.
pub fn first_step_of_level(doc: &GuideDocument, version: i32, level: i16) -> Option<Placement> {
    let steps = case_steps(doc, level);
    let mut it = steps.into_iter();
    let step = it.next()?;
    Some(Placement {
        version,
        step,
        next: it.next(),
    })
}

/// A step move: the key must be an employee step of the case's level; 422 naming `key` otherwise.
pub fn step_in_level(
    doc: &GuideDocument,
    version: i32,
    level: i16,
    key: &str,
) -> Result<Placement, AppError> {
    let steps = case_steps(doc, level);
    let i = steps.iter().position(|s| s.key == key).ok_or_else(|| {
        let keys: Vec<&str> = steps.iter().map(|s| s.key.as_str()).collect();
        AppError::invalid(
            "key",
            format!(
                "`{key}` is not a step of level {level} in guide version {version}; its steps are {}",
                keys.join(", ")
            ),
        )
    })?;
    Ok(Placement {
        version,
        step: steps[i].clone(),
        next: steps.get(i + 1).cloned(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::document::{default_document, DocTool, ToolKind};
    use super::*;

    fn fields(doc: &GuideDocument) -> Vec<String> {
        match check_document(doc) {
            Ok(()) => vec![],
            Err(e) => e.errors.into_iter().map(|f| f.field).collect(),
        }
    }

    fn names() -> [String; 4] {
        ["N0", "N1", "N2", "N3"].map(String::from)
    }

    #[test]
    fn the_default_guide_is_publishable() {
        assert_eq!(fields(default_document()), Vec::<String>::new());
    }

    #[test]
    fn the_default_guides_first_steps_are_those_the_migration_backfills() {
        // migrations/2026-11-27-000011_guide gives existing cases these steps.
        let expected = [
            (
                "0.1",
                "Legg merke til undringen",
                "0.2",
                "Drøft med en kollega eller leder",
            ),
            (
                "1.1",
                "Utnevn stafettholder og lag en plan",
                "1.2",
                "Gjennomfør tiltakene sammen med familien",
            ),
            (
                "2.1",
                "Samtykke til samarbeid",
                "2.2",
                "Stafettmøte med den andre tjenesten",
            ),
            (
                "3.1",
                "Samtykke og koordinering",
                "3.2",
                "Bred tverrfaglig samarbeidsgruppe",
            ),
        ];
        for (level, (key, title, next_key, next_title)) in expected.into_iter().enumerate() {
            let p = first_step_of_level(default_document(), 0, level as i16).unwrap();
            assert_eq!((p.step.key.as_str(), p.step.title.as_str()), (key, title));
            let next = p.next.unwrap();
            assert_eq!(
                (next.key.as_str(), next.title.as_str()),
                (next_key, next_title)
            );
        }
    }

    #[test]
    fn a_duplicate_step_key_is_refused_naming_the_second() {
        let mut doc = default_document().clone();
        doc.levels[1].steps[1].key = "0.1".into();
        assert_eq!(fields(&doc), vec!["levels[1].steps[1].key"]);
    }

    #[test]
    fn a_step_without_a_title_is_refused() {
        let mut doc = default_document().clone();
        doc.levels[0].steps[2].title.nb = " ".into();
        assert_eq!(fields(&doc), vec!["levels[0].steps[2].title.nb"]);
    }

    #[test]
    fn a_level_outside_0_to_3_is_refused_and_the_missing_one_named() {
        let mut doc = default_document().clone();
        doc.levels[3].level = 4;
        assert_eq!(fields(&doc), vec!["levels[3].level", "levels"]);
    }

    #[test]
    fn a_body_over_the_limit_is_refused() {
        let mut doc = default_document().clone();
        doc.levels[2].steps[0].body.nn = Some("x".repeat(MAX_TEXT + 1));
        assert_eq!(fields(&doc), vec!["levels[2].steps[0].body.nn"]);
    }

    #[test]
    fn a_tool_needs_a_url_or_a_body_and_a_url_is_http() {
        let mut doc = default_document().clone();
        let tool = DocTool {
            key: "x".into(),
            kind: ToolKind::Link,
            title: Text {
                nb: "Lenke".into(),
                nn: None,
            },
            url: None,
            body: None,
        };
        doc.levels[0].steps[0].tools = vec![
            tool.clone(),
            DocTool {
                key: "y".into(),
                url: Some("javascript:alert(1)".into()),
                ..tool
            },
        ];
        assert_eq!(
            fields(&doc),
            vec![
                "levels[0].steps[0].tools[0].url",
                "levels[0].steps[0].tools[1].url"
            ]
        );
    }

    #[test]
    fn a_level_needs_a_step_for_employees() {
        let mut doc = default_document().clone();
        for s in &mut doc.levels[3].steps {
            s.audiences = vec![Audience::Adult];
        }
        assert_eq!(fields(&doc), vec!["levels[3].steps"]);
    }

    #[test]
    fn a_step_names_each_audience_once() {
        let mut doc = default_document().clone();
        doc.levels[1].steps[0].audiences =
            vec![Audience::Employee, Audience::Adult, Audience::Employee];
        assert_eq!(fields(&doc), vec!["levels[1].steps[0].audiences"]);
    }

    #[test]
    fn nynorsk_falls_back_to_bokmal_where_a_text_has_none() {
        let t = Text {
            nb: "bokmål".into(),
            nn: None,
        };
        assert_eq!(t.pick(Lang::Nn), "bokmål");
        let t = Text {
            nb: "bokmål".into(),
            nn: Some("nynorsk".into()),
        };
        assert_eq!(t.pick(Lang::Nn), "nynorsk");
        assert_eq!(t.pick(Lang::Nb), "bokmål");
    }

    #[test]
    fn each_audience_reads_only_its_own_steps() {
        let doc = default_document();
        for audience in [Audience::Employee, Audience::Adult, Audience::Youth] {
            let levels = render(doc, &names(), audience, Lang::Nb);
            assert_eq!(levels.len(), 4);
            for (l, level) in levels.iter().enumerate() {
                assert_eq!(level.name, format!("N{l}"));
                assert!(!level.steps.is_empty(), "{audience:?} level {l}");
            }
        }
        let youth = render(doc, &names(), Audience::Youth, Lang::Nb);
        assert!(youth[0].steps.iter().all(|s| s.key.contains(".u")));
    }

    #[test]
    fn a_step_move_must_name_an_employee_step_of_the_cases_level() {
        let doc = default_document();
        let p = step_in_level(doc, 3, 0, "0.3").unwrap();
        assert_eq!(p.step.key, "0.3");
        assert_eq!(p.next.unwrap().key, "0.4");
        assert_eq!(p.version, 3);
        let last = step_in_level(doc, 3, 0, "0.5").unwrap();
        assert_eq!(last.next, None);
        for wrong in ["1.1", "0.v1", "9.9"] {
            let e = step_in_level(doc, 3, 0, wrong).unwrap_err();
            assert_eq!(e.errors[0].field, "key");
        }
    }
}
