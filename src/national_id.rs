//! Norwegian national identity numbers (fødselsnummer, D-number, H-number, synthetic test numbers):
//! parsing, and how they are kept at rest (encrypted, with a keyed hash for lookup) and shown (masked).
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

/// The municipality-wide secret that encrypts national ids and keys their lookup hash. Two sub-keys are
/// derived from one configured key so the cipher key and the hash key are never the same bytes.
#[derive(Clone)]
pub struct NationalIdKey {
    cipher_key: [u8; 32],
    hash_key: [u8; 32],
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
        // Take a classic number and raise K1 by one, then recompute K2: only the 2032 rule accepts it.
        let n = (0..1000).find_map(|i| {
            let base = format!("150588{i:03}");
            let mut d: Vec<u32> = base.chars().map(|c| c.to_digit(10).unwrap()).collect();
            let k1 = (11 - weighted(&d, &K1_WEIGHTS) % 11) % 11;
            if k1 >= 9 {
                return None;
            }
            d.push(k1 + 1);
            let k2 = (11 - weighted(&d, &K2_WEIGHTS) % 11) % 11;
            (k2 < 10).then(|| format!("{base}{}{k2}", k1 + 1))
        });
        let n = n.unwrap();
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
