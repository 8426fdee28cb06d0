use reqwest::Method;

use crate::support::TestApp;

#[actix_web::test]
async fn live_and_ready_answer_200_with_a_database() {
    let app = TestApp::spawn().await;
    for path in ["/health/live", "/health/ready"] {
        let res = app.request(Method::GET, path, None).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["status"], "ok");
    }
}
