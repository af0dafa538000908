//! The audit log: every change recorded in its transaction, readable by auditors, and a chain
//! that names the first row edited behind the application's back.

use std::process::Command;

use diesel::connection::SimpleConnection;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{on_postgres, TestApp};

fn verify_with_cli(app: &TestApp) -> (bool, Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_tongxin"))
        .args(["audit", "verify"])
        .env("TONGXIN_DATABASE_URL", &app.config.database_url)
        .env("TONGXIN_DATA_DIR", &app.data_dir)
        .env("TONGXIN_LOG", "off")
        .output()
        .expect("run tongxin audit verify");
    let report = serde_json::from_slice(&output.stdout).expect("verify prints JSON");
    (output.status.success(), report)
}

#[actix_web::test]
async fn changes_are_audited_with_actor_before_after_and_request_id() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let auditor = app.token_for(&admin, "auditor").await;
    let response = app
        .request(reqwest::Method::POST, "/users", Some(&admin))
        .header("X-Request-Id", "req-audit-1")
        .json(&json!({"username": "zhao.lei", "display_name": "赵磊", "password": "plum blossom in the snow 2026", "roles": ["leader"]}))
        .send()
        .await
        .unwrap();
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();

    let events: Value = app
        .get(
            &format!("/audit/events?entity=user&entity_id={id}&action=user.created"),
            &auditor,
        )
        .await
        .json()
        .await
        .unwrap();
    let event = &events["items"][0];
    assert_eq!(event["actor_id"], 1);
    assert_eq!(event["actor_label"], "admin");
    assert_eq!(event["actor_roles"], json!(["admin"]));
    assert_eq!(event["request_id"], "req-audit-1");
    assert_eq!(event["after"]["username"], "zhao.lei");
    assert_eq!(event["after"]["roles"], json!(["leader"]));
    assert!(event["before"].is_null());
    assert_eq!(event["hash"].as_str().unwrap().len(), 64);

    // The bootstrap, the logins and the creations are all there, newest first, in pages.
    let page: Value = app
        .get("/audit/events?limit=3", &auditor)
        .await
        .json()
        .await
        .unwrap();
    let seqs: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs.len(), 3);
    assert!(seqs.windows(2).all(|w| w[0] > w[1]));
    let next: Value = app
        .get(
            &format!(
                "/audit/events?limit=3&cursor={}",
                page["next_cursor"].as_str().unwrap()
            ),
            &auditor,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(next["items"][0]["seq"].as_i64().unwrap() < seqs[2]);

    let logins: Value = app
        .get(
            "/audit/events?action=auth.login_succeeded&actor_id=1",
            &auditor,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(logins["items"].as_array().unwrap().len(), 1);
    let future: Value = app
        .get("/audit/events?from=2999-01-01T00:00:00Z", &auditor)
        .await
        .json()
        .await
        .unwrap();
    assert!(future["items"].as_array().unwrap().is_empty());
}

#[actix_web::test]
async fn a_failed_change_leaves_no_audit_row() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.create_user(&admin, "qian.yu", &["leader"], None).await;
    let before = app.count("SELECT COUNT(*) AS n FROM audit_events");
    let duplicate = app
        .post("/users", Some(&admin), json!({"username": "qian.yu", "display_name": "钱宇", "password": "plum blossom in the snow 2026", "roles": ["leader"]}))
        .await;
    assert_eq!(duplicate.status(), StatusCode::CONFLICT);
    let last_admin = app
        .patch("/users/1", &admin, Some("\"1\""), json!({"active": false}))
        .await;
    assert_eq!(last_admin.status(), StatusCode::CONFLICT);
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM audit_events"), before);
}

#[actix_web::test]
async fn the_database_refuses_to_edit_audit_rows() {
    let app = TestApp::spawn().await;
    let mut conn = app.db();
    assert!(conn
        .batch_execute("UPDATE audit_events SET actor_label = 'x' WHERE seq = 1")
        .is_err());
    assert!(conn
        .batch_execute("DELETE FROM audit_events WHERE seq = 1")
        .is_err());
}

#[actix_web::test]
async fn verify_names_the_first_row_edited_behind_the_apps_back() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let auditor = app.token_for(&admin, "auditor").await;
    for i in 0..3 {
        app.create_user(&admin, &format!("staff.{i}"), &["ufwd_staff"], None)
            .await;
    }
    let report: Value = app
        .get("/audit/verify", &auditor)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["ok"], true);
    let total = app.count("SELECT COUNT(*) AS n FROM audit_events");
    assert_eq!(report["checked"], total);
    let (ok, cli_report) = verify_with_cli(&app);
    assert!(ok, "{cli_report}");

    // Someone with database access rewrites row 4 (disabling the guard first).
    let disable_guard = if on_postgres() {
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"
    } else {
        "DROP TRIGGER audit_events_no_update"
    };
    app.execute(disable_guard);
    app.execute(
        "UPDATE audit_events SET after_json = '{\"username\":\"someone.else\"}' WHERE seq = 4",
    );

    let report: Value = app
        .get("/audit/verify", &auditor)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(
        report["first_broken"],
        json!({"seq": 4, "reason": "hash_mismatch"})
    );
    let (ok, cli_report) = verify_with_cli(&app);
    assert!(!ok);
    assert_eq!(cli_report["first_broken"]["seq"], 4);
}

#[actix_web::test]
async fn removing_the_newest_rows_is_detected() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let auditor = app.token_for(&admin, "auditor").await;
    let total = app.count("SELECT COUNT(*) AS n FROM audit_events");
    let disable_guard = if on_postgres() {
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"
    } else {
        "DROP TRIGGER audit_events_no_delete"
    };
    app.execute(disable_guard);
    app.execute(&format!("DELETE FROM audit_events WHERE seq = {total}"));
    // The auditor's own login was the last row; verifying needs no new row.
    let report: Value = app
        .get("/audit/verify", &auditor)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["first_broken"]["reason"], "head_mismatch");
}
