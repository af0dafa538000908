//! Malformed input of many kinds: a clear 4xx in the one problem shape, and nothing stored.

use crate::helpers::{assert_problem, TestApp};
use reqwest::{Method, StatusCode};

#[actix_web::test]
async fn malformed_bodies_get_clear_4xx_answers() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let raw = |body: Vec<u8>, content_type: Option<&str>| {
        let mut builder = app.request(Method::POST, "/units", Some(&admin)).body(body);
        if let Some(ct) = content_type {
            builder = builder.header("Content-Type", ct);
        }
        builder.send()
    };
    let json_type = Some("application/json");

    let r = raw(b"{\"name\": ".to_vec(), json_type).await.unwrap();
    assert_problem(r, StatusCode::BAD_REQUEST, "malformed_json").await;
    let r = raw(b"\xff\xfe{}".to_vec(), json_type).await.unwrap();
    assert_problem(r, StatusCode::BAD_REQUEST, "malformed_json").await;
    let r = raw(b"{\"name\": \"\xe6\x97\"}".to_vec(), json_type)
        .await
        .unwrap();
    assert_problem(r, StatusCode::BAD_REQUEST, "malformed_json").await;

    let r = raw(
        br#"{"name": "a", "kind": "district", "colour": "red"}"#.to_vec(),
        json_type,
    )
    .await
    .unwrap();
    let body = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("unknown field `colour`"));
    let r = raw(br#"{"name": 5, "kind": "district"}"#.to_vec(), json_type)
        .await
        .unwrap();
    assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    let r = raw(br#"{"kind": "district"}"#.to_vec(), json_type)
        .await
        .unwrap();
    assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    let r = raw(br#"[1, 2]"#.to_vec(), json_type).await.unwrap();
    assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;

    let r = raw(
        br#"{"name": "a\u0000b", "kind": "district"}"#.to_vec(),
        json_type,
    )
    .await
    .unwrap();
    let body = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["fields"]["name"][0], "nul_character");

    let r = raw(br#"{"name": "", "kind": "district"}"#.to_vec(), json_type)
        .await
        .unwrap();
    let body = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["fields"]["name"][0], "length");

    let r = raw(
        br#"{"name": "a", "kind": "district"}"#.to_vec(),
        Some("text/plain"),
    )
    .await
    .unwrap();
    assert_problem(
        r,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let r = raw(br#"{"name": "a", "kind": "district"}"#.to_vec(), None)
        .await
        .unwrap();
    assert_problem(
        r,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;

    let big = format!(
        "{{\"name\": \"{}\", \"kind\": \"district\"}}",
        "x".repeat(1024 * 1024 + 1)
    );
    let r = raw(big.into_bytes(), json_type).await.unwrap();
    assert_problem(r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;

    // None of it was stored.
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM units"), 0);
}

#[actix_web::test]
async fn paths_queries_and_routes_that_do_not_exist() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    // Ids are numbers: any other segment is a path that does not exist.
    assert_problem(
        app.get("/users/abc", &admin).await,
        StatusCode::NOT_FOUND,
        "no_such_route",
    )
    .await;
    // `/cadres/lookup` is POST only; it is not `/cadres/{id}` with the id "lookup".
    let r = app
        .request(Method::PATCH, "/cadres/lookup", Some(&admin))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["allow"], "POST");
    assert_problem(r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    assert_problem(
        app.get("/users/999999", &admin).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        app.get("/no/such/thing", &admin).await,
        StatusCode::NOT_FOUND,
        "no_such_route",
    )
    .await;
    let r = app
        .request(Method::DELETE, "/users/1", Some(&admin))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["allow"], "GET, PATCH");
    assert_problem(r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    // `/cadres/{id}/archive` shadows `/cadres/{id}/{kind}`: only its own method is allowed.
    let r = app
        .request(Method::DELETE, "/cadres/1/archive", Some(&admin))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["allow"], "POST");
    assert_problem(r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    assert_problem(
        app.get("/units?active=maybe", &admin).await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
    assert_problem(
        app.get("/units?limit=0", &admin).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}

#[actix_web::test]
async fn every_answer_has_a_request_id_and_security_headers() {
    let app = TestApp::spawn().await;
    let given = app
        .request(Method::GET, "/health/live", None)
        .header("X-Request-Id", "abc-123.DEF_4")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "abc-123.DEF_4");
    assert_eq!(given.headers()["x-content-type-options"], "nosniff");
    assert_eq!(given.headers()["cache-control"], "no-store");

    // A request id that could forge log lines is replaced.
    let forged = app
        .request(Method::GET, "/health/live", None)
        .header("X-Request-Id", "a b\tc")
        .send()
        .await
        .unwrap();
    let id = forged.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 24);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));

    let api = app.request(Method::GET, "/me", None).send().await.unwrap();
    assert_eq!(api.headers()["cache-control"], "no-store");
    assert!(api.headers().contains_key("x-request-id"));
}
