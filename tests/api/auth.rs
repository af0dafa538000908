//! Login, throttling, token refresh and revocation.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{access_token, assert_problem, TestApp, GOOD_PASSWORD};

#[actix_web::test]
async fn first_admin_logs_in_with_the_generated_password_kept_in_a_private_file() {
    let mut app = TestApp::spawn().await;
    let path = app.data_dir.join("initial-admin-password");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(app.admin_password.len() >= 20);
    let tokens = app.login("admin", &app.admin_password).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    let me: Value = app
        .get("/me", &access_token(&tokens))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "admin");
    assert_eq!(me["roles"][0]["role"], "admin");

    // A restart finds a user and creates no second administrator.
    std::fs::remove_file(&path).unwrap();
    app.restart().await;
    assert!(!path.exists());
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM users"), 1);
    app.login("admin", &app.admin_password).await;
}

#[actix_web::test]
async fn unknown_user_wrong_password_and_inactive_account_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let id = app
        .create_user(&admin, "zhang.wei", &["ufwd_staff"], None)
        .await;

    let wrong = assert_problem(
        app.login_response("zhang.wei", "not the password at all")
            .await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let unknown = assert_problem(
        app.login_response("nobody.here", GOOD_PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert_eq!(wrong["detail"], unknown["detail"]);

    let user: Value = app
        .get(&format!("/users/{id}"), &admin)
        .await
        .json()
        .await
        .unwrap();
    let response = app
        .patch(
            &format!("/users/{id}"),
            &admin,
            Some(&format!("\"{}\"", user["version"])),
            json!({"active": false}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let inactive = assert_problem(
        app.login_response("zhang.wei", GOOD_PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert_eq!(inactive["detail"], wrong["detail"]);

    // User names are case-insensitive.
    app.login("ADMIN", &app.admin_password).await;
}

#[actix_web::test]
async fn five_failures_lock_the_account_with_retry_after_even_across_a_restart() {
    let mut app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.create_user(&admin, "li.na", &["org_staff"], None).await;
    for _ in 0..5 {
        let response = app.login_response("li.na", "a wrong password here").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    // Locked: even the right password is refused, with the time to wait.
    let response = app.login_response("li.na", GOOD_PASSWORD).await;
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((800..=900).contains(&retry_after), "{retry_after}");
    assert_problem(response, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;

    // The lock lives in the database.
    app.restart().await;
    let response = app.login_response("li.na", GOOD_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);

    // Unknown names lock the same way, so a lock does not tell that an account exists.
    for _ in 0..5 {
        app.login_response("ghost", "a wrong password here").await;
    }
    assert_eq!(
        app.login_response("ghost", "a wrong password here")
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );

    // Other accounts are unaffected; failed logins are audited without the password.
    app.login("admin", &app.admin_password).await;
    assert!(
        app.count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'auth.login_failed'")
            >= 10
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) AS n FROM audit_events WHERE after_json LIKE '%wrong password%'"
        ),
        0
    );
}

#[actix_web::test]
async fn the_lock_grows_with_each_lockout() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        app.login_response("wang.fang", "a wrong password here")
            .await;
    }
    // Let the first lock expire behind the app's back, then fail five times again.
    app.execute("UPDATE login_throttle SET locked_until = NULL");
    for _ in 0..5 {
        app.login_response("wang.fang", "a wrong password here")
            .await;
    }
    let response = app
        .login_response("wang.fang", "a wrong password here")
        .await;
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1700..=1800).contains(&retry_after),
        "second lock is 30 minutes: {retry_after}"
    );
}

#[actix_web::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_session() {
    let app = TestApp::spawn().await;
    let first = app.login("admin", &app.admin_password).await;
    let other_session = app.login("admin", &app.admin_password).await;

    let response = app
        .post(
            "/auth/refresh",
            None,
            json!({"refresh_token": first["refresh_token"]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let second: Value = response.json().await.unwrap();
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_eq!(
        app.get("/me", &access_token(&second)).await.status(),
        StatusCode::OK
    );

    // The spent token comes back: refused, and the session it belongs to ends.
    let reuse = app
        .post(
            "/auth/refresh",
            None,
            json!({"refresh_token": first["refresh_token"]}),
        )
        .await;
    assert_problem(reuse, StatusCode::UNAUTHORIZED, "invalid_token").await;
    let after = app
        .post(
            "/auth/refresh",
            None,
            json!({"refresh_token": second["refresh_token"]}),
        )
        .await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    let me = app.get("/me", &access_token(&second)).await;
    assert_eq!(
        me.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    assert_problem(me, StatusCode::UNAUTHORIZED, "invalid_token").await;
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'session.reuse_detected'"),
        1
    );

    // Another login of the same user is untouched.
    assert_eq!(
        app.get("/me", &access_token(&other_session)).await.status(),
        StatusCode::OK
    );

    // Garbage is refused the same way.
    let garbage = app
        .post(
            "/auth/refresh",
            None,
            json!({"refresh_token": "not-a-token"}),
        )
        .await;
    assert_eq!(garbage.status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn logout_ends_this_session_only() {
    let app = TestApp::spawn().await;
    let a = app.login("admin", &app.admin_password).await;
    let b = app.login("admin", &app.admin_password).await;
    let response = app
        .request(Method::POST, "/auth/logout", Some(&access_token(&a)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/me", &access_token(&a)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let refresh = app
        .post(
            "/auth/refresh",
            None,
            json!({"refresh_token": a["refresh_token"]}),
        )
        .await;
    assert_eq!(refresh.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/me", &access_token(&b)).await.status(),
        StatusCode::OK
    );
}

#[actix_web::test]
async fn a_session_ended_outside_the_service_is_refused_within_a_second() {
    let app = TestApp::spawn().await;
    let token = access_token(&app.login("admin", &app.admin_password).await);
    // The service remembers the live session for a moment (auth::SessionCache)...
    assert_eq!(app.get("/me", &token).await.status(), StatusCode::OK);
    // ...and an operator ends it in the database, where the service sees no write of its own.
    app.execute("UPDATE sessions SET revoked_at = created_at");
    actix_web::rt::time::sleep(std::time::Duration::from_millis(1100)).await;
    let me = app.get("/me", &token).await;
    assert_problem(me, StatusCode::UNAUTHORIZED, "invalid_token").await;
}

#[actix_web::test]
async fn changing_the_password_checks_the_policy_and_revokes_every_session() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.create_user(&admin, "chen.jie", &["leader"], None).await;
    let tokens = app.login("chen.jie", GOOD_PASSWORD).await;
    let token = access_token(&tokens);
    let change = |current: &str, new: &str| {
        app.request(Method::PUT, "/me/password", Some(&token))
            .json(&json!({"current_password": current, "new_password": new}))
            .send()
    };

    let wrong = assert_problem(
        change("not my password!", "a brand new passphrase")
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(wrong["fields"]["current_password"][0], "incorrect");
    for (new, rule) in [
        ("short", "too_short"),
        ("qwerty123456", "too_common"),
        ("password2024!!", "too_common"),
        ("chen.jie's new password", "contains_username"),
    ] {
        let body = assert_problem(
            change(GOOD_PASSWORD, new).await.unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(body["fields"]["new_password"][0], rule, "{new}");
    }

    let response = change(GOOD_PASSWORD, "a brand new passphrase")
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/me", &token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let refresh = app
        .post(
            "/auth/refresh",
            None,
            json!({"refresh_token": tokens["refresh_token"]}),
        )
        .await;
    assert_eq!(refresh.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.login_response("chen.jie", GOOD_PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.login("chen.jie", "a brand new passphrase").await;
}

#[actix_web::test]
async fn tokens_that_are_malformed_forged_or_missing_are_refused() {
    let app = TestApp::spawn().await;
    let response = app.request(Method::GET, "/me", None).send().await.unwrap();
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    assert_problem(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;

    let token = app.admin_token().await;
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[2] = parts[2].chars().rev().collect();
    for bad in [parts.join("."), "abc".to_owned(), String::new()] {
        let response = app
            .request(Method::GET, "/me", None)
            .header("Authorization", format!("Bearer {bad}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{bad}");
    }
    let basic = app
        .request(Method::GET, "/me", None)
        .header("Authorization", "Basic YWRtaW46YWRtaW4=")
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
}
