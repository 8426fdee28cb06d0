//! Who a transaction is for: the municipality the row-level security policies read, and the staff member
//! whose departure the first batch checks. Both are written into that batch's SQL text, so both are
//! checked or encoded here to need no escaping.

/// A municipality as a transaction names it: exactly four ASCII digits, checked once when the token is
/// read, so it can be written into the SQL text of the `BEGIN` batch without any escaping.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Municipality([u8; 4]);

impl Municipality {
    pub fn parse(s: &str) -> Option<Municipality> {
        let bytes: [u8; 4] = s.as_bytes().try_into().ok()?;
        bytes
            .iter()
            .all(u8::is_ascii_digit)
            .then_some(Municipality(bytes))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("four ASCII digits")
    }

    /// `BEGIN` and the setting the row-level security policies read, sent as one batch: naming the
    /// municipality costs no round trip of its own. `SET LOCAL` ends with the transaction, so a pooled
    /// connection never carries one request's municipality into the next.
    pub fn begin_sql(&self) -> String {
        format!("BEGIN; {SET_MUNICIPALITY}'{}'", self.as_str())
    }
}

impl std::fmt::Debug for Municipality {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for Municipality {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who a transaction is for: its municipality, and for a staff caller (professional, leader,
/// administrator, integration) their user id, so the `BEGIN` batch also refuses someone the municipality
/// registered as departed (`stafettlogg_staff_present` in the leaders migration). Folding the
/// check into that batch costs no round trip, and no handler can forget it: `Caller::session` is the only
/// way a request names its municipality.
#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    municipality: Municipality,
    /// The user id in hex: it is written into SQL text, and hex needs no escaping.
    staff_hex: Option<String>,
}

impl Session {
    pub fn staff(municipality: Municipality, user_id: &str) -> Session {
        Session {
            municipality,
            staff_hex: Some(user_id.bytes().map(|b| format!("{b:02x}")).collect()),
        }
    }

    pub fn municipality(&self) -> Municipality {
        self.municipality
    }

    pub(super) fn begin_sql(&self) -> String {
        let mut sql = self.municipality.begin_sql();
        if let Some(hex) = &self.staff_hex {
            sql.push_str(&format!("; {STAFF_PRESENT}'{hex}')"));
        }
        sql
    }
}

impl From<Municipality> for Session {
    fn from(municipality: Municipality) -> Session {
        Session {
            municipality,
            staff_hex: None,
        }
    }
}

impl std::fmt::Debug for Session {
    // The user id stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Session({}, staff: {})",
            self.municipality,
            self.staff_hex.is_some()
        )
    }
}

pub(super) const SET_MUNICIPALITY: &str = "SET LOCAL app.municipality = ";
pub(super) const STAFF_PRESENT: &str = "SELECT stafettlogg_staff_present(";
