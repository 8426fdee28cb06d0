//! A municipality with a case in which every operation of the API can succeed for someone, and the people
//! around it: the world the authorization matrix (`matrix.rs`) and the schemathesis run (`fuzz.rs`) send
//! their requests into. One `Town` per server; `Town::world` opens one more case, as often as a test
//! needs a fresh one.

use chrono::{Days, Utc};
use diesel::connection::SimpleConnection;
use reqwest::Method;
use serde_json::{json, Value};
use stafettlogg::auth::Role;

use crate::support::{synthetic_id, TestApp};

pub const BARNEHAGE: &str = "barnehage-solstua";
pub const PPT: &str = "ppt-vest";
pub const SKOLE: &str = "skole-bakke";
/// A service of the municipality that no consent of the world covers.
pub const BUP: &str = "bup-nord";
pub const OTHER_TENANT: &str = "5401";

/// The callers, one token each (`None`: no token at all).
pub struct Cast {
    pub anonymous: Option<String>,
    /// ola, the stafettholder, in the kindergarten.
    pub holder: Option<String>,
    /// pia, an active participant from PPT, which the family's consent covers.
    pub covered: Option<String>,
    /// ulf, an active participant from BUP, which no consent covers (a state the API refuses to make:
    /// written straight into the database, so the matrix proves `decide` checks coverage, not only `active`).
    pub uncovered: Option<String>,
    /// nils, a professional of the holder's own kindergarten who is not a participant.
    pub colleague: Option<String>,
    /// per, from PPT, a participant who was deactivated.
    pub former: Option<String>,
    /// sara, a teacher of the covered school, to whom a handover is pending (not a participant yet).
    pub recipient: Option<String>,
    /// The mother, with parental responsibility, by national login.
    pub guardian: Option<String>,
    /// The guardian of another family's case in the same municipality.
    pub other_guardian: Option<String>,
    /// The subject herself (a listed youth participant, matched by `pid`), under the self-consent age.
    pub young: Option<String>,
    /// The subject of the case of an older world (`Town::older_world`), 16, at the self-consent age: a
    /// listed youth participant, matched by `pid`.
    pub youth_of_age: Option<String>,
    /// The municipality's administrator.
    pub admin: Option<String>,
    /// An integration acting for the holder's kindergarten.
    pub integration_own: Option<String>,
    /// An integration acting for BUP, a service that is not in the case.
    pub integration_other: Option<String>,
    /// "ola" of the kindergarten with the same code, in another municipality.
    pub other_municipality: Option<String>,
    /// lea, the unit leader of the kindergarten (the holder's service); not a participant.
    pub leader: Option<String>,
}

pub struct Town {
    pub app: TestApp,
    pub cast: Cast,
    pub mother_pid: String,
    pub father_pid: String,
    pub youth_pid: String,
    pub older_youth_pid: String,
    /// Another family's case, whose guardian is `cast.other_guardian`.
    pub other_case: String,
    /// The id of the BUP service (for `PATCH /services/{id}`).
    pub bup_service: String,
    /// How many worlds were built, for distinct external references.
    built: std::cell::Cell<u32>,
}

/// What of a world an answer may carry, grouped by who may see it (`matrix.rs` writes down who).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Secret {
    /// The subject's name (metadata: a unit leader sees it too).
    SubjectName,
    /// The names of the family around the child: guardians and a grandmother.
    FamilyNames,
    /// Free text of the case: concern, log entry, measure, consent, level change.
    CaseText,
    /// The note of the pending handover, written for its recipient.
    HandoverNote,
    /// The text of the mother's inquiry.
    InquiryText,
    /// A national id in full (everyone but the stafettholder sees them masked).
    FullNationalId,
}

/// A distinctive piece of a world, searched for in every answer: `label` names it in a failure, so the
/// value (a name, a national id) is never printed.
#[derive(Debug, Clone)]
pub struct Marker {
    pub secret: Secret,
    pub label: &'static str,
    pub value: String,
}

/// One case with everything in it, and the ids a request needs.
#[derive(Debug, Clone)]
pub struct World {
    pub case: String,
    pub mother: String,
    pub father: String,
    pub youth: String,
    /// A participant of kind `other` (the grandmother), for patching.
    pub grandmother: String,
    /// Another participant of kind `other` (a neighbour), for deactivating.
    pub neighbour: String,
    /// The family's consent: both guardians, kindergarten, PPT and school, expiring within 30 days.
    pub consent: String,
    /// A measure the mother is responsible for (so she may evaluate it).
    pub measure: String,
    pub entry: String,
    /// A draft iup owned by the kindergarten.
    pub plan: String,
    /// A planned meeting that invites the mother, starting a minute after the world was made.
    pub meeting: String,
    /// The holder's anonymous consultation of PPT.
    pub consultation: String,
    /// The municipality's survey of its employees, open (one yes/no question, `kjenner`).
    pub survey: String,
    /// A survey that opens tomorrow (version 1).
    pub planned_survey: String,
    /// A survey the administrator closed, without answers.
    pub closed_survey: String,
    /// Pending, from the holder to sara at the school.
    pub handover: String,
    /// An inquiry the mother sent to the kindergarten about her own child, open.
    pub inquiry: String,
    /// The last change-feed sequence number before this world was built.
    pub feed_after: i64,
    /// Its names, texts and national ids, each distinct to this world (so an answer that shows an older
    /// world's case is not mistaken for this one's).
    pub markers: Vec<Marker>,
}

/// Three letters distinct for each world (`aab` for the first), so that no world's marker is a part of
/// another's.
fn tag(n: u32) -> String {
    let mut k = n;
    let mut letters = [b'a'; 3];
    for l in letters.iter_mut().rev() {
        *l = b'a' + (k % 26) as u8;
        k /= 26;
    }
    String::from_utf8(letters.to_vec()).unwrap()
}

/// A birth date `years` ago today (the day before's, on 29 February).
fn born_years_ago(years: u32) -> chrono::NaiveDate {
    today()
        .checked_sub_months(chrono::Months::new(12 * years))
        .unwrap()
}

pub fn today() -> chrono::NaiveDate {
    stafettlogg::clock::today()
}

pub fn in_days(n: u64) -> String {
    today().checked_add_days(Days::new(n)).unwrap().to_string()
}

fn id(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_string()
}

impl Town {
    /// Registers `user_id` as departed from today, as the owner (for requests that need a departure).
    pub fn depart(&self, user_id: &str) {
        self.app
            .db()
            .batch_execute(&format!(
                "INSERT INTO staff_departures (municipality, user_id, departed_on, recorded_by) \
                 VALUES ('3805', '{user_id}', current_date, 'matrix') ON CONFLICT DO NOTHING"
            ))
            .unwrap();
    }

    pub fn undepart_everyone(&self) {
        self.app
            .db()
            .batch_execute("DELETE FROM staff_departures")
            .unwrap();
    }

    pub async fn setup() -> Town {
        Self::with_app(TestApp::spawn().await).await
    }

    pub async fn with_app(app: TestApp) -> Town {
        for (code, kind) in [
            (BARNEHAGE, "barnehage"),
            (PPT, "ppt"),
            (SKOLE, "skole"),
            (BUP, "bup"),
        ] {
            app.service("3805", code, kind).await;
        }
        app.service(OTHER_TENANT, BARNEHAGE, "barnehage").await;
        app.service(OTHER_TENANT, PPT, "ppt").await;
        let admin = app.token("3805", "anne", &[Role::Admin], &[]);
        let services: Value = app
            .get("/api/v1/services?limit=200", &admin)
            .await
            .json()
            .await
            .unwrap();
        let bup_service = services["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["code"] == BUP)
            .map(id)
            .unwrap();
        let prof =
            |sub: &str, service: &str| app.token("3805", sub, &[Role::Professional], &[service]);
        let (mother_pid, father_pid, youth_pid) =
            (synthetic_id(2), synthetic_id(3), synthetic_id(4));
        let other_pid = synthetic_id(5);
        let older_youth_pid = synthetic_id(6);
        let cast = Cast {
            anonymous: None,
            holder: Some(prof("ola", BARNEHAGE)),
            covered: Some(prof("pia", PPT)),
            uncovered: Some(prof("ulf", BUP)),
            colleague: Some(prof("nils", BARNEHAGE)),
            former: Some(prof("per", PPT)),
            recipient: Some(prof("sara", SKOLE)),
            guardian: Some(app.citizen_token("mor", Role::Guardian, &mother_pid)),
            other_guardian: Some(app.citizen_token("annen", Role::Guardian, &other_pid)),
            young: Some(app.citizen_token("emma", Role::Youth, &youth_pid)),
            youth_of_age: Some(app.citizen_token("jonas", Role::Youth, &older_youth_pid)),
            admin: Some(admin),
            integration_own: Some(app.token(
                "3805",
                "barnehagesystem",
                &[Role::Integration],
                &[BARNEHAGE],
            )),
            integration_other: Some(app.token("3805", "bupsystem", &[Role::Integration], &[BUP])),
            other_municipality: Some(app.token(
                OTHER_TENANT,
                "ola",
                &[Role::Professional],
                &[BARNEHAGE],
            )),
            leader: Some(app.token("3805", "lea", &[Role::Leader], &[BARNEHAGE])),
        };
        // Another family, opened by ola too: its guardian is a guardian, but not of the world's cases.
        let other = app
            .open_case(cast.holder.as_deref().unwrap(), BARNEHAGE, "Noah")
            .await;
        let other_case = id(&other);
        let res = app
            .post(
                &format!("/api/v1/cases/{other_case}/participants"),
                cast.holder.as_deref().unwrap(),
                &json!({"kind": "guardian", "name": "Annen Forelder", "relation": "mother",
                        "parental_responsibility": true, "national_id": other_pid}),
            )
            .await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        Town {
            app,
            cast,
            mother_pid,
            father_pid,
            youth_pid,
            older_youth_pid,
            other_case,
            bup_service,
            built: std::cell::Cell::new(0),
        }
    }

    fn holder(&self) -> &str {
        self.cast.holder.as_deref().unwrap()
    }

    /// A request as the holder that must succeed with `status`; returns its JSON.
    /// The world's surveys, written by the administrator: one open, one planned, one closed early.
    async fn surveys(&self, t: &str) -> [String; 3] {
        let admin = self.cast.admin.as_deref().unwrap();
        let mut ids = Vec::new();
        for (opens_on, close) in [(in_days(0), false), (in_days(1), false), (in_days(0), true)] {
            let body = json!({"title": format!("Kartlegging {t}"), "opens_on": opens_on,
                "closes_on": in_days(14),
                "questions": [{"key": "kjenner", "text": {"nb": "Kjenner du handlingsveilederen?"}, "kind": "yes_no"}]});
            let res = self.app.post("/api/v1/surveys", admin, &body).await;
            assert_eq!(res.status(), 201, "building the world: a survey");
            let id = id(&res.json().await.unwrap());
            if close {
                let res = self
                    .app
                    .post(&format!("/api/v1/surveys/{id}/close"), admin, &json!({}))
                    .await;
                assert_eq!(res.status(), 200, "building the world: closing a survey");
            }
            ids.push(id);
        }
        ids.try_into().unwrap()
    }

    pub async fn ok(
        &self,
        method: Method,
        path: &str,
        if_match: Option<&str>,
        body: Option<Value>,
        status: u16,
    ) -> Value {
        let mut rb = self.app.request(method.clone(), path, Some(self.holder()));
        if let Some(etag) = if_match {
            rb = rb.header("if-match", etag);
        }
        if let Some(body) = body {
            rb = rb.json(&body);
        }
        let res = rb.send().await.unwrap();
        let got = res.status().as_u16();
        let text = res.text().await.unwrap();
        assert_eq!(got, status, "building the world: {method} {path}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// The current ETag of a resource, read by the holder.
    pub async fn etag(&self, path: &str) -> String {
        let res = self.app.get(path, self.holder()).await;
        assert_eq!(res.status(), 200, "ETag of {path}");
        res.headers()["etag"].to_str().unwrap().to_string()
    }

    pub fn feed_position(&self) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Seq {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            seq: i64,
        }
        use diesel::RunQueryDsl;
        diesel::sql_query("SELECT coalesce(max(seq), 0)::bigint AS seq FROM change_events")
            .get_result::<Seq>(&mut self.app.db())
            .unwrap()
            .seq
    }

    /// Opens one more case with everything in it, about a child of 10: under the self-consent age (15 or
    /// 16, as the municipality says) today and on any day the test runs.
    pub async fn world(&self) -> World {
        self.world_of(&born_years_ago(10).to_string(), &self.youth_pid)
            .await
    }

    /// The same world around a subject of 16, old enough to see the case herself (rule 8).
    pub async fn older_world(&self) -> World {
        self.world_of(&born_years_ago(16).to_string(), &self.older_youth_pid)
            .await
    }

    async fn world_of(&self, birth_date: &str, youth_pid: &str) -> World {
        let n = self.built.get() + 1;
        self.built.set(n);
        let feed_after = self.feed_position();
        let t = tag(n);
        let marker = |secret, label, value: String| Marker {
            secret,
            label,
            value,
        };
        let mut markers = vec![
            marker(
                Secret::SubjectName,
                "the subject's family name",
                format!("Zylvik{t}"),
            ),
            marker(
                Secret::FamilyNames,
                "the mother's name",
                format!("Randi Qorvald{t}"),
            ),
            marker(
                Secret::FamilyNames,
                "the father's name",
                format!("Trond Qorvald{t}"),
            ),
            marker(
                Secret::FamilyNames,
                "the grandmother's name",
                format!("Sylvhaug{t}"),
            ),
            marker(Secret::CaseText, "the concern", format!("bekymring-{t}")),
            marker(
                Secret::CaseText,
                "the consent's purpose",
                format!("samtykke-{t}"),
            ),
            marker(
                Secret::CaseText,
                "the level change's reason",
                format!("nivaa-{t}"),
            ),
            marker(
                Secret::CaseText,
                "the measure's title",
                format!("tiltak-{t}"),
            ),
            marker(
                Secret::CaseText,
                "the log entry's text",
                format!("notat-{t}"),
            ),
            marker(
                Secret::HandoverNote,
                "the handover's note",
                format!("overlevering-{t}"),
            ),
            marker(
                Secret::InquiryText,
                "the inquiry's message",
                format!("henvendelse-{t}"),
            ),
        ];
        for (label, pid) in [
            ("the mother's national id", &self.mother_pid),
            ("the father's national id", &self.father_pid),
            ("the subject's national id", &youth_pid.to_string()),
        ] {
            markers.push(marker(Secret::FullNationalId, label, pid.clone()));
        }
        let reference = format!("W-{n}");
        let case = self
            .ok(
                Method::POST,
                "/api/v1/cases",
                None,
                Some(
                    json!({"service": BARNEHAGE, "concern": format!("Emma trekker seg unna leken (bekymring-{t})."),
                    "subject": {"kind": "child", "given_name": "Emma", "family_name": format!("Zylvik{t}"),
                                "birth_date": birth_date, "national_id": youth_pid},
                    "external_refs": [{"system": "matrix", "id": reference}]}),
                ),
                201,
            )
            .await;
        let case_id = id(&case);
        let people = self.family(&case_id, youth_pid, &t).await;
        let mut world = self.casework(case_id, people, &t).await;
        world.feed_after = feed_after;
        world.markers = markers;
        world
    }

    /// Adds a participant as the holder; returns its id.
    async fn add(&self, participants: &str, body: Value) -> String {
        id(&self
            .ok(Method::POST, participants, None, Some(body), 201)
            .await)
    }

    /// The family of a new case: both guardians, the subject as a youth participant, two others.
    async fn family(&self, case_id: &str, youth_pid: &str, t: &str) -> [String; 5] {
        let participants = format!("/api/v1/cases/{case_id}/participants");
        let add = |body: Value| self.add(&participants, body);
        let mother = add(
            json!({"kind": "guardian", "name": format!("Randi Qorvald{t}"), "relation": "mother",
            "parental_responsibility": true, "national_id": self.mother_pid}),
        )
        .await;
        let father = add(
            json!({"kind": "guardian", "name": format!("Trond Qorvald{t}"), "relation": "father",
            "parental_responsibility": true, "national_id": self.father_pid}),
        )
        .await;
        let youth = add(
            json!({"kind": "youth", "name": format!("Emma Zylvik{t}"), "national_id": youth_pid}),
        )
        .await;
        let grandmother = add(
            json!({"kind": "other", "name": format!("Mormor Sylvhaug{t}"), "role": "besteforelder"}),
        )
        .await;
        let neighbour = add(json!({"kind": "other", "name": "Nabo", "role": "nabo"})).await;
        [mother, father, youth, grandmother, neighbour]
    }

    /// Consent, professionals, level 1, a measure, an entry, a pending handover and an inquiry.
    async fn casework(&self, case_id: String, people: [String; 5], t: &str) -> World {
        let [mother, father, youth, grandmother, neighbour] = people;
        let c = format!("/api/v1/cases/{case_id}");
        let participants = format!("{c}/participants");
        let consent = id(&self
            .ok(
                Method::POST,
                &format!("{c}/consents"),
                None,
                Some(
                    json!({"given_by": [mother, father], "services": [BARNEHAGE, PPT, SKOLE],
                    "purpose": format!("Samarbeid om Emma (samtykke-{t})"), "valid_from": today(),
                    "valid_until": in_days(20), "form": "written"}),
                ),
                201,
            )
            .await);
        let add = |body: Value| self.add(&participants, body);
        add(json!({"kind": "professional", "user_id": "pia", "name": "Pia Rådgiver", "service": PPT}))
            .await;
        let per = add(
            json!({"kind": "professional", "user_id": "per", "name": "Per Tidligere", "service": PPT}),
        )
        .await;
        self.ok(
            Method::POST,
            &format!("{participants}/{per}/deactivate"),
            None,
            None,
            200,
        )
        .await;
        // Rule 3 keeps an uncovered professional out of a case and rule 5 deactivates one when coverage
        // shrinks; this row is what a forgotten check would leave behind.
        let sql = format!(
            "INSERT INTO case_participants (id, case_id, kind, name, user_id, service, active, joined_at, version, updated_at, municipality) \
             VALUES (gen_random_uuid(), '{case_id}', 'professional', 'Ulf Udekket', 'ulf', '{BUP}', true, now(), 1, now(), \
             (SELECT municipality FROM cases WHERE id = '{case_id}'))"
        );
        self.app.db().batch_execute(&sql).unwrap();
        let etag = self.etag(&c).await;
        self.ok(
            Method::POST,
            &format!("{c}/level-changes"),
            Some(&etag),
            Some(
                json!({"to_level": 1, "reason": format!("Avklart med foreldrene (nivaa-{t})"),
                "decided_on": today()}),
            ),
            201,
        )
        .await;
        let measure = id(&self
            .ok(
                Method::POST,
                &format!("{c}/measures"),
                None,
                Some(
                    json!({"title": format!("Språkgruppe (tiltak-{t})"), "goal": "Flere ord i lek",
                    "responsible": {"kind": "participant", "participant_id": mother},
                    "start_date": today(), "evaluate_by": in_days(30), "state": "active"}),
                ),
                201,
            )
            .await);
        let entry = id(&self
            .ok(
                Method::POST,
                &format!("{c}/entries"),
                None,
                Some(json!({"kind": "note", "occurred_at": Utc::now(),
                    "body": format!("Emma lekte med to andre i dag (notat-{t}).")})),
                201,
            )
            .await);
        // A draft development plan of the kindergarten, and a meeting with the mother in a minute (so its
        // minutes may be written while the matrix runs).
        let plan = id(&self
            .ok(
                Method::POST,
                &format!("{c}/plans"),
                None,
                Some(
                    json!({"kind": "iup", "owner_service": BARNEHAGE, "starts_on": today(),
                    "goals": ["Leker med flere barn"]}),
                ),
                201,
            )
            .await);
        let soon = Utc::now() + chrono::Duration::minutes(1);
        let meeting = id(&self
            .ok(
                Method::POST,
                &format!("{c}/meetings"),
                None,
                Some(json!({"kind": "samarbeidsmote", "starts_at": soon,
                    "ends_at": soon + chrono::Duration::hours(1), "invitees": [mother]})),
                201,
            )
            .await);
        // The holder's kindergarten consults PPT anonymously (no case, no person).
        let consultation = id(&self
            .ok(
                Method::POST,
                "/api/v1/consultations",
                None,
                Some(json!({"to_service": PPT, "question": "Hvordan møter vi et barn som trekker seg unna?",
                    "age_group": "0-5"})),
                201,
            )
            .await);
        let handover = id(&self
            .ok(
                Method::POST,
                &format!("{c}/handovers"),
                None,
                Some(
                    json!({"to": {"user_id": "sara", "name": "Sara Kontaktlærer", "service": SKOLE},
                    "reason": "transition", "answer_by": in_days(14),
                    "note": format!("Emma begynner på skolen i august (overlevering-{t}).")}),
                ),
                201,
            )
            .await);
        let res = self
            .app
            .post(
                "/api/v1/inquiries",
                self.cast.guardian.as_deref().unwrap(),
                &json!({"service": BARNEHAGE, "about": "own_child", "child": {"given_name": "Emma"},
                        "message": format!("Emma gruer seg til barnehagen (henvendelse-{t})."),
                        "wants": "conversation"}),
            )
            .await;
        let text = res.text().await.unwrap();
        let inquiry =
            id(&serde_json::from_str(&text).unwrap_or_else(|_| panic!("inquiry: {text}")));
        let [survey, planned_survey, closed_survey] = self.surveys(t).await;
        World {
            case: case_id,
            inquiry,
            mother,
            father,
            youth,
            grandmother,
            neighbour,
            consent,
            measure,
            entry,
            plan,
            meeting,
            consultation,
            survey,
            planned_survey,
            closed_survey,
            handover,
            feed_after: 0,
            markers: vec![],
        }
    }
}
