use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::api::{NewParticipant, ParticipantKind, ParticipantPatch, ParticipantView, Relation};
use crate::cases::api::ExternalRef;
use crate::db::schema::{case_participants, participant_external_refs};
use crate::http::error::AppError;
use crate::national_id::{NationalIdKey, SealedColumns, SealedId};
use crate::patch::{differs, Patched};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = case_participants)]
pub struct ParticipantRow {
    pub id: Uuid,
    pub case_id: Uuid,
    pub kind: ParticipantKind,
    pub name: String,
    pub user_id: Option<String>,
    pub service: Option<String>,
    pub title: Option<String>,
    pub relation: Option<Relation>,
    pub parental_responsibility: Option<bool>,
    pub national_id_enc: Option<Vec<u8>>,
    pub national_id_hash: Option<Vec<u8>>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub role: Option<String>,
    pub active: bool,
    pub joined_at: DateTime<Utc>,
    pub left_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = case_participants)]
pub struct NewProfessional<'a> {
    pub id: Uuid,
    pub case_id: Uuid,
    pub kind: ParticipantKind,
    pub name: &'a str,
    pub user_id: &'a str,
    pub service: &'a str,
    pub title: Option<&'a str>,
}

/// A participant with every column given: an imported one keeps when they joined and left.
#[derive(Debug, Insertable)]
#[diesel(table_name = case_participants)]
pub struct ParticipantInsert<'a> {
    pub id: Uuid,
    pub case_id: Uuid,
    pub kind: ParticipantKind,
    pub name: &'a str,
    pub user_id: Option<&'a str>,
    pub service: Option<&'a str>,
    pub title: Option<&'a str>,
    pub relation: Option<Relation>,
    pub parental_responsibility: Option<bool>,
    pub national_id_enc: Option<Vec<u8>>,
    pub national_id_hash: Option<Vec<u8>>,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub role: Option<&'a str>,
    pub active: bool,
    pub joined_at: DateTime<Utc>,
    pub left_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = participant_external_refs)]
pub struct ParticipantRefInsert<'a> {
    pub municipality: &'a str,
    pub system: &'a str,
    pub ref_id: &'a str,
    pub participant_id: Uuid,
}

/// All participants of these cases, active or not, oldest first.
pub fn for_cases(
    conn: &mut PgConnection,
    case_ids: &[Uuid],
) -> Result<Vec<ParticipantRow>, AppError> {
    Ok(case_participants::table
        .filter(case_participants::case_id.eq_any(case_ids))
        .order(case_participants::id.asc())
        .select(ParticipantRow::as_select())
        .load(conn)?)
}

fn sealed(key: &NationalIdKey, field: &str, raw: Option<&str>) -> Result<SealedColumns, AppError> {
    Ok(SealedId::columns(key.seal_field(field, raw)?))
}

pub fn insert(
    conn: &mut PgConnection,
    key: &NationalIdKey,
    case_id: Uuid,
    p: &NewParticipant,
) -> Result<ParticipantRow, AppError> {
    use case_participants as t;
    let id = Uuid::now_v7();
    let base = (t::id.eq(id), t::case_id.eq(case_id));
    let q = diesel::insert_into(t::table);
    let row = match p {
        NewParticipant::Professional(p) => q
            .values((
                base,
                t::kind.eq(ParticipantKind::Professional),
                t::name.eq(&p.name),
                t::user_id.eq(&p.user_id),
                t::service.eq(&p.service),
                t::title.eq(&p.title),
            ))
            .returning(ParticipantRow::as_returning())
            .get_result(conn)?,
        NewParticipant::Guardian(g) => {
            let (enc, hash) = sealed(key, "national_id", g.national_id.as_deref())?;
            q.values((
                base,
                t::kind.eq(ParticipantKind::Guardian),
                t::name.eq(&g.name),
                t::relation.eq(g.relation),
                t::parental_responsibility.eq(g.parental_responsibility),
                t::national_id_enc.eq(enc),
                t::national_id_hash.eq(hash),
                t::email.eq(&g.email),
                t::phone.eq(&g.phone),
            ))
            .returning(ParticipantRow::as_returning())
            .get_result(conn)?
        }
        NewParticipant::Youth(y) => {
            let (enc, hash) = sealed(key, "national_id", y.national_id.as_deref())?;
            q.values((
                base,
                t::kind.eq(ParticipantKind::Youth),
                t::name.eq(&y.name),
                t::national_id_enc.eq(enc),
                t::national_id_hash.eq(hash),
            ))
            .returning(ParticipantRow::as_returning())
            .get_result(conn)?
        }
        NewParticipant::Other(o) => q
            .values((
                base,
                t::kind.eq(ParticipantKind::Other),
                t::name.eq(&o.name),
                t::role.eq(&o.role),
            ))
            .returning(ParticipantRow::as_returning())
            .get_result(conn)?,
    };
    Ok(row)
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = case_participants)]
struct Changes<'a> {
    name: Option<&'a str>,
    title: Option<&'a str>,
    relation: Option<crate::participants::api::Relation>,
    parental_responsibility: Option<bool>,
    national_id_enc: Option<Option<Vec<u8>>>,
    national_id_hash: Option<Option<Vec<u8>>>,
    email: Option<&'a str>,
    phone: Option<&'a str>,
    role: Option<&'a str>,
}

/// Applies the fields that make sense for the participant's kind; others are a 422 naming the field.
pub fn update(
    conn: &mut PgConnection,
    key: &NationalIdKey,
    current: &ParticipantRow,
    p: &ParticipantPatch,
) -> Result<Patched<ParticipantRow>, AppError> {
    let kind = current.kind;
    let allowed: &[&str] = match kind {
        ParticipantKind::Professional => &["name", "title"],
        ParticipantKind::Guardian => &[
            "name",
            "relation",
            "parental_responsibility",
            "national_id",
            "email",
            "phone",
        ],
        ParticipantKind::Youth => &["name", "national_id"],
        ParticipantKind::Other => &["name", "role"],
    };
    let given = [
        ("name", p.name.is_some()),
        ("title", p.title.is_some()),
        ("relation", p.relation.is_some()),
        (
            "parental_responsibility",
            p.parental_responsibility.is_some(),
        ),
        ("national_id", p.national_id.is_some()),
        ("email", p.email.is_some()),
        ("phone", p.phone.is_some()),
        ("role", p.role.is_some()),
    ];
    let wrong: Vec<_> = given
        .iter()
        .filter(|(f, set)| *set && !allowed.contains(f))
        .map(|(f, _)| crate::http::error::FieldError {
            field: f.to_string(),
            message: format!(
                "does not apply to a participant of kind {}",
                current.kind.as_str()
            ),
        })
        .collect();
    if !wrong.is_empty() {
        return Err(AppError::invalid_fields(wrong));
    }
    let nid = match &p.national_id {
        None => None,
        Some(v) => Some(sealed(key, "national_id", v.as_deref())?),
    };
    let changes = Changes {
        name: p.name.as_deref(),
        title: p.title.as_deref(),
        relation: p.relation,
        parental_responsibility: p.parental_responsibility,
        national_id_enc: nid.as_ref().map(|n| n.0.clone()),
        national_id_hash: nid.map(|n| n.1),
        email: p.email.as_deref(),
        phone: p.phone.as_deref(),
        role: p.role.as_deref(),
    };
    if !changes.alters(current) {
        return Ok(Patched::Unchanged(current.clone()));
    }
    Ok(Patched::Changed(
        diesel::update(case_participants::table.find(current.id))
            .set((
                &changes,
                case_participants::version.eq(case_participants::version + 1),
            ))
            .returning(ParticipantRow::as_returning())
            .get_result(conn)?,
    ))
}

impl Changes<'_> {
    /// Whether these changes would alter the stored participant (`crate::patch`); a national id by its
    /// lookup hash, as its ciphertext differs on every sealing.
    fn alters(&self, row: &ParticipantRow) -> bool {
        differs(self.name, row.name.as_str())
            || differs(self.title.map(Some).as_ref(), &row.title.as_deref())
            || differs(self.relation.map(Some).as_ref(), &row.relation)
            || differs(
                self.parental_responsibility.map(Some).as_ref(),
                &row.parental_responsibility,
            )
            || differs(self.national_id_hash.as_ref(), &row.national_id_hash)
            || differs(self.email.map(Some).as_ref(), &row.email.as_deref())
            || differs(self.phone.map(Some).as_ref(), &row.phone.as_deref())
            || differs(self.role.map(Some).as_ref(), &row.role.as_deref())
    }
}

pub fn deactivate(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<ParticipantRow>, AppError> {
    Ok(
        diesel::update(case_participants::table.filter(case_participants::id.eq_any(ids)))
            .set((
                case_participants::active.eq(false),
                case_participants::left_at.eq(diesel::dsl::now),
                case_participants::version.eq(case_participants::version + 1),
            ))
            .returning(ParticipantRow::as_returning())
            .get_results(conn)?,
    )
}

/// External references of these participants, in one query.
pub fn refs_for(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<ExternalRef>>, AppError> {
    let mut out: HashMap<Uuid, Vec<ExternalRef>> = HashMap::new();
    for (pid, system, id) in participant_external_refs::table
        .filter(participant_external_refs::participant_id.eq_any(ids))
        .order((
            participant_external_refs::system,
            participant_external_refs::ref_id,
        ))
        .select((
            participant_external_refs::participant_id,
            participant_external_refs::system,
            participant_external_refs::ref_id,
        ))
        .load::<(Uuid, String, String)>(conn)?
    {
        out.entry(pid).or_default().push(ExternalRef { system, id });
    }
    Ok(out)
}

pub fn insert_refs(
    conn: &mut PgConnection,
    municipality: &str,
    participant_id: Uuid,
    refs: &[ExternalRef],
) -> Result<(), AppError> {
    let rows: Vec<ParticipantRefInsert> = refs
        .iter()
        .map(|r| ParticipantRefInsert {
            municipality,
            system: &r.system,
            ref_id: &r.id,
            participant_id,
        })
        .collect();
    insert_ref_rows(conn, &rows)
}

/// References of any number of participants.
pub fn insert_ref_rows(
    conn: &mut PgConnection,
    rows: &[ParticipantRefInsert],
) -> Result<(), AppError> {
    crate::db::bulk::insert(rows, |chunk| {
        diesel::insert_into(participant_external_refs::table)
            .values(chunk)
            .execute(conn)
    })
}

/// A professional whose id is known before they are written (the stafettholder of a case being opened).
pub fn insert_professional(conn: &mut PgConnection, row: &NewProfessional) -> Result<(), AppError> {
    diesel::insert_into(case_participants::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Participants with every column given, any number (an import brings whole cases).
pub fn insert_all(conn: &mut PgConnection, rows: &[ParticipantInsert]) -> Result<(), AppError> {
    crate::db::bulk::insert(rows, |chunk| {
        diesel::insert_into(case_participants::table)
            .values(chunk)
            .execute(conn)
    })
}

pub fn view(
    p: &ParticipantRow,
    key: &NationalIdKey,
    show_full_ids: bool,
    external_refs: Vec<ExternalRef>,
) -> ParticipantView {
    ParticipantView {
        id: p.id,
        kind: p.kind,
        name: p.name.clone(),
        user_id: p.user_id.clone(),
        service: p.service.clone(),
        title: p.title.clone(),
        relation: p.relation,
        parental_responsibility: p.parental_responsibility,
        national_id: p
            .national_id_enc
            .as_deref()
            .map(|enc| match key.decrypt(enc) {
                Some(id) if show_full_ids => id.as_str().to_string(),
                Some(id) => id.masked(),
                None => "unreadable".into(),
            }),
        email: p.email.clone(),
        phone: p.phone.clone(),
        role: p.role.clone(),
        active: p.active,
        joined_at: p.joined_at,
        left_at: p.left_at,
        version: p.version,
        external_refs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guardian() -> ParticipantRow {
        ParticipantRow {
            id: Uuid::now_v7(),
            case_id: Uuid::now_v7(),
            kind: ParticipantKind::Guardian,
            name: "Randi Testmor".into(),
            user_id: None,
            service: None,
            title: None,
            relation: Some(Relation::Mother),
            parental_responsibility: Some(true),
            national_id_enc: Some(vec![1, 2, 3]),
            national_id_hash: Some(vec![9; 32]),
            email: None,
            phone: Some("40000000".into()),
            role: None,
            active: true,
            joined_at: Utc::now(),
            left_at: None,
            version: 3,
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn the_same_national_id_sealed_again_alters_nothing_and_null_removes_it() {
        let row = guardian();
        let same = Changes {
            // A new sealing: another ciphertext, the same lookup hash.
            national_id_enc: Some(Some(vec![7, 7, 7])),
            national_id_hash: Some(Some(vec![9; 32])),
            ..Changes::default()
        };
        assert!(!same.alters(&row));
        let removed = Changes {
            national_id_enc: Some(None),
            national_id_hash: Some(None),
            ..Changes::default()
        };
        assert!(removed.alters(&row));
    }

    #[test]
    fn a_field_set_where_the_row_has_none_alters_it() {
        let row = guardian();
        assert!(Changes {
            email: Some("mor@example.org"),
            ..Changes::default()
        }
        .alters(&row));
        assert!(!Changes {
            phone: Some("40000000"),
            relation: Some(Relation::Mother),
            ..Changes::default()
        }
        .alters(&row));
    }
}
