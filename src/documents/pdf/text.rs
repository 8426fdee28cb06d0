//! Text as it may be printed: national ids written into free text masked like the recorded ones, and
//! characters the font cannot show (or PDF/A forbids) replaced, so every glyph in the file maps to a
//! character and an archive can search it.

/// `text` with every number written like a national id masked (in any of the forms
/// `crate::national_id::written_in` knows, also when its check digits are wrong), control and invisible
/// formatting characters removed, tabs as spaces, and characters `has` says the font lacks replaced by `?`.
pub fn clean(text: &str, has: impl Fn(char) -> bool) -> String {
    let masked = crate::national_id::mask_in_text(text);
    let mut out = String::with_capacity(masked.len());
    for c in masked.chars() {
        match c {
            '\n' => out.push('\n'),
            '\r' => {}
            '\t' | '\u{a0}' => out.push(' '),
            '\u{2028}' | '\u{2029}' => out.push('\n'),
            c if crate::national_id::invisible(c) => {}
            c if has(c) && !private_use(c) => out.push(c),
            _ => out.push('?'),
        }
    }
    out
}

fn private_use(c: char) -> bool {
    matches!(c, '\u{e000}'..='\u{f8ff}' | '\u{f0000}'..='\u{10ffff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_font_lacks_becomes_a_question_mark_and_invisible_characters_go() {
        let has = |c: char| c.is_ascii() || "æøåÆØÅ".contains(c);
        assert_eq!(clean("Blåbær 🙂", has), "Blåbær ?");
        assert_eq!(clean("a\u{200b}b\u{feff}c\u{7}\r", has), "abc");
        assert_eq!(clean("a\tb\u{2028}c", has), "a b\nc");
        assert_eq!(clean("x\u{e000}", |_| true), "x?");
    }
}
