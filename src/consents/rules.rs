//! Rule 4 (what makes a consent effective) and the coverage it gives, as plain functions of facts.
//! Nothing here touches the database, so every rule is tested directly below.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::{AppError, FieldError};

/// A recorded consent, as far as effectiveness is concerned.
#[derive(Debug, Clone)]
pub struct ConsentFacts {
    pub id: Uuid,
    pub case_id: Uuid,
    pub givers: Vec<Uuid>,
    /// The givers who have signed; the others' signatures are missing.
    pub signed: Vec<Uuid>,
    pub services: Vec<String>,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub withdrawn: bool,
    pub superseded: bool,
}

/// Who must give consent in this case, today.
#[derive(Debug, Clone, Default)]
pub struct GiverContext {
    /// Active guardians with parental responsibility: all of them must give consent...
    pub responsible_guardians: Vec<Uuid>,
    /// ...unless the subject youth (this participant) consents alone at or above the self-consent age.
    pub subject_youth: Option<Uuid>,
    pub subject_age: Option<u32>,
    pub self_consent_age: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    Active,
    /// A digital consent some of whose givers have not signed yet: not effective until they have.
    PendingSignatures,
    Expired,
    Withdrawn,
    Superseded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotEffectiveReason {
    /// Not every guardian with parental responsibility gave it, and the subject did not give it alone at or
    /// above the self-consent age.
    MissingGiver,
    /// A giver named in it has not signed it yet (`missing_signatures` says who).
    PendingSignatures,
    NotYetValid,
    Expired,
    Withdrawn,
    Superseded,
}

/// The coverage a case has now.
#[derive(Debug, Clone, Default)]
pub struct Effective {
    pub services: BTreeSet<String>,
    pub givers: BTreeSet<Uuid>,
    /// When the first effective consent runs out (coverage may shrink then).
    pub valid_until: Option<NaiveDate>,
    pub consent_ids: Vec<Uuid>,
    pub not_effective: Vec<(Uuid, Vec<NotEffectiveReason>)>,
}

impl Effective {
    pub fn covers(&self, service: &str) -> bool {
        self.services.contains(service)
    }
}

pub fn state(c: &ConsentFacts, today: NaiveDate) -> ConsentState {
    if c.withdrawn {
        ConsentState::Withdrawn
    } else if c.superseded {
        ConsentState::Superseded
    } else if c.valid_until < today {
        ConsentState::Expired
    } else if !missing_signatures(c).is_empty() {
        ConsentState::PendingSignatures
    } else {
        ConsentState::Active
    }
}

/// The givers named in a consent who have not signed it: each signs for themselves.
pub fn missing_signatures(c: &ConsentFacts) -> Vec<Uuid> {
    c.givers
        .iter()
        .filter(|g| !c.signed.contains(g))
        .copied()
        .collect()
}

/// Full years from `birth` to `today`; never derived from a national id.
pub fn age_on(birth: NaiveDate, today: NaiveDate) -> u32 {
    let mut years = today.year() - birth.year();
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    years.max(0) as u32
}

/// Rule 4: given by every guardian with parental responsibility, or by the subject alone at or above the
/// municipality's self-consent age.
pub fn has_required_givers(c: &ConsentFacts, ctx: &GiverContext) -> bool {
    let by_guardians = !ctx.responsible_guardians.is_empty()
        && ctx
            .responsible_guardians
            .iter()
            .all(|g| c.givers.contains(g));
    let by_youth = match (ctx.subject_youth, ctx.subject_age) {
        (Some(youth), Some(age)) => age >= ctx.self_consent_age && c.givers.contains(&youth),
        _ => false,
    };
    by_guardians || by_youth
}

/// Why a consent is not effective today; empty when it is.
pub fn reasons(c: &ConsentFacts, ctx: &GiverContext, today: NaiveDate) -> Vec<NotEffectiveReason> {
    let mut out = Vec::new();
    if !has_required_givers(c, ctx) {
        out.push(NotEffectiveReason::MissingGiver);
    }
    if c.valid_from > today {
        out.push(NotEffectiveReason::NotYetValid);
    }
    match state(c, today) {
        ConsentState::Active => {}
        ConsentState::PendingSignatures => out.push(NotEffectiveReason::PendingSignatures),
        ConsentState::Expired => out.push(NotEffectiveReason::Expired),
        ConsentState::Withdrawn => out.push(NotEffectiveReason::Withdrawn),
        ConsentState::Superseded => out.push(NotEffectiveReason::Superseded),
    }
    out
}

/// The union of what the effective consents of one case cover today. Expiry is a matter of the date, so
/// it needs no background job: the same facts read tomorrow give tomorrow's answer.
pub fn effective(consents: &[ConsentFacts], ctx: &GiverContext, today: NaiveDate) -> Effective {
    let mut e = Effective::default();
    for c in consents {
        let why = reasons(c, ctx, today);
        if why.is_empty() {
            e.services.extend(c.services.iter().cloned());
            e.givers.extend(c.givers.iter().copied());
            e.valid_until = Some(
                e.valid_until
                    .map_or(c.valid_until, |v| v.min(c.valid_until)),
            );
            e.consent_ids.push(c.id);
        } else {
            e.not_effective.push((c.id, why));
        }
    }
    e
}

/// Rule 5 for expiry: the services that lost coverage through a consent running out (as opposed to never
/// having had one, or to a giver missing today): a consent with every required giver expired, and no
/// effective consent covers the service now. Their professionals leave and handovers to them are cancelled
/// when the case is next touched; if the holder's service is among them, the case closes.
pub fn services_lost_to_expiry(
    consents: &[ConsentFacts],
    ctx: &GiverContext,
    now_effective: &Effective,
    today: NaiveDate,
) -> BTreeSet<String> {
    consents
        .iter()
        // Never effective while signatures were missing: nothing was lost when it ran out.
        .filter(|c| {
            state(c, today) == ConsentState::Expired
                && has_required_givers(c, ctx)
                && missing_signatures(c).is_empty()
        })
        .flat_map(|c| c.services.iter())
        .filter(|s| !now_effective.covers(s))
        .cloned()
        .collect()
}

/// Rule 5 settles an expiry once: a consent that ran out before the case was last reopened closed it then,
/// and is history, not a reason to close the reopened case again.
pub fn expiry_still_to_settle(c: &ConsentFacts, reopened_on: Option<NaiveDate>) -> bool {
    reopened_on.is_none_or(|r| c.valid_until >= r)
}

/// What a participant named as a giver of a new consent is to the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiverStanding {
    /// Not a participant at all, or a professional.
    NotAGiver,
    /// A participant who has left the case.
    Left,
    GuardianWithResponsibility,
    GuardianWithoutResponsibility,
    Youth,
}

/// Rule 4's givers: each named giver is an active guardian with parental responsibility or the subject
/// youth, and is named once. One problem per field, so a client can mark them all.
pub fn giver_problems(
    given_by: &[Uuid],
    standing: impl Fn(Uuid) -> GiverStanding,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (i, giver) in given_by.iter().enumerate() {
        let message = match standing(*giver) {
            GiverStanding::Left => Some("is no longer a participant of the case"),
            GiverStanding::GuardianWithResponsibility | GiverStanding::Youth => None,
            GiverStanding::GuardianWithoutResponsibility => {
                Some("is a guardian without parental responsibility")
            }
            GiverStanding::NotAGiver => Some("is not a guardian or the subject youth of this case"),
        };
        if let Some(message) = message {
            errors.push(FieldError::new(format!("given_by[{i}]"), message));
        }
        if given_by[..i].contains(giver) {
            errors.push(FieldError::new(format!("given_by[{i}]"), "is listed twice"));
        }
    }
    errors
}

/// The services a consent covers are active services of the municipality, each named once.
pub fn service_problems(
    services: &[String],
    mut is_active: impl FnMut(&str) -> Result<bool, AppError>,
) -> Result<Vec<FieldError>, AppError> {
    let mut errors = Vec::new();
    for (i, service) in services.iter().enumerate() {
        let field = format!("services[{i}]");
        if services[..i].contains(service) {
            errors.push(FieldError::new(field, "is listed twice"));
        } else if !is_active(service)? {
            errors.push(FieldError::new(
                field,
                format!("`{service}` is not an active service of the municipality"),
            ));
        }
    }
    Ok(errors)
}

/// A consent's period does not end before it begins, nor before the day it is recorded: a consent that
/// ran out before it was recorded never covered the case, and recording it would settle its expiry at
/// once (rule 5: the services it names would lose access, and the case close if the holder's service
/// were among them). It is most likely a mistyped date.
pub fn period_problems(
    valid_from: NaiveDate,
    valid_until: Option<NaiveDate>,
    today: NaiveDate,
) -> Vec<FieldError> {
    match valid_until {
        Some(until) if until < valid_from => {
            vec![FieldError::new("valid_until", "ends before valid_from")]
        }
        Some(until) if until < today => vec![FieldError::new(
            "valid_until",
            "has passed already: a consent that ran out before it was recorded never covered the case",
        )],
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn consent(givers: &[Uuid], services: &[&str]) -> ConsentFacts {
        ConsentFacts {
            id: Uuid::now_v7(),
            case_id: Uuid::nil(),
            givers: givers.to_vec(),
            signed: givers.to_vec(),
            services: services.iter().map(|s| s.to_string()).collect(),
            valid_from: d("2026-01-01"),
            valid_until: d("2026-12-31"),
            withdrawn: false,
            superseded: false,
        }
    }

    #[test]
    fn rule_4_consent_needs_every_guardian_with_parental_responsibility() {
        let (mother, father) = (Uuid::now_v7(), Uuid::now_v7());
        let ctx = GiverContext {
            responsible_guardians: vec![mother, father],
            self_consent_age: 15,
            ..Default::default()
        };
        let one = consent(&[mother], &["skole"]);
        let both = consent(&[mother, father], &["ppt"]);
        let e = effective(&[one.clone(), both.clone()], &ctx, d("2026-06-01"));
        assert_eq!(e.services, BTreeSet::from(["ppt".to_string()]));
        assert_eq!(
            e.not_effective,
            vec![(one.id, vec![NotEffectiveReason::MissingGiver])]
        );
    }

    #[test]
    fn rule_5_an_expiry_is_settled_once_and_not_again_after_a_reopening() {
        let mut c = consent(&[Uuid::now_v7()], &["barnehage"]);
        c.valid_until = d("2026-05-01");
        assert!(expiry_still_to_settle(&c, None));
        assert!(
            !expiry_still_to_settle(&c, Some(d("2026-05-10"))),
            "ran out before the reopening"
        );
        assert!(
            expiry_still_to_settle(&c, Some(d("2026-04-10"))),
            "runs out after it"
        );
    }

    #[test]
    fn rule_4_a_youth_at_the_self_consent_age_consents_alone() {
        let (mother, youth) = (Uuid::now_v7(), Uuid::now_v7());
        let mut ctx = GiverContext {
            responsible_guardians: vec![mother],
            subject_youth: Some(youth),
            subject_age: Some(15),
            self_consent_age: 15,
        };
        let c = consent(&[youth], &["helsestasjon"]);
        assert!(effective(std::slice::from_ref(&c), &ctx, d("2026-06-01")).covers("helsestasjon"));
        ctx.subject_age = Some(14);
        assert!(!effective(std::slice::from_ref(&c), &ctx, d("2026-06-01")).covers("helsestasjon"));
        ctx.subject_age = None;
        assert!(
            !effective(&[c], &ctx, d("2026-06-01")).covers("helsestasjon"),
            "unknown age is not old enough"
        );
    }

    #[test]
    fn rule_4_no_guardians_recorded_means_no_guardian_consent() {
        let ctx = GiverContext {
            self_consent_age: 15,
            ..Default::default()
        };
        let c = consent(&[], &["skole"]);
        assert!(effective(&[c], &ctx, d("2026-06-01")).services.is_empty());
    }

    #[test]
    fn rule_5_expiry_is_a_matter_of_the_date() {
        let mother = Uuid::now_v7();
        let ctx = GiverContext {
            responsible_guardians: vec![mother],
            self_consent_age: 15,
            ..Default::default()
        };
        let c = consent(&[mother], &["barnehage"]);
        assert!(effective(std::slice::from_ref(&c), &ctx, d("2026-12-31")).covers("barnehage"));
        let after = effective(std::slice::from_ref(&c), &ctx, d("2027-01-01"));
        assert!(!after.covers("barnehage"));
        assert_eq!(after.not_effective[0].1, vec![NotEffectiveReason::Expired]);
        assert!(services_lost_to_expiry(&[c], &ctx, &after, d("2027-01-01")).contains("barnehage"));
    }

    #[test]
    fn withdrawn_superseded_and_future_consents_are_not_effective() {
        let mother = Uuid::now_v7();
        let ctx = GiverContext {
            responsible_guardians: vec![mother],
            self_consent_age: 15,
            ..Default::default()
        };
        let mut w = consent(&[mother], &["a"]);
        w.withdrawn = true;
        let mut s = consent(&[mother], &["b"]);
        s.superseded = true;
        let mut f = consent(&[mother], &["c"]);
        f.valid_from = d("2026-07-01");
        let e = effective(&[w, s, f], &ctx, d("2026-06-01"));
        assert!(e.services.is_empty());
        let reasons: Vec<_> = e.not_effective.iter().map(|(_, r)| r[0]).collect();
        assert_eq!(
            reasons,
            [
                NotEffectiveReason::Withdrawn,
                NotEffectiveReason::Superseded,
                NotEffectiveReason::NotYetValid
            ]
        );
    }

    #[test]
    fn age_counts_full_years() {
        assert_eq!(age_on(d("2010-06-15"), d("2025-06-14")), 14);
        assert_eq!(age_on(d("2010-06-15"), d("2025-06-15")), 15);
    }

    #[test]
    fn rule_5_expiry_loses_the_services_no_effective_consent_covers_any_more() {
        let mother = Uuid::now_v7();
        let ctx = GiverContext {
            responsible_guardians: vec![mother],
            ..Default::default()
        };
        let mut expired = consent(&[mother], &["barnehage", "ppt", "skole"]);
        expired.valid_until = d("2026-03-31");
        let renewed = consent(&[mother], &["barnehage", "skole"]);
        let mut never_given = consent(&[Uuid::now_v7()], &["bup"]);
        never_given.valid_until = d("2026-03-31");
        let today = d("2026-06-01");
        let all = [expired, renewed, never_given];
        let now = effective(&all, &ctx, today);
        let lost = services_lost_to_expiry(&all, &ctx, &now, today);
        assert_eq!(lost.into_iter().collect::<Vec<_>>(), vec!["ppt"]);
        assert!(services_lost_to_expiry(&all[1..], &ctx, &now, today).is_empty());
    }

    #[test]
    fn a_digital_consent_is_not_effective_until_every_named_giver_has_signed() {
        let (mother, father) = (Uuid::now_v7(), Uuid::now_v7());
        let ctx = GiverContext {
            responsible_guardians: vec![mother, father],
            self_consent_age: 15,
            ..Default::default()
        };
        let mut c = consent(&[mother, father], &["ppt"]);
        c.signed = vec![mother];
        let today = d("2026-06-01");
        assert_eq!(state(&c, today), ConsentState::PendingSignatures);
        assert_eq!(missing_signatures(&c), vec![father]);
        let e = effective(std::slice::from_ref(&c), &ctx, today);
        assert!(e.services.is_empty());
        assert_eq!(
            e.not_effective[0].1,
            vec![NotEffectiveReason::PendingSignatures]
        );
        c.signed = vec![mother, father];
        assert_eq!(state(&c, today), ConsentState::Active);
        assert!(effective(&[c], &ctx, today).covers("ppt"));
    }

    #[test]
    fn rule_5_a_consent_that_ran_out_before_it_was_signed_took_no_coverage_away() {
        let (mother, father) = (Uuid::now_v7(), Uuid::now_v7());
        let ctx = GiverContext {
            responsible_guardians: vec![mother, father],
            self_consent_age: 15,
            ..Default::default()
        };
        let mut c = consent(&[mother, father], &["ppt"]);
        c.signed = vec![mother];
        let later = d("2027-02-01");
        let now = effective(std::slice::from_ref(&c), &ctx, later);
        assert!(services_lost_to_expiry(&[c], &ctx, &now, later).is_empty());
    }

    #[test]
    fn a_giver_is_a_responsible_guardian_or_the_youth_named_once() {
        let (mother, father, teacher, left) = (
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
        );
        let standing = |id: Uuid| match id {
            i if i == mother => GiverStanding::GuardianWithResponsibility,
            i if i == father => GiverStanding::GuardianWithoutResponsibility,
            i if i == left => GiverStanding::Left,
            _ => GiverStanding::NotAGiver,
        };
        assert!(giver_problems(&[mother], standing).is_empty());
        let fields: Vec<String> =
            giver_problems(&[mother, father, teacher, left, mother], standing)
                .into_iter()
                .map(|e| e.field)
                .collect();
        assert_eq!(
            fields,
            ["given_by[1]", "given_by[2]", "given_by[3]", "given_by[4]"]
        );
    }

    #[test]
    fn a_consent_covers_active_services_named_once() {
        let services = vec!["ppt".to_string(), "closed".into(), "ppt".into()];
        let problems = service_problems(&services, |s| Ok(s != "closed")).unwrap();
        let fields: Vec<&str> = problems.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["services[1]", "services[2]"]);
    }

    #[test]
    fn a_consent_period_does_not_end_before_it_begins() {
        let from = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        assert!(period_problems(from, None, from).is_empty());
        assert!(period_problems(from, Some(from), from).is_empty());
        assert_eq!(period_problems(from, from.pred_opt(), from).len(), 1);
    }

    #[test]
    fn rule_5_a_consent_that_ran_out_before_it_was_recorded_is_refused() {
        let today = d("2026-12-07");
        let ran_out = period_problems(d("2025-01-01"), Some(d("2025-06-01")), today);
        assert_eq!(ran_out.len(), 1);
        assert_eq!(ran_out[0].field, "valid_until");
        // Back-dated but still running, or ending today: recorded as given.
        assert!(period_problems(d("2025-01-01"), Some(today), today).is_empty());
        assert!(period_problems(d("2025-01-01"), Some(d("2027-01-01")), today).is_empty());
        assert!(period_problems(d("2025-01-01"), None, today).is_empty());
    }
}
