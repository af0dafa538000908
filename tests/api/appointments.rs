//! Appointment and evaluation through HTTP: stage rules, the two-department approval that the
//! proposer cannot give, appointment records whose history does not change under correction,
//! one assessment a year, rater privacy, target gaps, and the overview by role.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::cadres::{profile, CadreFixture};
use crate::helpers::{access_token, assert_problem, GOOD_PASSWORD};

struct Pool {
    f: CadreFixture,
    org: String,
    org2: String,
    ufwd2: String,
    township: i64,
    luo: i64,
}

impl Pool {
    async fn new() -> Pool {
        let f = CadreFixture::new().await;
        let org = f.app.token_for(&f.admin, "org_staff").await;
        let org2 = f.app.token_for(&f.admin, "org_staff").await;
        let ufwd2 = f.app.token_for(&f.admin, "ufwd_staff").await;
        let district = f
            .app
            .create_unit(&f.admin, "武隆区", "district", None)
            .await;
        let township = f
            .app
            .create_unit(&f.admin, "仙女山镇", "township", Some(district))
            .await;
        let mut body = profile("罗维", "19800315", 11);
        body["unit_id"] = json!(township);
        let luo = f.create_id(body).await;
        Pool {
            f,
            org,
            org2,
            ufwd2,
            township,
            luo,
        }
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> reqwest::Response {
        self.f.app.post(path, Some(token), body).await
    }

    async fn move_to(&self, entry: i64, to: &str) -> reqwest::Response {
        self.post(
            &self.org,
            &format!("/talent-pool/{entry}/transitions"),
            json!({"to": to}),
        )
        .await
    }

    async fn approve(&self, token: &str, entry: i64, decision: &str) -> reqwest::Response {
        self.post(
            token,
            &format!("/talent-pool/{entry}/approvals"),
            json!({"decision": decision, "comment": "同意"}),
        )
        .await
    }

    fn appointment(&self, valid_from: &str) -> Value {
        json!({"kind": "appointment", "position": "镇长", "unit_id": self.township, "rank": "正科级", "level": "township", "leadership": true,
               "valid_from": valid_from, "document_number": "武隆府任〔2012〕8号", "appointing_body": "仙女山镇人民代表大会"})
    }
}

#[actix_web::test]
async fn luo_wei_is_found_cultivated_recommended_inspected_approved_and_appointed() {
    let p = Pool::new().await;
    let created = p.post(&p.org, "/talent-pool", json!({"cadre_id": p.luo, "source": "民盟区委推荐，基层调研中发现", "recommended_by": "民盟武隆区委"})).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let entry = created.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_problem(
        p.post(
            &p.org,
            "/talent-pool",
            json!({"cadre_id": p.luo, "source": "again"}),
        )
        .await,
        StatusCode::CONFLICT,
        "already_in_pool",
    )
    .await;
    assert_problem(
        p.move_to(entry, "recommended").await,
        StatusCode::CONFLICT,
        "illegal_transition",
    )
    .await;

    assert_eq!(p.post(&p.f.ufwd, &format!("/cadres/{}/cultivation", p.luo), json!({"kind": "secondment", "title": "挂职锻炼", "place": "区发展改革委", "starts_on": "2010-03-01", "ends_on": "2011-03-01", "outcome": "表现优秀"})).await.status(), StatusCode::CREATED);
    assert_eq!(p.post(&p.f.ufwd, "/recommendations", json!({"cadre_id": p.luo, "recommender": "民盟武隆区委", "post_kind": "乡镇长", "reasons": "熟悉旅游经济"})).await.status(), StatusCode::CREATED);
    assert_eq!(
        p.move_to(entry, "cultivating").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        p.move_to(entry, "recommended").await.status(),
        StatusCode::OK
    );

    // Inspection needs both departments; the proposer cannot approve.
    let proposed: Value = p.move_to(entry, "inspected").await.json().await.unwrap();
    assert_eq!(
        (
            proposed["stage"].as_str(),
            proposed["proposal"]["to"].as_str()
        ),
        (Some("recommended"), Some("inspected"))
    );
    assert_problem(
        p.move_to(entry, "inspected").await,
        StatusCode::CONFLICT,
        "proposal_pending",
    )
    .await;
    assert_problem(
        p.approve(&p.org, entry, "approve").await,
        StatusCode::CONFLICT,
        "proposer_cannot_approve",
    )
    .await;
    let one: Value = p
        .approve(&p.f.ufwd, entry, "approve")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["stage"], "recommended", "one department is not enough");
    assert_problem(
        p.approve(&p.ufwd2, entry, "approve").await,
        StatusCode::CONFLICT,
        "department_already_approved",
    )
    .await;
    let both: Value = p
        .approve(&p.org2, entry, "approve")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(both["stage"], "inspected");
    assert_eq!(both["approvals"].as_array().unwrap().len(), 2);

    // A rejection of the decision returns the candidate to the previous stage.
    p.move_to(entry, "decided").await;
    let rejected: Value = p
        .approve(&p.f.ufwd, entry, "reject")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (rejected["stage"].as_str(), rejected["proposal"].is_null()),
        (Some("recommended"), true)
    );
    p.move_to(entry, "inspected").await;
    p.approve(&p.f.ufwd, entry, "approve").await;
    p.approve(&p.org2, entry, "approve").await;
    p.move_to(entry, "decided").await;
    p.approve(&p.ufwd2, entry, "approve").await;
    let decided: Value = p
        .approve(&p.org2, entry, "approve")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(decided["stage"], "decided");

    // Appointment needs its record.
    assert_problem(
        p.move_to(entry, "appointed").await,
        StatusCode::CONFLICT,
        "appointment_record_required",
    )
    .await;
    let today = Utc::now().date_naive().to_string();
    assert_eq!(
        p.post(
            &p.org,
            &format!("/cadres/{}/appointments", p.luo),
            p.appointment(&today)
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    let appointed: Value = p.move_to(entry, "appointed").await.json().await.unwrap();
    assert_eq!(appointed["stage"], "appointed");
    assert!(appointed["moves"].as_array().unwrap().len() >= 8);
    assert_problem(
        p.move_to(entry, "withdrawn").await,
        StatusCode::CONFLICT,
        "illegal_transition",
    )
    .await;

    let stats: Value =
        p.f.app
            .get("/stats/appointments", &p.f.ufwd)
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(stats["pipeline"]["appointed"], 1);
    assert_eq!(stats["average_days_to_appointment"], 0.0);
    let auditor = p.f.app.token_for(&p.f.admin, "auditor").await;
    let trail: Value =
        p.f.app
            .get(
                &format!("/audit/events?entity=pool_entry&entity_id={entry}&limit=200"),
                &auditor,
            )
            .await
            .json()
            .await
            .unwrap();
    assert!(trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "pool_entry.move_rejected"));
}

#[actix_web::test]
async fn a_correction_leaves_the_answer_for_an_earlier_date_unchanged() {
    let p = Pool::new().await;
    let first: Value = p
        .post(
            &p.org,
            &format!("/cadres/{}/appointments", p.luo),
            p.appointment("2012-03-01"),
        )
        .await
        .json()
        .await
        .unwrap();
    let recorded_on = Utc::now().date_naive();
    p.f.app.clock.advance(Duration::days(10));
    let mut corrected = p.appointment("2012-02-20");
    corrected["document_number"] = json!("武隆府任〔2012〕7号");
    let correction = p
        .post(
            &p.org,
            &format!("/appointments/{}/corrections", first["id"]),
            json!({"record": corrected, "reason": "任职时间与文号录入有误"}),
        )
        .await;
    assert_eq!(correction.status(), StatusCode::CREATED);
    let correction: Value = correction.json().await.unwrap();
    assert_problem(
        p.post(
            &p.org,
            &format!("/appointments/{}/corrections", first["id"]),
            json!({"record": p.appointment("2012-01-01"), "reason": "again"}),
        )
        .await,
        StatusCode::CONFLICT,
        "already_corrected",
    )
    .await;

    let auditor = p.f.app.token_for(&p.f.admin, "auditor").await;
    let before: Value =
        p.f.app
            .get(
                &format!("/cadres/{}/appointments/history?as_of={recorded_on}", p.luo),
                &auditor,
            )
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(before["records"].as_array().unwrap().len(), 1);
    assert_eq!(
        before["records"][0]["document_number"],
        "武隆府任〔2012〕8号"
    );
    assert_eq!(before["records"][0]["later_corrected_by"], correction["id"]);
    assert_eq!(before["records"][0]["in_effect"], true);
    let after_day = recorded_on + Duration::days(10);
    let after: Value =
        p.f.app
            .get(
                &format!("/cadres/{}/appointments/history?as_of={after_day}", p.luo),
                &auditor,
            )
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(
        after["records"][0]["document_number"],
        "武隆府任〔2012〕7号"
    );
    assert_eq!(after["records"][0]["supersedes"], first["id"]);
    assert!(after["records"][0]["recorded_by_name"]
        .as_str()
        .is_some_and(|n| !n.is_empty()));
    assert_eq!(after["corrections"][0]["reason"], "任职时间与文号录入有误");
    assert_eq!(
        after["all_records"].as_array().unwrap().len(),
        2,
        "both records stay visible to auditors"
    );
    let long_ago: Value =
        p.f.app
            .get(
                &format!("/cadres/{}/appointments/history?as_of=2011-01-01", p.luo),
                &auditor,
            )
            .await
            .json()
            .await
            .unwrap();
    assert!(
        long_ago["records"].as_array().unwrap().is_empty(),
        "nothing was recorded then"
    );

    // The auditor changes nothing.
    for (path, body) in [
        (
            format!("/cadres/{}/appointments", p.luo),
            p.appointment("2013-01-01"),
        ),
        (
            format!("/appointments/{}/corrections", correction["id"]),
            json!({"record": p.appointment("2013-01-01"), "reason": "x"}),
        ),
        (
            "/talent-pool".to_owned(),
            json!({"cadre_id": p.luo, "source": "x"}),
        ),
        (
            "/assessments".to_owned(),
            json!({"cadre_id": p.luo, "year": 2025, "grade": "excellent"}),
        ),
    ] {
        assert_eq!(
            p.post(&auditor, &path, body).await.status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }

    // A representative reads its own appointments only.
    let rep = p.f.representative_of(p.luo, "luo.wei").await;
    let own: Value =
        p.f.app
            .get(&format!("/cadres/{}/appointments", p.luo), &rep)
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(own.as_array().unwrap().len(), 1);
    let other = p.f.create_id(profile("张芳", "19850101", 22)).await;
    assert_problem(
        p.f.app
            .get(&format!("/cadres/{other}/appointments/history"), &rep)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[actix_web::test]
async fn assessments_are_yearly_and_ratings_stay_private_until_the_cycle_closes() {
    let p = Pool::new().await;
    assert_eq!(
        p.post(
            &p.org,
            "/assessments",
            json!({"cadre_id": p.luo, "year": 2025, "grade": "excellent"})
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    assert_problem(
        p.post(
            &p.org,
            "/assessments",
            json!({"cadre_id": p.luo, "year": 2025, "grade": "competent"}),
        )
        .await,
        StatusCode::CONFLICT,
        "assessment_exists",
    )
    .await;
    assert_eq!(
        p.post(
            &p.f.ufwd,
            "/assessments",
            json!({"cadre_id": p.luo, "year": 2024, "grade": "competent"})
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    let seen: Value =
        p.f.app
            .get(&format!("/assessments?cadre_id={}", p.luo), &p.f.ufwd)
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(seen[0]["grade_label"], "优秀");

    let cycle: Value = p.post(&p.f.ufwd, "/evaluation-cycles", json!({"name": "2026年度党外干部评价", "criteria": [{"name": "履职能力", "weight": 60}, {"name": "参政议政", "weight": 40}]})).await.json().await.unwrap();
    let ratings = format!("/evaluation-cycles/{}/ratings", cycle["id"]);
    assert_eq!(
        p.post(
            &p.f.ufwd,
            &ratings,
            json!({"cadre_id": p.luo, "scores": {"履职能力": 90, "参政议政": 80}})
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        p.post(
            &p.org,
            &ratings,
            json!({"cadre_id": p.luo, "scores": {"履职能力": 70, "参政议政": 60}})
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    // A user of the cadre's own unit rates too (here the cadre works in a department).
    let district: Value =
        p.f.app
            .get("/units?kind=district", &p.f.admin)
            .await
            .json()
            .await
            .unwrap();
    let tourism =
        p.f.app
            .create_unit(
                &p.f.admin,
                "区文化旅游委",
                "department",
                district["items"][0]["id"].as_i64(),
            )
            .await;
    let mut moved = p.f.app.get(&format!("/cadres/{}", p.luo), &p.f.ufwd).await;
    let version = moved.headers()["etag"].to_str().unwrap().to_owned();
    moved =
        p.f.app
            .patch(
                &format!("/cadres/{}", p.luo),
                &p.f.ufwd,
                Some(&version),
                json!({"unit_id": tourism}),
            )
            .await;
    assert_eq!(moved.status(), StatusCode::OK);
    p.f.app
        .create_user(&p.f.admin, "wenlv", &["department"], Some(tourism))
        .await;
    let dept_token = access_token(&p.f.app.login("wenlv", GOOD_PASSWORD).await);
    assert_eq!(
        p.post(
            &dept_token,
            &ratings,
            json!({"cadre_id": p.luo, "scores": {"履职能力": 80, "参政议政": 100}})
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    let other = p.f.create_id(profile("张芳", "19850101", 22)).await;
    let not_mine = p
        .post(
            &dept_token,
            &ratings,
            json!({"cadre_id": other, "scores": {"履职能力": 80, "参政议政": 80}}),
        )
        .await;
    assert_problem(
        not_mine,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_problem(
        p.post(
            &p.f.ufwd,
            &ratings,
            json!({"cadre_id": p.luo, "scores": {"履职能力": 90, "参政议政": 80}}),
        )
        .await,
        StatusCode::CONFLICT,
        "already_rated",
    )
    .await;
    assert_problem(
        p.post(
            &p.org2,
            &ratings,
            json!({"cadre_id": p.luo, "scores": {"履职能力": 90}}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;

    let mine: Value = p.f.app.get(&ratings, &p.f.ufwd).await.json().await.unwrap();
    assert_eq!(
        mine["ratings"].as_array().unwrap().len(),
        1,
        "a rater sees only its own until close"
    );
    assert!(mine["results"].is_null());
    let leader = p.f.app.token_for(&p.f.admin, "leader").await;
    let leaders_view: Value = p.f.app.get(&ratings, &leader).await.json().await.unwrap();
    assert!(leaders_view["ratings"].as_array().unwrap().is_empty());

    assert_eq!(
        p.post(
            &p.org,
            &format!("/evaluation-cycles/{}/close", cycle["id"]),
            json!({})
        )
        .await
        .status(),
        StatusCode::OK
    );
    assert_problem(
        p.post(
            &p.org2,
            &ratings,
            json!({"cadre_id": p.luo, "scores": {"履职能力": 90, "参政议政": 80}}),
        )
        .await,
        StatusCode::CONFLICT,
        "cycle_closed",
    )
    .await;
    let all: Value = p.f.app.get(&ratings, &leader).await.json().await.unwrap();
    assert_eq!(all["ratings"].as_array().unwrap().len(), 3);
    let result = &all["results"][0];
    assert_eq!(
        (&result["cadre_id"], &result["cadre_name"]),
        (&json!(p.luo), &json!("罗维"))
    );
    // Weighted: (90*.6+80*.4)=86, (70*.6+60*.4)=66, (80*.6+100*.4)=88 -> mean 80.0.
    assert_eq!(
        (result["raters"].as_i64(), result["weighted_score"].as_f64()),
        (Some(3), Some(80.0))
    );
    assert_eq!(result["by_criterion"]["履职能力"], 80.0);
    let dept_after: Value =
        p.f.app
            .get(&ratings, &dept_token)
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(
        dept_after["ratings"].as_array().unwrap().len(),
        1,
        "a unit rater still sees its own only"
    );
}

#[actix_web::test]
async fn targets_report_the_gap_and_the_overview_follows_the_role() {
    let p = Pool::new().await;
    assert_problem(
        p.post(
            &p.org,
            "/appointment-targets",
            json!({"leadership_posts": 10, "target_percent": 30}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        p.post(
            &p.org,
            "/appointment-targets",
            json!({"level": "township", "leadership_posts": 10, "target_percent": 30})
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        p.post(
            &p.org,
            "/appointment-targets",
            json!({"unit_id": p.township, "leadership_posts": 4, "target_percent": 25})
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    p.post(
        &p.org,
        &format!("/cadres/{}/appointments", p.luo),
        p.appointment("2012-03-01"),
    )
    .await;
    // An ended post and a non-leadership post do not count.
    let mut ended = p.appointment("2005-01-01");
    ended["valid_to"] = json!("2010-12-31");
    let other = p.f.create_id(profile("张芳", "19850101", 22)).await;
    p.post(&p.org, &format!("/cadres/{other}/appointments"), ended)
        .await;
    let mut staff_post = p.appointment("2015-01-01");
    staff_post["leadership"] = json!(false);
    p.post(&p.org, &format!("/cadres/{other}/appointments"), staff_post)
        .await;

    let stats: Value =
        p.f.app
            .get("/stats/appointments", &p.f.ufwd)
            .await
            .json()
            .await
            .unwrap();
    let level = &stats["targets"][0];
    assert_eq!(
        (
            level["held"].as_i64(),
            level["current_percent"].as_f64(),
            level["gap_posts"].as_i64()
        ),
        (Some(1), Some(10.0), Some(2))
    );
    let unit = &stats["targets"][1];
    assert_eq!(
        (
            unit["held"].as_i64(),
            unit["current_percent"].as_f64(),
            unit["gap_posts"].as_i64()
        ),
        (Some(1), Some(25.0), Some(0))
    );

    p.post(
        &p.org,
        "/assessments",
        json!({"cadre_id": p.luo, "year": 2025, "grade": "excellent"}),
    )
    .await;
    let leader = p.f.app.token_for(&p.f.admin, "leader").await;
    let full: Value =
        p.f.app
            .get(&format!("/cadres/{}/overview", p.luo), &leader)
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(full["profile"]["name"], "罗维");
    assert_eq!(full["appointments"].as_array().unwrap().len(), 1);
    assert_eq!(full["assessments"][0]["grade"], "excellent");
    assert!(full["talent_pool"].is_array() && full["invitations"].is_array());
    assert!(
        full.get("suggestions").is_none(),
        "a leader reads only the suggestions presented to it"
    );
    assert!(
        full.get("pairings").is_none(),
        "a leader does not read every pairing"
    );
    let rep = p.f.representative_of(p.luo, "luo.wei").await;
    let own: Value =
        p.f.app
            .get(&format!("/cadres/{}/overview", p.luo), &rep)
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(own["appointments"].as_array().unwrap().len(), 1);
    assert!(own.get("assessments").is_none() && own.get("talent_pool").is_none());
    assert_problem(
        p.f.app
            .get(&format!("/cadres/{other}/overview"), &rep)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let dept = p.f.app.token_for(&p.f.admin, "department").await;
    assert_eq!(
        p.f.app
            .get(&format!("/cadres/{}/overview", p.luo), &dept)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let ufwd_view: Value =
        p.f.app
            .get(&format!("/cadres/{}/overview", p.luo), &p.f.ufwd)
            .await
            .json()
            .await
            .unwrap();
    assert!(ufwd_view["pairings"].is_array());
}
