//! The contract proven by the clients that use it: a TypeScript client generated from
//! `openapi/openapi.json` runs the README's walkthrough against a real server, a breaking change of the
//! contract is a type error there, and a page in real Chromium calls the API across origins (CORS).
//! The Node side lives in `tests/frontend/` (its README says what each script checks).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::json;
use stafettlogg::auth::Role;

use crate::support::{Options, TestApp};
use crate::tools;

/// The package, generated from the committed spec and compiled, held under a lock: the tests here
/// share `generated/` and `dist/`, across test threads and across processes.
struct Prepared {
    dir: PathBuf,
    _lock: std::fs::File,
}

fn prepared() -> Prepared {
    let dir = tools::node_package("tests/frontend");
    let lock_path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("frontend-run.lock");
    let lock = std::fs::File::create(lock_path).unwrap();
    lock.lock().expect("lock tests/frontend");
    // Once per process: generate the types from the committed spec and compile (tsc --strict).
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        npm(&dir, &["run", "generate"], None).assert_ok("generate types from openapi/openapi.json");
        npm(&dir, &["run", "build"], None).assert_ok("tsc --strict over the generated client");
    });
    Prepared { dir, _lock: lock }
}

trait AssertOk {
    fn assert_ok(self, what: &str) -> Self;
}

impl AssertOk for Output {
    fn assert_ok(self, what: &str) -> Self {
        assert!(
            self.status.success(),
            "{what} failed ({}):\n{}\n{}",
            self.status,
            String::from_utf8_lossy(&self.stdout),
            String::from_utf8_lossy(&self.stderr)
        );
        self
    }
}

fn npm(dir: &Path, args: &[&str], spec: Option<&Path>) -> Output {
    let mut c = Command::new("npm");
    c.args(args).current_dir(dir).env_remove("SPEC");
    if let Some(spec) = spec {
        c.env("SPEC", spec);
    }
    c.output().expect("run npm (Node.js 20 and npm are needed)")
}

/// Runs a compiled script with `env`, off the test's runtime thread (the server runs on that thread).
async fn node(dir: PathBuf, script: &'static str, env: Vec<(&'static str, String)>) -> Output {
    actix_web::rt::task::spawn_blocking(move || {
        Command::new("node")
            .arg(format!("dist/{script}"))
            .current_dir(&dir)
            .envs(env)
            .output()
            .expect("run node")
    })
    .await
    .unwrap()
}

fn token(app: &TestApp, sub: &str, role: Role, services: &[&str]) -> String {
    let claims = app.jwt.dev_claims(
        "3805",
        sub,
        &format!("Testperson {sub}"),
        vec![role],
        services.iter().map(|s| s.to_string()).collect(),
        None,
        600,
    );
    app.jwt.mint(&claims).unwrap()
}

#[actix_web::test]
async fn the_generated_typescript_client_runs_the_walkthrough_from_worry_to_handover() {
    let run = prepared();
    let app = TestApp::spawn().await;
    let tokens = json!({
        "admin": token(&app, "anne", Role::Admin, &[]),
        "ola": token(&app, "ola", Role::Professional, &["barnehage-solstua"]),
        "pia": token(&app, "pia", Role::Professional, &["ppt-vest"]),
        "sara": token(&app, "sara", Role::Professional, &["skole-bakke"]),
        "kari": app.citizen_token("kari", Role::Guardian, "02858810100"),
    });
    let out = node(
        run.dir.clone(),
        "walkthrough.js",
        vec![
            ("STAFETTLOGG_URL", app.base.clone()),
            ("STAFETTLOGG_TOKENS", tokens.to_string()),
        ],
    )
    .await
    .assert_ok("the TypeScript walkthrough");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("PASS walkthrough"), "{report}");
    // What the client did is in the database: one case, held by sara after the accepted handover.
    assert_eq!(app.count("cases"), 1);
    assert_eq!(app.count("handovers WHERE state = 'accepted'"), 1);
    assert_eq!(app.count("evaluations"), 1);
}

#[test]
fn a_breaking_change_of_the_contract_is_a_type_error_in_the_client() {
    let run = prepared();
    let mut spec: serde_json::Value = serde_json::from_str(&stafettlogg::api_doc_json()).unwrap();
    // Rename a required request field, as a careless refactoring of the server would.
    let open = &mut spec["components"]["schemas"]["OpenCaseRequest"];
    let concern = open["properties"]
        .as_object_mut()
        .unwrap()
        .shift_remove("concern")
        .unwrap();
    open["properties"]["worry"] = concern;
    for r in open["required"].as_array_mut().unwrap() {
        if r == "concern" {
            *r = json!("worry");
        }
    }
    let broken = Path::new(env!("CARGO_TARGET_TMPDIR")).join("breaking-openapi.json");
    std::fs::write(&broken, serde_json::to_vec(&spec).unwrap()).unwrap();
    npm(&run.dir, &["run", "generate"], Some(&broken)).assert_ok("generate from the broken spec");
    let check = npm(&run.dir, &["run", "typecheck"], None);
    // Put the real contract's types back before judging, so a failure here leaves nothing behind.
    npm(&run.dir, &["run", "generate"], None).assert_ok("generate from the committed spec");
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(
        !check.status.success(),
        "tsc accepted a client of a broken contract"
    );
    assert!(
        report.contains("walkthrough.ts") && report.contains("'concern'"),
        "the type error names the renamed field: {report}"
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[actix_web::test]
async fn a_page_in_chromium_reads_a_case_and_patches_it_with_if_match_only_from_an_allowed_origin()
{
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: install Debian's chromium (apt-get install chromium; .ci/run does)"
    );
    let run = prepared();
    let (allowed, refused) = (free_port(), free_port());
    let app = TestApp::spawn_with(Options {
        cors_origins: vec![format!("http://127.0.0.1:{allowed}")],
        ..Default::default()
    })
    .await;
    app.service("3805", "barnehage-solstua", "barnehage").await;
    let ola = app.token("3805", "ola", &[Role::Professional], &["barnehage-solstua"]);
    let case = app.open_case(&ola, "barnehage-solstua", "Emma").await;
    let out = node(
        run.dir.clone(),
        "cors-browser.js",
        vec![
            ("STAFETTLOGG_URL", app.base.clone()),
            ("STAFETTLOGG_TOKEN", ola),
            ("CASE_ID", case["id"].as_str().unwrap().to_string()),
            ("ALLOWED_PORT", allowed.to_string()),
            ("REFUSED_PORT", refused.to_string()),
            ("CHROMIUM", chromium),
        ],
    )
    .await
    .assert_ok("the Chromium CORS test");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("PASS"), "{report}");
    // Exactly one PATCH got through: the allowed page's.
    assert_eq!(app.count("cases WHERE version = 2"), 1);
}
