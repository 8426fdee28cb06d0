//! The facts the access rules need, for one case or many, in ONE prepared statement: the case row, its
//! municipality's self-consent age, its participants, its consents with givers and services, and its
//! external references (the case view shows them). Participants and consents come back as arrays of
//! records, decoded into the same row types the rest of the code uses; an unknown word in an enum column
//! fails the decoding, as everywhere.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{
    Array, BigInt, Bool, Bytea, Date, Int2, Int4, Nullable, Record, Text, Timestamptz,
    Uuid as SqlUuid,
};
use uuid::Uuid;

use crate::cases::api::{CaseStatus, ExternalRef};
use crate::cases::grants::{Grant, GrantSql, GrantTuple};
use crate::cases::store::CaseRow;
use crate::consents::api::ConsentForm;
use crate::consents::store::{Consent, ConsentRow};
use crate::http::error::AppError;
use crate::municipality::store::SelfConsentAge;
use crate::participants::api::{ParticipantKind, Relation};
use crate::participants::store::ParticipantRow;

/// The select list and joins shared by the statements below. Orders match the stores' own
/// (`participants::store::for_cases`, `consents::store::for_cases`, `cases::store::refs_for`). A consent's
/// givers and which of them signed come from one scan of its givers (two cost a second probe per consent).
macro_rules! facts_sql {
    ($where:literal) => {
        facts_sql!(from "cases c", $where)
    };
    (from $from:literal, $where:literal) => {
        concat!(
            "SELECT c.id, c.municipality, c.subject_kind, c.subject_given_name, c.subject_family_name, \
                c.subject_birth_date, c.subject_national_id_enc, c.subject_national_id_hash, c.concern, \
                c.status, c.level, c.opened_in_service, c.holder_participant_id, c.decision_due, \
                c.opened_at, c.opened_by, c.closed_at, c.close_reason, c.close_note, c.version, \
                c.updated_at, c.guide_version, c.guide_step_key, c.guide_step_title, \
                c.guide_next_key, c.guide_next_title, c.purged_at, c.archived_system, c.archived_reference, \
                c.archived_on, c.archived_by, c.reopened_on, m.self_consent_age, \
              ARRAY(SELECT ROW(p.id, p.case_id, p.kind, p.name, p.user_id, p.service, p.title, \
                    p.relation, p.parental_responsibility, p.national_id_enc, p.national_id_hash, \
                    p.email, p.phone, p.role, p.active, p.joined_at, p.left_at, p.version, p.updated_at) \
                  FROM case_participants p WHERE p.case_id = c.id ORDER BY p.id) AS participants, \
              ARRAY(SELECT ROW(k.id, k.case_id, k.purpose, k.valid_from, k.valid_until, k.form, \
                    k.document_ref, k.supersedes, k.superseded_by, k.superseded_at, k.recorded_by_user, \
                    k.recorded_by_name, k.recorded_at, k.withdrawn_at, k.withdrawn_by_participant, \
                    k.withdrawal_reason, \
                    coalesce(gv.givers, '{}'), coalesce(gv.signed, '{}'), \
                    ARRAY(SELECT s.service FROM consent_services s WHERE s.consent_id = k.id \
                          ORDER BY s.service)) \
                  FROM consents k \
                  CROSS JOIN LATERAL (SELECT array_agg(g.participant_id ORDER BY g.participant_id) AS givers, \
                         array_agg(g.participant_id ORDER BY g.participant_id) \
                           FILTER (WHERE g.signed_at IS NOT NULL) AS signed \
                         FROM consent_givers g WHERE g.consent_id = k.id) gv \
                  WHERE k.case_id = c.id ORDER BY k.id) AS consents, \
              ARRAY(SELECT ROW(r.system, r.ref_id) FROM case_external_refs r WHERE r.case_id = c.id \
                  ORDER BY r.system, r.ref_id) AS external_refs, \
              ARRAY(SELECT ROW(g.basis, g.user_id, g.service, g.pid_hash, g.participant_id, g.valid_from, \
                    g.valid_until, g.settle_on) FROM case_grants g WHERE g.case_id = c.id) AS grants \
             FROM ",
            $from,
            " JOIN municipalities m ON m.number = c.municipality ",
            $where
        )
    };
}

crate::prepared_statement! {
    /// The facts of the given cases of one municipality (lists).
    pub struct FactsOfCases<'a> {
        1 => ids: &'a [Uuid] as Array<SqlUuid>,
        2 => municipality: &'a str as Text,
    }
    = facts_sql!("WHERE c.id = ANY($1) AND c.municipality = $2");
}

crate::prepared_statement! {
    /// A page of the cases a person may read, newest first, with their facts: a list's candidates and the
    /// facts the rule needs in one statement. The candidates are the person's grants (`case_grants`): a
    /// professional's by user id, a guardian's or youth's by the hash of their national id, from where the
    /// page starts (a keyset on the grants' indexes, which carry all the walk needs). They are taken newest
    /// case first, each case fetched by key and filtered, until the page is full: a page costs what it
    /// shows and what its filters pass over. "Held by me" is a grant whose participation is the case's
    /// holder. A case the person has two grants on comes once.
    pub struct FactsOfMyCases<'a> {
        1 => municipality: &'a str as Text,
        2 => user_id: Option<&'a str> as Nullable<Text>,
        3 => bases: &'a [&'static str] as Array<Text>,
        4 => pid_hash: Option<&'a [u8]> as Nullable<Bytea>,
        5 => status: Option<CaseStatus> as Nullable<Text>,
        6 => level: Option<i16> as Nullable<Int2>,
        7 => holder_me: bool as Bool,
        8 => after: Option<Uuid> as Nullable<SqlUuid>,
        9 => limit: i64 as BigInt,
    }
    = facts_sql!(
        from "(SELECT DISTINCT ON (g.case_id) c.* \
                 FROM (SELECT g.case_id, g.participant_id FROM case_grants g \
                        WHERE g.municipality = $1 AND g.user_id = $2 \
                          AND g.case_id < coalesce($8, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid) \
                       UNION ALL \
                       SELECT g.case_id, g.participant_id FROM case_grants g \
                        WHERE g.municipality = $1 AND g.pid_hash = $4 AND g.basis = ANY($3) \
                          AND g.case_id < coalesce($8, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid) \
                       ORDER BY 1 DESC) g \
                 CROSS JOIN LATERAL (SELECT c.* FROM cases c \
                        WHERE c.id = g.case_id AND c.municipality = $1 \
                          AND ($5::text IS NULL OR c.status = $5) \
                          AND ($6::int2 IS NULL OR c.level = $6) \
                          AND (NOT $7 OR g.participant_id = c.holder_participant_id)) c \
                ORDER BY g.case_id DESC LIMIT $9) c",
        "ORDER BY c.id DESC"
    );
}

crate::prepared_statement! {
    /// The facts of one case.
    pub struct FactsOfCase<'a> {
        1 => id: &'a Uuid as SqlUuid,
        2 => municipality: &'a str as Text,
    }
    = facts_sql!("WHERE c.id = $1 AND c.municipality = $2");
}

crate::prepared_statement! {
    /// The facts of one case, locking its row. Only correct once this transaction holds the lock already
    /// (see `crate::policy::change_case`): a statement that waits for a row lock returns the newest case row
    /// but reads everything else as of when it started.
    pub struct FactsOfLockedCase<'a> {
        1 => id: &'a Uuid as SqlUuid,
        2 => municipality: &'a str as Text,
    }
    = facts_sql!("WHERE c.id = $1 AND c.municipality = $2 FOR UPDATE OF c");
}

type ParticipantSql = Record<(
    SqlUuid,
    SqlUuid,
    Text,
    Text,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Bool>,
    Nullable<Bytea>,
    Nullable<Bytea>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    Bool,
    Timestamptz,
    Nullable<Timestamptz>,
    Int4,
    Timestamptz,
)>;

type ParticipantTuple = (
    Uuid,
    Uuid,
    ParticipantKind,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<Relation>,
    Option<bool>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Option<String>,
    Option<String>,
    Option<String>,
    bool,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    i32,
    DateTime<Utc>,
);

type ConsentSql = Record<(
    SqlUuid,
    SqlUuid,
    Text,
    Date,
    Date,
    Text,
    Nullable<Text>,
    Nullable<SqlUuid>,
    Nullable<SqlUuid>,
    Nullable<Timestamptz>,
    Text,
    Text,
    Timestamptz,
    Nullable<Timestamptz>,
    Nullable<SqlUuid>,
    Nullable<Text>,
    Array<SqlUuid>,
    Array<SqlUuid>,
    Array<Text>,
)>;

type ConsentTuple = (
    Uuid,
    Uuid,
    String,
    NaiveDate,
    NaiveDate,
    ConsentForm,
    Option<String>,
    Option<Uuid>,
    Option<Uuid>,
    Option<DateTime<Utc>>,
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<Uuid>,
    Option<String>,
    Vec<Uuid>,
    Vec<Uuid>,
    Vec<String>,
);

/// One row of the statements above.
#[derive(QueryableByName)]
pub struct FactsRow {
    #[diesel(embed)]
    pub case: CaseRow,
    #[diesel(sql_type = Int2)]
    pub self_consent_age: SelfConsentAge,
    #[diesel(sql_type = Array<ParticipantSql>)]
    participants: Vec<ParticipantTuple>,
    #[diesel(sql_type = Array<ConsentSql>)]
    consents: Vec<ConsentTuple>,
    #[diesel(sql_type = Array<Record<(Text, Text)>>)]
    external_refs: Vec<(String, String)>,
    #[diesel(sql_type = Array<GrantSql>)]
    grants: Vec<GrantTuple>,
}

/// A case with everything the rules and the case view need.
pub struct Loaded {
    pub case: CaseRow,
    pub self_consent_age: u32,
    pub participants: Vec<ParticipantRow>,
    pub consents: Vec<Consent>,
    pub external_refs: Vec<ExternalRef>,
    /// Who may read the case (`case_grants`), as the database keeps it.
    pub grants: Vec<Grant>,
}

impl From<FactsRow> for Loaded {
    fn from(row: FactsRow) -> Loaded {
        Loaded {
            case: row.case,
            self_consent_age: row.self_consent_age.years(),
            participants: row.participants.into_iter().map(participant).collect(),
            consents: row.consents.into_iter().map(consent).collect(),
            external_refs: row
                .external_refs
                .into_iter()
                .map(|(system, id)| ExternalRef { system, id })
                .collect(),
            grants: row.grants.into_iter().map(Grant::from).collect(),
        }
    }
}

fn participant(t: ParticipantTuple) -> ParticipantRow {
    ParticipantRow {
        id: t.0,
        case_id: t.1,
        kind: t.2,
        name: t.3,
        user_id: t.4,
        service: t.5,
        title: t.6,
        relation: t.7,
        parental_responsibility: t.8,
        national_id_enc: t.9,
        national_id_hash: t.10,
        email: t.11,
        phone: t.12,
        role: t.13,
        active: t.14,
        joined_at: t.15,
        left_at: t.16,
        version: t.17,
        updated_at: t.18,
    }
}

fn consent(t: ConsentTuple) -> Consent {
    Consent {
        row: ConsentRow {
            id: t.0,
            case_id: t.1,
            purpose: t.2,
            valid_from: t.3,
            valid_until: t.4,
            form: t.5,
            document_ref: t.6,
            supersedes: t.7,
            superseded_by: t.8,
            superseded_at: t.9,
            recorded_by_user: t.10,
            recorded_by_name: t.11,
            recorded_at: t.12,
            withdrawn_at: t.13,
            withdrawn_by_participant: t.14,
            withdrawal_reason: t.15,
        },
        givers: t.16,
        signed: t.17,
        services: t.18,
    }
}

/// The facts of one case of `municipality`, locking it when `lock`; `None` when there is no such case.
pub fn one(
    conn: &mut PgConnection,
    municipality: &str,
    id: Uuid,
    lock: bool,
) -> Result<Option<Loaded>, AppError> {
    let row = if lock {
        FactsOfLockedCase {
            id: &id,
            municipality,
        }
        .get_result::<FactsRow>(conn)
    } else {
        FactsOfCase {
            id: &id,
            municipality,
        }
        .get_result::<FactsRow>(conn)
    };
    Ok(row.optional()?.map(Loaded::from))
}

/// The facts of the given cases of `municipality`, in the order of `ids`.
pub fn many(
    conn: &mut PgConnection,
    municipality: &str,
    ids: &[Uuid],
) -> Result<Vec<Loaded>, AppError> {
    let mut rows: std::collections::HashMap<Uuid, Loaded> = FactsOfCases { ids, municipality }
        .load::<FactsRow>(conn)?
        .into_iter()
        .map(|row| (row.case.id, Loaded::from(row)))
        .collect();
    Ok(ids.iter().filter_map(|id| rows.remove(id)).collect())
}

/// What `FactsOfMyCases` selects besides the person: the list's filters and where the page starts.
pub struct MinePage {
    pub status: Option<CaseStatus>,
    pub level: Option<i16>,
    pub holder_me: bool,
    pub after: Option<Uuid>,
    pub limit: i64,
}

/// The person a list of "my cases" is about; `None` for callers whose cases are not found through their
/// own grants (an integration sees its services' cases, an admin none).
pub struct Person<'a> {
    pub user_id: Option<&'a str>,
    /// The bases of the grants found by `pid_hash` that the caller's roles may use.
    pub bases: Vec<&'static str>,
    pub pid_hash: Option<&'a [u8]>,
}

/// A page of a person's cases with their facts, newest first.
pub fn mine(
    conn: &mut PgConnection,
    municipality: &str,
    person: &Person<'_>,
    page: &MinePage,
) -> Result<Vec<Loaded>, AppError> {
    Ok(FactsOfMyCases {
        municipality,
        user_id: person.user_id,
        bases: &person.bases,
        pid_hash: person.pid_hash,
        status: page.status,
        level: page.level,
        holder_me: page.holder_me,
        after: page.after,
        limit: page.limit,
    }
    .load::<FactsRow>(conn)?
    .into_iter()
    .map(Loaded::from)
    .collect())
}
