//! The archive document (`GET /cases/{id}/export` as PDF) and the right of access (`GET /me/data`), read
//! back as a person would: the PDF's text extracted with `pdftotext` (Debian's poppler-utils).

use std::path::PathBuf;

use reqwest::Method;
use serde_json::{json, Value};
use stafettlogg::auth::Role;

use crate::family::{family, Family, BARNEHAGE, PPT};
use crate::support::{problem, synthetic_id, TestApp};

const PDF: &str = "application/pdf";
const TRIP: &str = "Blåbærturen gikk fint: Æsa og Øyvind fant sjø og ørret ved Åsen.";

fn today() -> chrono::NaiveDate {
    stafettlogg::clock::today()
}

/// Keeps the file under target/tmp (for looking at it), and returns its text as `pdftotext` reads it.
pub fn pdf_text(bytes: &[u8], name: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("archive");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(name);
    std::fs::write(&file, bytes).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext runs (apt-get install poppler-utils)");
    assert!(out.status.success(), "pdftotext: {:?}", out);
    String::from_utf8(out.stdout).unwrap()
}

async fn get_as(app: &TestApp, path: &str, token: &str, accept: &str) -> reqwest::Response {
    app.request(Method::GET, path, Some(token))
        .header("accept", accept)
        .send()
        .await
        .unwrap()
}

pub async fn pdf_of(app: &TestApp, path: &str, token: &str) -> Vec<u8> {
    let res = get_as(app, path, token, PDF).await;
    assert_eq!(res.status(), 200, "GET {path} as PDF");
    assert_eq!(res.headers()["content-type"], PDF);
    let bytes = res.bytes().await.unwrap().to_vec();
    assert!(bytes.starts_with(b"%PDF-"), "a PDF starts with %PDF-");
    bytes
}

async fn entry(f: &Family, token: &str, body: Value) -> Value {
    let res = f.post("/entries", token, &body).await;
    assert_eq!(res.status(), 201, "entry: {}", res.text().await.unwrap());
    res.json().await.unwrap()
}

/// The family's case at level 1 with a measure, an evaluation, a meeting, the father's correction of it
/// and an entry that quotes a national id in its text.
async fn written_case() -> Family {
    let f = family().await;
    f.consent_ok(&[&f.mother_id, &f.father_id], &[BARNEHAGE, PPT])
        .await;
    assert_eq!(f.level(1).await.status(), 201);
    let m: Value = f
        .post("/measures", &f.ola, &json!({"title": "Språkgruppe", "goal": "Flere ord i lek",
            "responsible": {"kind": "participant", "participant_id": f.mother_id},
            "start_date": today(), "evaluate_by": today() + chrono::Days::new(30), "state": "active"}))
        .await
        .json()
        .await
        .unwrap();
    let res = f
        .post(
            &format!("/measures/{}/evaluations", m["id"].as_str().unwrap()),
            &f.mother,
            &json!({"evaluated_on": today(), "assessment": "Tydelig fremgang", "child_view": "Gøy",
                "outcome": "continue", "next_evaluate_by": today() + chrono::Days::new(60)}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let meeting = entry(
        &f,
        &f.ola,
        json!({"kind": "meeting", "occurred_at": chrono::Utc::now(),
        "title": "Stafettmøte", "body": "Møtet ble holdt i barnehagen.", "attendees": [f.mother_id],
        "decisions": "Språkgruppe to ganger i uka"}),
    )
    .await;
    entry(
        &f,
        &f.father,
        json!({"kind": "note", "occurred_at": chrono::Utc::now(),
        "body": "Far var også til stede på møtet.", "corrects": meeting["id"]}),
    )
    .await;
    entry(
        &f,
        &f.mother,
        json!({"kind": "lysglimt", "occurred_at": chrono::Utc::now(), "body": TRIP}),
    )
    .await;
    let quoted = format!("Mor oppga fødselsnummeret {} på telefon.", synthetic_id(2));
    entry(
        &f,
        &f.ola,
        json!({"kind": "note", "occurred_at": chrono::Utc::now(), "body": quoted}),
    )
    .await;
    f
}

fn assert_no_national_id(text: &str) {
    for n in 1..=3 {
        let id = synthetic_id(n);
        assert!(!text.contains(&id), "national id {n} in full in the PDF");
        let spaced = format!("{} {}", &id[..6], &id[6..]);
        assert!(
            !text.contains(&spaced),
            "national id {n} in full in the PDF"
        );
    }
}

fn export_events(f: &Family) -> i64 {
    f.app.count(&format!(
        "access_events WHERE case_id = '{}' AND action = 'export'",
        f.case_id
    ))
}

#[actix_web::test]
async fn the_archive_document_is_a_pdf_with_every_entry_norwegian_letters_and_masked_ids() {
    let f = written_case().await;
    // On closure the document goes to the pupil's file.
    let etag = f.version().await;
    let res = f
        .app
        .send_if_match(
            Method::POST,
            &f.path("/close"),
            &f.ola,
            &etag,
            &json!({"reason": "goal_reached", "note": "Emma trives i språkgruppa."}),
        )
        .await;
    assert_eq!(res.status(), 200, "close: {}", res.text().await.unwrap());
    let before = export_events(&f);
    let bytes = pdf_of(&f.app, &f.path("/export"), &f.ola).await;
    let text = pdf_text(&bytes, "case.pdf");
    for expected in [
        "Stafettlogg – arkivutskrift",
        "Emma Testesen",
        "Emma trekker seg unna leken.",
        "Møtet ble holdt i barnehagen.",
        "Far var også til stede på møtet.",
        "Språkgruppe to ganger i uka",
        "Tydelig fremgang",
        "Mor Testesen",
        "Samarbeid om Emma",
        "Side 1 av",
        "målet er nådd",
        "Emma trives i språkgruppa.",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} is not in the PDF:\n{text}"
        );
    }
    // The line may break anywhere in the long entry; its words and letters must all be there.
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains(TRIP),
        "the entry with æøå is not in the PDF:\n{text}"
    );
    assert!(flat.contains("RETTELSE av innførsel 1"), "{text}");
    assert!(
        flat.contains("Denne innførselen er rettet i innførsel 2."),
        "{text}"
    );
    // Masked in the records and in the free text that quoted one.
    assert_no_national_id(&text);
    assert!(text.contains(&format!("{}*****", &synthetic_id(1)[..6])));
    assert!(flat.contains(&format!("fødselsnummeret {}*****", &synthetic_id(2)[..6])));
    assert!(text.contains("Tilgangslogg – sammendrag"));
    assert_eq!(
        export_events(&f),
        before + 1,
        "the PDF export is an access event"
    );
    // The holder's JSON export still carries the ids in full, for an import.
    let doc: Value = f.json("/export", &f.ola).await;
    assert_eq!(doc["case"]["subject"]["national_id"], synthetic_id(1));
}

#[actix_web::test]
async fn accept_chooses_json_or_pdf_and_anything_else_is_406_without_an_access_event() {
    let f = written_case().await;
    let before = export_events(&f);
    let p = problem(
        get_as(&f.app, &f.path("/export"), &f.ola, "image/png").await,
        406,
    )
    .await;
    assert_eq!(p["type"], "urn:stafettlogg:problem:not-acceptable");
    assert!(p["detail"].as_str().unwrap().contains(PDF));
    problem(
        get_as(&f.app, &f.path("/export"), &f.ola, "application/pdf;q=0").await,
        406,
    )
    .await;
    assert_eq!(export_events(&f), before, "a 406 reads nothing");
    for accept in [
        "*/*",
        "application/json",
        "application/*",
        "application/pdf;q=0.5, application/json",
    ] {
        let res = get_as(&f.app, &f.path("/export"), &f.ola, accept).await;
        assert_eq!(res.status(), 200, "{accept}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{accept}"
        );
    }
    // A guardian gets the document too; the same rule as for JSON keeps other professionals out.
    let text = pdf_text(
        &pdf_of(&f.app, &f.path("/export"), &f.mother).await,
        "guardian.pdf",
    );
    assert_no_national_id(&text);
    problem(get_as(&f.app, &f.path("/export"), &f.pia, PDF).await, 404).await;
    assert_eq!(f.add_professional("pia", PPT).await.status(), 201);
    problem(get_as(&f.app, &f.path("/export"), &f.pia, PDF).await, 403).await;
}

#[actix_web::test]
async fn a_long_log_runs_over_pages_that_are_numbered() {
    let f = family().await;
    let body =
        "Dette er en lang innførsel om hverdagen i barnehagen, med både små og store øyeblikk. "
            .repeat(12);
    for i in 0..25 {
        entry(
            &f,
            &f.ola,
            json!({"kind": "note", "occurred_at": chrono::Utc::now(),
            "body": format!("Innførsel nummer {i}. {body}")}),
        )
        .await;
    }
    // Text a font cannot show, or that PDF/A forbids, still gives a document.
    entry(
        &f,
        &f.mother,
        json!({"kind": "note", "occurred_at": chrono::Utc::now(),
        "body": "Smil 🙂 中文 \u{feff}\u{200b}tab\there \u{e000} slutt"}),
    )
    .await;
    let text = pdf_text(
        &pdf_of(&f.app, &f.path("/export"), &f.ola).await,
        "long.pdf",
    );
    let pages = text.matches("Side ").count();
    assert!(pages >= 3, "{pages} pages");
    assert!(text.contains(&format!("Side {pages} av {pages}")), "{text}");
    assert!(text.contains("Innførsel nummer 24."));
    assert!(text.contains("slutt"));
}

/// A second family in the same municipality, with a case of its own.
async fn other_family(f: &Family) -> (String, String) {
    let res = f
        .app
        .post(
            "/api/v1/cases",
            &f.ola,
            &json!({"service": BARNEHAGE, "concern": "Jonas er mye alene.",
            "subject": {"kind": "child", "given_name": "Jonas", "family_name": "Annensen",
                "birth_date": "2019-02-02", "national_id": synthetic_id(10)}}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let case: Value = res.json().await.unwrap();
    let id = case["id"].as_str().unwrap().to_string();
    let res = f
        .app
        .post(
            &format!("/api/v1/cases/{id}/participants"),
            &f.ola,
            &json!({"kind": "guardian", "name": "Lise Annensen", "relation": "mother",
                "parental_responsibility": true, "national_id": synthetic_id(11)}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let token = f
        .app
        .citizen_token("lise", Role::Guardian, &synthetic_id(11));
    (id, token)
}

fn case_ids(data: &Value) -> Vec<String> {
    let mut ids: Vec<String> = data["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["case_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[actix_web::test]
async fn me_data_shows_exactly_the_callers_cases_with_what_they_recorded() {
    let f = written_case().await;
    let (other_case, lise) = other_family(&f).await;
    let res = f.app.get("/api/v1/me/data", &f.mother).await;
    assert_eq!(res.status(), 200);
    let data: Value = res.json().await.unwrap();
    assert_eq!(case_ids(&data), vec![f.case_id.clone()]);
    assert_eq!(data["complete"], true);
    assert_eq!(
        data["person"]["pid"],
        format!("{}*****", &synthetic_id(2)[..6])
    );
    let case = &data["cases"][0];
    assert_eq!(case["basis"], "guardian");
    assert_eq!(case["about_you"], false);
    let me = case["you_as_participant"].as_array().unwrap();
    assert_eq!(me.len(), 1);
    assert_eq!(me[0]["id"], f.mother_id.as_str());
    assert_eq!(
        me[0]["national_id"],
        format!("{}*****", &synthetic_id(2)[..6])
    );
    assert_eq!(case["consents_given"].as_array().unwrap().len(), 1);
    let written: Vec<&str> = case["entries_written"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["body"].as_str().unwrap())
        .collect();
    assert_eq!(written, vec![TRIP], "only the entries she wrote");
    assert!(!case["access_log"].as_array().unwrap().is_empty());
    assert!(!data.to_string().contains(&synthetic_id(2)));
    let events = |case: &str| {
        f.app.count(&format!(
            "access_events WHERE case_id = '{case}' AND resource = 'case.my_data'"
        ))
    };
    assert_eq!(events(&f.case_id), 1, "reading it leaves an access event");
    assert_eq!(events(&other_case), 0);

    // The other family sees its own case only, and the document says the same.
    let theirs: Value = f
        .app
        .get("/api/v1/me/data", &lise)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(case_ids(&theirs), vec![other_case.clone()]);
    let text = pdf_text(
        &pdf_of(&f.app, "/api/v1/me/data", &f.mother).await,
        "me-data.pdf",
    );
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("Dine opplysninger i stafettloggen"), "{text}");
    assert!(text.contains("Emma Testesen"));
    assert!(flat.contains(TRIP), "{text}");
    assert!(
        !text.contains("Jonas"),
        "another family's case is not in her document"
    );
    assert!(
        !text.contains("Far var også til stede"),
        "the father's entry is not hers"
    );
    assert_no_national_id(&text);
    assert_eq!(events(&f.case_id), 2);
    assert_eq!(events(&other_case), 1);
}

#[actix_web::test]
async fn me_data_finds_every_case_of_a_guardian_and_the_youth_it_is_about() {
    let f = family().await;
    // A second child of the same mother, and a youth old enough to read her own case.
    let mut expected = vec![f.case_id.clone()];
    for (name, birth) in [("Nora", "2017-06-01"), ("Ida", "2008-01-20")] {
        let res = f
            .app
            .post("/api/v1/cases", &f.ola, &json!({"service": BARNEHAGE, "concern": "Bekymring.",
                "subject": {"kind": "youth", "given_name": name, "family_name": "Testesen",
                    "birth_date": birth, "national_id": if name == "Ida" { synthetic_id(20) } else { synthetic_id(21) }}}))
            .await;
        let id = res.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let res = f
            .app
            .post(
                &format!("/api/v1/cases/{id}/participants"),
                &f.ola,
                &json!({"kind": "guardian", "name": "Mor Testesen", "relation": "mother",
                    "parental_responsibility": true, "national_id": synthetic_id(2)}),
            )
            .await;
        assert_eq!(res.status(), 201);
        expected.push(id);
    }
    expected.sort();
    let data: Value = f
        .app
        .get("/api/v1/me/data", &f.mother)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(case_ids(&data), expected);
    assert_eq!(data["cases"].as_array().unwrap().len(), 3);

    let ida = f.app.citizen_token("ida", Role::Youth, &synthetic_id(20));
    let hers: Value = f
        .app
        .get("/api/v1/me/data", &ida)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hers["cases"].as_array().unwrap().len(), 1);
    assert_eq!(hers["cases"][0]["about_you"], true);
    assert_eq!(hers["cases"][0]["basis"], "subject_youth");
    assert_eq!(hers["cases"][0]["subject"]["given_name"], "Ida");
}

#[actix_web::test]
async fn me_data_is_for_citizens_and_speaks_json_or_pdf() {
    let f = family().await;
    problem(f.app.get("/api/v1/me/data", &f.ola).await, 403).await;
    let admin = f.app.token("3805", "admin", &[Role::Admin], &[]);
    problem(f.app.get("/api/v1/me/data", &admin).await, 403).await;
    // A guardian role without a national login finds nobody.
    let no_pid = f.app.token("3805", "mor", &[Role::Guardian], &[]);
    problem(f.app.get("/api/v1/me/data", &no_pid).await, 403).await;
    problem(
        get_as(&f.app, "/api/v1/me/data", &f.mother, "image/png").await,
        406,
    )
    .await;
    assert_eq!(
        f.app
            .request(Method::GET, "/api/v1/me/data", None)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    // Someone in no case gets an empty, complete overview.
    let stranger = f.app.citizen_token("x", Role::Guardian, &synthetic_id(30));
    let data: Value = f
        .app
        .get("/api/v1/me/data", &stranger)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(data["cases"], json!([]));
    assert_eq!(data["complete"], true);
}

#[actix_web::test]
async fn me_data_covers_every_case_not_one_page() {
    let f = family().await;
    // More cases than one page of the list machinery (100) reads at a time.
    let mut expected = vec![f.case_id.clone()];
    for i in 0..104 {
        let res = f
            .app
            .post("/api/v1/cases", &f.ola, &json!({"service": BARNEHAGE, "concern": "Bekymring.",
                "subject": {"kind": "child", "given_name": format!("Barn{i}"), "family_name": "Testesen"}}))
            .await;
        let id = res.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let res = f
            .app
            .post(
                &format!("/api/v1/cases/{id}/participants"),
                &f.ola,
                &json!({"kind": "guardian", "name": "Mor Testesen", "relation": "mother",
                    "parental_responsibility": true, "national_id": synthetic_id(2)}),
            )
            .await;
        assert_eq!(res.status(), 201);
        expected.push(id);
    }
    expected.sort();
    let data: Value = f
        .app
        .get("/api/v1/me/data", &f.mother)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(case_ids(&data), expected);
    assert_eq!(data["complete"], true);
    assert_eq!(
        f.app.count("access_events WHERE resource = 'case.my_data'"),
        105
    );
}
