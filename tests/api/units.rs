//! Units: the district, its townships and departments.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, TestApp};

#[actix_web::test]
async fn the_unit_hierarchy_is_enforced() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = app
        .post(
            "/units",
            Some(&admin),
            json!({"name": "武隆区", "kind": "district", "division_code": "500156"}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let district: Value = created.json().await.unwrap();
    assert_eq!(location, format!("/api/v1/units/{}", district["id"]));
    assert_eq!(district["kind_label"], "区");
    let district = district["id"].as_i64().unwrap();
    let township = app
        .create_unit(&admin, "仙女山镇", "township", Some(district))
        .await;
    let department = app
        .create_unit(&admin, "区水利局", "department", Some(district))
        .await;
    app.create_unit(&admin, "仙女山镇农业服务中心", "department", Some(township))
        .await;

    let refused = [
        json!({"name": "另一个区", "kind": "district", "parent_id": district}),
        json!({"name": "无上级镇", "kind": "township"}),
        json!({"name": "镇下镇", "kind": "township", "parent_id": township}),
        json!({"name": "部门下部门", "kind": "department", "parent_id": department}),
        json!({"name": "不存在", "kind": "department", "parent_id": 999_999}),
    ];
    for body in refused {
        let response = app.post("/units", Some(&admin), body.clone()).await;
        let problem = assert_problem(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert!(problem["fields"]["parent_id"].is_array(), "{body}");
    }
    let bad_code = app
        .post(
            "/units",
            Some(&admin),
            json!({"name": "某区", "kind": "district", "division_code": "50015X"}),
        )
        .await;
    assert_problem(
        bad_code,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;

    let duplicate = app
        .post(
            "/units",
            Some(&admin),
            json!({"name": "仙女山镇", "kind": "township", "parent_id": district}),
        )
        .await;
    assert_problem(duplicate, StatusCode::CONFLICT, "unit_name_taken").await;

    let townships: Value = app
        .get("/units?kind=township", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(townships["items"].as_array().unwrap().len(), 1);
    let children: Value = app
        .get(&format!("/units?parent_id={district}"), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(children["items"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn units_are_updated_with_if_match_and_audited() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let district = app.create_unit(&admin, "武隆区", "district", None).await;
    let other = app.create_unit(&admin, "彭水县", "district", None).await;
    let township = app
        .create_unit(&admin, "白马镇", "township", Some(district))
        .await;
    let path = format!("/units/{township}");

    let response = app.get(&path, &admin).await;
    assert_eq!(response.headers()["etag"], "\"1\"");
    let moved = app
        .patch(
            &path,
            &admin,
            Some("\"1\""),
            json!({"parent_id": other, "name": "白马镇（新）"}),
        )
        .await;
    assert_eq!(moved.status(), StatusCode::OK);
    let body: Value = moved.json().await.unwrap();
    assert_eq!(
        (body["parent_id"].as_i64(), body["version"].as_i64()),
        (Some(other), Some(2))
    );

    let orphan = app
        .patch(&path, &admin, Some("\"2\""), json!({"parent_id": null}))
        .await;
    assert_problem(
        orphan,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let missing = app
        .patch("/units/999999", &admin, Some("\"1\""), json!({"name": "x"}))
        .await;
    assert_problem(missing, StatusCode::NOT_FOUND, "not_found").await;

    let events: Value = app
        .get(
            &format!("/audit/events?entity=unit&entity_id={township}"),
            &app.token_for(&admin, "auditor").await,
        )
        .await
        .json()
        .await
        .unwrap();
    let items = events["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["action"], "unit.updated");
    assert_eq!(items[0]["before"]["parent_id"], district);
    assert_eq!(items[0]["after"]["parent_id"], other);
    assert_eq!(items[1]["action"], "unit.created");
}

/// Writes that arrive together share a transaction on the writers' thread, each in a savepoint:
/// one that fails (a name already taken) must not undo or hold back the others.
#[actix_web::test]
async fn writes_sent_at_once_each_get_their_own_answer() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let auditor = app.token_for(&admin, "auditor").await;
    let district = app.create_unit(&admin, "同时区", "district", None).await;
    let names: Vec<String> = (0..16).map(|i| format!("同时部门{i}")).collect();
    let sends = names.iter().chain(names.iter()).map(|name| {
        app.post(
            "/units",
            Some(&admin),
            json!({"name": name, "kind": "department", "parent_id": district}),
        )
    });
    let mut answers = Vec::new();
    for response in futures_util::future::join_all(sends).await {
        let status = response.status();
        answers.push((status, response.json::<Value>().await.unwrap()));
    }

    for name in &names {
        let created = answers
            .iter()
            .filter(|(status, body)| *status == StatusCode::CREATED && body["name"] == **name)
            .count();
        assert_eq!(created, 1, "{name}: {answers:?}");
    }
    let refused: Vec<_> = answers
        .iter()
        .filter(|(status, _)| *status != StatusCode::CREATED)
        .collect();
    assert_eq!(refused.len(), names.len(), "{answers:?}");
    for (status, body) in refused {
        assert_eq!(*status, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["code"], "unit_name_taken", "{body}");
    }
    for (_, unit) in answers.iter().filter(|(s, _)| *s == StatusCode::CREATED) {
        let read = app.get(&format!("/units/{}", unit["id"]), &admin).await;
        assert_eq!(read.status(), StatusCode::OK);
    }
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) AS n FROM units WHERE parent_id = {district}"
        )),
        16
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'unit.created' \
             AND entity_id IN (SELECT CAST(id AS TEXT) FROM units WHERE parent_id = {district})"
        )),
        16
    );
    let report = app.get_json("/audit/verify", &auditor).await;
    assert_eq!(report["ok"], true, "{report}");
}
