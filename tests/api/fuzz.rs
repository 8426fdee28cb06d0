//! Schemathesis (PyPI, pinned in tests/tools/requirements.txt) over the committed spec against a real
//! server seeded with a world in which every operation can succeed. Each operation is sent by a caller
//! who may use it (the holder, a guardian, the handover's recipient, the administrator, an integration),
//! with its path parameters fixed to real ids and the ids in its body drawn mostly from the world, so
//! the generated requests get past 401/404/412 into the handlers and the database; the hooks in
//! tests/tools/schemathesis_hooks.py give each request a fresh Idempotency-Key and, when asked, the
//! current ETag, and send real case documents to the import.
//!
//! The checks: no server error, and every response conforms to the spec (status code, content type, body
//! schema). Three passes: every operation by a caller who may use it, then the case's reads as a guardian
//! and as an integration (they see national ids masked, which must still fit the schema). Bounded and
//! reproducible: a fixed seed, a fixed number of examples per operation, one worker; about a minute.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use reqwest::Method;
use serde_json::{json, Value};

use crate::world::{in_days, today, Town, World, BARNEHAGE, BUP, PPT, SKOLE};

const SEED: u64 = 12;

/// `FUZZ_SEED` and `FUZZ_EXAMPLES` (examples per operation of the first pass) explore further than CI
/// (`FUZZ_PYTHON`: another Python with schemathesis, instead of the pinned tools' virtualenv).
fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The checks; `all` would add checks about what the server should refuse, which the spec does not yet
/// state precisely enough.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance";

/// Operations that may end this run without one 2xx answer, and why. Every other operation must have
/// succeeded at least once, proof that the run reached its handler.
const NEVER_SUCCEEDS: &[(&str, &str)] = &[
    (
        "POST /api/v1/surveys/{id}/responses",
        "every question must be answered by its key, and generated answers almost never name the world's \
         one question (`kjenner`) alone with a boolean; tests/api/surveys.rs and request_examples.rs answer \
         real ones, and the refusals still have to be in the spec",
    ),
    (
        "PUT /api/v1/guide/draft",
        "a generated document is never a whole guide (levels 0-3, each with a step for employees, unique \
         keys); tests/api/guide.rs and request_examples.rs store real ones, and the fuzzed answers still \
         have to be in the spec",
    ),
    (
        "POST /api/v1/cases/{id}/meetings",
        "a generated meeting almost never starts in the future and ends within a day of its start; \
         tests/api/meetings.rs and request_examples.rs plan real ones, and the refusals still have to be \
         in the spec",
    ),
];

fn bearer(token: &Option<String>) -> Value {
    json!({"Authorization": format!("Bearer {}", token.as_deref().unwrap())})
}

/// One `[[operations]]` entry of the schemathesis config: who sends it and its fixed parameters.
fn operation(id: &str, token: Option<&Option<String>>, parameters: Value) -> Value {
    let mut op = json!({"include-operation-id": id, "parameters": parameters});
    if let Some(t) = token {
        op["headers"] = bearer(t);
    }
    op
}

/// Mostly the version the resource has right now (the hooks put it in for "current"), else a stale one,
/// else whatever the generator makes of the header.
fn with_etag(mut parameters: Value) -> Value {
    parameters["header.If-Match"] = json!({"dictionary": "etags", "probability": 0.8});
    parameters
}

/// A fresh case for each operation that ends something (closing, withdrawing, answering a handover,
/// replacing the consent), so that one operation's success does not turn the others into conflicts.
struct Worlds {
    main: World,
    close: World,
    withdraw: World,
    consent: World,
    accept: World,
    decline: World,
    cancel: World,
    /// The case whose export the imports send (and update).
    import: World,
    /// A case closed before the run, for reporting its archival.
    archive: World,
    /// A case closed by its consent's withdrawal before the run, to reopen.
    reopen: World,
    /// A case back at level 0, for its level-0 decision.
    decide: World,
    /// A case whose relay the leader moves.
    reassign: World,
    /// A consent on the main case that waits for the mother's signature.
    unsigned: String,
    /// A case with a guardian without parental responsibility (who gave no consent), to patch.
    patch: World,
    patched_guardian: String,
    /// Measures of the main case the mother is responsible for, to evaluate (an evaluation may complete
    /// or stop one).
    evaluated: Vec<String>,
    /// A measure of the main case for `PATCH` (which may complete or stop it).
    patched_measure: String,
    /// pia's participant id in the main case.
    pia: String,
    /// Two webhooks of the world's integration: one to read, enable and test, one to delete.
    webhook: String,
    /// The file of the holder's calendar feed (`{secret}.ics`).
    calendar_file: String,
    doomed_webhook: String,
}

async fn worlds(town: &Town) -> Worlds {
    let main = town.world().await;
    let c = format!("/api/v1/cases/{}", main.case);
    // Proposing needs a case without a pending handover.
    let cancel = format!("{c}/handovers/{}/cancel", main.handover);
    town.ok(Method::POST, &cancel, None, Some(json!({})), 200)
        .await;
    let mut measures = vec![];
    for responsible in [
        json!({"kind": "service", "service": PPT}),
        json!({"kind": "participant", "participant_id": main.mother}),
        json!({"kind": "participant", "participant_id": main.mother}),
        json!({"kind": "subject"}),
    ] {
        let m = town
            .ok(
                Method::POST,
                &format!("{c}/measures"),
                None,
                Some(
                    json!({"title": "Samtaler", "goal": "Trygghet", "responsible": responsible,
                    "start_date": today(), "evaluate_by": in_days(40)}),
                ),
                201,
            )
            .await;
        measures.push(m["id"].as_str().unwrap().to_string());
    }
    let participants = town
        .ok(Method::GET, &format!("{c}/participants"), None, None, 200)
        .await;
    let pia = participants["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["user_id"] == "pia")
        .map(|p| p["id"].as_str().unwrap().to_string())
        .unwrap();
    let holder = town.cast.holder.as_deref().unwrap();
    let res = town
        .app
        .post("/api/v1/me/calendar", holder, &json!({}))
        .await;
    assert_eq!(res.status(), 201, "the holder's calendar");
    let url = res.json::<Value>().await.unwrap()["url"]
        .as_str()
        .unwrap()
        .to_string();
    let calendar_file = url.rsplit('/').next().unwrap().to_string();
    let patch = town.world().await;
    let stepmother = town
        .ok(
            Method::POST,
            &format!("/api/v1/cases/{}/participants", patch.case),
            None,
            Some(
                json!({"kind": "guardian", "name": "Stemor Testesen", "relation": "other",
                "parental_responsibility": false}),
            ),
            201,
        )
        .await;
    // A digital consent the father recorded for both guardians: the mother's signature is missing.
    let father = town
        .app
        .citizen_token("far", stafettlogg::auth::Role::Guardian, &town.father_pid);
    let res = town
        .app
        .post(
            &format!("{c}/consents"),
            &father,
            &json!({"given_by": [main.father, main.mother], "services": [BARNEHAGE],
                "purpose": "Samarbeid", "valid_from": today(), "form": "digital"}),
        )
        .await;
    assert_eq!(res.status(), 201, "the father's consent");
    let unsigned = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut webhooks = vec![];
    for _ in 0..2 {
        let res = town
            .app
            .post(
                "/api/v1/webhooks",
                town.cast.integration_own.as_deref().unwrap(),
                &json!({"url": "https://192.0.43.10/fuzz/hooks", "events": ["entry.added"]}),
            )
            .await;
        assert_eq!(res.status(), 201, "the integration's webhook");
        webhooks.push(
            res.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let patched_measure = measures.remove(0);
    let mut evaluated = vec![main.measure.clone()];
    evaluated.extend(measures);
    Worlds {
        main,
        close: town.world().await,
        withdraw: town.world().await,
        consent: town.world().await,
        accept: town.world().await,
        decline: town.world().await,
        cancel: town.world().await,
        import: town.world().await,
        archive: closed_world(town).await,
        reopen: withdrawn_world(town).await,
        decide: level0_world(town).await,
        reassign: town.world().await,
        patched_guardian: stepmother["id"].as_str().unwrap().to_string(),
        unsigned,
        patch,
        evaluated,
        patched_measure,
        pia,
        calendar_file,
        doomed_webhook: webhooks.pop().unwrap(),
        webhook: webhooks.pop().unwrap(),
    }
}

/// A world whose case its holder closed.
async fn closed_world(town: &Town) -> World {
    let w = town.world().await;
    let case = format!("/api/v1/cases/{}", w.case);
    let etag = town.etag(&case).await;
    let close = json!({"reason": "goal_reached"});
    town.ok(
        Method::POST,
        &format!("{case}/close"),
        Some(&etag),
        Some(close),
        200,
    )
    .await;
    w
}

/// A world whose case its holder moved back to level 0, where a level-0 decision is due.
async fn level0_world(town: &Town) -> World {
    let w = town.world().await;
    let case = format!("/api/v1/cases/{}", w.case);
    let etag = town.etag(&case).await;
    let back = json!({"to_level": 0, "reason": "Tilbake", "decided_on": today()});
    let path = format!("{case}/level-changes");
    town.ok(Method::POST, &path, Some(&etag), Some(back), 201)
        .await;
    w
}

/// A world whose case closed when the family's consent was withdrawn (told to the holder).
async fn withdrawn_world(town: &Town) -> World {
    let w = town.world().await;
    let withdraw = format!("/api/v1/cases/{}/consents/{}/withdraw", w.case, w.consent);
    let told = json!({"reason": "Vi trekker samtykket", "on_behalf_of": w.mother});
    town.ok(Method::POST, &withdraw, None, Some(told), 200)
        .await;
    w
}

/// The reads of a case, by operation id.
const CASE_READS: &[&str] = &[
    "get_case",
    "list_consents",
    "effective_consent",
    "list_entries",
    "get_entry",
    "list_handovers",
    "list_level_changes",
    "list_decisions",
    "list_measures",
    "get_measure",
    "list_evaluations",
    "list_participants",
    "timeline",
    "list_plans",
    "get_plan",
    "list_meetings",
    "get_meeting",
];

/// Path parameters of the main case for an operation on it.
fn main_case(id: &str, w: &Worlds) -> Value {
    let m = &w.main;
    let measure = json!({"dictionary": "measures", "probability": 1.0});
    match id {
        "get_entry" => json!({"path.id": m.case, "path.eid": m.entry}),
        "get_measure" | "list_evaluations" | "add_evaluation" => {
            json!({"path.id": m.case, "path.mid": measure})
        }
        "patch_measure" => with_etag(json!({"path.id": m.case, "path.mid": w.patched_measure})),
        "patch_participant" => {
            with_etag(json!({"path.id": w.patch.case, "path.pid": w.patched_guardian}))
        }
        "deactivate_participant" => json!({"path.id": m.case, "path.pid": m.neighbour}),
        "get_plan" | "add_plan_member" | "activate_plan" => {
            json!({"path.id": m.case, "path.plan_id": m.plan})
        }
        "patch_plan" => with_etag(json!({"path.id": m.case, "path.plan_id": m.plan})),
        "get_meeting" | "answer_invitation" => {
            json!({"path.id": m.case, "path.meeting_id": m.meeting})
        }
        "change_meeting" => with_etag(json!({"path.id": m.case, "path.meeting_id": m.meeting})),
        "patch_case" | "change_level" | "move_step" => with_etag(json!({"path.id": m.case})),
        _ => json!({"path.id": m.case}),
    }
}

/// Every operation, each by a caller who may use it.
fn everyone(town: &Town, w: &Worlds) -> Vec<Value> {
    let c = &town.cast;
    let mut operations = vec![];
    for id in CASE_READS.iter().chain(&[
        "access_log",
        "export",
        "patch_case",
        "add_entry",
        "propose",
        "change_level",
        "create_measure",
        "patch_measure",
        "add_evaluation",
        "add_participant",
        "patch_participant",
        "deactivate_participant",
        "move_step",
        "create_plan",
        "patch_plan",
        "add_plan_member",
        "activate_plan",
        "plan_meeting",
        "change_meeting",
    ]) {
        operations.push(operation(id, Some(&c.holder), main_case(id, w)));
    }
    let case = |w: &World| json!({"path.id": w.case});
    let handover = |w: &World| json!({"path.id": w.case, "path.hid": w.handover});
    operations.extend([
        // A guardian ends the log (the holder could too); and withdraws the consent she gave.
        operation("close_case", Some(&c.guardian), with_etag(case(&w.close))),
        // A closed case is archived (by the administrator).
        operation("report_archived", Some(&c.admin), case(&w.archive)),
        operation("reopen_case", Some(&c.holder), with_etag(case(&w.reopen))),
        operation(
            "record_decision",
            Some(&c.holder),
            with_etag(case(&w.decide)),
        ),
        operation(
            "withdraw_consent",
            Some(&c.guardian),
            json!({"path.id": w.withdraw.case, "path.cid": w.withdraw.consent}),
        ),
        operation("record_consent", Some(&c.holder), case(&w.consent)),
        operation(
            "sign_consent",
            Some(&c.guardian),
            json!({"path.id": w.main.case, "path.cid": w.unsigned}),
        ),
        operation("accept", Some(&c.recipient), handover(&w.accept)),
        operation("decline", Some(&c.recipient), handover(&w.decline)),
        operation("cancel", Some(&c.holder), handover(&w.cancel)),
        // Plans and meetings of worlds that nothing else ends: one plan is ended, one meeting cancelled,
        // one minuted; the mother answers her invitation; people's own meetings and calendars.
        operation(
            "end_plan",
            Some(&c.holder),
            json!({"path.id": w.decline.case, "path.plan_id": w.decline.plan}),
        ),
        operation(
            "cancel_meeting",
            Some(&c.holder),
            json!({"path.id": w.decline.case, "path.meeting_id": w.decline.meeting}),
        ),
        operation(
            "write_minutes",
            Some(&c.holder),
            json!({"path.id": w.consent.case, "path.meeting_id": w.consent.meeting}),
        ),
        operation(
            "answer_invitation",
            Some(&c.guardian),
            main_case("answer_invitation", w),
        ),
        operation("my_meetings", Some(&c.guardian), json!({})),
        // The holder's kindergarten consults PPT, whose adviser answers.
        operation("ask_consultation", Some(&c.holder), json!({})),
        operation("list_consultations", Some(&c.holder), json!({})),
        operation(
            "get_consultation",
            Some(&c.holder),
            json!({"path.id": w.main.consultation}),
        ),
        operation(
            "answer_consultation",
            Some(&c.covered),
            json!({"path.id": w.main.consultation}),
        ),
        // The survey of the employees: the administrator writes and manages them (a planned one is
        // changed and deleted, another world's open one closed), the holder answers the open one.
        operation("default_questionnaire", Some(&c.admin), json!({})),
        operation("create_survey", Some(&c.admin), json!({})),
        operation("list_surveys", Some(&c.holder), json!({})),
        operation(
            "get_survey",
            Some(&c.holder),
            json!({"path.id": w.main.survey}),
        ),
        operation(
            "patch_survey",
            Some(&c.admin),
            with_etag(json!({"path.id": w.main.planned_survey})),
        ),
        operation(
            "delete_survey",
            Some(&c.admin),
            json!({"path.id": w.decline.planned_survey}),
        ),
        operation(
            "close_survey",
            Some(&c.admin),
            json!({"path.id": w.decline.survey}),
        ),
        operation(
            "answer_survey",
            Some(&c.holder),
            json!({"path.id": w.main.survey}),
        ),
        operation(
            "survey_results",
            Some(&c.admin),
            json!({"path.id": w.main.closed_survey}),
        ),
        operation("subscribe_calendar", Some(&c.guardian), json!({})),
        operation("stop_calendar", Some(&c.guardian), json!({})),
        operation("calendar_feed", None, json!({"path.file": w.calendar_file})),
        operation("list_cases", Some(&c.holder), json!({})),
        operation("open_case", Some(&c.holder), json!({})),
        operation("attention", Some(&c.holder), json!({})),
        operation("inbox", Some(&c.recipient), json!({})),
        operation("me", Some(&c.guardian), json!({})),
        operation("my_data", Some(&c.guardian), json!({})),
        operation("send_inquiry", Some(&c.guardian), json!({})),
        operation("my_inquiries", Some(&c.guardian), json!({})),
        operation("inquiry_inbox", Some(&c.holder), json!({})),
        operation(
            "get_inquiry",
            Some(&c.holder),
            json!({"path.id": w.main.inquiry}),
        ),
        operation(
            "answer_inquiry",
            Some(&c.holder),
            json!({"path.id": w.main.inquiry}),
        ),
        // Closing and opening a case end an inquiry: each has one of its own.
        operation(
            "close_inquiry",
            Some(&c.holder),
            json!({"path.id": w.close.inquiry}),
        ),
        operation(
            "open_case_from_inquiry",
            Some(&c.holder),
            json!({"path.id": w.withdraw.inquiry}),
        ),
        // The long poll waits up to `wait` seconds when nothing is new: 0 or 1 here, to keep the run
        // short (integration.rs proves the waiting itself).
        operation(
            "changes",
            Some(&c.integration_own),
            json!({"query.wait": {"dictionary": "wait", "probability": 1.0}}),
        ),
        operation("import_cases", Some(&c.integration_own), json!({})),
        operation("list_webhooks", Some(&c.integration_own), json!({})),
        operation("create_webhook", Some(&c.integration_own), json!({})),
        operation(
            "get_webhook",
            Some(&c.integration_own),
            json!({"path.id": w.webhook}),
        ),
        operation(
            "enable_webhook",
            Some(&c.integration_own),
            json!({"path.id": w.webhook}),
        ),
        operation(
            "test_webhook",
            Some(&c.integration_own),
            json!({"path.id": w.webhook}),
        ),
        operation(
            "webhook_deliveries",
            Some(&c.integration_own),
            json!({"path.id": w.webhook}),
        ),
        operation(
            "delete_webhook",
            Some(&c.integration_own),
            json!({"path.id": w.doomed_webhook}),
        ),
        operation("notification_settings", Some(&c.guardian), json!({})),
        operation("save_notification_settings", Some(&c.holder), json!({})),
        operation("sent_notifications", Some(&c.holder), json!({})),
        operation("list_levels", Some(&c.admin), json!({})),
        operation("put_level", Some(&c.admin), with_etag(json!({}))),
        operation("get_municipality", Some(&c.admin), json!({})),
        operation("patch_municipality", Some(&c.admin), with_etag(json!({}))),
        operation("list_services", Some(&c.admin), json!({})),
        operation("create_service", Some(&c.admin), json!({})),
        operation(
            "patch_service",
            Some(&c.admin),
            with_etag(json!({"path.id": town.bup_service})),
        ),
        // The guide: a draft and version 1 exist (see the test), so publishing and reading work.
        operation("get_draft", Some(&c.admin), json!({})),
        operation("put_draft", Some(&c.admin), with_etag(json!({}))),
        operation("publish", Some(&c.admin), json!({})),
        operation("list_versions", Some(&c.admin), json!({})),
        operation("get_version", Some(&c.admin), json!({"path.n": 1})),
        operation("statistics", Some(&c.admin), json!({})),
        operation("public_guide", None, json!({})),
        operation("public_guide_document", None, json!({})),
        // The leader of the kindergarten: its cases and attention, and the relay of a world of its own.
        operation(
            "service_cases",
            Some(&c.leader),
            json!({"path.code": BARNEHAGE}),
        ),
        operation(
            "service_attention",
            Some(&c.leader),
            json!({"path.code": BARNEHAGE}),
        ),
        operation("reassign", Some(&c.leader), case(&w.reassign)),
        // Per (a former participant, no caller of this run) leaves, and the mistake is undone; a
        // departure of his exists from the start, so the undo can succeed whatever the order.
        operation("departed", Some(&c.admin), json!({"path.user_id": "per"})),
        operation(
            "undo_departed",
            Some(&c.admin),
            json!({"path.user_id": "per"}),
        ),
        operation("retention_preview", Some(&c.admin), json!({})),
        operation("live", None, json!({})),
        operation("ready", None, json!({})),
    ]);
    // A version check, a date within a window and a state the case is not in yet must all hold at once
    // for these to pass; more examples, so the proof that the run reaches the handler does not rest on
    // the luck of the seed.
    for op in &mut operations {
        if ["change_level", "record_decision"]
            .contains(&op["include-operation-id"].as_str().unwrap_or(""))
        {
            op["generation"] = json!({"max-examples": 150});
        }
    }
    operations
}

/// The reads of the main case (and the log entry a guardian may write) by another kind of reader.
fn readers(token: &Option<String>, w: &Worlds, writes: &[&str]) -> Vec<Value> {
    CASE_READS
        .iter()
        .chain(writes)
        .map(|id| operation(id, Some(token), main_case(id, w)))
        .collect()
}

fn config(w: &Worlds, operations: Vec<Value>, max_examples: u64) -> Value {
    let m = &w.main;
    // Real values for the fields that name something of the world, drawn most of the time, so bodies get
    // past "no such participant" into the rules.
    let mut dictionaries = BTreeMap::new();
    dictionaries.insert("etags", json!({"values": ["\"current\"", "\"1\""]}));
    dictionaries.insert("wait", json!({"values": [0, 1]}));
    // The day a case of the world was archived: today (it was closed today).
    dictionaries.insert("today", json!({"values": [today()]}));
    // A survey's closing day.
    dictionaries.insert("later", json!({"values": [today() + chrono::Days::new(7)]}));
    // The employee steps of the default guide: the main case stands at some level of it.
    dictionaries.insert(
        "steps",
        json!({"values": ["0.1", "0.2", "0.3", "0.4", "0.5", "1.1", "1.2", "1.3", "2.1", "2.2", "2.3",
            "2.4", "3.1", "3.2", "3.3", "3.4"]}),
    );
    dictionaries.insert("services", json!({"values": [BARNEHAGE, PPT, SKOLE, BUP]}));
    // A public address given literally (nothing to resolve), and usable contact details.
    dictionaries.insert(
        "urls",
        json!({"values": ["https://192.0.43.10/fuzz/hooks"]}),
    );
    dictionaries.insert("emails", json!({"values": ["fuzz@test.kommune.no"]}));
    dictionaries.insert("phones", json!({"values": ["+4791234567"]}));
    dictionaries.insert("users", json!({"values": ["sara", "pia", "nils"]}));
    dictionaries.insert(
        "participants",
        json!({"values": [m.mother, m.father, m.youth, m.grandmother, w.pia]}),
    );
    dictionaries.insert("measures", json!({"values": w.evaluated}));
    dictionaries.insert(
        "givers",
        json!({"values": [w.consent.mother, w.consent.father, w.consent.youth]}),
    );
    dictionaries.insert("consents", json!({"values": [w.consent.consent]}));
    dictionaries.insert("entries", json!({"values": [m.entry]}));
    dictionaries.insert(
        "withdrawers",
        json!({"values": [w.withdraw.mother, w.withdraw.father]}),
    );
    let pick = |name: &str| json!({"dictionary": name, "probability": 0.8});
    json!({
        "seed": knob("FUZZ_SEED", SEED),
        "workers": 1,
        "continue-on-failure": true,
        "generation": {
            "max-examples": max_examples,
            // No examples remembered from earlier runs: the same seed sends the same requests.
            "database": "none",
            // NUL characters included: they were a 500 and are a 422 now.
            "allow-x00": true,
        },
        "dictionaries": dictionaries,
        "parameters": {
            "body.service": pick("services"),
            "body.opens_on": pick("today"),
            "body.closes_on": pick("later"),
            "body.services[*]": pick("services"),
            "body.to.service": pick("services"),
            "body.to.user_id": pick("users"),
            "body.attendees[*]": pick("participants"),
            "body.corrects": pick("entries"),
            "body.responsible.participant_id": pick("participants"),
            "body.responsible.service": pick("services"),
            "body.given_by[*]": pick("givers"),
            "body.supersedes": pick("consents"),
            "body.on_behalf_of": pick("withdrawers"),
            "body.key": pick("steps"),
            "body.url": pick("urls"),
            "body.email": pick("emails"),
            "body.phone": pick("phones"),
            "body.owner_service": pick("services"),
            "body.archived_on": pick("today"),
            // A consent that ran out before it is recorded is refused: most consents begin today and
            // end later (or after the municipality's validity).
            "body.valid_from": pick("today"),
            "body.valid_until": pick("later"),
            // A level-0 decision is dated within its period, which began today in the fixture.
            "body.decided_on": pick("today"),
            "body.to_service": pick("services"),
            "body.coordinator": pick("participants"),
            "body.participant_id": pick("participants"),
            "body.invitees[*]": pick("participants"),
        },
        "operations": operations,
    })
}

/// What one schemathesis run found.
struct Run {
    report: Value,
    /// Per operation: how many answers of each status.
    statuses: BTreeMap<String, BTreeMap<u16, u32>>,
    output: String,
}

/// Runs schemathesis with `config` over the operations in `config`, off the test's runtime thread (the
/// server runs on that thread).
async fn schemathesis(
    town: &Town,
    name: &str,
    config: Value,
    env: Vec<(&'static str, String)>,
) -> Run {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("schemathesis")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let ids: Vec<String> = config["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["include-operation-id"].as_str().unwrap().to_string())
        .collect();
    let file = dir.join("schemathesis.toml");
    std::fs::write(&file, toml::to_string(&config).unwrap()).unwrap();
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/openapi.json");
    // A Python with schemathesis of another origin, for exploring; CI uses the pinned tools.
    let python = match std::env::var("FUZZ_PYTHON") {
        Ok(p) => PathBuf::from(p),
        Err(_) => crate::tools::python(),
    };
    let base = town.app.base.clone();
    let run_dir: PathBuf = dir.clone();
    let output = actix_web::rt::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .args(["-m", "schemathesis.cli", "--config-file"])
            .arg(&file)
            .arg("run")
            .arg(&spec)
            .args(["--url", &base, "--checks", CHECKS, "--no-color"])
            .arg("--include-operation-id-regex")
            .arg(format!("^({})$", ids.join("|")))
            .args(["--report", "json,ndjson", "--report-dir"])
            .arg(&run_dir)
            .arg("--report-json-path")
            .arg(run_dir.join("report.json"))
            .arg("--report-ndjson-path")
            .arg(run_dir.join("events.ndjson"))
            .current_dir(&run_dir)
            .envs(env)
            .env("PYTHONHASHSEED", "0")
            .output()
            .expect("run schemathesis")
    })
    .await
    .unwrap();
    let output = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::write(dir.join("output.txt"), &output).unwrap();
    let report: Value = match std::fs::read(dir.join("report.json")) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap(),
        Err(e) => panic!("no report from schemathesis ({e}):\n{output}"),
    };
    Run {
        report,
        statuses: statuses(&dir.join("events.ndjson")),
        output,
    }
}

/// The status of every answer, per operation, from schemathesis' event log.
fn statuses(events: &Path) -> BTreeMap<String, BTreeMap<u16, u32>> {
    let mut out: BTreeMap<String, BTreeMap<u16, u32>> = BTreeMap::new();
    for line in std::fs::read_to_string(events).unwrap().lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        let recorder = &event["ScenarioFinished"]["recorder"];
        let Some(label) = recorder["label"].as_str() else {
            continue;
        };
        for interaction in recorder["interactions"].as_object().into_iter().flatten() {
            if let Some(status) = interaction.1["response"]["status_code"].as_u64() {
                *out.entry(label.to_string())
                    .or_default()
                    .entry(status as u16)
                    .or_default() += 1;
            }
        }
    }
    out
}

/// The municipality's draft and version 1: the default guide, as an admin stores and publishes it.
async fn publish_the_default_guide(town: &Town) {
    let doc = town
        .ok(
            Method::GET,
            "/public/v1/municipalities/3805/guide/document",
            None,
            None,
            200,
        )
        .await;
    let admin = town.cast.admin.as_deref();
    let res = town
        .app
        .request(Method::PUT, "/api/v1/guide/draft", admin)
        .json(&doc)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the guide's draft");
    let res = town
        .app
        .request(Method::POST, "/api/v1/guide/publish", admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "publishing the guide");
}

#[actix_web::test]
async fn schemathesis_finds_no_server_error_and_no_response_outside_the_spec() {
    let started = std::time::Instant::now();
    let town = Town::setup().await;
    let w = worlds(&town).await;
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("schemathesis");
    std::fs::create_dir_all(&dir).unwrap();
    let doc = town
        .ok(
            Method::GET,
            &format!("/api/v1/cases/{}/export", w.import.case),
            None,
            None,
            200,
        )
        .await;
    let doc_file = dir.join("import-doc.json");
    std::fs::write(&doc_file, doc.to_string()).unwrap();
    publish_the_default_guide(&town).await;
    town.depart("per");
    let hooks = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/schemathesis_hooks.py");
    let env = || {
        vec![
            ("SCHEMATHESIS_HOOKS", hooks.display().to_string()),
            ("FUZZ_URL", town.app.base.clone()),
            ("FUZZ_READER", town.cast.holder.clone().unwrap()),
            ("FUZZ_ADMIN", town.cast.admin.clone().unwrap()),
            ("FUZZ_IMPORT_DOC", doc_file.display().to_string()),
        ]
    };
    let c = &town.cast;
    let runs = [
        (
            "everyone",
            config(&w, everyone(&town, &w), knob("FUZZ_EXAMPLES", 40)),
        ),
        (
            "guardian",
            config(&w, readers(&c.guardian, &w, &["add_entry"]), 10),
        ),
        (
            "integration",
            config(&w, readers(&c.integration_own, &w, &[]), 10),
        ),
    ];
    let mut problems = vec![];
    let mut total = 0;
    let mut succeeded: BTreeSet<String> = BTreeSet::new();
    for (name, config) in runs {
        let run = schemathesis(&town, name, config, env()).await;
        let r = &run.report;
        total += r["test_cases"]["generated"].as_u64().unwrap_or(0);
        println!(
            "schemathesis {name}: {} operations, {} test cases, {} with failures ({} unique), errors {}, {:.0} s",
            r["operations"]["tested"],
            r["test_cases"]["generated"],
            r["test_cases"]["with_failures"],
            r["test_cases"]["unique_failures"],
            r["errors"],
            r["running_time"].as_f64().unwrap_or_default(),
        );
        for (op, counts) in &run.statuses {
            println!("  {op:<55} {counts:?}");
            if counts.keys().any(|s| (200..300).contains(s)) {
                succeeded.insert(op.clone());
            }
        }
        if r["exit_code"] != 0 || !r["failures"].as_array().is_some_and(Vec::is_empty) {
            problems.push(format!(
                "{name}: failures {} errors {}\n{}",
                r["failures"], r["errors"], run.output
            ));
        }
    }
    println!(
        "schemathesis: {total} test cases in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    // Proof that the run got into the handlers: every operation answered 2xx at least once.
    let spec: Value = serde_json::from_slice(
        &std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/openapi.json")).unwrap(),
    )
    .unwrap();
    let mut never = vec![];
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let op = format!("{} {path}", method.to_uppercase());
            if !succeeded.contains(&op) && !NEVER_SUCCEEDS.iter().any(|(o, _)| *o == op) {
                never.push(op);
            }
        }
    }
    assert!(
        never.is_empty(),
        "operations that never answered 2xx (the generated requests did not reach the handler): {never:?}"
    );
}
