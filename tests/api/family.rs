//! A case with a family around it, shared by the case-work tests.

use reqwest::Method;
use serde_json::{json, Value};
use stafettlogg::auth::Role;

use crate::support::{synthetic_id, TestApp};

pub const BARNEHAGE: &str = "barnehage-solstua";
pub const SKOLE: &str = "skole-bakke";
pub const PPT: &str = "ppt-vest";

pub struct Family {
    pub app: TestApp,
    pub case_id: String,
    /// The subject's birth date as the case was opened with it.
    pub birth_date: String,
    /// The stafettholder, a pedagogical leader in the kindergarten.
    pub ola: String,
    pub mother_id: String,
    pub father_id: String,
    pub mother: String,
    pub father: String,
    /// A PPT adviser, not yet in the case.
    pub pia: String,
}

impl Family {
    pub fn path(&self, rest: &str) -> String {
        format!("/api/v1/cases/{}{rest}", self.case_id)
    }

    pub async fn get(&self, rest: &str, token: &str) -> reqwest::Response {
        self.app.get(&self.path(rest), token).await
    }

    pub async fn post(&self, rest: &str, token: &str, body: &Value) -> reqwest::Response {
        self.app.post(&self.path(rest), token, body).await
    }

    pub async fn json(&self, rest: &str, token: &str) -> Value {
        let res = self.get(rest, token).await;
        assert_eq!(res.status(), 200, "GET {rest}");
        res.json().await.unwrap()
    }

    pub async fn version(&self) -> String {
        let res = self.get("", &self.ola).await;
        res.headers()["etag"].to_str().unwrap().to_string()
    }

    /// Records a consent as the holder; returns the response.
    pub async fn consent(&self, givers: &[&str], services: &[&str]) -> reqwest::Response {
        self.post(
            "/consents",
            &self.ola,
            &json!({"given_by": givers, "services": services, "purpose": "Samarbeid om Emma",
                "valid_from": stafettlogg::clock::today(), "form": "written"}),
        )
        .await
    }

    pub async fn consent_ok(&self, givers: &[&str], services: &[&str]) -> Value {
        let res = self.consent(givers, services).await;
        assert_eq!(res.status(), 201, "consent: {}", res.text().await.unwrap());
        res.json().await.unwrap()
    }

    pub async fn add_professional(&self, user: &str, service: &str) -> reqwest::Response {
        self.post(
            "/participants",
            &self.ola,
            &json!({"kind": "professional", "user_id": user, "name": format!("Testperson {user}"), "service": service, "title": "Rådgiver"}),
        )
        .await
    }

    pub async fn level(&self, to: i64) -> reqwest::Response {
        let v = self.version().await;
        self.app
            .request(Method::POST, &self.path("/level-changes"), Some(&self.ola))
            .header("if-match", v)
            .json(&json!({"to_level": to, "reason": "Drøftet med foreldrene", "decided_on": stafettlogg::clock::today()}))
            .send()
            .await
            .unwrap()
    }
}

/// A kindergarten case for Emma with two guardians with parental responsibility. She was born six years
/// ago today, so she is under the self-consent age (15 or 16) on whatever day the tests run, and only her
/// guardians consent for her.
pub async fn family() -> Family {
    let born = stafettlogg::clock::today()
        .checked_sub_months(chrono::Months::new(12 * 6))
        .unwrap();
    family_with_subject(&born.to_string()).await
}

pub async fn family_with_subject(birth_date: &str) -> Family {
    family_on(TestApp::spawn().await, birth_date).await
}

/// [`family`] on a server the test started (e.g. one that sends notifications).
pub async fn family_on(app: TestApp, birth_date: &str) -> Family {
    app.service("3805", BARNEHAGE, "barnehage").await;
    app.service("3805", SKOLE, "skole").await;
    app.service("3805", PPT, "ppt").await;
    let ola = app.token("3805", "ola", &[Role::Professional], &[BARNEHAGE]);
    let res = app
        .post(
            "/api/v1/cases",
            &ola,
            &json!({"service": BARNEHAGE, "concern": "Emma trekker seg unna leken.",
                "subject": {"kind": "child", "given_name": "Emma", "family_name": "Testesen", "birth_date": birth_date,
                    "national_id": synthetic_id(1)}}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let case: Value = res.json().await.unwrap();
    let case_id = case["id"].as_str().unwrap().to_string();
    let (mother_pid, father_pid) = (synthetic_id(2), synthetic_id(3));
    let mut ids = Vec::new();
    for (name, relation, pid) in [
        ("Mor Testesen", "mother", &mother_pid),
        ("Far Testesen", "father", &father_pid),
    ] {
        let res = app
            .post(
                &format!("/api/v1/cases/{case_id}/participants"),
                &ola,
                &json!({"kind": "guardian", "name": name, "relation": relation, "parental_responsibility": true,
                    "national_id": pid, "email": "forelder@example.org"}),
            )
            .await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        let p: Value = res.json().await.unwrap();
        ids.push(p["id"].as_str().unwrap().to_string());
    }
    Family {
        case_id,
        birth_date: birth_date.to_string(),
        mother: app.citizen_token("mor", Role::Guardian, &mother_pid),
        father: app.citizen_token("far", Role::Guardian, &father_pid),
        pia: app.token("3805", "pia", &[Role::Professional], &[PPT]),
        mother_id: ids[0].clone(),
        father_id: ids[1].clone(),
        ola,
        app,
    }
}
