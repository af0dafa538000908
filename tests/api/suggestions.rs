//! The direct channel through HTTP: the whole path with two departments, every illegal move,
//! idempotent submission, rounds, deadlines on a controllable clock, reminders once only, each
//! role's scope, and the statistics.

use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::cadres::{profile, CadreFixture};
use crate::helpers::{access_token, assert_problem, GOOD_PASSWORD};

struct Channel {
    f: CadreFixture,
    /// The author and a co-signer (representatives), and another representative.
    author: String,
    cosigner: (String, i64),
    stranger: String,
    leader: (String, i64),
    other_leader: String,
    /// Departments: units and a user of each.
    transport: (i64, String),
    water: (i64, String),
}

async fn user(
    f: &CadreFixture,
    username: &str,
    roles: &[&str],
    unit: Option<i64>,
) -> (String, i64) {
    let id = f.app.create_user(&f.admin, username, roles, unit).await;
    (
        access_token(&f.app.login(username, GOOD_PASSWORD).await),
        id,
    )
}

impl Channel {
    async fn new() -> Channel {
        let f = CadreFixture::new().await;
        let district = f
            .app
            .create_unit(&f.admin, "武隆区", "district", None)
            .await;
        let transport_unit = f
            .app
            .create_unit(&f.admin, "区交通局", "department", Some(district))
            .await;
        let water_unit = f
            .app
            .create_unit(&f.admin, "区水利局", "department", Some(district))
            .await;
        let a = f.create_id(profile("罗维", "19800315", 11)).await;
        let b = f.create_id(profile("张芳", "19850101", 22)).await;
        let c = f.create_id(profile("陈晨", "19820101", 15)).await;
        let author = f.representative_of(a, "luo.wei").await;
        let cosigner = (f.representative_of(b, "zhang.fang").await, b);
        let stranger = f.representative_of(c, "chen.chen").await;
        let leader = user(&f, "li.shuji", &["leader"], None).await;
        let other_leader = user(&f, "wang.quzhang", &["leader"], None).await.0;
        let transport = (
            transport_unit,
            user(&f, "jiaotong", &["department"], Some(transport_unit))
                .await
                .0,
        );
        let water = (
            water_unit,
            user(&f, "shuili", &["department"], Some(water_unit))
                .await
                .0,
        );
        Channel {
            f,
            author,
            cosigner,
            stranger,
            leader,
            other_leader,
            transport,
            water,
        }
    }

    async fn submit(&self, key: Option<&str>, title: &str) -> reqwest::Response {
        let mut request = self.f.app.request(Method::POST, "/suggestions", Some(&self.author)).json(&json!({
            "title": title, "body": "建议分段建设仙女山旅游公路，先修通景区连接线。", "category": "urban_construction",
            "cosigner_cadre_ids": [self.cosigner.1],
        }));
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        request.send().await.unwrap()
    }

    async fn act(&self, token: &str, path: String, body: Value) -> reqwest::Response {
        self.f.app.post(&path, Some(token), body).await
    }

    /// Submitted, accepted, presented to the leader, instructed to transport (lead) and water.
    async fn instructed(&self, title: &str) -> (i64, i64, i64) {
        let s: Value = self.submit(None, title).await.json().await.unwrap();
        let id = s["id"].as_i64().unwrap();
        assert_eq!(
            self.act(
                &self.f.ufwd,
                format!("/suggestions/{id}/intake"),
                json!({"decision": "accept"})
            )
            .await
            .status(),
            StatusCode::OK
        );
        assert_eq!(
            self.act(
                &self.f.ufwd,
                format!("/suggestions/{id}/present"),
                json!({"leader_ids": [self.leader.1]})
            )
            .await
            .status(),
            StatusCode::OK
        );
        let due = (Utc::now() + Duration::days(30)).date_naive().to_string();
        let instructed = self
            .act(&self.leader.0, format!("/suggestions/{id}/instructions"), json!({"text": "请区交通局牵头研究办理，区水利局配合。", "lead_unit_id": self.transport.0, "co_unit_ids": [self.water.0], "due_on": due}))
            .await;
        assert_eq!(instructed.status(), StatusCode::OK);
        let view: Value = instructed.json().await.unwrap();
        let assignment = |unit: i64| {
            view["assignments"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["unit_id"] == unit)
                .unwrap()["id"]
                .as_i64()
                .unwrap()
        };
        (id, assignment(self.transport.0), assignment(self.water.0))
    }
}

#[actix_web::test]
async fn a_suggestion_goes_the_whole_way_with_two_departments() {
    let ch = Channel::new().await;
    let (id, lead, co) = ch.instructed("关于仙女山旅游公路建设的建议").await;
    let confirmed = ch
        .act(
            &ch.cosigner.0,
            format!("/suggestions/{id}/cosign"),
            json!({}),
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);

    // Both departments were told of their new assignment.
    for token in [&ch.transport.1, &ch.water.1] {
        let notes: Value =
            ch.f.app
                .get("/me/notifications", token)
                .await
                .json()
                .await
                .unwrap();
        assert_eq!(notes["items"][0]["kind"], "assignment_new");
    }
    assert_eq!(
        ch.act(
            &ch.transport.1,
            format!("/assignments/{lead}/acknowledge"),
            json!({})
        )
        .await
        .status(),
        StatusCode::OK
    );
    let progress = ch
        .act(
            &ch.transport.1,
            format!("/assignments/{lead}/progress"),
            json!({"text": "已开展现场踏勘", "internal_notes": "预算待区财政局确认"}),
        )
        .await;
    assert_eq!(progress.status(), StatusCode::OK);
    assert_eq!(
        ch.act(
            &ch.water.1,
            format!("/assignments/{co}/acknowledge"),
            json!({})
        )
        .await
        .status(),
        StatusCode::OK
    );
    let co_reply = ch
        .act(
            &ch.water.1,
            format!("/assignments/{co}/reply"),
            json!({"result": "for_reference", "explanation": "水利设施配套意见已提供"}),
        )
        .await;
    assert_eq!(co_reply.status(), StatusCode::OK);
    let still: Value =
        ch.f.app
            .get(&format!("/suggestions/{id}"), &ch.f.ufwd)
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(
        still["status"], "instructed",
        "a co-handling reply does not make it replied"
    );

    let reply = ch
        .act(
            &ch.transport.1,
            format!("/assignments/{lead}/reply"),
            json!({"result": "included_in_plan", "explanation": "连接线已纳入2027年建设计划"}),
        )
        .await;
    assert_eq!(reply.status(), StatusCode::OK);
    let author_view: Value =
        ch.f.app
            .get(&format!("/suggestions/{id}"), &ch.author)
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(author_view["status"], "replied");
    assert!(
        author_view["assignments"][0]
            .get("internal_notes")
            .is_none(),
        "the author does not see a department's notes"
    );
    assert_eq!(author_view["cosigners"][0]["confirmed"], true);
    let told: Value =
        ch.f.app
            .get("/me/notifications", &ch.author)
            .await
            .json()
            .await
            .unwrap();
    assert!(told["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["kind"] == "reply_received"));

    let rated = ch
        .act(
            &ch.author,
            format!("/suggestions/{id}/evaluation"),
            json!({"rating": "satisfied"}),
        )
        .await;
    assert_eq!(rated.status(), StatusCode::OK);
    let done: Value = rated.json().await.unwrap();
    assert_eq!(
        (
            done["status"].as_str(),
            done["ratings"][0]["rating"].as_str()
        ),
        (Some("closed"), Some("satisfied"))
    );
    let auditor = ch.f.app.token_for(&ch.f.admin, "auditor").await;
    let trail: Value =
        ch.f.app
            .get(
                &format!("/audit/events?entity=suggestion&entity_id={id}&limit=200"),
                &auditor,
            )
            .await
            .json()
            .await
            .unwrap();
    let actions: Vec<&str> = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "suggestion.submitted",
        "suggestion.intake",
        "suggestion.presented",
        "suggestion.instructed",
        "suggestion.cosigned",
        "suggestion.replied",
        "suggestion.rated",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

#[actix_web::test]
async fn every_illegal_move_is_refused_with_the_reason() {
    let ch = Channel::new().await;
    let s: Value = ch.submit(None, "一条建议").await.json().await.unwrap();
    let id = s["id"].as_i64().unwrap();
    let conflict = |response: reqwest::Response| {
        assert_problem(response, StatusCode::CONFLICT, "illegal_transition")
    };
    conflict(
        ch.act(
            &ch.f.ufwd,
            format!("/suggestions/{id}/present"),
            json!({"leader_ids": [ch.leader.1]}),
        )
        .await,
    )
    .await;
    conflict(
        ch.act(
            &ch.author,
            format!("/suggestions/{id}/evaluation"),
            json!({"rating": "satisfied"}),
        )
        .await,
    )
    .await;
    let refuse = ch
        .act(
            &ch.f.ufwd,
            format!("/suggestions/{id}/intake"),
            json!({"decision": "not_accept"}),
        )
        .await;
    assert_problem(
        refuse,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        ch.act(
            &ch.f.ufwd,
            format!("/suggestions/{id}/intake"),
            json!({"decision": "accept"})
        )
        .await
        .status(),
        StatusCode::OK
    );
    conflict(
        ch.act(
            &ch.f.ufwd,
            format!("/suggestions/{id}/intake"),
            json!({"decision": "accept"}),
        )
        .await,
    )
    .await;
    // Not presented to this leader: the suggestion does not exist for it.
    let due = (Utc::now() + Duration::days(30)).date_naive().to_string();
    let instruction = json!({"text": "办理", "lead_unit_id": ch.transport.0, "due_on": due});
    assert_problem(
        ch.act(
            &ch.leader.0,
            format!("/suggestions/{id}/instructions"),
            instruction.clone(),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    ch.act(
        &ch.f.ufwd,
        format!("/suggestions/{id}/present"),
        json!({"leader_ids": [ch.leader.1]}),
    )
    .await;
    assert_problem(
        ch.act(
            &ch.other_leader,
            format!("/suggestions/{id}/instructions"),
            instruction.clone(),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let past = ch
        .act(
            &ch.leader.0,
            format!("/suggestions/{id}/instructions"),
            json!({"text": "办理", "lead_unit_id": ch.transport.0, "due_on": "2020-01-01"}),
        )
        .await;
    assert_problem(past, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let view: Value = ch
        .act(
            &ch.leader.0,
            format!("/suggestions/{id}/instructions"),
            instruction,
        )
        .await
        .json()
        .await
        .unwrap();
    let lead = view["assignments"][0]["id"].as_i64().unwrap();
    conflict(
        ch.act(
            &ch.transport.1,
            format!("/assignments/{lead}/reply"),
            json!({"result": "adopted", "explanation": "x"}),
        )
        .await,
    )
    .await;
    conflict(
        ch.act(
            &ch.transport.1,
            format!("/assignments/{lead}/progress"),
            json!({"text": "x"}),
        )
        .await,
    )
    .await;
    ch.act(
        &ch.transport.1,
        format!("/assignments/{lead}/acknowledge"),
        json!({}),
    )
    .await;
    conflict(
        ch.act(
            &ch.transport.1,
            format!("/assignments/{lead}/acknowledge"),
            json!({}),
        )
        .await,
    )
    .await;
    let no_reason = ch
        .act(
            &ch.transport.1,
            format!("/assignments/{lead}/reply"),
            json!({"result": "not_adopted", "explanation": "x"}),
        )
        .await;
    assert_problem(
        no_reason,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    ch.act(
        &ch.transport.1,
        format!("/assignments/{lead}/reply"),
        json!({"result": "adopted", "explanation": "采纳"}),
    )
    .await;
    conflict(
        ch.act(
            &ch.transport.1,
            format!("/assignments/{lead}/reply"),
            json!({"result": "adopted", "explanation": "again"}),
        )
        .await,
    )
    .await;
    let no_comment = ch
        .act(
            &ch.author,
            format!("/suggestions/{id}/evaluation"),
            json!({"rating": "unsatisfied"}),
        )
        .await;
    assert_problem(
        no_comment,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let not_author = ch
        .act(
            &ch.cosigner.0,
            format!("/suggestions/{id}/evaluation"),
            json!({"rating": "satisfied"}),
        )
        .await;
    assert_eq!(not_author.status(), StatusCode::FORBIDDEN);
    ch.act(
        &ch.author,
        format!("/suggestions/{id}/evaluation"),
        json!({"rating": "basically_satisfied"}),
    )
    .await;
    conflict(
        ch.act(
            &ch.f.ufwd,
            format!("/suggestions/{id}/close"),
            json!({"reason": "x"}),
        )
        .await,
    )
    .await;
    conflict(
        ch.act(
            &ch.author,
            format!("/suggestions/{id}/supplements"),
            json!({"text": "补充"}),
        )
        .await,
    )
    .await;

    // Merge and refusal end the road too.
    let other: Value = ch.submit(None, "另一条建议").await.json().await.unwrap();
    let merged = ch
        .act(
            &ch.f.ufwd,
            format!("/suggestions/{}/intake", other["id"]),
            json!({"decision": "merge", "merge_into": id}),
        )
        .await;
    assert_eq!(merged.status(), StatusCode::OK);
    conflict(
        ch.act(
            &ch.f.ufwd,
            format!("/suggestions/{}/close", other["id"]),
            json!({"reason": "x"}),
        )
        .await,
    )
    .await;
}

#[actix_web::test]
async fn a_retried_submission_returns_the_first_result() {
    let ch = Channel::new().await;
    let first = ch.submit(Some("key-123"), "关于乡村振兴的建议").await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = ch.submit(Some("key-123"), "关于乡村振兴的建议").await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    let different = ch.submit(Some("key-123"), "另一个标题").await;
    assert_problem(different, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    assert_eq!(ch.f.app.count("SELECT COUNT(*) AS n FROM suggestions"), 1);
    assert_eq!(
        ch.submit(Some("key-456"), "关于乡村振兴的建议")
            .await
            .status(),
        StatusCode::CREATED
    );

    // The text is frozen; supplements follow it.
    let path = format!("/suggestions/{}", first["id"]);
    assert_eq!(
        ch.f.app
            .request(Method::PATCH, &path, Some(&ch.author))
            .json(&json!({"body": "x"}))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::METHOD_NOT_ALLOWED,
        "there is no way to edit a submitted suggestion"
    );
    let supplemented: Value = ch
        .act(
            &ch.author,
            format!("{path}/supplements"),
            json!({"text": "补充：附调研报告"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(supplemented["supplements"][0]["text"], "补充：附调研报告");
    assert_eq!(supplemented["body"], first["body"]);

    // Co-signers confirm within 7 days.
    ch.f.app.clock.advance(Duration::days(8));
    let late = ch
        .act(&ch.cosigner.0, format!("{path}/cosign"), json!({}))
        .await;
    assert_problem(late, StatusCode::CONFLICT, "cosign_window_closed").await;
}

#[actix_web::test]
async fn an_unsatisfied_rating_opens_a_new_round_and_keeps_the_first_reply() {
    let ch = Channel::new().await;
    let (id, lead, _) = ch.instructed("关于景区停车的建议").await;
    ch.act(
        &ch.transport.1,
        format!("/assignments/{lead}/acknowledge"),
        json!({}),
    )
    .await;
    ch.act(
        &ch.transport.1,
        format!("/assignments/{lead}/reply"),
        json!({"result": "for_reference", "explanation": "留作参考"}),
    )
    .await;
    let rated = ch
        .act(
            &ch.author,
            format!("/suggestions/{id}/evaluation"),
            json!({"rating": "unsatisfied", "comment": "未回应停车位不足的问题"}),
        )
        .await;
    let view: Value = rated.json().await.unwrap();
    assert_eq!(
        (view["status"].as_str(), view["round"].as_i64()),
        (Some("presented"), Some(2))
    );
    let first = view["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == lead)
        .unwrap();
    assert_eq!(
        (
            first["result"].as_str(),
            first["reply_text"].as_str(),
            first["round"].as_i64()
        ),
        (Some("for_reference"), Some("留作参考"), Some(1))
    );

    let due = (Utc::now() + Duration::days(20)).date_naive().to_string();
    let again: Value = ch.act(&ch.leader.0, format!("/suggestions/{id}/instructions"), json!({"text": "请再研究，增设停车位。", "lead_unit_id": ch.transport.0, "due_on": due})).await.json().await.unwrap();
    assert_eq!(
        (
            again["status"].as_str(),
            again["instructions"].as_array().unwrap().len()
        ),
        (Some("instructed"), 2)
    );
    let round_two = again["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["round"] == 2)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    ch.act(
        &ch.transport.1,
        format!("/assignments/{round_two}/acknowledge"),
        json!({}),
    )
    .await;
    ch.act(
        &ch.transport.1,
        format!("/assignments/{round_two}/reply"),
        json!({"result": "adopted", "explanation": "新增停车位200个"}),
    )
    .await;
    let closed: Value = ch
        .act(
            &ch.author,
            format!("/suggestions/{id}/evaluation"),
            json!({"rating": "satisfied"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["ratings"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn deadlines_requests_and_reminders_follow_the_clock() {
    let ch = Channel::new().await;
    let (id, lead, co) = ch.instructed("关于乌江航道的建议").await;
    ch.act(
        &ch.transport.1,
        format!("/assignments/{lead}/acknowledge"),
        json!({}),
    )
    .await;

    // An extension for the lead, approved; a return for the co-handler, rejected.
    let later = (Utc::now() + Duration::days(60)).date_naive().to_string();
    let short = ch.act(&ch.transport.1, format!("/assignments/{lead}/extension-requests"), json!({"kind": "extension", "requested_due_on": "2020-01-01", "reason": "需要更多时间"})).await;
    assert_problem(short, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let request: Value = ch
        .act(
            &ch.transport.1,
            format!("/assignments/{lead}/extension-requests"),
            json!({"kind": "extension", "requested_due_on": later, "reason": "需要更多时间"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let twice = ch
        .act(
            &ch.transport.1,
            format!("/assignments/{lead}/extension-requests"),
            json!({"kind": "return", "reason": "x"}),
        )
        .await;
    assert_problem(twice, StatusCode::CONFLICT, "request_pending").await;
    let decided = ch
        .act(
            &ch.f.ufwd,
            format!("/extension-requests/{}/decision", request["id"]),
            json!({"approve": true, "reason": "同意延期"}),
        )
        .await;
    assert_eq!(decided.status(), StatusCode::OK);
    let returned: Value = ch
        .act(
            &ch.water.1,
            format!("/assignments/{co}/extension-requests"),
            json!({"kind": "return", "reason": "不属本部门职责"}),
        )
        .await
        .json()
        .await
        .unwrap();
    ch.act(
        &ch.f.ufwd,
        format!("/extension-requests/{}/decision", returned["id"]),
        json!({"approve": false, "reason": "涉及水利配套，请协办"}),
    )
    .await;

    // 35 days on: the co-handler's assignment (due in 30) is overdue; the lead's (60) is not.
    ch.f.app.clock.advance(Duration::days(35));
    let overdue: Value =
        ch.f.app
            .get("/suggestions/overdue", &ch.f.ufwd)
            .await
            .json()
            .await
            .unwrap();
    let ids: Vec<i64> = overdue
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![co]);
    let transport_view: Value =
        ch.f.app
            .get("/suggestions/overdue", &ch.transport.1)
            .await
            .json()
            .await
            .unwrap();
    assert!(
        transport_view.as_array().unwrap().is_empty(),
        "a department sees its own"
    );
    ch.f.app.clock.advance(Duration::days(20));
    let soon: Value =
        ch.f.app
            .get("/suggestions/due-soon", &ch.transport.1)
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(soon[0]["id"], lead);

    // Two overlapping runs of the job notify once.
    let run = |pool: tongxin::db::DbPool, clock: tongxin::clock::Clock| {
        std::thread::spawn(move || {
            tongxin::jobs::run_once(&mut pool.get().unwrap(), &clock).unwrap()
        })
    };
    let (a, b) = (
        run(ch.f.app.pool.clone(), ch.f.app.clock.clone()),
        run(ch.f.app.pool.clone(), ch.f.app.clock.clone()),
    );
    assert_eq!(
        a.join().unwrap() + b.join().unwrap(),
        2,
        "one due-soon to transport, one overdue to water"
    );
    assert_eq!(
        run(ch.f.app.pool.clone(), ch.f.app.clock.clone())
            .join()
            .unwrap(),
        0
    );
    let water_notes: Value =
        ch.f.app
            .get("/me/notifications", &ch.water.1)
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(
        water_notes["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "assignment_overdue")
            .count(),
        1
    );
    let _ = id;
}

#[actix_web::test]
async fn each_role_sees_and_acts_within_its_scope() {
    let ch = Channel::new().await;
    let (id, lead, co) = ch.instructed("关于教育资源的建议").await;
    ch.act(
        &ch.transport.1,
        format!("/assignments/{lead}/acknowledge"),
        json!({}),
    )
    .await;
    ch.act(
        &ch.transport.1,
        format!("/assignments/{lead}/progress"),
        json!({"text": "推进中", "internal_notes": "内部：需协调财政"}),
    )
    .await;
    let path = format!("/suggestions/{id}");

    // Another department may not act on transport's assignment.
    assert_problem(
        ch.act(
            &ch.water.1,
            format!("/assignments/{lead}/reply"),
            json!({"result": "adopted", "explanation": "x"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        ch.act(
            &ch.transport.1,
            format!("/assignments/{co}/acknowledge"),
            json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let water_view: Value = ch.f.app.get(&path, &ch.water.1).await.json().await.unwrap();
    let theirs = water_view["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == lead)
        .unwrap();
    assert!(
        theirs.get("internal_notes").is_none(),
        "another department's notes are hidden"
    );
    let own_view: Value =
        ch.f.app
            .get(&path, &ch.transport.1)
            .await
            .json()
            .await
            .unwrap();
    let mine = own_view["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == lead)
        .unwrap();
    assert_eq!(mine["internal_notes"], "内部：需协调财政");
    let staff_view: Value = ch.f.app.get(&path, &ch.f.ufwd).await.json().await.unwrap();
    assert_eq!(
        staff_view["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == lead)
            .unwrap()["internal_notes"],
        "内部：需协调财政"
    );

    // A department without the assignment, another representative, an unrelated leader: 404.
    let district: Value =
        ch.f.app
            .get("/units?kind=district", &ch.f.admin)
            .await
            .json()
            .await
            .unwrap();
    let health =
        ch.f.app
            .create_unit(
                &ch.f.admin,
                "区卫生健康委",
                "department",
                district["items"][0]["id"].as_i64(),
            )
            .await;
    let health_user = user(&ch.f, "weijian", &["department"], Some(health))
        .await
        .0;
    for token in [&health_user, &ch.stranger, &ch.other_leader] {
        assert_problem(
            ch.f.app.get(&path, token).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        let list: Value =
            ch.f.app
                .get("/suggestions", token)
                .await
                .json()
                .await
                .unwrap();
        assert!(list["items"].as_array().unwrap().is_empty());
    }
    for token in [&ch.author, &ch.cosigner.0, &ch.leader.0, &ch.transport.1] {
        let list: Value =
            ch.f.app
                .get("/suggestions", token)
                .await
                .json()
                .await
                .unwrap();
        assert_eq!(list["items"].as_array().unwrap().len(), 1);
    }
    let org = ch.f.app.token_for(&ch.f.admin, "org_staff").await;
    assert_eq!(ch.f.app.get(&path, &org).await.status(), StatusCode::OK);
    assert_eq!(
        ch.act(&org, format!("{path}/close"), json!({"reason": "x"}))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let admin = ch.f.app.get(&path, &ch.f.admin).await;
    assert_eq!(admin.status(), StatusCode::FORBIDDEN);
    let assignments: Value =
        ch.f.app
            .get("/assignments", &ch.water.1)
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(assignments.as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn statistics_match_a_hand_count() {
    let ch = Channel::new().await;
    // 1: closed satisfied (lead replied on time, adopted). 2: refused. 3: still submitted.
    let (first, lead, co) = ch.instructed("建议一").await;
    ch.act(
        &ch.transport.1,
        format!("/assignments/{lead}/acknowledge"),
        json!({}),
    )
    .await;
    ch.act(
        &ch.transport.1,
        format!("/assignments/{lead}/reply"),
        json!({"result": "adopted", "explanation": "采纳"}),
    )
    .await;
    ch.act(
        &ch.water.1,
        format!("/assignments/{co}/acknowledge"),
        json!({}),
    )
    .await;
    ch.act(
        &ch.author,
        format!("/suggestions/{first}/evaluation"),
        json!({"rating": "satisfied"}),
    )
    .await;
    let second: Value = ch.submit(None, "建议二").await.json().await.unwrap();
    ch.act(&ch.f.ufwd, format!("/suggestions/{}/intake", second["id"]), json!({"decision": "not_accept", "reason_code": "out_of_scope", "explanation": "不属于直通车受理范围"})).await;
    ch.submit(None, "建议三").await;

    ch.f.app.clock.advance(Duration::days(31));
    let from = (Utc::now() - Duration::days(1)).format("%Y-%m-%dT%H:%M:%SZ");
    let to = (Utc::now() + Duration::days(40)).format("%Y-%m-%dT%H:%M:%SZ");
    let stats: Value =
        ch.f.app
            .get(
                &format!("/stats/suggestions?from={from}&to={to}"),
                &ch.leader.0,
            )
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(stats["total"], 3);
    let count = |key: &str, k: &str| {
        stats[key]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["key"] == k)
            .map_or(0, |c| c["count"].as_i64().unwrap())
    };
    assert_eq!(
        (
            count("by_status", "closed"),
            count("by_status", "not_accepted"),
            count("by_status", "submitted")
        ),
        (1, 1, 1)
    );
    assert_eq!(count("by_category", "urban_construction"), 3);
    assert_eq!(stats["acceptance_rate"], 0.5, "1 accepted of 2 decided");
    assert_eq!(stats["instruction_rate"], 1.0);
    assert_eq!(stats["on_time_reply_rate"], 1.0);
    assert_eq!(stats["adoption_rate"], 1.0);
    assert_eq!(stats["satisfaction_rate"], 1.0);
    let department = |unit: i64| {
        stats["by_department"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["unit_id"] == unit)
            .unwrap()
            .clone()
    };
    let transport = department(ch.transport.0);
    assert_eq!(
        (
            transport["assignments"].as_i64(),
            transport["replied"].as_i64(),
            transport["on_time"].as_i64(),
            transport["adopted"].as_i64()
        ),
        (Some(1), Some(1), Some(1), Some(1))
    );
    let water = department(ch.water.0);
    assert_eq!(
        (water["replied"].as_i64(), water["overdue"].as_i64()),
        (Some(0), Some(1))
    );
    assert_eq!(
        stats["by_month"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["submitted"].as_i64().unwrap())
            .sum::<i64>(),
        3
    );
    assert_eq!(
        ch.f.app
            .get("/stats/suggestions", &ch.transport.1)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}
