//! The authorization matrix: every operation of the committed `openapi/openapi.json` × every kind of
//! caller, with the expected outcome written down as a table a reviewer can read against rule 8 ("who
//! may read a case") and the "who" column of api.md. An operation added to the spec without a row here
//! fails the test; so does a row for an operation the spec no longer has.
//!
//! Each request is a valid one (path parameters from the world, a body that succeeds for someone), so a
//! refusal is about who asks, not about what they sent. A case the caller may not see answers 404, never
//! 403 (its existence is itself sensitive); 403 is for a caller who may see the case (or is known to the
//! municipality) acting outside their role. After a change succeeds, the next caller gets a fresh world.
//!
//! A status is not the whole answer, so every request is also checked for what a status cannot show:
//! - every answer is searched for the world's distinctive names, texts and national ids (in full), and
//!   may show only what a second hand-written table (`MAY_SEE`) lets its caller see; a refusal shows none;
//! - a refused request (4xx) leaves every table, the access logs included, with as many rows as before;
//! - a 404 about the world's case or inquiry is the very answer a random id gets (the id swapped), so
//!   nobody can tell a hidden resource from a missing one.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use serde_json::{json, Value};
use stafettlogg::auth::Role;

use crate::support::TestApp;
use crate::world::{in_days, today, Cast, Secret, Town, World, BARNEHAGE, PPT, SKOLE};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// 2xx.
    Ok,
    /// 2xx, and the world's case is in the answer (for lists, feeds and inboxes).
    Sees,
    /// 2xx, and the world's case is not in the answer.
    Blind,
    /// 401: no token.
    Unauthenticated,
    /// 403: a known caller acting outside their role.
    Forbidden,
    /// 404: the caller may not see the case, so it "does not exist".
    NotFound,
}

const OK: Outcome = Outcome::Ok;
const SEE: Outcome = Outcome::Sees;
const BLIND: Outcome = Outcome::Blind;
const E401: Outcome = Outcome::Unauthenticated;
const E403: Outcome = Outcome::Forbidden;
const E404: Outcome = Outcome::NotFound;

/// The callers, in the order of the table's columns (see `world::Cast` for who each one is).
const CALLERS: [&str; 16] = [
    "anonymous",
    "holder",
    "covered",
    "uncovered",
    "colleague",
    "former",
    "recipient",
    "guardian",
    "other_guardian",
    "young",
    "youth",
    "admin",
    "integration_own",
    "integration_other",
    "other_municipality",
    "leader",
];

fn tokens(cast: &Cast) -> [Option<&str>; 16] {
    [
        cast.anonymous.as_deref(),
        cast.holder.as_deref(),
        cast.covered.as_deref(),
        cast.uncovered.as_deref(),
        cast.colleague.as_deref(),
        cast.former.as_deref(),
        cast.recipient.as_deref(),
        cast.guardian.as_deref(),
        cast.other_guardian.as_deref(),
        cast.young.as_deref(),
        cast.youth_of_age.as_deref(),
        cast.admin.as_deref(),
        cast.integration_own.as_deref(),
        cast.integration_other.as_deref(),
        cast.other_municipality.as_deref(),
        cast.leader.as_deref(),
    ]
}

/// The services claim of each caller, for bodies that name "my service" (`POST /cases`).
const MY_SERVICE: [&str; 16] = [
    BARNEHAGE, BARNEHAGE, PPT, "bup-nord", BARNEHAGE, PPT, SKOLE, BARNEHAGE, BARNEHAGE, BARNEHAGE,
    BARNEHAGE, BARNEHAGE, BARNEHAGE, "bup-nord", BARNEHAGE, BARNEHAGE,
];

// Who reads a case (rule 8): the holder, a covered participant, the guardians, the subject youth at the
// self-consent age (`youth`, in a world of her own), and an integration of a service with a professional
// in the case. Everyone else: 404. Patterns used by many rows:
//   readers:       anyone who may read the case gets 2xx
//   holder only:   readers who are not the holder get 403 (PATCH, participants, level, propose, cancel)
//   holder+guard.: the holder and the guardians (close, withdraw, export, access log); recording a
//                  consent also the youth of age (her own, digital)
//   participants:  participants with access: professionals, guardians, the youth of age (entries);
//                  evaluations: professionals, and the guardian the measure names as responsible
//   professionals: professional participants with access (measures)
//   recipient:     only the professional the handover is addressed to (accept, decline)
#[rustfmt::skip]
const EXPECTED: &[(&str, [Outcome; 16])] = &[
    //                                                           anon   holdr  covrd  uncov  colle  forme  recip  guard  othgu  young  youth  admin  intow  intot  othmu  leadr
    ("GET /api/v1/cases",                                       [E401,  SEE,   SEE,   BLIND, BLIND, BLIND, BLIND, SEE,   BLIND, BLIND, SEE,   BLIND, SEE,   BLIND, BLIND, BLIND]),
    ("POST /api/v1/cases",                                      [E401,  OK,    OK,    OK,    OK,    OK,    OK,    E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    E403]),
    ("GET /api/v1/cases/{id}",                                  [E401,  OK,    OK,    E404,  E404,  E404,  E404,  OK,    E404,  E404,  OK,    E404,  OK,    E404,  E404,  E404]),
    ("PATCH /api/v1/cases/{id}",                                [E401,  OK,    E403,  E404,  E404,  E404,  E404,  E403,  E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    ("GET /api/v1/cases/{id}/access-log",                       [E401,  OK,    E403,  E404,  E404,  E404,  E404,  OK,    E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    ("POST /api/v1/cases/{id}/close",                           [E401,  OK,    E403,  E404,  E404,  E404,  E404,  OK,    E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    ("GET /api/v1/cases/{id}/consents",                         [E401,  OK,    OK,    E404,  E404,  E404,  E404,  OK,    E404,  E404,  OK,    E404,  OK,    E404,  E404,  E404]),
    ("POST /api/v1/cases/{id}/consents",                        [E401,  OK,    E403,  E404,  E404,  E404,  E404,  OK,    E404,  E404,  OK,    E404,  E403,  E404,  E404,  E404]),
    ("GET /api/v1/cases/{id}/consents/effective",               [E401,  OK,    OK,    E404,  E404,  E404,  E404,  OK,    E404,  E404,  OK,    E404,  OK,    E404,  E404,  E404]),
    ("POST /api/v1/cases/{id}/consents/{cid}/sign",             [E401,  E403,  E403,  E404,  E404,  E404,  E404,  OK,    E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    ("POST /api/v1/cases/{id}/consents/{cid}/withdraw",         [E401,  OK,    E403,  E404,  E404,  E404,  E404,  OK,    E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    ("GET /api/v1/cases/{id}/entries",                          [E401,  OK,    OK,    E404,  E404,  E404,  E404,  OK,    E404,  E404,  OK,    E404,  OK,    E404,  E404,  E404]),
    ("POST /api/v1/cases/{id}/entries",                         [E401,  OK,    OK,    E404,  E404,  E404,  E404,  OK,    E404,  E404,  OK,    E404,  E403,  E404,  E404,  E404]),
    ("GET /api/v1/cases/{id}/entries/{eid}",                    [E401,  OK,    OK,    E404,  E404,  E404,  E404,  OK,    E404,  E404,  OK,    E404,  OK,    E404,  E404,  E404]),
    ("GET /api/v1/cases/{id}/export",                           [E401,  OK,    E403,  E404,  E404,  E404,  E404,  OK,    E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    ("GET /api/v1/cases/{id}/handovers",                        [E401,  OK,    OK,    E404,  E404,  E404,  E404,  OK,    E404,  E404,  OK,    E404,  OK,    E404,  E404,  E404]),
    ("POST /api/v1/cases/{id}/handovers",                       [E401,  OK,    E403,  E404,  E404,  E404,  E404,  E403,  E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    ("POST /api/v1/cases/{id}/handovers/{hid}/accept",          [E401,  E403,  E403,  E404,  E404,  E404,  OK,    E403,  E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    ("POST /api/v1/cases/{id}/handovers/{hid}/cancel",          [E401,  OK,    E403,  E404,  E404,  E404,  E404,  E403,  E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    ("POST /api/v1/cases/{id}/handovers/{hid}/decline",         [E401,  E403,  E403,  E404,  E404,  E404,  OK,    E403,  E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    ("GET /api/v1/cases/{id}/level-changes",                    [E401,  OK,    OK,    E404,  E404,  E404,  E404,  OK,    E404,  E404,  OK,    E404,  OK,    E404,  E404,  E404]),
    ("POST /api/v1/cases/{id}/level-changes",                   [E401,  OK,    E403,  E404,  E404,  E404,  E404,  E403,  E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    // The level-0 decisions are read as the level history is (a report only by the holder's service and
    // the reporting one); the decision is the stafettholder's, on a case the row first brings to level 0.
    ("GET /api/v1/cases/{id}/decisions",                        [E401,  OK,    OK,    E404,  E404,  E404,  E404,  OK,    E404,  E404,  OK,    E404,  OK,    E404,  E404,  E404]),
    ("POST /api/v1/cases/{id}/decision",                        [E401,  OK,    E403,  E404,  E404,  E404,  E404,  E403,  E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    ("GET /api/v1/cases/{id}/measures",                         [E401,  OK,    OK,    E404,  E404,  E404,  E404,  OK,    E404,  E404,  OK,    E404,  OK,    E404,  E404,  E404]),
    ("POST /api/v1/cases/{id}/measures",                        [E401,  OK,    OK,    E404,  E404,  E404,  E404,  E403,  E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    ("GET /api/v1/cases/{id}/measures/{mid}",                   [E401,  OK,    OK,    E404,  E404,  E404,  E404,  OK,    E404,  E404,  OK,    E404,  OK,    E404,  E404,  E404]),
    ("PATCH /api/v1/cases/{id}/measures/{mid}",                 [E401,  OK,    OK,    E404,  E404,  E404,  E404,  E403,  E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    ("GET /api/v1/cases/{id}/measures/{mid}/evaluations",       [E401,  OK,    OK,    E404,  E404,  E404,  E404,  OK,    E404,  E404,  OK,    E404,  OK,    E404,  E404,  E404]),
    ("POST /api/v1/cases/{id}/measures/{mid}/evaluations",      [E401,  OK,    OK,    E404,  E404,  E404,  E404,  OK,    E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    ("GET /api/v1/cases/{id}/participants",                     [E401,  OK,    OK,    E404,  E404,  E404,  E404,  OK,    E404,  E404,  OK,    E404,  OK,    E404,  E404,  E404]),
    ("POST /api/v1/cases/{id}/participants",                    [E401,  OK,    E403,  E404,  E404,  E404,  E404,  E403,  E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    ("PATCH /api/v1/cases/{id}/participants/{pid}",             [E401,  OK,    E403,  E404,  E404,  E404,  E404,  E403,  E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    ("POST /api/v1/cases/{id}/participants/{pid}/deactivate",   [E401,  OK,    E403,  E404,  E404,  E404,  E404,  E403,  E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    ("GET /api/v1/cases/{id}/timeline",                         [E401,  OK,    OK,    E404,  E404,  E404,  E404,  OK,    E404,  E404,  OK,    E404,  OK,    E404,  E404,  E404]),
    // Plans (rule 13): read by every reader; changed by the plan's own people (the holder, the owning
    // kindergarten; the covered PPT adviser is neither, so 403). Meetings: planned, changed, cancelled and
    // minuted by professionals of the case; an invitation is answered by the invitee alone (the mother).
    ("GET /api/v1/cases/{id}/plans",                            [E401,  OK,    OK,    E404,  E404,  E404,  E404,  OK,    E404,  E404,  OK,    E404,  OK,    E404,  E404,  E404]),
    ("POST /api/v1/cases/{id}/plans",                           [E401,  OK,    E403,  E404,  E404,  E404,  E404,  E403,  E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    ("GET /api/v1/cases/{id}/plans/{plan_id}",                  [E401,  OK,    OK,    E404,  E404,  E404,  E404,  OK,    E404,  E404,  OK,    E404,  OK,    E404,  E404,  E404]),
    ("PATCH /api/v1/cases/{id}/plans/{plan_id}",                [E401,  OK,    E403,  E404,  E404,  E404,  E404,  E403,  E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    ("POST /api/v1/cases/{id}/plans/{plan_id}/members",         [E401,  OK,    E403,  E404,  E404,  E404,  E404,  E403,  E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    ("POST /api/v1/cases/{id}/plans/{plan_id}/activate",        [E401,  OK,    E403,  E404,  E404,  E404,  E404,  E403,  E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    ("POST /api/v1/cases/{id}/plans/{plan_id}/end",             [E401,  OK,    E403,  E404,  E404,  E404,  E404,  E403,  E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    ("GET /api/v1/cases/{id}/meetings",                         [E401,  OK,    OK,    E404,  E404,  E404,  E404,  OK,    E404,  E404,  OK,    E404,  OK,    E404,  E404,  E404]),
    ("POST /api/v1/cases/{id}/meetings",                        [E401,  OK,    OK,    E404,  E404,  E404,  E404,  E403,  E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    ("GET /api/v1/cases/{id}/meetings/{meeting_id}",            [E401,  OK,    OK,    E404,  E404,  E404,  E404,  OK,    E404,  E404,  OK,    E404,  OK,    E404,  E404,  E404]),
    ("PATCH /api/v1/cases/{id}/meetings/{meeting_id}",          [E401,  OK,    OK,    E404,  E404,  E404,  E404,  E403,  E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    ("POST /api/v1/cases/{id}/meetings/{meeting_id}/respond",   [E401,  E403,  E403,  E404,  E404,  E404,  E404,  OK,    E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    ("POST /api/v1/cases/{id}/meetings/{meeting_id}/cancel",    [E401,  OK,    OK,    E404,  E404,  E404,  E404,  E403,  E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    ("POST /api/v1/cases/{id}/meetings/{meeting_id}/minutes",   [E401,  OK,    OK,    E404,  E404,  E404,  E404,  E403,  E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    // A person's own meetings and calendar: people who can be invited (professionals, families); the
    // feed itself is read with its secret address alone.
    ("GET /api/v1/me/meetings",                                 [E401,  BLIND, BLIND, BLIND, BLIND, BLIND, BLIND, SEE,   BLIND, BLIND, BLIND, BLIND, BLIND, BLIND, BLIND, BLIND]),
    ("POST /api/v1/me/calendar",                                [E401,  OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    E403,  E403,  E403,  OK,    E403]),
    ("DELETE /api/v1/me/calendar",                              [E401,  OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK]),
    ("GET /public/v1/calendar/{file}",                          [OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK]),
    // Not about one case: the feed is for integrations, the inbox and attention for professionals,
    // configuration is read by anyone of the municipality and written by its administrator.
    // Inquiries (the mother's, to the kindergarten): its inbox's professionals (holder, colleague) and
    // the mother herself see it; everyone else gets 404, never 403, so its existence does not leak. Only
    // families with a national login send them and list their own.
    ("GET /api/v1/inquiries",                                   [E401,  SEE,   BLIND, BLIND, SEE,   BLIND, BLIND, E403,  E403,  E403,  E403,  E403,  E403,  E403,  BLIND, SEE]),
    ("POST /api/v1/inquiries",                                  [E401,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    OK,    OK,    OK,    E403,  E403,  E403,  E403,  E403]),
    ("GET /api/v1/inquiries/{id}",                              [E401,  OK,    E404,  E404,  OK,    E404,  E404,  OK,    E404,  E404,  E404,  E404,  E404,  E404,  E404,  OK]),
    ("POST /api/v1/inquiries/{id}/answer",                     [E401,  OK,    E404,  E404,  OK,    E404,  E404,  E403,  E404,  E404,  E404,  E404,  E404,  E404,  E404,  OK]),
    ("POST /api/v1/inquiries/{id}/open-case",                        [E401,  OK,    E404,  E404,  OK,    E404,  E404,  E403,  E404,  E404,  E404,  E404,  E404,  E404,  E404,  E403]),
    ("POST /api/v1/inquiries/{id}/close",                       [E401,  OK,    E404,  E404,  OK,    E404,  E404,  E403,  E404,  E404,  E404,  E404,  E404,  E404,  E404,  OK]),
    // Anonymous consultations: professionals ask; the asker and the service asked (PPT: the covered and
    // the former adviser) see one; only PPT answers. Families, administrators and integrations have no part.
    ("POST /api/v1/consultations",                              [E401,  OK,    OK,    OK,    OK,    OK,    OK,    E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    E403]),
    ("GET /api/v1/consultations",                               [E401,  OK,    OK,    OK,    OK,    OK,    OK,    E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    OK]),
    ("GET /api/v1/consultations/{id}",                          [E401,  OK,    OK,    E404,  E404,  OK,    E404,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E404,  E404]),
    ("POST /api/v1/consultations/{id}/answers",                 [E401,  E403,  OK,    E404,  E404,  OK,    E404,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E404,  E404]),
    // The survey of the employees: the administrator writes, changes, closes it and reads its results, as
    // does a leader (her services' groups); employees (professionals and leaders) see and answer it;
    // families and integrations have no part. Another municipality's survey is 404 (PATCH, DELETE and
    // close are refused for the role first). The open survey answers GET and responses (then closing it,
    // which changes no row count, so the world is not rebuilt after it), the planned one PATCH and
    // DELETE, the closed one results.
    ("GET /api/v1/surveys",                                     [E401,  OK,    OK,    OK,    OK,    OK,    OK,    E403,  E403,  E403,  E403,  OK,    E403,  E403,  OK,    OK]),
    ("POST /api/v1/surveys",                                    [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    E403,  E403,  E403,  E403]),
    ("GET /api/v1/surveys/default-questionnaire",               [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    E403,  E403,  E403,  E403]),
    ("GET /api/v1/surveys/{id}",                                [E401,  OK,    OK,    OK,    OK,    OK,    OK,    E403,  E403,  E403,  E403,  OK,    E403,  E403,  E404,  OK]),
    ("PATCH /api/v1/surveys/{id}",                              [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    E403,  E403,  E403,  E403]),
    ("DELETE /api/v1/surveys/{id}",                             [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    E403,  E403,  E403,  E403]),
    ("POST /api/v1/surveys/{id}/responses",                     [E401,  OK,    OK,    OK,    OK,    OK,    OK,    E403,  E403,  E403,  E403,  E403,  E403,  E403,  E404,  OK]),
    ("GET /api/v1/surveys/{id}/results",                        [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    E403,  E403,  E403,  OK]),
    ("POST /api/v1/surveys/{id}/close",                         [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    E403,  E403,  E403,  E403]),
    ("GET /api/v1/me/inquiries",                                [E401,  E403,  E403,  E403,  E403,  E403,  E403,  SEE,   BLIND, BLIND, BLIND, E403,  E403,  E403,  E403,  E403]),
    // Notification settings and messages are every person's own; webhooks are an integration's own.
    ("GET /api/v1/me/notifications",                            [E401,  OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK]),
    ("PUT /api/v1/me/notifications",                            [E401,  OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK]),
    ("GET /api/v1/me/notifications/sent",                       [E401,  BLIND, BLIND, BLIND, BLIND, BLIND, BLIND, BLIND, BLIND, BLIND, BLIND, BLIND, BLIND, BLIND, BLIND, BLIND]),
    ("GET /api/v1/webhooks",                                    [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    OK,    E403,  E403]),
    ("POST /api/v1/webhooks",                                   [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    OK,    E403,  E403]),
    ("GET /api/v1/webhooks/{id}",                               [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    E404,  E403,  E403]),
    ("DELETE /api/v1/webhooks/{id}",                            [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    E404,  E403,  E403]),
    ("GET /api/v1/webhooks/{id}/deliveries",                    [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    E404,  E403,  E403]),
    ("POST /api/v1/webhooks/{id}/enable",                       [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    E404,  E403,  E403]),
    ("POST /api/v1/webhooks/{id}/test",                         [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    E404,  E403,  E403]),
    ("GET /api/v1/changes",                                     [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  SEE,   BLIND, E403,  E403]),
    ("GET /api/v1/handovers",                                   [E401,  BLIND, BLIND, BLIND, BLIND, BLIND, SEE,   E403,  E403,  E403,  E403,  E403,  E403,  E403,  BLIND, E403]),
    ("POST /api/v1/imports",                                    [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    OK,    E403,  E403]),
    ("GET /api/v1/levels",                                      [E401,  OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK]),
    ("PUT /api/v1/levels/{level}",                              [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    E403,  E403,  E403,  E403]),
    ("GET /api/v1/me",                                          [E401,  OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK]),
    // The right of access: families with a national login, about the cases they may read themselves.
    ("GET /api/v1/me/data",                                     [E401,  E403,  E403,  E403,  E403,  E403,  E403,  SEE,   BLIND, BLIND, SEE,   E403,  E403,  E403,  E403,  E403]),
    ("GET /api/v1/me/attention",                                [E401,  SEE,   BLIND, BLIND, BLIND, BLIND, SEE,   E403,  E403,  E403,  E403,  E403,  E403,  E403,  BLIND, E403]),
    ("GET /api/v1/municipality",                                [E401,  OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK]),
    ("PATCH /api/v1/municipality",                              [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    E403,  E403,  E403,  E403]),
    ("GET /api/v1/services",                                    [E401,  OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK]),
    ("POST /api/v1/services",                                   [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    E403,  E403,  E403,  E403]),
    ("PATCH /api/v1/services/{id}",                             [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    E403,  E403,  E403,  E403]),
    // The guide: drafts and versions are the admin's (rows in this order: a draft is written, then
    // published, then read back as version 1); the public guide is anyone's, token or not; a step move is
    // the holder's, like a level change.
    ("PUT /api/v1/guide/draft",                                 [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    E403,  E403,  E403,  E403]),
    ("POST /api/v1/guide/publish",                              [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    E403,  E403,  E403,  E403]),
    ("GET /api/v1/guide/draft",                                 [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    E403,  E403,  E403,  E403]),
    ("GET /api/v1/guide/versions",                              [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    E403,  E403,  E403,  E403]),
    ("GET /api/v1/guide/versions/{n}",                          [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    E403,  E403,  E403,  E403]),
    ("GET /public/v1/municipalities/{number}/guide",            [OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK]),
    ("GET /public/v1/municipalities/{number}/guide/document",   [OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK]),
    ("POST /api/v1/cases/{id}/steps",                           [E401,  OK,    E403,  E404,  E404,  E404,  E404,  E403,  E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    // A unit leader (of the kindergarten, the holder's service) sees the service's cases without content
    // and moves the relay; nobody else leads. Departures are the administrator's or an integration's.
    ("GET /api/v1/services/{code}/cases",                       [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  SEE]),
    ("GET /api/v1/services/{code}/attention",                   [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK]),
    ("POST /api/v1/cases/{id}/holder/reassign",                 [E401,  E403,  E403,  E404,  E404,  E404,  E404,  E403,  E404,  E404,  E403,  E404,  E403,  E404,  E404,  OK]),
    // Departures: the administrator; an integration only with the `staff` scope, which the matrix's don't have.
    ("POST /api/v1/staff/{user_id}/departed",                   [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    E403,  E403,  E403,  E403]),
    ("DELETE /api/v1/staff/{user_id}/departed",                 [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    E403,  E403,  E403,  E403]),
    ("GET /api/v1/retention",                                   [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    E403,  E403,  E403,  E403]),
    // Figures without personal data: the administrator's and the leader's (her service's); they never
    // show the case.
    ("GET /api/v1/statistics",                                  [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  BLIND, E403,  E403,  E403,  BLIND]),
    ("GET /health/live",                                        [OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK]),
    ("GET /health/ready",                                       [OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK]),
    // Last but one, since its request withdraws the world's consent first (the case closes): reopening is
    // its last stafettholder's; readers of the closed case who are not are refused for their role.
    ("POST /api/v1/cases/{id}/reopen",                          [E401,  OK,    E404,  E404,  E404,  E404,  E404,  E403,  E404,  E404,  E403,  E404,  E403,  E404,  E404,  E404]),
    // Last, since its request closes the world's case first (if the row before has not). The archival
    // of the closed case is its administrator's, or an integration's with the `archive` scope (the
    // matrix's have none); every other role is refused for its role, whatever the case.
    ("POST /api/v1/cases/{id}/archived",                        [E401,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  E403,  OK,    E403,  E403,  E403,  E403]),
];

/// Cells where the server is known to answer otherwise than the table says: (operation, caller, status
/// it answers today). Each is a defect to fix in the server, not in the table; the test fails when one of
/// them starts answering as the table says, so the entry is removed together with the fix.
const KNOWN_BUGS: &[(&str, &str, u16)] = &[];

/// A request that the caller in column `col` sends for `op` in world `w`.
struct Request {
    method: Method,
    path: String,
    body: Option<Value>,
    ndjson: Option<String>,
    /// The resource whose current ETag goes into `If-Match` (read by the holder just before), or the ETag
    /// itself when it starts with `"`.
    if_match: Option<String>,
}

/// The valid request of each operation: path parameters from the world, a body that succeeds for
/// whoever the table allows.
async fn request(town: &Town, w: &World, op: &str, col: usize, n: usize) -> Request {
    let (method, template) = op.split_once(' ').unwrap();
    let method: Method = method.parse().unwrap();
    let case = format!("/api/v1/cases/{}", w.case);
    let path = template
        .replace("/api/v1/cases/{id}", &case)
        .replace(
            "/api/v1/inquiries/{id}",
            &format!("/api/v1/inquiries/{}", w.inquiry),
        )
        .replace(
            "/api/v1/consultations/{id}",
            &format!("/api/v1/consultations/{}", w.consultation),
        )
        .replace(
            "/api/v1/surveys/{id}",
            &format!(
                "/api/v1/surveys/{}",
                if op.starts_with("PATCH") || op.starts_with("DELETE") {
                    &w.planned_survey
                } else if op.ends_with("/results") {
                    &w.closed_survey
                } else {
                    &w.survey
                }
            ),
        )
        .replace(
            "/api/v1/services/{id}",
            &format!("/api/v1/services/{}", town.bup_service),
        )
        .replace("{cid}", &w.consent)
        .replace("{eid}", &w.entry)
        .replace("{hid}", &w.handover)
        .replace("{mid}", &w.measure)
        .replace("{plan_id}", &w.plan)
        .replace("{meeting_id}", &w.meeting)
        .replace(
            "{pid}",
            if op.ends_with("/deactivate") {
                &w.neighbour
            } else {
                &w.grandmother
            },
        )
        .replace("{level}", "1")
        .replace("{number}", "3805")
        .replace("{code}", BARNEHAGE)
        .replace("{user_id}", "sara")
        .replace("{n}", "1")
        .replace("{file}", "secret.ics");
    let path = if path.starts_with("/api/v1/webhooks/{id}") {
        // A webhook of the world's own integration, made for this request (another's is 404).
        let own = town.cast.integration_own.as_deref().unwrap();
        let res = town
            .app
            .post(
                "/api/v1/webhooks",
                own,
                &json!({"url": "https://192.0.43.10/hooks", "events": ["case.opened"]}),
            )
            .await;
        assert_eq!(res.status(), 201, "the integration's webhook");
        let id = res.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        path.replace("{id}", &id)
    } else {
        path
    };
    assert!(
        !path.contains('{'),
        "{op}: a path parameter the matrix does not fill: {path}"
    );
    let mut req = Request {
        method,
        path,
        body: None,
        ndjson: None,
        if_match: None,
    };
    let body = |v: Value| Some(v);
    match op {
        "GET /api/v1/cases" => req.path.push_str("?limit=200"),
        "PUT /api/v1/me/notifications" => {
            req.body = body(json!({"channels": {"email": false, "sms": false}}))
        }
        // A public address given literally: nothing to resolve, and nothing reachable from the tests.
        "POST /api/v1/webhooks" => {
            req.body = body(json!({"url": "https://192.0.43.10/hooks", "events": ["case.opened"]}))
        }
        "GET /api/v1/changes" => req
            .path
            .push_str(&format!("?after={}&limit=1000", w.feed_after)),
        "POST /api/v1/cases" => {
            req.body = body(
                json!({"service": MY_SERVICE[col], "concern": "Gutten virker sliten.",
                "subject": {"kind": "child", "given_name": "Oskar", "family_name": "Testesen", "birth_date": "2019-02-03"}}),
            )
        }
        "PATCH /api/v1/cases/{id}" => {
            req.body = body(json!({"concern": "Oppdatert etter samtale."}));
            req.if_match = Some(case.clone());
        }
        "POST /api/v1/cases/{id}/close" => {
            req.body = body(json!({"reason": "no_need", "note": "Avklart"}));
            req.if_match = Some(case.clone());
        }
        // The family's consent is withdrawn first (told to the holder), so the case closes as
        // `consent_withdrawn`; a second try in the same world is refused and changes nothing.
        "POST /api/v1/cases/{id}/reopen" => {
            let withdraw = format!("{case}/consents/{}/withdraw", w.consent);
            let told = json!({"reason": "Vi trekker samtykket", "on_behalf_of": w.mother});
            let _ = town
                .app
                .post(&withdraw, town.cast.holder.as_deref().unwrap(), &told)
                .await;
            req.body = body(json!({"reason": "Foreldrene samtykker igjen"}));
            req.if_match = Some(case.clone());
        }
        // The holder closes the case first (once: a refused report leaves the world as it was).
        "POST /api/v1/cases/{id}/archived" => {
            let now = town.ok(Method::GET, &case, None, None, 200).await;
            if now["status"] == "open" {
                let etag = town.etag(&case).await;
                let close = json!({"reason": "goal_reached"});
                let path = format!("{case}/close");
                town.ok(Method::POST, &path, Some(&etag), Some(close), 200)
                    .await;
            }
            req.body =
                body(json!({"system": "elements", "reference": "2026/1", "archived_on": today()}))
        }
        // Digital and given by the mother alone: what she may record herself; for the holder a consent
        // that is recorded but not effective (the father has not given it). The youth of age gives her own.
        "POST /api/v1/cases/{id}/consents" => {
            let giver = if CALLERS[col] == "youth" {
                &w.youth
            } else {
                &w.mother
            };
            req.body = body(json!({"given_by": [giver], "services": [BARNEHAGE, PPT],
                "purpose": "Samarbeid", "valid_from": today(), "form": "digital"}))
        }
        "POST /api/v1/cases/{id}/consents/{cid}/withdraw" => {
            req.body =
                body(json!({"reason": "Vi ønsker ikke mer samarbeid", "on_behalf_of": w.mother}))
        }
        "POST /api/v1/cases/{id}/entries" => {
            req.body = body(
                json!({"kind": "lysglimt", "occurred_at": chrono::Utc::now(), "body": "Emma lo høyt i dag."}),
            )
        }
        "POST /api/v1/cases/{id}/handovers" => {
            req.body = body(
                json!({"to": {"user_id": "sara", "name": "Sara Kontaktlærer", "service": SKOLE},
                "reason": "transition", "answer_by": in_days(14)}),
            )
        }
        "POST /api/v1/cases/{id}/handovers/{hid}/accept" => req.body = body(json!({})),
        "POST /api/v1/cases/{id}/handovers/{hid}/decline" => {
            req.body = body(json!({"reason": "Ikke min elev ennå"}))
        }
        "POST /api/v1/cases/{id}/handovers/{hid}/cancel" => {
            req.body = body(json!({"reason": "Venter til august"}))
        }
        "POST /api/v1/cases/{id}/decision" => {
            req.body = body(json!({"outcome": "report_child_welfare", "decided_on": today()}));
            req.if_match = Some(case.clone());
        }
        "POST /api/v1/cases/{id}/level-changes" => {
            req.body = body(json!({"to_level": 2, "reason": "Trenger PPT", "decided_on": today()}));
            req.if_match = Some(case.clone());
        }
        "POST /api/v1/cases/{id}/measures" => {
            req.body = body(json!({"title": "Samtaler", "goal": "Trygghet",
                "responsible": {"kind": "service", "service": PPT},
                "start_date": today(), "evaluate_by": in_days(40)}))
        }
        "PATCH /api/v1/cases/{id}/measures/{mid}" => {
            req.body = body(json!({"title": "Språkgruppe to ganger i uka"}));
            req.if_match = Some(format!("{case}/measures/{}", w.measure));
        }
        "POST /api/v1/cases/{id}/measures/{mid}/evaluations" => {
            req.body = body(
                json!({"evaluated_on": today(), "assessment": "Tydelig fremgang",
                "outcome": "continue", "next_evaluate_by": in_days(60)}),
            )
        }
        "POST /api/v1/cases/{id}/participants" => {
            req.body = body(json!({"kind": "other", "name": "Morfar", "role": "besteforelder"}))
        }
        "PATCH /api/v1/cases/{id}/participants/{pid}" => {
            req.body = body(json!({"role": "bestemor"}))
        }
        "POST /api/v1/imports" => {
            // The world's own case, as its holder exported it: the import finds it by its reference.
            let export = town
                .ok(Method::GET, &format!("{case}/export"), None, None, 200)
                .await;
            req.ndjson = Some(export.to_string());
        }
        "PUT /api/v1/levels/{level}" => {
            req.body = body(
                json!({"name": "Nivå 1", "description": "Tiltak i egen tjeneste", "guidance": "Snakk med foreldrene."}),
            )
        }
        // The default guide as the draft (the first PUT needs no If-Match); publishing it makes version 1.
        "PUT /api/v1/guide/draft" => {
            let doc = town
                .ok(
                    Method::GET,
                    "/public/v1/municipalities/3805/guide/document",
                    None,
                    None,
                    200,
                )
                .await;
            req.body = body(doc)
        }
        "POST /api/v1/guide/publish" => {}
        // The world's case is at level 1.
        "POST /api/v1/cases/{id}/steps" => {
            req.body = body(json!({"key": "1.2", "note": "Tiltakene er i gang"}));
            req.if_match = Some(case.clone());
        }
        "PATCH /api/v1/municipality" => req.body = body(json!({"level0_deadline_days": 14})),
        "POST /api/v1/inquiries" => {
            req.body = body(json!({"service": BARNEHAGE, "about": "myself",
                "message": "Jeg trenger noen å snakke med.", "wants": "advice"}))
        }
        "POST /api/v1/inquiries/{id}/answer" => {
            req.body = body(json!({"message": "Velkommen til en samtale."}))
        }
        "POST /api/v1/inquiries/{id}/open-case" => {
            req.body = body(json!({"concern": "Mor forteller om uro.",
                "subject": {"kind": "child", "given_name": "Emma", "family_name": "Testesen"}}))
        }
        "POST /api/v1/inquiries/{id}/close" => {}
        "POST /api/v1/services" => {
            req.body = body(
                json!({"code": format!("tjeneste-{n}"), "name": "Ny tjeneste", "kind": "other"}),
            )
        }
        "PATCH /api/v1/services/{id}" => req.body = body(json!({"name": "BUP Nord"})),
        "POST /api/v1/cases/{id}/holder/reassign" => {
            req.body = body(
                json!({"to": {"user_id": "kari", "name": "Kari Vikar", "service": BARNEHAGE},
                "reason": "absence"}),
            )
        }
        // Sara is known to the municipality as the recipient of the world's handover.
        "POST /api/v1/staff/{user_id}/departed" => req.body = body(json!({"on": today()})),
        "DELETE /api/v1/staff/{user_id}/departed" => town.depart("sara"),
        // A digital consent the father recorded for both guardians waits for the mother's signature.
        "POST /api/v1/cases/{id}/consents/{cid}/sign" => {
            let father = town
                .app
                .citizen_token("far", Role::Guardian, &town.father_pid);
            let res = town
                .app
                .post(
                    &format!("{case}/consents"),
                    &father,
                    &json!({"given_by": [w.father, w.mother], "services": [BARNEHAGE],
                        "purpose": "Samarbeid", "valid_from": today(), "form": "digital"}),
                )
                .await;
            assert_eq!(res.status(), 201, "the father's consent");
            let cid = res.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string();
            req.path = format!("{case}/consents/{cid}/sign");
        }
        "POST /api/v1/cases/{id}/plans" => {
            req.body = body(json!({"kind": "ip", "owner_service": BARNEHAGE, "starts_on": today()}))
        }
        "PATCH /api/v1/cases/{id}/plans/{plan_id}" => {
            req.body =
                body(json!({"goals": ["Leker med flere barn", "Sier fra når noe er vanskelig"]}));
            req.if_match = Some(format!("{case}/plans/{}", w.plan));
        }
        "POST /api/v1/cases/{id}/plans/{plan_id}/members" => {
            req.body = body(json!({"participant_id": w.mother, "role": "forelder"}))
        }
        "POST /api/v1/cases/{id}/plans/{plan_id}/activate" => {}
        "POST /api/v1/cases/{id}/plans/{plan_id}/end" => {
            req.body = body(json!({"reason": "Erstattet av en IOP"}))
        }
        "POST /api/v1/cases/{id}/meetings" => {
            req.body = body(
                json!({"kind": "ansvarsgruppe", "starts_at": in_days(7).to_string() + "T08:00:00Z",
                "ends_at": in_days(7).to_string() + "T09:00:00Z", "invitees": [w.mother]}),
            )
        }
        "PATCH /api/v1/cases/{id}/meetings/{meeting_id}" => {
            req.body = body(json!({"place": "Møterom 2"}));
            req.if_match = Some(format!("{case}/meetings/{}", w.meeting));
        }
        "POST /api/v1/cases/{id}/meetings/{meeting_id}/respond" => {
            req.body = body(json!({"response": "accepted"}))
        }
        "POST /api/v1/cases/{id}/meetings/{meeting_id}/cancel" => req.body = body(json!({})),
        "POST /api/v1/cases/{id}/meetings/{meeting_id}/minutes" => {
            req.body = body(json!({"body": "Vi ble enige om neste steg."}))
        }
        "POST /api/v1/me/calendar" => req.body = body(json!({})),
        // Another service than the caller's own.
        "POST /api/v1/consultations" => {
            let to = if MY_SERVICE[col] == PPT {
                BARNEHAGE
            } else {
                PPT
            };
            req.body =
                body(json!({"to_service": to, "question": "Hva gjør vi når et barn er mye borte?"}))
        }
        "POST /api/v1/consultations/{id}/answers" => {
            req.body = body(
                json!({"text": "Ta kontakt med helsesykepleier, og drøft gjerne med oss igjen."}),
            )
        }
        "DELETE /api/v1/me/calendar" => {}
        "POST /api/v1/surveys" => {
            req.body = body(
                json!({"title": "Kartlegging", "opens_on": in_days(1), "closes_on": in_days(8),
                "questions": [{"key": "samarbeid", "text": {"nb": "Samarbeidet fungerer."}, "kind": "scale_1_5"}]}),
            )
        }
        // The planned survey is new in every world: version 1 (the holder does not see it to read it).
        "PATCH /api/v1/surveys/{id}" => {
            req.body = body(json!({"title": "Kartlegging, endret"}));
            req.if_match = Some("\"1\"".into());
        }
        "DELETE /api/v1/surveys/{id}" => {}
        "POST /api/v1/surveys/{id}/close" => req.body = body(json!({})),
        "POST /api/v1/surveys/{id}/responses" => {
            req.body = body(json!({"answers": {"kjenner": true}}))
        }
        // The mother's feed, subscribed to just before.
        "GET /public/v1/calendar/{file}" => {
            let mother = town.cast.guardian.as_deref().unwrap();
            let res = town
                .app
                .post("/api/v1/me/calendar", mother, &json!({}))
                .await;
            assert_eq!(res.status(), 201, "the mother's calendar");
            let url = res.json::<Value>().await.unwrap()["url"]
                .as_str()
                .unwrap()
                .to_string();
            req.path = url
                .split_once("/public/")
                .map(|(_, p)| format!("/public/{p}"))
                .unwrap();
        }
        _ if req.method == Method::GET => {}
        "POST /api/v1/cases/{id}/participants/{pid}/deactivate" => {}
        "DELETE /api/v1/webhooks/{id}" => {}
        "POST /api/v1/webhooks/{id}/enable" | "POST /api/v1/webhooks/{id}/test" => {
            req.body = body(json!({}))
        }
        _ => panic!("{op}: the matrix has no request for this operation; add one to `request`"),
    }
    req
}

/// What a request did, for the report.
struct Cell {
    status: u16,
    outcome: Outcome,
}

fn matches(expected: Outcome, status: u16, body: &str, case: &str) -> bool {
    let ok = (200..300).contains(&status);
    match expected {
        Outcome::Ok => ok,
        Outcome::Sees => ok && body.contains(case),
        Outcome::Blind => ok && !body.contains(case),
        Outcome::Unauthenticated => status == 401,
        Outcome::Forbidden => status == 403,
        Outcome::NotFound => status == 404,
    }
}

const Y: bool = true;
const N: bool = false;

// Who may see what of a world (README "Who may see what", rule 8, api.md), by caller, in the order of
// `Secret`. The stafettholder sees everything, national ids in full. The readers of the case (a covered
// participant, the guardian, the subject youth at the self-consent age in her own world, the integration
// of the holder's service) see its names and texts, national ids masked to six digits. The recipient of
// the pending handover sees its note (the handover, not the case). The unit leader sees metadata: the
// subject's name, never the family, content or full ids. The inquiry is the kindergarten inbox's
// (holder, colleague, leader) and the mother's. Nobody else sees anything, and no refusal shows anything
// to anyone.
#[rustfmt::skip]
const MAY_SEE: [(&str, [bool; 6]); 16] = [
    //                       subject family  text    note    inquiry full ids
    ("anonymous",           [N,      N,      N,      N,      N,      N]),
    ("holder",              [Y,      Y,      Y,      Y,      Y,      Y]),
    ("covered",             [Y,      Y,      Y,      Y,      N,      N]),
    ("uncovered",           [N,      N,      N,      N,      N,      N]),
    ("colleague",           [N,      N,      N,      N,      Y,      N]),
    ("former",              [N,      N,      N,      N,      N,      N]),
    ("recipient",           [N,      N,      N,      Y,      N,      N]),
    ("guardian",            [Y,      Y,      Y,      Y,      Y,      N]),
    ("other_guardian",      [N,      N,      N,      N,      N,      N]),
    ("young",               [N,      N,      N,      N,      N,      N]),
    ("youth",               [Y,      Y,      Y,      Y,      N,      N]),
    ("admin",               [N,      N,      N,      N,      N,      N]),
    ("integration_own",     [Y,      Y,      Y,      Y,      N,      N]),
    ("integration_other",   [N,      N,      N,      N,      N,      N]),
    ("other_municipality",  [N,      N,      N,      N,      N,      N]),
    ("leader",              [Y,      N,      N,      N,      Y,      N]),
];

/// Changes after which a caller answers in another's place: the recipient who accepts the handover is
/// the stafettholder when the answer is written.
const BECOMES: &[(&str, &str, &str)] = &[(
    "POST /api/v1/cases/{id}/handovers/{hid}/accept",
    "recipient",
    "holder",
)];

/// Whether `caller`'s answer to `op` may show `secret` of a world; `hers`: the world is the one whose
/// subject is the youth at the self-consent age (to everyone else the two worlds are alike).
fn may_see(op: &str, caller: &str, secret: Secret, hers: bool) -> bool {
    let caller = BECOMES
        .iter()
        .find(|(o, c, _)| *o == op && *c == caller)
        .map_or(caller, |(_, _, instead)| *instead);
    if caller == "youth" && !hers {
        return false;
    }
    let (_, row) = MAY_SEE.iter().find(|(c, _)| *c == caller).unwrap();
    row[secret as usize]
}

/// Every table's row count, in one prepared statement on one connection kept open: 2-3 ms a snapshot.
/// `TestApp::table_counts` opens a connection per table (0.7 s a call for 42 tables, some 20 minutes
/// around the matrix's 1,900 requests), and the same statement unprepared took 6 ms, mostly planning.
struct Counts {
    conn: diesel::PgConnection,
}

type Snapshot = BTreeMap<String, i64>;

impl Counts {
    fn new(app: &TestApp) -> Counts {
        use diesel::connection::SimpleConnection;
        let tables = app.table_counts();
        let sql = tables
            .iter()
            .map(|(t, _)| format!("SELECT '{t}'::text AS name, count(*) AS n FROM \"{t}\""))
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        let mut conn = app.db();
        conn.batch_execute(&format!("PREPARE matrix_counts AS {sql}"))
            .unwrap();
        let mut counts = Counts { conn };
        let reference: Snapshot = app.table_counts().into_iter().collect();
        assert_eq!(
            counts.snapshot(),
            reference,
            "the statement counts every table"
        );
        counts
    }

    fn snapshot(&mut self) -> Snapshot {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            name: String,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        use diesel::RunQueryDsl;
        diesel::sql_query("EXECUTE matrix_counts")
            .load::<Row>(&mut self.conn)
            .unwrap()
            .into_iter()
            .map(|r| (r.name, r.n))
            .collect()
    }
}

/// "table before -> after" for each table whose count differs.
fn differences(before: &Snapshot, after: &Snapshot) -> Vec<String> {
    after
        .iter()
        .filter(|(t, n)| before.get(*t) != Some(n))
        .map(|(t, n)| format!("{t} {} -> {n}", before.get(t).copied().unwrap_or(0)))
        .collect()
}

/// An answer as the checks need it.
struct Answer {
    status: u16,
    content_type: String,
    text: String,
}

/// Sends `req` to `path` (its own, or one with another id) with `token` and the ETag read before.
async fn send(
    town: &Town,
    req: &Request,
    path: &str,
    token: Option<&str>,
    etag: Option<&str>,
) -> Answer {
    let mut rb = town.app.request(req.method.clone(), path, token);
    if let Some(etag) = etag {
        rb = rb.header("if-match", etag);
    }
    if let Some(body) = &req.body {
        rb = rb.json(body);
    }
    if let Some(lines) = &req.ndjson {
        rb = rb
            .header("content-type", "application/x-ndjson")
            .body(lines.clone());
    }
    let res = rb.send().await.unwrap();
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    Answer {
        status,
        content_type,
        text: res.text().await.unwrap(),
    }
}

/// What the matrix checks beyond statuses: leaks in any answer, side effects of refused requests, and
/// hidden resources that answer otherwise than missing ones. Failures name the operation, the caller and
/// the marker's label, never its value (names and national ids stay out of the test output).
struct Checks {
    counts: Counts,
    counting: std::time::Duration,
    snapshots: usize,
    compared: usize,
    leaks: Vec<String>,
    side_effects: Vec<String>,
    hidden: Vec<String>,
    /// The counts right after the last refused request, while nothing else has touched the database.
    after: Option<Snapshot>,
    /// Markers some caller was shown who may see them: proof that the search can find each one.
    seen: BTreeSet<&'static str>,
}

impl Checks {
    fn snapshot(&mut self) -> Snapshot {
        let started = std::time::Instant::now();
        let s = self.counts.snapshot();
        self.counting += started.elapsed();
        self.snapshots += 1;
        s
    }

    /// Sends the request; when it is refused (4xx) and counts were taken `before` it, every table must
    /// have as many rows as before. The counts are taken around each request, so that a change is pinned
    /// on the operation and caller; the counts after a refusal are kept for a request sent right after.
    #[allow(clippy::too_many_arguments)]
    async fn send(
        &mut self,
        town: &Town,
        (op, caller): (&str, &str),
        req: &Request,
        path: &str,
        token: Option<&str>,
        etag: Option<&str>,
        before: Option<Snapshot>,
        note: &str,
    ) -> Answer {
        self.after = None;
        let answer = send(town, req, path, token, etag).await;
        if let Some(before) = before.filter(|_| (400..500).contains(&answer.status)) {
            let after = self.snapshot();
            let changed = differences(&before, &after);
            if !changed.is_empty() {
                self.side_effects.push(format!(
                    "{op} as {caller}{note}: refused with {}, and yet {}",
                    answer.status,
                    changed.join(", ")
                ));
            }
            self.after = Some(after);
        }
        answer
    }

    /// Searches an answer for every marker of the current worlds (the second is the older one).
    fn search(&mut self, (op, caller): (&str, &str), status: u16, body: &str, worlds: &[World; 2]) {
        let refused = !(200..300).contains(&status);
        for (w, world) in worlds.iter().enumerate() {
            for m in &world.markers {
                if !body.contains(&m.value) {
                    continue;
                }
                if !refused && may_see(op, caller, m.secret, w == 1) {
                    self.seen.insert(m.label);
                } else {
                    let whose = if w == 1 { " (of the older world)" } else { "" };
                    self.leaks.push(format!(
                        "{op} as {caller} ({status}) shows {}{whose}: {:?}",
                        m.label, m.secret
                    ));
                }
            }
        }
    }

    /// A 404 about the world's case or inquiry (or another integration's webhook) against the same request about an id that does not exist:
    /// the same status, content type and problem (with the id swapped back), or the caller could tell a
    /// hidden resource from a missing one.
    #[allow(clippy::too_many_arguments)]
    async fn hidden_like_missing(
        &mut self,
        town: &Town,
        who: (&str, &str),
        req: &Request,
        world: &World,
        token: Option<&str>,
        etag: Option<&str>,
        hidden: &Answer,
    ) {
        let (op, caller) = who;
        let webhook = req
            .path
            .strip_prefix("/api/v1/webhooks/")
            .map(|rest| rest.split('/').next().unwrap().to_string());
        let id = if req.path.contains(&world.case) {
            &world.case
        } else if req.path.contains(&world.inquiry) {
            &world.inquiry
        } else if req.path.contains(&world.consultation) {
            &world.consultation
        } else if req.path.contains(&world.survey) {
            &world.survey
        } else if let Some(webhook) = &webhook {
            // Another integration's webhook.
            webhook
        } else {
            panic!(
                "{op}: a 404 about neither the world's case, its inquiry, its consultation, its survey nor a webhook: {}",
                req.path
            )
        };
        let missing = uuid::Uuid::now_v7().to_string();
        let path = req.path.replace(id.as_str(), &missing);
        // Nothing happened since the counts after the hidden answer were taken.
        let before = match self.after.take() {
            Some(after) => after,
            None => self.snapshot(),
        };
        let note = " (with an id that does not exist)";
        let answer = self
            .send(town, who, req, &path, token, etag, Some(before), note)
            .await;
        self.compared += 1;
        let swapped = answer.text.replace(&missing, id);
        if answer.status != hidden.status
            || answer.content_type != hidden.content_type
            || swapped != hidden.text
        {
            let shape = |status: u16, text: &str| {
                let p: Value = serde_json::from_str(text).unwrap_or(Value::Null);
                format!("{status} {} / {} / {}", p["type"], p["title"], p["detail"])
            };
            self.hidden.push(format!(
                "{op} as {caller}: the hidden resource answers {} ({}), an id that does not exist {} ({})",
                shape(hidden.status, &hidden.text),
                hidden.content_type,
                shape(answer.status, &swapped),
                answer.content_type
            ));
        }
    }
}

/// The spec's operations, as "METHOD /path".
fn spec_operations() -> BTreeSet<String> {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/openapi.json");
    let spec: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let mut ops = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if [
                "get", "put", "post", "delete", "options", "head", "patch", "trace",
            ]
            .contains(&method.as_str())
            {
                ops.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    ops
}

#[test]
fn every_operation_of_the_spec_has_a_row_in_the_matrix() {
    let table: BTreeSet<String> = EXPECTED.iter().map(|(op, _)| op.to_string()).collect();
    assert_eq!(table.len(), EXPECTED.len(), "an operation has two rows");
    let spec = spec_operations();
    let missing: Vec<_> = spec.difference(&table).collect();
    let stale: Vec<_> = table.difference(&spec).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "operations of openapi/openapi.json without a row in matrix.rs EXPECTED: {missing:?}; \
         rows for operations the spec does not have: {stale:?}"
    );
}

#[test]
fn the_visibility_table_has_one_row_per_caller_in_the_columns_order() {
    let rows: Vec<&str> = MAY_SEE.iter().map(|(caller, _)| *caller).collect();
    assert_eq!(rows, CALLERS);
}

/// One run of the matrix: the worlds its requests go to, and what it found.
struct Run<'a> {
    town: &'a Town,
    tokens: [Option<&'a str>; 16],
    /// The standard world, and for the youth at the self-consent age the same world around her.
    worlds: [World; 2],
    dirty: [bool; 2],
    built: usize,
    n: usize,
    checks: Checks,
    mismatches: Vec<(String, &'static str, Outcome, u16, String)>,
    report: Vec<(&'static str, Vec<Cell>)>,
    imports: Vec<String>,
}

impl<'a> Run<'a> {
    async fn new(town: &'a Town) -> Run<'a> {
        let worlds = [town.world().await, town.older_world().await];
        let checks = Checks {
            counts: Counts::new(&town.app),
            counting: Default::default(),
            snapshots: 0,
            compared: 0,
            leaks: vec![],
            side_effects: vec![],
            hidden: vec![],
            after: None,
            seen: BTreeSet::new(),
        };
        Run {
            town,
            tokens: tokens(&town.cast),
            worlds,
            dirty: [false, false],
            built: 2,
            n: 0,
            checks,
            mismatches: vec![],
            report: vec![],
            imports: vec![],
        }
    }

    /// Every caller in turn; after a change succeeds, the next caller gets a fresh world.
    async fn row(&mut self, op: &'static str, expected: &[Outcome; 16]) {
        let mut cells = vec![];
        // Proposing needs a case without a pending handover: the world's is cancelled first.
        let needs_no_pending = op == "POST /api/v1/cases/{id}/handovers";
        // A level-0 decision needs a case at level 0: the world's goes back there first.
        let needs_level_0 = op == "POST /api/v1/cases/{id}/decision";
        let mut prepared = [false, false];
        for (col, caller) in CALLERS.iter().enumerate() {
            let k = usize::from(*caller == "youth");
            if self.dirty[k] {
                self.worlds[k] = if k == 0 {
                    self.town.world().await
                } else {
                    self.town.older_world().await
                };
                self.built += 1;
                self.dirty[k] = false;
                prepared[k] = false;
            }
            if needs_no_pending && !prepared[k] {
                let w = &self.worlds[k];
                let path = format!("/api/v1/cases/{}/handovers/{}/cancel", w.case, w.handover);
                self.town
                    .ok(Method::POST, &path, None, Some(json!({})), 200)
                    .await;
                prepared[k] = true;
            }
            if needs_level_0 && !prepared[k] {
                let case = format!("/api/v1/cases/{}", self.worlds[k].case);
                let etag = self.town.etag(&case).await;
                let back = json!({"to_level": 0, "reason": "Tilbake", "decided_on": today()});
                let path = format!("{case}/level-changes");
                self.town
                    .ok(Method::POST, &path, Some(&etag), Some(back), 201)
                    .await;
                prepared[k] = true;
            }
            cells.push(self.cell(op, col, expected[col], k).await);
        }
        // The world was changed for this operation; the next one starts from a standard world.
        self.dirty[0] |= prepared[0];
        self.dirty[1] |= prepared[1];
        self.report.push((op, cells));
    }

    async fn cell(&mut self, op: &'static str, col: usize, want: Outcome, k: usize) -> Cell {
        let (town, caller, token) = (self.town, CALLERS[col], self.tokens[col]);
        let world = self.worlds[k].clone();
        self.n += 1;
        let req = request(town, &world, op, col, self.n).await;
        // Read before the counts are taken: the holder's read is an access event of its own.
        let etag = match &req.if_match {
            // An ETag written out, for a resource the holder does not read.
            Some(literal) if literal.starts_with('"') => Some(literal.clone()),
            Some(resource) => Some(town.etag(resource).await),
            None => None,
        };
        let who = (op, caller);
        let etag = etag.as_deref();
        // Counted around every request the table refuses (one it should not refuse fails anyway).
        let refusal = matches!(want, E401 | E403 | E404);
        let before = refusal.then(|| self.checks.snapshot());
        let answer = self
            .checks
            .send(town, who, &req, &req.path, token, etag, before, "")
            .await;
        let (status, text) = (answer.status, answer.text.as_str());
        // Lists of inquiries are about the world's inquiry; everything else about its case.
        let marker = if op.contains("inquiries") {
            &world.inquiry
        } else {
            &world.case
        };
        if !matches(want, status, text, marker) {
            let body = text.chars().take(300).collect();
            self.mismatches
                .push((op.to_string(), caller, want, status, body));
        }
        self.checks.search(who, status, text, &self.worlds);
        if want == E404 && status == 404 {
            self.checks
                .hidden_like_missing(town, who, &req, &world, token, etag, &answer)
                .await;
        }
        if op == "POST /api/v1/imports" && status == 200 {
            let r: Value = serde_json::from_str(text).unwrap();
            self.imports.push(format!("{caller}: {}", r["summary"]));
        }
        let ok = (200..300).contains(&status);
        let outcome = match (ok, text.contains(marker.as_str())) {
            (true, true) => Outcome::Sees,
            (true, false) => Outcome::Ok,
            (false, _) => want,
        };
        let staff = req.path.starts_with("/api/v1/staff/");
        self.dirty[k] |= req.method != Method::GET
            && ok
            && (req.path.starts_with("/api/v1/cases/")
                || req.path.starts_with("/api/v1/inquiries/")
                || staff
                || op == "POST /api/v1/imports");
        if staff {
            // A departure is the town's, not the world's: the next caller meets nobody departed.
            town.undepart_everyone();
        }
        Cell { status, outcome }
    }

    /// The matrix as observed, for the reviewer (cargo test -- --nocapture).
    fn print(&self, started: std::time::Instant) {
        println!(
            "authorization matrix: {} operations x {} callers = {} requests, {} worlds, {:.1} s",
            EXPECTED.len(),
            CALLERS.len(),
            EXPECTED.len() * CALLERS.len(),
            self.built,
            started.elapsed().as_secs_f64()
        );
        println!(
            "{:<55} {}",
            "",
            CALLERS
                .map(|c| format!("{:>6}", &c[..c.len().min(5)]))
                .join("")
        );
        for (op, cells) in &self.report {
            let row: String = cells
                .iter()
                .map(|c| match c.outcome {
                    Outcome::Sees => format!("{:>6}", format!("{}*", c.status)),
                    _ => format!("{:>6}", c.status),
                })
                .collect();
            println!("{op:<55} {row}");
        }
        println!(
            "(* = the answer names the world's case) imports: {:?}",
            self.imports
        );
        let c = &self.checks;
        println!(
            "{} snapshots of every table's row count took {:.1} s; {} hidden 404s compared with a \
             missing id's; markers shown to callers who may see them: {}",
            c.snapshots,
            c.counting.as_secs_f64(),
            c.compared,
            c.seen.len()
        );
    }

    /// Everything that differs from the tables, at once.
    fn verdict(self) {
        let known: BTreeSet<(String, String, u16)> = KNOWN_BUGS
            .iter()
            .map(|(op, caller, status)| (op.to_string(), caller.to_string(), *status))
            .collect();
        let seen: BTreeSet<(String, String, u16)> = self
            .mismatches
            .iter()
            .map(|(op, caller, _, status, _)| (op.clone(), caller.to_string(), *status))
            .collect();
        let unexpected: Vec<_> = self
            .mismatches
            .iter()
            .filter(|(op, caller, _, status, _)| {
                !known.contains(&(op.clone(), caller.to_string(), *status))
            })
            .map(|(op, caller, want, status, body)| {
                format!("{op} as {caller}: expected {want:?}, got {status}: {body}")
            })
            .collect();
        let fixed: Vec<_> = known.difference(&seen).collect();
        let never: Vec<&str> = self.worlds[0]
            .markers
            .iter()
            .map(|m| m.label)
            .filter(|label| !self.checks.seen.contains(label))
            .collect();
        let mut failures = vec![];
        // One broken rule can fail hundreds of cells; the first few of each kind say enough.
        let mut section = |title: &str, lines: Vec<String>| {
            if !lines.is_empty() {
                let shown = lines.len().min(40);
                let more = match lines.len() - shown {
                    0 => String::new(),
                    n => format!("\n... and {n} more"),
                };
                failures.push(format!(
                    "{} {title}:\n{}{more}",
                    lines.len(),
                    lines[..shown].join("\n")
                ));
            }
        };
        section("cells differ from the table", unexpected);
        section(
            "KNOWN_BUGS no longer happen (remove them from the list)",
            fixed.iter().map(|f| format!("{f:?}")).collect(),
        );
        section(
            "answers show what their caller may not see",
            self.checks.leaks,
        );
        section(
            "refused requests changed the database",
            self.checks.side_effects,
        );
        section(
            "hidden resources answer otherwise than missing ones",
            self.checks.hidden,
        );
        section(
            "markers never shown to a caller who may see them (searching for them proves nothing)",
            never.iter().map(|l| l.to_string()).collect(),
        );
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    }
}

#[actix_web::test]
async fn every_operation_answers_every_kind_of_caller_as_the_table_says() {
    let started = std::time::Instant::now();
    let town = Town::setup().await;
    // The other family's guardian is a real guardian: she reads her own case, so her 404s below are
    // about the world's case, not about her.
    let other = format!("/api/v1/cases/{}", town.other_case);
    let res = town
        .app
        .get(&other, town.cast.other_guardian.as_deref().unwrap())
        .await;
    assert_eq!(res.status(), 200, "the other guardian reads her own case");
    let mut run = Run::new(&town).await;
    for (op, expected) in EXPECTED {
        run.row(op, expected).await;
    }
    run.print(started);
    run.verdict();
}
