//! The guide as one document: what an admin edits (`PUT /api/v1/guide/draft`), what a version stores,
//! and what one municipality exports and another imports. Every audience and both languages are in it at
//! once; `rules::render` cuts out what one reader gets.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

crate::text_enum! {
    /// Who a text is written for: employees get the full procedure, adults (parents and others) and
    /// youth get what to do and whom to contact.
    pub enum Audience {
        Employee,
        Adult,
        Youth,
    }
}

crate::text_enum! {
    /// Bokmål or nynorsk.
    pub enum Lang {
        Nb,
        Nn,
    }
}

crate::text_enum! {
    pub enum ToolKind {
        Form,
        Document,
        Link,
        Contact,
    }
}

/// A text in bokmål, optionally in nynorsk too; a reader asking for nynorsk gets bokmål where `nn` is
/// missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Text {
    #[schema(min_length = 1, max_length = 20000)]
    pub nb: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 20000)]
    pub nn: Option<String>,
}

impl Text {
    /// The text in `lang`, falling back to bokmål.
    pub fn pick(&self, lang: Lang) -> &str {
        match (lang, &self.nn) {
            (Lang::Nn, Some(nn)) => nn,
            _ => &self.nb,
        }
    }
}

/// The schema of a [`Text`] that is a title: at most 300 characters in each language, as the guide's
/// rules check (`MAX_TITLE`).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
#[serde(deny_unknown_fields)]
pub struct TitleText {
    #[schema(min_length = 1, max_length = 300)]
    nb: String,
    #[serde(default)]
    #[schema(max_length = 300)]
    nn: Option<String>,
}

/// A level's summary for each audience; adults and youth get the employees' text where theirs is missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Summaries {
    pub employee: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adult: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub youth: Option<Text>,
}

impl Summaries {
    pub fn for_audience(&self, audience: Audience) -> &Text {
        match audience {
            Audience::Adult => self.adult.as_ref().unwrap_or(&self.employee),
            Audience::Youth => self.youth.as_ref().unwrap_or(&self.employee),
            Audience::Employee => &self.employee,
        }
    }
}

/// A form, document, link or contact beside a step: a URL, a text, or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocTool {
    /// Unique within its step.
    #[schema(
        pattern = "^[0-9a-z][0-9a-z._-]{0,39}$",
        min_length = 1,
        max_length = 40,
        example = "samtykke"
    )]
    pub key: String,
    pub kind: ToolKind,
    #[schema(value_type = TitleText)]
    pub title: Text,
    /// `https://` or `http://`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        max_length = 2000,
        pattern = "^https?://\\S+$",
        example = "https://lovdata.no/lov/2021-06-18-97"
    )]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Text>,
}

/// One step of a level: what to do, for whom, with which tools.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocStep {
    /// Stable across versions (cases refer to it); unique in the whole guide.
    #[schema(
        pattern = "^[0-9a-z][0-9a-z._-]{0,19}$",
        min_length = 1,
        max_length = 20,
        example = "0.1"
    )]
    pub key: String,
    /// Who sees the step. Cases walk through the steps for `employee`.
    #[schema(min_items = 1, max_items = 3)]
    pub audiences: Vec<Audience>,
    /// At most 300 characters in each language.
    #[schema(value_type = TitleText)]
    pub title: Text,
    /// Markdown.
    pub body: Text,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub tools: Vec<DocTool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocLevel {
    /// 0-3; the level's name comes from the level definitions (`/api/v1/levels`).
    #[schema(minimum = 0, maximum = 3)]
    pub level: i16,
    pub summary: Summaries,
    /// In order. At least one step for `employee`: a case always stands on one.
    #[schema(max_items = 50)]
    pub steps: Vec<DocStep>,
}

/// The whole guide: levels 0-3, each once, in any order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct GuideDocument {
    #[schema(min_items = 4, max_items = 4)]
    pub levels: Vec<DocLevel>,
}

/// The project's default guide: the common BTI path, written for this project.
pub fn default_document() -> &'static GuideDocument {
    static DOC: std::sync::OnceLock<GuideDocument> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        serde_json::from_str(include_str!("default_guide.json"))
            .expect("src/guide/default_guide.json is a guide document (a unit test checks it)")
    })
}
