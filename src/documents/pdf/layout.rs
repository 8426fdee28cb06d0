//! A small flow layout for A4 documents over krilla, which draws glyphs but does not break lines or
//! pages. Text is laid out first (lines placed on pages), and drawn once the page count is known, so
//! every footer can say "Side 2 av 7".

use krilla::color::rgb;
use krilla::configure::{Configuration, Validator};
use krilla::geom::{PathBuilder, Point};
use krilla::metadata::{DateTime as PdfDateTime, Metadata};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, TextDirection};
use krilla::{Document, SerializeSettings};
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::{FontRef, MetadataProvider};

use crate::http::error::AppError;

static REGULAR: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

/// A4 in points.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN_X: f32 = 56.0;
const MARGIN_TOP: f32 = 56.0;
/// Room below the text for the footer.
const MARGIN_BOTTOM: f32 = 70.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN_X;
/// Where a field's value starts, after its label.
const LABEL_W: f32 = 130.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Title,
    Heading,
    Subheading,
    Body,
    Label,
    Small,
}

impl Style {
    fn size(self) -> f32 {
        match self {
            Style::Title => 18.0,
            Style::Heading => 13.0,
            Style::Subheading => 10.5,
            Style::Body | Style::Label => 9.5,
            Style::Small => 8.0,
        }
    }

    fn bold(self) -> bool {
        matches!(
            self,
            Style::Title | Style::Heading | Style::Subheading | Style::Label
        )
    }

    /// Grey for secondary text, near-black otherwise.
    fn grey(self) -> bool {
        self == Style::Small
    }

    fn line_height(self) -> f32 {
        self.size() * 1.35
    }
}

/// What a page holds before it is drawn.
enum Op {
    Text {
        x: f32,
        y: f32,
        style: Style,
        text: String,
    },
    Rule {
        y: f32,
    },
}

/// Glyph advances for measuring lines; the fonts are the committed DejaVu Sans, which covers Norwegian
/// (æøå, and Sami letters) and most of Latin, Greek and Cyrillic.
struct Measure {
    font: FontRef<'static>,
    metrics: GlyphMetrics<'static>,
    units_per_em: f32,
}

impl Measure {
    fn new(data: &'static [u8]) -> Measure {
        let font = FontRef::new(data).expect("the committed font parses");
        let metrics = font.glyph_metrics(Size::unscaled(), LocationRef::default());
        let units_per_em = f32::from(
            font.metrics(Size::unscaled(), LocationRef::default())
                .units_per_em,
        );
        Measure {
            font,
            metrics,
            units_per_em,
        }
    }

    fn has(&self, c: char) -> bool {
        self.font.charmap().map(c).is_some_and(|g| g.to_u32() != 0)
    }

    /// The width of `text` at `size`, without kerning (which only narrows it).
    fn width(&self, text: &str, size: f32) -> f32 {
        let upem = self.units_per_em;
        let charmap = self.font.charmap();
        let units: f32 = text
            .chars()
            .map(|c| {
                let glyph = charmap.map(c).unwrap_or_default();
                self.metrics.advance_width(glyph).unwrap_or_default()
            })
            .sum();
        units * size / upem
    }
}

/// The document being laid out: pages of placed lines, and where the next line goes.
pub struct Layout {
    pages: Vec<Vec<Op>>,
    y: f32,
    regular: Measure,
    bold: Measure,
}

impl Default for Layout {
    fn default() -> Self {
        Layout::new()
    }
}

impl Layout {
    pub fn new() -> Layout {
        Layout {
            pages: vec![Vec::new()],
            y: MARGIN_TOP,
            regular: Measure::new(REGULAR),
            bold: Measure::new(BOLD),
        }
    }

    fn measure(&self, style: Style) -> &Measure {
        if style.bold() {
            &self.bold
        } else {
            &self.regular
        }
    }

    fn page(&mut self) -> &mut Vec<Op> {
        self.pages.last_mut().expect("there is always a page")
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN_TOP;
    }

    /// Starts a new page unless `height` more fits on this one.
    pub fn keep(&mut self, height: f32) {
        if self.y + height > PAGE_H - MARGIN_BOTTOM && self.y > MARGIN_TOP {
            self.new_page();
        }
    }

    pub fn gap(&mut self, height: f32) {
        self.y += height;
    }

    pub fn title(&mut self, text: &str) {
        self.lines_at(MARGIN_X, CONTENT_W, Style::Title, text);
        self.gap(4.0);
    }

    /// A section's heading with a rule under it, never alone at the foot of a page.
    pub fn heading(&mut self, text: &str) {
        self.gap(10.0);
        self.keep(Style::Heading.line_height() + 3.0 * Style::Body.line_height());
        self.lines_at(MARGIN_X, CONTENT_W, Style::Heading, text);
        let y = self.y - 2.0;
        self.page().push(Op::Rule { y });
        self.gap(4.0);
    }

    pub fn subheading(&mut self, text: &str) {
        self.gap(5.0);
        self.keep(Style::Subheading.line_height() + 2.0 * Style::Body.line_height());
        self.lines_at(MARGIN_X, CONTENT_W, Style::Subheading, text);
    }

    pub fn paragraph(&mut self, style: Style, text: &str) {
        self.lines_at(MARGIN_X, CONTENT_W, style, text);
    }

    /// Indented text, for what belongs to the item above it.
    pub fn indented(&mut self, style: Style, text: &str) {
        self.lines_at(MARGIN_X + 14.0, CONTENT_W - 14.0, style, text);
    }

    /// `label` in bold, `value` wrapped beside it.
    pub fn field(&mut self, label: &str, value: &str) {
        let line = Style::Body.line_height();
        self.keep(line);
        let top = self.y;
        self.lines_at(MARGIN_X, LABEL_W - 8.0, Style::Label, label);
        let after_label = self.y;
        let label_page = self.pages.len();
        self.y = top;
        self.lines_at(MARGIN_X + LABEL_W, CONTENT_W - LABEL_W, Style::Body, value);
        if self.pages.len() == label_page {
            self.y = self.y.max(after_label);
        }
    }

    /// Wraps `text` (its own line breaks kept) into lines of at most `width`, placing each.
    fn lines_at(&mut self, x: f32, width: f32, style: Style, text: &str) {
        let text = super::text::clean(text, |c| self.measure(style).has(c));
        let line_height = style.line_height();
        for line in self.wrap(&text, width, style) {
            self.keep(line_height);
            // Text is placed by its baseline.
            let y = self.y + style.size();
            self.page().push(Op::Text {
                x,
                y,
                style,
                text: line,
            });
            self.y += line_height;
        }
    }

    fn wrap(&self, text: &str, width: f32, style: Style) -> Vec<String> {
        let m = self.measure(style);
        let size = style.size();
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
                let candidate = if line.is_empty() {
                    word.to_string()
                } else {
                    format!("{line} {word}")
                };
                if m.width(&candidate, size) <= width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                // A word wider than the line (a URL, a long number) is broken where it reaches the edge.
                for c in word.chars() {
                    line.push(c);
                    if m.width(&line, size) > width && line.chars().count() > 1 {
                        let last = line.pop().expect("just pushed");
                        lines.push(std::mem::replace(&mut line, last.to_string()));
                    }
                }
            }
            lines.push(line);
        }
        lines
    }

    /// Draws every page with its footer (`footer` on the left, "Side n av m" on the right) and writes
    /// the PDF, as PDF/A-2u when krilla can vouch for it.
    pub fn finish(self, meta: &Meta) -> Result<Vec<u8>, AppError> {
        match self.render(meta, Validator::A2_U) {
            Ok(pdf) => Ok(pdf),
            Err(errors) => {
                // Validation errors name the text they found; only their number is logged.
                tracing::warn!(
                    errors,
                    "the archive PDF does not pass PDF/A-2u; writing it without"
                );
                self.render(meta, Validator::None)
                    .map_err(|_| AppError::internal())
            }
        }
    }

    fn render(&self, meta: &Meta, validator: Validator) -> Result<Vec<u8>, usize> {
        let settings = SerializeSettings {
            configuration: Configuration::new_with_validator(validator),
            ..SerializeSettings::default()
        };
        let mut document = Document::new_with(settings);
        document.set_metadata(meta.metadata());
        let regular = Font::new(REGULAR.into(), 0).expect("the committed font parses");
        let bold = Font::new(BOLD.into(), 0).expect("the committed font parses");
        let total = self.pages.len();
        for (i, ops) in self.pages.iter().enumerate() {
            let settings = PageSettings::from_wh(PAGE_W, PAGE_H).expect("A4 is a valid size");
            let mut page = document.start_page_with(settings);
            let mut surface = page.surface();
            for op in ops {
                match op {
                    Op::Text { x, y, style, text } => {
                        let font = if style.bold() { &bold } else { &regular };
                        draw(&mut surface, font, *x, *y, *style, text);
                    }
                    Op::Rule { y } => rule(&mut surface, *y),
                }
            }
            let footer_y = PAGE_H - MARGIN_BOTTOM + 32.0;
            let number = format!("Side {} av {}", i + 1, total);
            let number_x = PAGE_W - MARGIN_X - self.regular.width(&number, Style::Small.size());
            draw(
                &mut surface,
                &regular,
                MARGIN_X,
                footer_y,
                Style::Small,
                &meta.footer,
            );
            draw(
                &mut surface,
                &regular,
                number_x,
                footer_y,
                Style::Small,
                &number,
            );
            surface.finish();
            page.finish();
        }
        document.finish().map_err(|e| match e {
            krilla::error::KrillaError::Validation(errors) => errors.len(),
            _ => 0,
        })
    }
}

fn draw(
    surface: &mut krilla::surface::Surface,
    font: &Font,
    x: f32,
    y: f32,
    style: Style,
    text: &str,
) {
    let shade = if style.grey() { 90 } else { 20 };
    surface.set_fill(Some(Fill {
        paint: rgb::Color::new(shade, shade, shade).into(),
        ..Fill::default()
    }));
    surface.draw_text(
        Point::from_xy(x, y),
        font.clone(),
        style.size(),
        text,
        false,
        TextDirection::Auto,
    );
}

fn rule(surface: &mut krilla::surface::Surface, y: f32) {
    let mut pb = PathBuilder::new();
    pb.move_to(MARGIN_X, y);
    pb.line_to(PAGE_W - MARGIN_X, y);
    if let Some(path) = pb.finish() {
        surface.set_fill(None);
        surface.set_stroke(Some(Stroke {
            paint: rgb::Color::new(150, 150, 150).into(),
            width: 0.6,
            ..Stroke::default()
        }));
        surface.draw_path(&path);
        surface.set_stroke(None);
    }
}

/// What the file says about itself: its title in the metadata, and the footer of every page.
pub struct Meta {
    pub title: String,
    pub footer: String,
    pub created: chrono::DateTime<chrono::Utc>,
}

impl Meta {
    fn metadata(&self) -> Metadata {
        use chrono::{Datelike, Timelike};
        let c = self.created;
        let date = PdfDateTime::new(u16::try_from(c.year()).unwrap_or(2000))
            .month(c.month() as u8)
            .day(c.day() as u8)
            .hour(c.hour() as u8)
            .minute(c.minute() as u8)
            .second(c.second() as u8)
            .utc_offset_hour(0)
            .utc_offset_minute(0);
        Metadata::new()
            .title(self.title.clone())
            .language("nb".into())
            .creator("Stafettlogg".into())
            .producer(format!("Stafettlogg {}", env!("CARGO_PKG_VERSION")))
            .creation_date(date)
    }
}
