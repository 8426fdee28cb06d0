//! Norwegian national identity numbers (fødselsnummer, D-number, H-number, synthetic test numbers):
//! parsing, how they are kept at rest (encrypted, with a keyed hash for lookup) and shown (masked), and
//! how they are found in free text, in the forms people write them (the archive masks them there; the
//! test run's log check looks for them in every log line).
//!
//! The number is only ever validated, never mined: birth date and gender are not derived from it.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// An 11-digit number that passed the check-digit and date rules. Its `Debug` never prints the digits,
/// so it cannot leak into a log line by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct NationalId(String);

impl std::fmt::Debug for NationalId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NationalId(***********)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NationalIdError {
    #[error("must be exactly 11 digits")]
    Length,
    #[error("must contain digits only")]
    NotDigits,
    #[error("the first six digits are not a valid date (DDMMYY, with the D-, H- or synthetic adjustments)")]
    Date,
    #[error("the check digits do not match")]
    CheckDigit,
}

const K1_WEIGHTS: [u32; 9] = [3, 7, 6, 1, 8, 9, 4, 5, 2];
const K2_WEIGHTS: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];

/// Which check-digit rule a number satisfies: numbers issued before 2032 satisfy the classic one,
/// numbers from 2032 may only satisfy the relaxed K1 rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckDigitRule {
    Classic,
    From2032,
}

fn weighted(digits: &[u32], weights: &[u32]) -> u32 {
    digits.iter().zip(weights).map(|(d, w)| d * w).sum()
}

/// K2 must satisfy (sum + K2) mod 11 == 0 under both rules. K1 does too under the classic rule; from 2032
/// the remainder may be 0, 1, 2 or 3. A required check digit of 10 cannot be written, so such numbers fail.
pub fn check_digit_rule(digits: &[u32; 11]) -> Option<CheckDigitRule> {
    if !(weighted(&digits[..10], &K2_WEIGHTS) + digits[10]).is_multiple_of(11) {
        return None;
    }
    match (weighted(&digits[..9], &K1_WEIGHTS) + digits[9]) % 11 {
        0 => Some(CheckDigitRule::Classic),
        1..=3 => Some(CheckDigitRule::From2032),
        _ => None,
    }
}

/// DDMMYY where a D-number adds 4 to the first digit, an H-number adds 4 to the third, and a synthetic
/// test number adds 8 to the third (a synthetic D-number does both). The century is unknown on purpose,
/// so 29 February is accepted in any year divisible by four.
fn date_is_valid(d: &[u32; 11]) -> bool {
    let mut day = d[0] * 10 + d[1];
    if day > 40 {
        day -= 40;
    }
    let month = match d[2] * 10 + d[3] {
        m @ 1..=12 => m,
        m @ 41..=52 => m - 40,
        m @ 81..=92 => m - 80,
        _ => return false,
    };
    let year = d[4] * 10 + d[5];
    let days_in_month = match month {
        2 if year.is_multiple_of(4) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    (1..=days_in_month).contains(&day)
}

impl NationalId {
    pub fn parse(input: &str) -> Result<Self, NationalIdError> {
        if !input.chars().all(|c| c.is_ascii_digit()) {
            return Err(NationalIdError::NotDigits);
        }
        if input.len() != 11 {
            return Err(NationalIdError::Length);
        }
        let mut digits = [0u32; 11];
        for (slot, c) in digits.iter_mut().zip(input.chars()) {
            *slot = c.to_digit(10).expect("checked above");
        }
        if !date_is_valid(&digits) {
            return Err(NationalIdError::Date);
        }
        check_digit_rule(&digits).ok_or(NationalIdError::CheckDigit)?;
        Ok(NationalId(input.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What readers other than the holder see: the first six digits and the rest hidden.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

pub fn mask(number: &str) -> String {
    format!("{}*****", &number[..6.min(number.len())])
}

/// How a national id is written in free text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrittenForm {
    /// `14082010082`: eleven digits in a row.
    InARow,
    /// `140820 10082`, `140820 100 82`, `140820-10082`, `140820 – 10082`, `140820/10082`: the date apart
    /// from the individual number.
    DateApart,
    /// `14.08.20 10082`, `14.08.2020 100 82`, `14-08-20-10082`, `14 08 20 10082`: the date written as a
    /// date.
    DottedDate,
}

/// A number in free text written the way people write a national id. Its `Debug` never prints the digits.
#[derive(Clone, PartialEq, Eq)]
pub struct Written {
    /// Where it is, in bytes of the text.
    pub range: std::ops::Range<usize>,
    pub form: WrittenForm,
    /// Where its date part ends: what a masked number keeps.
    date_end: usize,
    digits: String,
    /// Written in a way that is also common for other things (glued to a letter, a date with a four-digit
    /// year or with dashes or spaces): it counts only when it passes the rules.
    only_if_valid: bool,
}

impl std::fmt::Debug for Written {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Written({:?}, {:?})", self.form, self.range)
    }
}

impl Written {
    /// Whether the number passes the service's rules ([`NationalId::parse`]: a date with the D-, H- and
    /// synthetic adjustments, and the check digits under either rule, the classic or that of 2032).
    pub fn is_national_id(&self) -> bool {
        NationalId::parse(&self.digits).is_ok()
    }
}

/// Every number in `text` written in one of the [`WrittenForm`]s: in the plain forms whether or not it
/// passes the rules (a mistyped id is still someone's), in the forms other numbers share only when it
/// does. A number glued to more digits is part of a longer number, and so are digits after a decimal
/// point or comma. The text is read as a person reads it: characters no one sees ([`invisible`]) are
/// skipped, full-width digits are digits, any dash is a dash and any space but a line break is a space.
pub fn written_in(text: &str) -> Vec<Written> {
    let plain = Plain::of(text);
    let bytes = plain.text.as_bytes();
    let mut found = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at].is_ascii_digit() {
            if let Some(glued) = start_of_number(bytes, at) {
                if let Some(mut written) = written_at(&plain.text, at) {
                    written.only_if_valid |= glued;
                    let hex = in_a_hex_token(bytes, at, written.range.end);
                    at = written.range.end;
                    if !hex && (!written.only_if_valid || written.is_national_id()) {
                        found.push(plain.in_original(written));
                    }
                    continue;
                }
            }
        }
        at += 1;
    }
    found
}

/// The national ids written in `text`: the numbers [`written_in`] finds that pass the service's rules.
pub fn find_in_text(text: &str) -> Vec<Written> {
    written_in(text)
        .into_iter()
        .filter(Written::is_national_id)
        .collect()
}

/// `text` with every number [`written_in`] finds masked as [`mask`] masks a recorded id: its date part as
/// written, then `*****`. Also a number that fails the rules: a mistyped id is still someone's.
pub fn mask_in_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for w in written_in(text) {
        out.push_str(&text[copied..w.date_end]);
        out.push_str("*****");
        copied = w.range.end;
    }
    out.push_str(&text[copied..]);
    out
}

/// Characters no one sees: control characters and invisible formatting (zero-width spaces and joiners,
/// direction marks and overrides, the soft hyphen, invisible operators). The scanner skips them and the
/// archive PDF drops them (`crate::documents::pdf::text`), so both read the same digits: a number split
/// by one for the scanner would otherwise be printed whole.
pub fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}'
            | '\u{feff}' | '\u{fffe}' | '\u{ffff}')
}

/// A text as the scanner reads it, with where each of its bytes came from in the original.
struct Plain {
    text: String,
    /// For each byte of `text`: the original's byte range of the character it stands for.
    from: Vec<std::ops::Range<usize>>,
}

impl Plain {
    fn of(original: &str) -> Plain {
        let mut text = String::with_capacity(original.len());
        let mut from = Vec::with_capacity(original.len());
        for (at, c) in original.char_indices() {
            let plain = match c {
                '\n' | '\u{2028}' | '\u{2029}' => '\n',
                // A lone carriage return is dropped where the text is printed, like every other
                // invisible character: the digits on either side then stand together.
                '\r' => continue,
                '\t' => ' ',
                c if invisible(c) => continue,
                '\u{ff10}'..='\u{ff19}' => char::from(b'0' + (c as u32 - 0xff10) as u8),
                '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{fe63}' | '\u{ff0d}' => '-',
                c if c.is_whitespace() => ' ',
                c => c,
            };
            let range = at..at + c.len_utf8();
            text.push(plain);
            from.extend(std::iter::repeat_n(range, plain.len_utf8()));
        }
        Plain { text, from }
    }

    /// `w`, found in the plain text, with its ranges in the original.
    fn in_original(&self, mut w: Written) -> Written {
        let start = self.from[w.range.start].start;
        w.date_end = self.from[w.date_end - 1].end;
        w.range = start..self.from[w.range.end - 1].end;
        w
    }
}

/// Whether the number at `start..end` is glued to letters that, with it, make one hexadecimal token (a
/// UUID's last group, a hash): eleven digits after a hex letter pass the check digits often enough to
/// appear among thousands of ids. A number glued to other letters (`fnr14...`, `...82snakker`) counts.
fn in_a_hex_token(bytes: &[u8], start: usize, end: usize) -> bool {
    let from = bytes[..start]
        .iter()
        .rposition(|b| !b.is_ascii_alphanumeric())
        .map_or(0, |i| i + 1);
    let to = bytes[end..]
        .iter()
        .position(|b| !b.is_ascii_alphanumeric())
        .map_or(bytes.len(), |i| end + i);
    (from < start || to > end) && bytes[from..to].iter().all(u8::is_ascii_hexdigit)
}

/// Whether a number may start at `at`, and whether it is glued to a letter before it: not inside a longer
/// number or a decimal fraction.
fn start_of_number(bytes: &[u8], at: usize) -> Option<bool> {
    match at.checked_sub(1).map(|i| bytes[i]) {
        None => Some(false),
        Some(b) if b.is_ascii_digit() => None,
        Some(b) if b.is_ascii_alphabetic() => Some(true),
        Some(b'.' | b',') if at >= 2 && bytes[at - 2].is_ascii_digit() => None,
        Some(_) => Some(false),
    }
}

/// Whether the number may end at `at`, and whether a letter follows: no digit follows, nor the decimals
/// of a fraction.
fn end_of_number(bytes: &[u8], at: usize) -> Option<bool> {
    match bytes.get(at) {
        None => Some(false),
        Some(b) if b.is_ascii_digit() => None,
        Some(b) if b.is_ascii_alphabetic() => Some(true),
        Some(b'.' | b',') if bytes.get(at + 1).is_some_and(u8::is_ascii_digit) => None,
        Some(_) => Some(false),
    }
}

/// The number of ASCII digits in a row from `at`.
fn digits_from(bytes: &[u8], at: usize) -> usize {
    bytes[at.min(bytes.len())..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count()
}

/// The length of the one space between the parts of the individual number at `at`, if one is there.
fn space_at(bytes: &[u8], at: usize) -> Option<usize> {
    (bytes.get(at) == Some(&b' ')).then_some(1)
}

/// The length of what joins the date part to the individual number at `at`, if anything does: a space, a
/// dash or a slash, the latter two with or without a space on either side.
fn joint_at(bytes: &[u8], at: usize) -> Option<usize> {
    let mut i = at;
    if bytes.get(i) == Some(&b' ') {
        i += 1;
    }
    if matches!(bytes.get(i), Some(b'-' | b'/')) {
        i += 1;
        if bytes.get(i) == Some(&b' ') {
            i += 1;
        }
    }
    (i > at).then_some(i - at)
}

/// The number written from `at`, if one is: its date part, then its individual number and check digits.
fn written_at(text: &str, at: usize) -> Option<Written> {
    let bytes = text.as_bytes();
    let run = digits_from(bytes, at);
    let (form, date_end, mut digits, only_if_valid) = if run == 11 {
        (
            WrittenForm::InARow,
            at + 6,
            text[at..at + 6].to_string(),
            false,
        )
    } else if run == 6 {
        (
            WrittenForm::DateApart,
            at + 6,
            text[at..at + 6].to_string(),
            false,
        )
    } else if run == 2 {
        let (date_end, date, only_if_valid) = date_at(bytes, at)?;
        (WrittenForm::DottedDate, date_end, date, only_if_valid)
    } else {
        return None;
    };
    let rest = if form == WrittenForm::InARow {
        date_end
    } else {
        date_end + joint_at(bytes, date_end)?
    };
    let end = match digits_from(bytes, rest) {
        5 => rest + 5,
        3 => {
            let sep = space_at(bytes, rest + 3)?;
            (digits_from(bytes, rest + 3 + sep) == 2).then_some(rest + 3 + sep + 2)?
        }
        _ => return None,
    };
    let glued = end_of_number(bytes, end)?;
    // `140820 10082`, `140820-10082` and `14.08.20 10082` are how the number is written; a slash or a
    // spaced dash is also how two other numbers are.
    let joint = &bytes[date_end..rest];
    let usual_joint = match form {
        WrittenForm::InARow => true,
        WrittenForm::DateApart => joint == b" " || joint == b"-",
        WrittenForm::DottedDate => joint == b" ",
    };
    digits.extend(text[rest..end].chars().filter(char::is_ascii_digit));
    Some(Written {
        range: at..end,
        form,
        date_end,
        digits,
        only_if_valid: only_if_valid || glued || !usual_joint,
    })
}

/// A date `DD.MM.YY` at `at` (or with `-`, `/` or a space between its parts, or a four-digit year): where
/// it ends, its six digits as a national id writes them, and whether it is written in a way other dates
/// are too (anything but `DD.MM.YY`), so that what follows counts only if the whole passes the rules.
fn date_at(bytes: &[u8], at: usize) -> Option<(usize, String, bool)> {
    let sep = *bytes.get(at + 2)?;
    if !matches!(sep, b'.' | b'-' | b'/' | b' ')
        || digits_from(bytes, at + 3) != 2
        || bytes.get(at + 5) != Some(&sep)
    {
        return None;
    }
    let year = digits_from(bytes, at + 6);
    if year != 2 && year != 4 {
        return None;
    }
    let text = |r: std::ops::Range<usize>| String::from_utf8_lossy(&bytes[r]).into_owned();
    let date = text(at..at + 2) + &text(at + 3..at + 5) + &text(at + 6 + year - 2..at + 6 + year);
    Some((at + 6 + year, date, sep != b'.' || year == 4))
}

/// A national id as it is stored: ciphertext for reading it back, keyed hash for finding it.
#[derive(Debug, Clone)]
pub struct SealedId {
    pub ciphertext: Vec<u8>,
    pub lookup_hash: Vec<u8>,
}

/// The two nullable columns a sealed id is stored in: ciphertext and lookup hash.
pub type SealedColumns = (Option<Vec<u8>>, Option<Vec<u8>>);

impl SealedId {
    pub fn columns(sealed: Option<SealedId>) -> SealedColumns {
        match sealed {
            Some(s) => (Some(s.ciphertext), Some(s.lookup_hash)),
            None => (None, None),
        }
    }
}

/// The municipality-wide secret that encrypts national ids and keys their lookup hash, and seals the other
/// secrets the service must keep (webhook signing secrets). Sub-keys are derived from one configured key
/// so no two uses share the same bytes.
#[derive(Clone)]
pub struct NationalIdKey {
    cipher_key: [u8; 32],
    hash_key: [u8; 32],
    secret_key: [u8; 32],
    respondent_key: [u8; 32],
}

type HmacSha256 = Hmac<Sha256>;

fn derive(master: &[u8], label: &[u8]) -> [u8; 32] {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(master).expect("HMAC takes any key length");
    mac.update(label);
    mac.finalize().into_bytes().into()
}

const NONCE_LEN: usize = 12;

impl NationalIdKey {
    pub fn from_bytes(master: &[u8]) -> Result<Self, String> {
        if master.len() < 32 {
            return Err("the national id key must be at least 32 bytes".into());
        }
        Ok(NationalIdKey {
            cipher_key: derive(master, b"stafettlogg national id cipher v1"),
            hash_key: derive(master, b"stafettlogg national id lookup v1"),
            secret_key: derive(master, b"stafettlogg stored secret v1"),
            respondent_key: derive(master, b"stafettlogg survey respondent v1"),
        })
    }

    /// Parses and seals an optional national id from a request; a bad one is a 422 naming `field`.
    pub fn seal_field(
        &self,
        field: &str,
        raw: Option<&str>,
    ) -> Result<Option<SealedId>, crate::http::error::AppError> {
        raw.map(|raw| {
            NationalId::parse(raw)
                .map(|id| self.seal(&id))
                .map_err(|e| crate::http::error::AppError::invalid(field, e.to_string()))
        })
        .transpose()
    }

    pub fn seal(&self, id: &NationalId) -> SealedId {
        SealedId {
            ciphertext: self.encrypt(id),
            lookup_hash: self.lookup_hash(id),
        }
    }

    /// Nonce followed by the AES-256-GCM ciphertext and tag.
    pub fn encrypt(&self, id: &NationalId) -> Vec<u8> {
        let cipher = Aes256Gcm::new_from_slice(&self.cipher_key).expect("32-byte key");
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce);
        let mut out = nonce.to_vec();
        out.extend(
            cipher
                .encrypt(&Nonce::from(nonce), id.as_str().as_bytes())
                .expect("encrypting a short buffer cannot fail"),
        );
        out
    }

    /// `None` when the stored bytes were not made with this key (wrong key, or tampered data).
    pub fn decrypt(&self, stored: &[u8]) -> Option<NationalId> {
        if stored.len() <= NONCE_LEN {
            return None;
        }
        let cipher = Aes256Gcm::new_from_slice(&self.cipher_key).expect("32-byte key");
        let (nonce, ciphertext) = stored.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        let plain = cipher.decrypt(&Nonce::from(nonce), ciphertext).ok()?;
        Some(NationalId(String::from_utf8(plain).ok()?))
    }

    /// Nonce followed by the AES-256-GCM ciphertext of `secret` (a webhook's signing secret, a stored
    /// idempotent answer), under a key of its own.
    pub fn seal_secret(&self, secret: &[u8]) -> Vec<u8> {
        let cipher = Aes256Gcm::new_from_slice(&self.secret_key).expect("32-byte key");
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce);
        let mut out = nonce.to_vec();
        out.extend(
            cipher
                .encrypt(&Nonce::from(nonce), secret)
                .expect("encrypting a short buffer cannot fail"),
        );
        out
    }

    /// `None` when the stored bytes were not sealed with this key.
    pub fn open_secret(&self, stored: &[u8]) -> Option<Vec<u8>> {
        if stored.len() <= NONCE_LEN {
            return None;
        }
        let cipher = Aes256Gcm::new_from_slice(&self.secret_key).expect("32-byte key");
        let (nonce, ciphertext) = stored.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        cipher.decrypt(&Nonce::from(nonce), ciphertext).ok()
    }

    /// Who answered a survey, as the record of it holds them: the same login gives the same bytes in one
    /// survey (so nobody answers twice), and without the key the table names nobody.
    pub fn survey_respondent(&self, survey: uuid::Uuid, user_id: &str) -> Vec<u8> {
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(&self.respondent_key).expect("any key length");
        mac.update(survey.as_bytes());
        mac.update(user_id.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// Deterministic, so equal numbers can be found; keyed, so the table alone does not reveal them.
    pub fn lookup_hash(&self, id: &NationalId) -> Vec<u8> {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.hash_key).expect("any key length");
        mac.update(id.as_str().as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

/// Synthetic numbers for tests and examples (month + 80, valid check digits), built from a day offset and
/// an individual number so callers can make many distinct ones.
pub fn synthetic(day: u32, month: u32, year: u32, individual: u32) -> Option<String> {
    let base = format!(
        "{:02}{:02}{:02}{:03}",
        day,
        month + 80,
        year % 100,
        individual % 1000
    );
    let mut digits: Vec<u32> = base.chars().map(|c| c.to_digit(10).unwrap()).collect();
    let k1 = (11 - weighted(&digits, &K1_WEIGHTS) % 11) % 11;
    if k1 == 10 {
        return None;
    }
    digits.push(k1);
    let k2 = (11 - weighted(&digits, &K2_WEIGHTS) % 11) % 11;
    if k2 == 10 {
        return None;
    }
    Some(format!("{base}{k1}{k2}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(s: &str) -> [u32; 11] {
        let mut d = [0; 11];
        for (i, c) in s.chars().enumerate() {
            d[i] = c.to_digit(10).unwrap();
        }
        d
    }

    /// A number that passes the rules, issued from 2032 (its K1 satisfies only the relaxed rule).
    fn issued_from_2032(base: &str) -> String {
        (0..1000)
            .find_map(|i| {
                let base = format!("{base}{i:03}");
                let mut d: Vec<u32> = base.chars().map(|c| c.to_digit(10).unwrap()).collect();
                let k1 = (11 - weighted(&d, &K1_WEIGHTS) % 11) % 11;
                if k1 >= 9 {
                    return None;
                }
                d.push(k1 + 1);
                let k2 = (11 - weighted(&d, &K2_WEIGHTS) % 11) % 11;
                (k2 < 10).then(|| format!("{base}{}{k2}", k1 + 1))
            })
            .unwrap()
    }

    fn forms(text: &str) -> Vec<WrittenForm> {
        find_in_text(text).iter().map(|w| w.form).collect()
    }

    fn spaced(id: &str, at: &[usize]) -> String {
        let mut out = String::new();
        for (i, c) in id.chars().enumerate() {
            if at.contains(&i) {
                out.push(' ');
            }
            out.push(c);
        }
        out
    }

    #[test]
    fn an_id_written_as_eleven_digits_in_a_row_is_found() {
        let id = an_id();
        assert_eq!(
            forms(&format!("Fnr {id}, tlf 22225555.")),
            [WrittenForm::InARow]
        );
        assert_eq!(
            forms(&format!("{{\"pid\":\"{id}\"}}")),
            [WrittenForm::InARow]
        );
        assert_eq!(find_in_text(&format!("(fnr:{id})"))[0].range, 5..16);
    }

    #[test]
    fn an_id_written_with_its_date_apart_from_the_individual_number_is_found() {
        let id = an_id();
        for written in [
            spaced(&id, &[6]),
            spaced(&id, &[6, 9]),
            format!("{}-{}", &id[..6], &id[6..]),
            format!("{}\u{a0}{}", &id[..6], &id[6..]),
        ] {
            assert_eq!(
                forms(&format!("født {written}.")),
                [WrittenForm::DateApart],
                "{written}"
            );
        }
    }

    #[test]
    fn an_id_written_with_a_dotted_date_is_found() {
        let id = an_id();
        let date = format!("{}.{}.{}", &id[..2], &id[2..4], &id[4..6]);
        for written in [
            format!("{date} {}", &id[6..]),
            format!("{date} {} {}", &id[6..9], &id[9..]),
        ] {
            assert_eq!(forms(&written), [WrittenForm::DottedDate], "{written}");
        }
        // A date alone is a date.
        assert!(written_in(&format!("{date} kl. 10")).is_empty());
        // With a four-digit year, or dashes, slashes or spaces in the date, or a dash after it, it is an
        // id when the whole passes the rules.
        let (dd, mm, yy, rest) = (&id[..2], &id[2..4], &id[4..6], &id[6..]);
        for written in [
            format!("{dd}.{mm}.20{yy} {rest}"),
            format!("{dd}.{mm}.{yy}-{rest}"),
            format!("{dd}-{mm}-{yy}-{rest}"),
            format!("{dd}/{mm}/{yy} {rest}"),
            format!("{dd} {mm} {yy} {rest}"),
            format!("{dd}.{mm}.20{yy} {} {}", &rest[..3], &rest[3..]),
        ] {
            assert_eq!(forms(&written), [WrittenForm::DottedDate], "{written}");
        }
        let failing = format!("{dd}.{mm}.20{yy} {}", bad_check_digit(rest));
        assert!(written_in(&failing).is_empty(), "{failing}");
    }

    /// A synthetic national id born 14.08.20, written in the tests' texts.
    fn an_id() -> String {
        synthetic(14, 8, 20, 100)
            .or_else(|| synthetic(14, 8, 20, 101))
            .unwrap()
    }

    /// `digits` in full-width digits, as some keyboards and copied text write them.
    fn full_width(digits: &str) -> String {
        digits
            .chars()
            .map(|c| char::from_u32(0xff10 + c.to_digit(10).unwrap()).unwrap())
            .collect()
    }

    /// `individual` (the last five digits) with its last check digit changed.
    fn bad_check_digit(individual: &str) -> String {
        let mut b = individual.as_bytes().to_vec();
        let last = b.len() - 1;
        b[last] = b'0' + ((b[last] - b'0' + 1) % 10);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn an_id_written_as_a_word_processor_or_another_keyboard_writes_it_is_found() {
        let id = an_id();
        let (date, rest) = (&id[..6], &id[6..]);
        let wide = full_width(&id);
        for written in [
            format!("{date}\u{2013}{rest}"),
            format!("{date} \u{2013} {rest}"),
            format!("{date} - {rest}"),
            format!("{date}/{rest}"),
            format!("{date}\u{2212}{rest}"),
            format!("{}\u{200b}{}", &id[..5], &id[5..]),
            format!("{date}\u{ad}{rest}"),
            wide,
        ] {
            let found = find_in_text(&format!("Gjelder {written}, takk."));
            assert_eq!(found.len(), 1, "{written:?}");
            assert_eq!(
                &format!("Gjelder {written}, takk.")[found[0].range.clone()],
                written.as_str()
            );
        }
        // The same joints between two numbers that fail the rules are two numbers.
        let failing = bad_check_digit(rest);
        for written in [format!("{date} - {failing}"), format!("{date}/{failing}")] {
            assert!(written_in(&written).is_empty(), "{written}");
        }
        // A line break is no joint.
        assert!(written_in(&format!("{date}\n{rest}")).is_empty());
        assert!(written_in(&format!("{date}\r\n{rest}")).is_empty());
    }

    #[test]
    fn an_id_split_by_characters_no_one_sees_is_masked_as_it_would_be_printed() {
        let id = an_id();
        let (date, rest) = (&id[..6], &id[6..]);
        for split in [
            "\u{200e}", "\u{200f}", "\u{202e}", "\u{2062}", "\r", "\u{1}", "\u{7}",
        ] {
            let text = format!("Fnr {}{split}{}{split}{rest}.", &date[..4], &date[4..]);
            assert_eq!(find_in_text(&text).len(), 1, "{text:?}");
            let masked = mask_in_text(&text);
            assert!(!masked.contains(rest), "{masked:?}");
            assert!(masked.ends_with("*****."), "{masked:?}");
        }
        // The date part is kept as written, whatever its characters, and the rest masked.
        let wide = full_width(&id);
        let wide_date: String = wide.chars().take(6).collect();
        let wide_rest: String = wide.chars().skip(6).collect();
        assert_eq!(
            mask_in_text(&format!("{wide_date}\u{2013}{wide_rest}")),
            format!("{wide_date}*****")
        );
        let split_date = format!("{}\u{200b}{}", &date[..2], &date[2..]);
        assert_eq!(
            mask_in_text(&format!("{split_date} {rest}")),
            format!("{split_date}*****")
        );
    }

    #[test]
    fn an_id_issued_from_2032_is_found_by_the_relaxed_k1_rule() {
        let id = issued_from_2032("150588");
        assert_eq!(
            check_digit_rule(&digits(&id)),
            Some(CheckDigitRule::From2032)
        );
        assert_eq!(forms(&id), [WrittenForm::InARow]);
        assert_eq!(forms(&spaced(&id, &[6, 9])), [WrittenForm::DateApart]);
    }

    #[test]
    fn a_number_that_fails_the_date_or_the_check_digits_is_written_like_an_id_but_is_none() {
        let id = synthetic(1, 1, 10, 100)
            .or_else(|| synthetic(1, 1, 10, 101))
            .unwrap();
        let mut bad_check = id.clone().into_bytes();
        bad_check[10] = b'0' + ((bad_check[10] - b'0' + 1) % 10);
        let bad_check = String::from_utf8(bad_check).unwrap();
        for number in [bad_check.as_str(), "32138112345"] {
            assert_eq!(written_in(number).len(), 1, "written like an id");
            assert!(find_in_text(number).is_empty(), "but not one");
        }
    }

    #[test]
    fn digits_inside_a_word_a_longer_number_or_a_decimal_fraction_are_not_an_id() {
        let id = an_id();
        for text in [
            format!("0{id}"),
            format!("{id}7"),
            format!("0.{id}"),
            format!("{id},5"),
            format!("{} {}3", &id[..6], &id[6..]),
        ] {
            assert!(written_in(&text).is_empty(), "{text}");
        }
        // Glued to a letter (a missing space, or part of a code) it is an id only if it passes the rules.
        let failing = format!("{}{}", &id[..6], bad_check_digit(&id[6..]));
        for text in [format!("fnr{id}"), format!("{id}snakker")] {
            assert_eq!(find_in_text(&text).len(), 1, "{text}");
        }
        // Glued to hex letters into one hex token (a UUID's last group, a hash), it is that token.
        for text in [
            format!("a{id}"),
            format!("{id}b"),
            format!("0190e7d2-1f3c-7a41-9b2e-c{id}"),
        ] {
            assert!(written_in(&text).is_empty(), "{text}");
        }
        for text in [format!("x{failing}"), format!("{failing}z")] {
            assert!(written_in(&text).is_empty(), "{text}");
        }
        // At the end of a sentence, or in a list, it is one.
        assert_eq!(find_in_text(&format!("nr. {id}.")).len(), 1);
        assert_eq!(find_in_text(&format!("{id}, {id}")).len(), 2);
    }

    #[test]
    fn a_written_id_is_masked_with_its_date_part_kept_whatever_its_form() {
        assert_eq!(
            mask_in_text("Fnr 14832010082, tlf 22225555."),
            "Fnr 148320*****, tlf 22225555."
        );
        assert_eq!(mask_in_text("148320 10082"), "148320*****");
        assert_eq!(
            mask_in_text("14.83.20 100 82 og 14.83.20"),
            "14.83.20***** og 14.83.20"
        );
        assert_eq!(mask_in_text("ingen tall"), "ingen tall");
        let w = &written_in("14832010082")[0];
        assert!(!format!("{w:?}").contains("10082"), "{w:?}");
    }

    #[test]
    fn accepts_a_synthetic_number_with_classic_check_digits() {
        let n = synthetic(24, 11, 15, 123)
            .or_else(|| synthetic(24, 11, 15, 124))
            .unwrap();
        assert_eq!(&n[2..4], "91");
        assert!(NationalId::parse(&n).is_ok());
        assert_eq!(check_digit_rule(&digits(&n)), Some(CheckDigitRule::Classic));
    }

    #[test]
    fn accepts_d_and_h_numbers() {
        // Build D- and H-numbers by hand: day + 40, month + 40.
        for base in ["410190", "014190"] {
            let found = (0..1000).find_map(|i| {
                let mut s = format!("{base}{i:03}");
                let mut d: Vec<u32> = s.chars().map(|c| c.to_digit(10).unwrap()).collect();
                let k1 = (11 - weighted(&d, &K1_WEIGHTS) % 11) % 11;
                d.push(k1);
                let k2 = (11 - weighted(&d, &K2_WEIGHTS) % 11) % 11;
                (k1 < 10 && k2 < 10).then(|| {
                    s.push_str(&format!("{k1}{k2}"));
                    s
                })
            });
            assert!(NationalId::parse(&found.unwrap()).is_ok());
        }
    }

    #[test]
    fn accepts_the_2032_rule_where_k1_remainder_is_one_to_three() {
        // A classic number with K1 raised by one and K2 recomputed: only the 2032 rule accepts it.
        let n = issued_from_2032("150588");
        assert_eq!(
            check_digit_rule(&digits(&n)),
            Some(CheckDigitRule::From2032)
        );
        assert!(NationalId::parse(&n).is_ok());
    }

    #[test]
    fn refuses_wrong_length_letters_bad_date_and_bad_check_digit() {
        let good = synthetic(1, 1, 10, 100)
            .or_else(|| synthetic(1, 1, 10, 101))
            .unwrap();
        assert_eq!(NationalId::parse(&good[..10]), Err(NationalIdError::Length));
        assert_eq!(
            NationalId::parse(&format!("{good}1")),
            Err(NationalIdError::Length)
        );
        assert_eq!(
            NationalId::parse("1234567890a"),
            Err(NationalIdError::NotDigits)
        );
        assert_eq!(NationalId::parse("32138112345"), Err(NationalIdError::Date));
        assert_eq!(NationalId::parse("30028112345"), Err(NationalIdError::Date));
        let mut bad = good.clone().into_bytes();
        bad[10] = b'0' + ((bad[10] - b'0' + 1) % 10);
        assert_eq!(
            NationalId::parse(std::str::from_utf8(&bad).unwrap()),
            Err(NationalIdError::CheckDigit)
        );
    }

    #[test]
    fn february_29_only_in_years_divisible_by_four() {
        assert_ne!(NationalId::parse("29028012345"), Err(NationalIdError::Date));
        assert_eq!(NationalId::parse("29028312345"), Err(NationalIdError::Date));
    }

    #[test]
    fn encryption_round_trips_and_hash_is_stable() {
        let key = NationalIdKey::from_bytes(&[7u8; 32]).unwrap();
        let id = NationalId::parse(
            &synthetic(3, 4, 12, 500)
                .or_else(|| synthetic(3, 4, 12, 501))
                .unwrap(),
        )
        .unwrap();
        let a = key.encrypt(&id);
        let b = key.encrypt(&id);
        assert_ne!(a, b, "a fresh nonce per encryption");
        assert_eq!(key.decrypt(&a), Some(id.clone()));
        assert_eq!(key.lookup_hash(&id), key.lookup_hash(&id));
        let other = NationalIdKey::from_bytes(&[8u8; 32]).unwrap();
        assert_eq!(other.decrypt(&a), None);
        assert!(!format!("{id:?}").contains(id.as_str()));
        assert_eq!(id.masked(), format!("{}*****", &id.as_str()[..6]));
    }
}
