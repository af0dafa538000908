//! User accounts: creation rules, optimistic concurrency, role changes that revoke tokens.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{access_token, assert_problem, TestApp, GOOD_PASSWORD, ROLES};

#[actix_web::test]
async fn admin_creates_a_user_of_every_role_who_can_log_in() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let district = app.create_unit(&admin, "武隆区", "district", None).await;
    let transport = app
        .create_unit(&admin, "区交通局", "department", Some(district))
        .await;
    for role in ROLES {
        let username = format!("user.{role}");
        let unit = (role == "department").then_some(transport);
        let id = app.create_user(&admin, &username, &[role], unit).await;
        let tokens = app.login(&username, GOOD_PASSWORD).await;
        let me: Value = app
            .get("/me", &access_token(&tokens))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(me["id"], id);
        assert_eq!(me["roles"][0]["role"], role);
        assert!(me["roles"][0]["label"]
            .as_str()
            .is_some_and(|l| !l.is_empty()));
    }
    // The password hash is never part of an answer or of the audit log.
    let list: Value = app
        .get("/users?limit=200", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 8);
    // The page reads its users' roles together; each user shows its own.
    for role in ROLES {
        let listed = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|item| item["username"] == format!("user.{role}"))
            .unwrap();
        assert_eq!(listed["roles"], json!([role]), "{listed}");
    }
    assert!(!list.to_string().contains("argon2"));
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM audit_events WHERE after_json LIKE '%argon2%'"),
        0
    );
}

#[actix_web::test]
async fn creation_rules_are_enforced_with_clear_answers() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let district = app.create_unit(&admin, "武隆区", "district", None).await;
    let township = app
        .create_unit(&admin, "仙女山镇", "township", Some(district))
        .await;
    let user = |username: &str, roles: Value, unit: Option<i64>, password: &str| json!({"username": username, "display_name": "罗维", "password": password, "roles": roles, "unit_id": unit});

    let cases = [
        (
            user("luo.wei", json!(["admin", "leader"]), None, GOOD_PASSWORD),
            "roles",
            "admin_and_auditor_must_be_held_alone",
        ),
        (
            user(
                "luo.wei",
                json!(["auditor", "org_staff"]),
                None,
                GOOD_PASSWORD,
            ),
            "roles",
            "admin_and_auditor_must_be_held_alone",
        ),
        (
            user("luo.wei", json!(["department"]), None, GOOD_PASSWORD),
            "unit_id",
            "department_unit_required",
        ),
        (
            user(
                "luo.wei",
                json!(["department"]),
                Some(township),
                GOOD_PASSWORD,
            ),
            "unit_id",
            "department_unit_required",
        ),
        (
            user("luo.wei", json!(["leader"]), Some(999_999), GOOD_PASSWORD),
            "unit_id",
            "unknown_unit",
        ),
        (
            user("luo wei", json!(["leader"]), None, GOOD_PASSWORD),
            "username",
            "format",
        ),
        (
            user("luo.wei", json!(["leader"]), None, "qwerty123456"),
            "password",
            "too_common",
        ),
        (
            user("luo.wei", json!(["leader"]), None, "1234567890ab"),
            "password",
            "too_simple",
        ),
        (
            user("luo.wei", json!(["leader", "leader"]), None, GOOD_PASSWORD),
            "roles",
            "duplicate_role",
        ),
        (
            user("luo.wei", json!([]), None, GOOD_PASSWORD),
            "roles",
            "length",
        ),
    ];
    for (body, field, rule) in cases {
        let response = app.post("/users", Some(&admin), body.clone()).await;
        let problem = assert_problem(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["fields"][field][0], rule, "{body}");
    }
    let unknown_role = app
        .post(
            "/users",
            Some(&admin),
            user("luo.wei", json!(["mayor"]), None, GOOD_PASSWORD),
        )
        .await;
    assert_problem(
        unknown_role,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await;

    // Nothing of the refused attempts was kept.
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM users"), 1);

    app.create_user(&admin, "Luo.Wei", &["representative"], None)
        .await;
    let taken = app
        .post(
            "/users",
            Some(&admin),
            user("luo.wei", json!(["leader"]), None, GOOD_PASSWORD),
        )
        .await;
    assert_problem(taken, StatusCode::CONFLICT, "username_taken").await;
}

#[actix_web::test]
async fn updates_need_the_current_version_and_role_changes_revoke_tokens() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let id = app
        .create_user(&admin, "he.ping", &["ufwd_staff"], None)
        .await;
    let token = access_token(&app.login("he.ping", GOOD_PASSWORD).await);
    let path = format!("/users/{id}");

    let response = app.get(&path, &admin).await;
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, "\"1\"");

    let missing = app
        .patch(&path, &admin, None, json!({"display_name": "何平"}))
        .await;
    assert_problem(
        missing,
        StatusCode::PRECONDITION_REQUIRED,
        "if_match_required",
    )
    .await;
    let stale = app
        .patch(
            &path,
            &admin,
            Some("\"7\""),
            json!({"display_name": "何平"}),
        )
        .await;
    assert_problem(stale, StatusCode::PRECONDITION_FAILED, "version_mismatch").await;

    // A display name change keeps the user's tokens.
    let renamed = app
        .patch(&path, &admin, Some(&etag), json!({"display_name": "何平"}))
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    assert_eq!(renamed.headers()["etag"], "\"2\"");
    assert_eq!(app.get("/me", &token).await.status(), StatusCode::OK);

    // The old ETag is now stale.
    let stale = app
        .patch(&path, &admin, Some(&etag), json!({"roles": ["org_staff"]}))
        .await;
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);

    let changed = app
        .patch(
            &path,
            &admin,
            Some("\"2\""),
            json!({"roles": ["org_staff", "leader"]}),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let body: Value = changed.json().await.unwrap();
    assert_eq!(body["roles"], json!(["org_staff", "leader"]));
    assert_eq!(
        app.get("/me", &token).await.status(),
        StatusCode::UNAUTHORIZED
    );

    let me: Value = app
        .get(
            "/me",
            &access_token(&app.login("he.ping", GOOD_PASSWORD).await),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["display_name"], "何平");
    assert_eq!(me["roles"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn the_last_active_administrator_cannot_be_removed() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let demote = app
        .patch(
            "/users/1",
            &admin,
            Some("\"1\""),
            json!({"roles": ["leader"]}),
        )
        .await;
    assert_problem(demote, StatusCode::CONFLICT, "last_admin").await;
    let deactivate = app
        .patch("/users/1", &admin, Some("\"1\""), json!({"active": false}))
        .await;
    assert_problem(deactivate, StatusCode::CONFLICT, "last_admin").await;

    // With a second administrator, the first may step down.
    app.create_user(&admin, "second.admin", &["admin"], None)
        .await;
    let demote = app
        .patch(
            "/users/1",
            &admin,
            Some("\"1\""),
            json!({"roles": ["leader"]}),
        )
        .await;
    assert_eq!(demote.status(), StatusCode::OK);
}

#[actix_web::test]
async fn admin_resets_a_password_and_the_user_is_signed_out() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let id = app.create_user(&admin, "sun.li", &["leader"], None).await;
    let token = access_token(&app.login("sun.li", GOOD_PASSWORD).await);
    let reset = |password: &str| {
        app.request(
            Method::POST,
            &format!("/users/{id}/reset-password"),
            Some(&admin),
        )
        .json(&json!({"new_password": password}))
        .send()
    };
    let weak = reset("123456789012").await.unwrap();
    assert_problem(weak, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(
        reset("river stones under the bridge")
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get("/me", &token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.login("sun.li", "river stones under the bridge").await;

    let missing = app
        .request(Method::POST, "/users/999999/reset-password", Some(&admin))
        .json(&json!({"new_password": "river stones under the bridge"}))
        .send()
        .await
        .unwrap();
    assert_problem(missing, StatusCode::NOT_FOUND, "not_found").await;
}

#[actix_web::test]
async fn users_are_listed_in_pages_with_filters() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for i in 0..5 {
        app.create_user(&admin, &format!("leader.{i}"), &["leader"], None)
            .await;
    }
    app.create_user(&admin, "staff.one", &["ufwd_staff"], None)
        .await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/users?role=leader&limit=2&cursor={c}"),
            None => "/users?role=leader&limit=2".to_owned(),
        };
        let page: Value = app.get(&path, &admin).await.json().await.unwrap();
        for item in page["items"].as_array().unwrap() {
            seen.push(item["username"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        seen,
        (0..5).map(|i| format!("leader.{i}")).collect::<Vec<_>>()
    );

    let found: Value = app
        .get("/users?q=STAFF", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let none: Value = app.get("/users?q=%25", &admin).await.json().await.unwrap();
    assert_eq!(
        none["items"].as_array().unwrap().len(),
        0,
        "LIKE wildcards are escaped"
    );

    let bad = app.get("/users?limit=500", &admin).await;
    assert_problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let bad = app.get("/users?cursor=zzz", &admin).await;
    assert_problem(bad, StatusCode::BAD_REQUEST, "invalid_cursor").await;
    let bad = app.get("/users?role=mayor", &admin).await;
    assert_problem(bad, StatusCode::BAD_REQUEST, "invalid_query").await;
}
