//! Decision participation through HTTP: the meeting state machine and the 逢会必进 rule,
//! matching, invitations and answers, attendance, opinions and adoption, and the reports.

use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::cadres::{profile, CadreFixture};
use crate::helpers::assert_problem;

/// A district with one township, and cadres with known levels and subjects:
/// A (district; 交通运输, 乡村振兴 / 旅游规划), B (district; 交通运输), C (白马镇; 交通运输 /
/// 旅游规划), D (district, archived; 交通运输), E (district; 教育).
struct World {
    f: CadreFixture,
    district: i64,
    township: i64,
    a: i64,
    b: i64,
    c: i64,
    d: i64,
    e: i64,
}

/// Creates a cadre; `subjects` are its sectors and its fields of expertise.
async fn cadre(
    f: &CadreFixture,
    (name, birth, seq): (&str, &str, u32),
    level: &str,
    unit: Option<i64>,
    subjects: [Value; 2],
) -> i64 {
    let mut body = profile(name, birth, seq);
    body["level"] = json!(level);
    body["unit_id"] = json!(unit);
    let [sectors, expertise] = subjects;
    body["sectors"] = sectors;
    body["expertise"] = expertise;
    f.create_id(body).await
}

impl World {
    async fn new() -> World {
        let f = CadreFixture::new().await;
        let district = f
            .app
            .create_unit(&f.admin, "武隆区", "district", None)
            .await;
        let township = f
            .app
            .create_unit(&f.admin, "白马镇", "township", Some(district))
            .await;
        let a = cadre(
            &f,
            ("安然", "19800101", 11),
            "district",
            Some(district),
            [json!(["交通运输", "乡村振兴"]), json!(["旅游规划"])],
        )
        .await;
        let b = cadre(
            &f,
            ("白杨", "19810101", 13),
            "district",
            Some(district),
            [json!(["交通运输"]), json!([])],
        )
        .await;
        let c = cadre(
            &f,
            ("陈晨", "19820101", 15),
            "township",
            Some(township),
            [json!(["交通运输"]), json!(["旅游规划"])],
        )
        .await;
        let d = cadre(
            &f,
            ("邓丽", "19830101", 22),
            "district",
            Some(district),
            [json!(["交通运输"]), json!([])],
        )
        .await;
        f.app
            .post(
                &format!("/cadres/{d}/archive"),
                Some(&f.ufwd),
                json!({"reason": "退休"}),
            )
            .await;
        let e = cadre(
            &f,
            ("鄂云", "19840101", 17),
            "district",
            Some(district),
            [json!(["教育"]), json!([])],
        )
        .await;
        World {
            f,
            district,
            township,
            a,
            b,
            c,
            d,
            e,
        }
    }

    /// A meeting starting in an hour, with one major-decision item on transport and tourism.
    async fn meeting(&self, kind: &str, unit: i64) -> (i64, i64) {
        let starts_at = (Utc::now() + Duration::hours(1)).to_rfc3339();
        let response = self.f.app.post("/meetings", Some(&self.f.ufwd), json!({"kind": kind, "unit_id": unit, "title": "研究交通旅游融合发展", "starts_at": starts_at, "place": "区委常委会议室"})).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let meeting: Value = response.json().await.unwrap();
        let id = meeting["id"].as_i64().unwrap();
        let item: Value = self
            .f
            .app
            .post(&format!("/meetings/{id}/agenda-items"), Some(&self.f.ufwd), json!({"title": "仙女山旅游公路建设方案", "tags": ["交通运输", "旅游规划"], "major_decision": true}))
            .await
            .json()
            .await
            .unwrap();
        (id, item["id"].as_i64().unwrap())
    }

    async fn transition(&self, meeting: i64, to: &str) -> reqwest::Response {
        self.f
            .app
            .post(
                &format!("/meetings/{meeting}/transitions"),
                Some(&self.f.ufwd),
                json!({"to": to}),
            )
            .await
    }

    async fn invite(
        &self,
        meeting: i64,
        cadre: i64,
        item: Option<i64>,
        reason: Option<&str>,
    ) -> reqwest::Response {
        self.f
            .app
            .post(
                &format!("/meetings/{meeting}/invitations"),
                Some(&self.f.ufwd),
                json!({"cadre_id": cadre, "agenda_item_id": item, "reason": reason}),
            )
            .await
    }

    /// Moves a meeting's start into the past (while it is draft or prepared).
    async fn start_now(&self, meeting: i64) {
        let current: Value = self
            .f
            .app
            .get(&format!("/meetings/{meeting}"), &self.f.ufwd)
            .await
            .json()
            .await
            .unwrap();
        let past = (Utc::now() - Duration::minutes(5)).to_rfc3339();
        let response = self
            .f
            .app
            .patch(
                &format!("/meetings/{meeting}"),
                &self.f.ufwd,
                Some(&format!("\"{}\"", current["version"])),
                json!({"starts_at": past}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
}

#[actix_web::test]
async fn the_meeting_state_machine_refuses_illegal_moves_with_the_reason() {
    let w = World::new().await;
    let (id, _) = w.meeting("other", w.district).await;
    for to in ["held", "closed", "draft"] {
        let refused = w.transition(id, to).await;
        let body = assert_problem(refused, StatusCode::CONFLICT, "illegal_transition").await;
        assert!(body["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("from draft to {to}")));
    }
    assert_eq!(
        w.transition(id, "prepared").await.status(),
        StatusCode::OK,
        "other meetings need no representative"
    );
    let early = w.transition(id, "held").await;
    assert_problem(early, StatusCode::CONFLICT, "meeting_not_started").await;
    w.start_now(id).await;
    assert_eq!(w.transition(id, "held").await.status(), StatusCode::OK);
    assert_problem(
        w.transition(id, "cancelled").await,
        StatusCode::CONFLICT,
        "illegal_transition",
    )
    .await;
    assert_problem(
        w.transition(id, "prepared").await,
        StatusCode::CONFLICT,
        "illegal_transition",
    )
    .await;
    assert_eq!(w.transition(id, "closed").await.status(), StatusCode::OK);
    assert_problem(
        w.transition(id, "held").await,
        StatusCode::CONFLICT,
        "illegal_transition",
    )
    .await;

    let (other, _) = w.meeting("other", w.district).await;
    let no_reason = w.transition(other, "cancelled").await;
    assert_problem(
        no_reason,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let cancelled =
        w.f.app
            .post(
                &format!("/meetings/{other}/transitions"),
                Some(&w.f.ufwd),
                json!({"to": "cancelled", "reason": "改期"}),
            )
            .await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    assert_problem(
        w.transition(other, "prepared").await,
        StatusCode::CONFLICT,
        "illegal_transition",
    )
    .await;
    let edit =
        w.f.app
            .post(
                &format!("/meetings/{other}/agenda-items"),
                Some(&w.f.ufwd),
                json!({"title": "x"}),
            )
            .await;
    assert_problem(edit, StatusCode::CONFLICT, "meeting_status").await;

    // Conveners fit the kind.
    let wrong = w.f.app.post("/meetings", Some(&w.f.ufwd), json!({"kind": "township_party_government", "unit_id": w.district, "title": "x", "starts_at": Utc::now().to_rfc3339()})).await;
    assert_problem(wrong, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let auditor = w.f.app.token_for(&w.f.admin, "auditor").await;
    let trail: Value =
        w.f.app
            .get(
                &format!("/audit/events?entity=meeting&entity_id={id}&action=meeting.transitioned"),
                &auditor,
            )
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(trail["items"].as_array().unwrap().len(), 3);
}

#[actix_web::test]
async fn a_mandatory_meeting_is_prepared_only_with_representatives_or_an_exemption() {
    let w = World::new().await;
    for kind in [
        "district_standing_committee",
        "district_government_executive",
    ] {
        let (id, item) = w.meeting(kind, w.district).await;
        let refused = w.transition(id, "prepared").await;
        let body = assert_problem(refused, StatusCode::CONFLICT, "representatives_required").await;
        assert!(body["detail"]
            .as_str()
            .unwrap()
            .contains("仙女山旅游公路建设方案"));
        assert_eq!(
            w.invite(id, w.a, Some(item), None).await.status(),
            StatusCode::CREATED
        );
        assert_eq!(
            w.transition(id, "prepared").await.status(),
            StatusCode::OK,
            "{kind}"
        );
    }
    let (id, _) = w.meeting("township_party_government", w.township).await;
    assert_eq!(
        w.transition(id, "prepared").await.status(),
        StatusCode::CONFLICT
    );
    let short =
        w.f.app
            .post(
                &format!("/meetings/{id}/exemption"),
                Some(&w.f.ufwd),
                json!({"reason": ""}),
            )
            .await;
    assert_problem(short, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let exempted =
        w.f.app
            .post(
                &format!("/meetings/{id}/exemption"),
                Some(&w.f.ufwd),
                json!({"reason": "涉密议题，经区委统战部同意"}),
            )
            .await;
    assert_eq!(exempted.status(), StatusCode::OK);
    assert_eq!(w.transition(id, "prepared").await.status(), StatusCode::OK);
    let auditor = w.f.app.token_for(&w.f.admin, "auditor").await;
    let trail: Value =
        w.f.app
            .get(
                &format!("/audit/events?entity=meeting&entity_id={id}&action=meeting.exempted"),
                &auditor,
            )
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(
        trail["items"][0]["after"]["exemption_reason"],
        "涉密议题，经区委统战部同意"
    );
}

#[actix_web::test]
async fn candidates_follow_subjects_and_the_level_rule_in_a_stable_order() {
    let w = World::new().await;
    let (district_meeting, item) = w.meeting("district_standing_committee", w.district).await;
    let ranked: Value =
        w.f.app
            .get(
                &format!("/meetings/{district_meeting}/candidates"),
                &w.f.ufwd,
            )
            .await
            .json()
            .await
            .unwrap();
    let list = &ranked[0]["candidates"];
    assert_eq!(ranked[0]["agenda_item_id"], item);
    let ids: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["cadre_id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![w.a, w.b],
        "C is a township cadre, D archived, E has no matching subject"
    );
    assert_eq!(list[0]["matched_tags"], json!(["交通运输", "旅游规划"]));
    assert_eq!(list[0]["rule"], "district_level");
    assert_eq!(list[1]["matched_tags"], json!(["交通运输"]));
    let again: Value =
        w.f.app
            .get(
                &format!("/meetings/{district_meeting}/candidates"),
                &w.f.ufwd,
            )
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(again, ranked, "the same data gives the same list");

    let (township_meeting, _) = w.meeting("township_party_government", w.township).await;
    let ranked: Value =
        w.f.app
            .get(
                &format!("/meetings/{township_meeting}/candidates"),
                &w.f.ufwd,
            )
            .await
            .json()
            .await
            .unwrap();
    let list = ranked[0]["candidates"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(
        (list[0]["cadre_id"].as_i64(), list[0]["rule"].as_str()),
        (Some(w.c), Some("same_township"))
    );

    // The invited leave the list; anyone else needs a reason; nobody twice; never the archived.
    assert_eq!(
        w.invite(district_meeting, w.a, Some(item), None)
            .await
            .status(),
        StatusCode::CREATED
    );
    let ranked: Value =
        w.f.app
            .get(
                &format!("/meetings/{district_meeting}/candidates"),
                &w.f.ufwd,
            )
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(ranked[0]["candidates"].as_array().unwrap().len(), 1);
    let no_reason = w.invite(district_meeting, w.e, None, None).await;
    let body = assert_problem(
        no_reason,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(body["fields"]["reason"][0], "required_for_a_non_candidate");
    assert_eq!(
        w.invite(district_meeting, w.e, None, Some("教育界代表，列席"))
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        w.invite(district_meeting, w.c, None, Some("熟悉白马镇情况"))
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_problem(
        w.invite(district_meeting, w.a, None, None).await,
        StatusCode::CONFLICT,
        "already_invited",
    )
    .await;
    assert_problem(
        w.invite(district_meeting, w.d, None, Some("x")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let org = w.f.app.token_for(&w.f.admin, "org_staff").await;
    let refused =
        w.f.app
            .post(
                &format!("/meetings/{district_meeting}/invitations"),
                Some(&org),
                json!({"cadre_id": w.b}),
            )
            .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let seen: Value =
        w.f.app
            .get(&format!("/meetings/{district_meeting}/invitations"), &org)
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(seen.as_array().unwrap().len(), 3);
}

#[actix_web::test]
async fn representatives_answer_their_own_invitations_before_the_start() {
    let w = World::new().await;
    let rep_a = w.f.representative_of(w.a, "an.ran").await;
    let rep_b = w.f.representative_of(w.b, "bai.yang").await;
    let (meeting, item) = w.meeting("district_standing_committee", w.district).await;
    let invitation: Value = w
        .invite(meeting, w.a, Some(item), None)
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/invitations/{}/response", invitation["id"]);

    let mine: Value =
        w.f.app
            .get("/me/invitations", &rep_a)
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["meeting_title"], "研究交通旅游融合发展");
    let theirs: Value =
        w.f.app
            .get("/me/invitations", &rep_b)
            .await
            .json()
            .await
            .unwrap();
    assert!(theirs.as_array().unwrap().is_empty());
    let not_yours =
        w.f.app
            .post(&path, Some(&rep_b), json!({"answer": "accept"}))
            .await;
    assert_problem(not_yours, StatusCode::NOT_FOUND, "not_found").await;

    let no_reason =
        w.f.app
            .post(&path, Some(&rep_a), json!({"answer": "decline"}))
            .await;
    assert_problem(
        no_reason,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let declined: Value =
        w.f.app
            .post(
                &path,
                Some(&rep_a),
                json!({"answer": "decline", "reason": "外出考察"}),
            )
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(
        (
            declined["status"].as_str(),
            declined["answer_reason"].as_str()
        ),
        (Some("declined"), Some("外出考察"))
    );
    let accepted: Value =
        w.f.app
            .post(&path, Some(&rep_a), json!({"answer": "accept"}))
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(accepted["status"], "accepted");

    w.start_now(meeting).await;
    let late =
        w.f.app
            .post(
                &path,
                Some(&rep_a),
                json!({"answer": "decline", "reason": "临时有事"}),
            )
            .await;
    assert_problem(late, StatusCode::CONFLICT, "meeting_started").await;

    // Attendance is recorded after the meeting is held.
    let attendance = format!("/invitations/{}", invitation["id"]);
    let early =
        w.f.app
            .request(Method::PATCH, &attendance, Some(&w.f.ufwd))
            .json(&json!({"attendance": "present"}))
            .send()
            .await
            .unwrap();
    assert_problem(early, StatusCode::CONFLICT, "meeting_status").await;
    assert_eq!(
        w.transition(meeting, "prepared").await.status(),
        StatusCode::OK
    );
    assert_eq!(w.transition(meeting, "held").await.status(), StatusCode::OK);
    let recorded =
        w.f.app
            .request(Method::PATCH, &attendance, Some(&w.f.ufwd))
            .json(&json!({"attendance": "present"}))
            .send()
            .await
            .unwrap();
    assert_eq!(recorded.status(), StatusCode::OK);
    let recorded: Value = recorded.json().await.unwrap();
    assert_eq!(recorded["attendance"], "present");
}

#[actix_web::test]
async fn opinions_are_recorded_and_their_adoption_is_fed_back_to_their_author_only() {
    let w = World::new().await;
    let rep_a = w.f.representative_of(w.a, "an.ran").await;
    let rep_b = w.f.representative_of(w.b, "bai.yang").await;
    let (meeting, item) = w.meeting("district_standing_committee", w.district).await;
    let invitation: Value = w
        .invite(meeting, w.a, Some(item), None)
        .await
        .json()
        .await
        .unwrap();
    w.f.app
        .post(
            &format!("/invitations/{}/response", invitation["id"]),
            Some(&rep_a),
            json!({"answer": "accept"}),
        )
        .await;
    let opinions = format!("/agenda-items/{item}/opinions");

    let too_early =
        w.f.app
            .post(&opinions, Some(&rep_a), json!({"content": "建议分段建设"}))
            .await;
    assert_problem(too_early, StatusCode::CONFLICT, "meeting_status").await;
    w.start_now(meeting).await;
    w.transition(meeting, "prepared").await;
    w.transition(meeting, "held").await;

    let own =
        w.f.app
            .post(
                &opinions,
                Some(&rep_a),
                json!({"content": "建议分段建设，先修通景区连接线"}),
            )
            .await;
    assert_eq!(own.status(), StatusCode::CREATED);
    let own: Value = own.json().await.unwrap();
    assert_eq!(own["on_behalf"], false);
    let uninvited =
        w.f.app
            .post(&opinions, Some(&rep_b), json!({"content": "我也有意见"}))
            .await;
    assert_problem(uninvited, StatusCode::NOT_FOUND, "not_found").await;
    let as_other =
        w.f.app
            .post(
                &opinions,
                Some(&rep_b),
                json!({"content": "冒名", "cadre_id": w.a}),
            )
            .await;
    assert_eq!(as_other.status(), StatusCode::NOT_FOUND);
    let on_behalf: Value =
        w.f.app
            .post(
                &opinions,
                Some(&w.f.ufwd),
                json!({"content": "代为记录：注意生态保护", "cadre_id": w.a}),
            )
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(on_behalf["on_behalf"], true);
    let not_invited =
        w.f.app
            .post(
                &opinions,
                Some(&w.f.ufwd),
                json!({"content": "x", "cadre_id": w.b}),
            )
            .await;
    assert_problem(
        not_invited,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;

    let adoption = w.f.app.post(&format!("/opinions/{}/adoption", own["id"]), Some(&w.f.ufwd), json!({"outcome": "partially_adopted", "explanation": "连接线纳入一期工程", "date": "2026-12-01"})).await;
    assert_eq!(adoption.status(), StatusCode::OK);
    let leader = w.f.app.token_for(&w.f.admin, "leader").await;
    let refused =
        w.f.app
            .post(
                &format!("/opinions/{}/adoption", own["id"]),
                Some(&leader),
                json!({"outcome": "adopted", "explanation": "x"}),
            )
            .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let mine: Value =
        w.f.app
            .get("/me/opinions", &rep_a)
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(mine.as_array().unwrap().len(), 2);
    let fed_back = mine
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == own["id"])
        .unwrap();
    assert_eq!(
        (
            fed_back["outcome"].as_str(),
            fed_back["outcome_label"].as_str()
        ),
        (Some("partially_adopted"), Some("部分采纳"))
    );
    assert_eq!(fed_back["outcome_explanation"], "连接线纳入一期工程");
    let theirs: Value =
        w.f.app
            .get("/me/opinions", &rep_b)
            .await
            .json()
            .await
            .unwrap();
    assert!(theirs.as_array().unwrap().is_empty());
    assert_eq!(
        w.f.app.get(&opinions, &rep_b).await.status(),
        StatusCode::FORBIDDEN
    );
    let all: Value = w.f.app.get(&opinions, &leader).await.json().await.unwrap();
    assert_eq!(all.as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn compliance_and_participation_figures_match_a_hand_count() {
    let w = World::new().await;
    let rep_a = w.f.representative_of(w.a, "an.ran").await;
    let rep_b = w.f.representative_of(w.b, "bai.yang").await;
    // Meeting 1 (standing committee): A accepts and attends, B declines; A's opinion adopted.
    let (m1, i1) = w.meeting("district_standing_committee", w.district).await;
    let inv_a: Value = w
        .invite(m1, w.a, Some(i1), None)
        .await
        .json()
        .await
        .unwrap();
    let inv_b: Value = w
        .invite(m1, w.b, Some(i1), None)
        .await
        .json()
        .await
        .unwrap();
    w.f.app
        .post(
            &format!("/invitations/{}/response", inv_a["id"]),
            Some(&rep_a),
            json!({"answer": "accept"}),
        )
        .await;
    w.f.app
        .post(
            &format!("/invitations/{}/response", inv_b["id"]),
            Some(&rep_b),
            json!({"answer": "decline", "reason": "出差"}),
        )
        .await;
    w.transition(m1, "prepared").await;
    w.start_now(m1).await;
    w.transition(m1, "held").await;
    for (inv, attendance) in [(&inv_a, "present"), (&inv_b, "excused")] {
        w.f.app
            .request(
                Method::PATCH,
                &format!("/invitations/{}", inv["id"]),
                Some(&w.f.ufwd),
            )
            .json(&json!({"attendance": attendance}))
            .send()
            .await
            .unwrap();
    }
    let opinion: Value =
        w.f.app
            .post(
                &format!("/agenda-items/{i1}/opinions"),
                Some(&rep_a),
                json!({"content": "建议"}),
            )
            .await
            .json()
            .await
            .unwrap();
    w.f.app
        .post(
            &format!("/opinions/{}/adoption", opinion["id"]),
            Some(&w.f.ufwd),
            json!({"outcome": "adopted", "explanation": "采纳"}),
        )
        .await;
    // Meeting 2 (executive): exempted, held without anyone.
    let (m2, _) = w.meeting("district_government_executive", w.district).await;
    w.f.app
        .post(
            &format!("/meetings/{m2}/exemption"),
            Some(&w.f.ufwd),
            json!({"reason": "紧急会议"}),
        )
        .await;
    w.transition(m2, "prepared").await;
    w.start_now(m2).await;
    w.transition(m2, "held").await;
    // Meeting 3 (township): cancelled.
    let (m3, _) = w.meeting("township_party_government", w.township).await;
    w.f.app
        .post(
            &format!("/meetings/{m3}/transitions"),
            Some(&w.f.ufwd),
            json!({"to": "cancelled", "reason": "改期"}),
        )
        .await;

    let leader = w.f.app.token_for(&w.f.admin, "leader").await;
    // The period runs to tomorrow, so that the cancelled meeting (due in an hour) is in it.
    let period = format!(
        "from=2000-01-01T00:00:00Z&to={}",
        (Utc::now() + Duration::days(1)).format("%Y-%m-%dT%H:%M:%SZ")
    );
    let report: Value =
        w.f.app
            .get(&format!("/meetings/compliance?{period}"), &leader)
            .await
            .json()
            .await
            .unwrap();
    let kind = |k: &str| {
        report["by_kind"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["kind"] == k)
            .unwrap()
            .clone()
    };
    let sc = kind("district_standing_committee");
    assert_eq!(
        (
            sc["meetings"].as_i64(),
            sc["held"].as_i64(),
            sc["held_without_representatives"].as_i64()
        ),
        (Some(1), Some(1), Some(0))
    );
    assert_eq!(
        (
            sc["invitations"].as_i64(),
            sc["accepted"].as_i64(),
            sc["declined"].as_i64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(
        (
            sc["acceptance_rate"].as_f64(),
            sc["attendance_rate"].as_f64()
        ),
        (Some(0.5), Some(0.5))
    );
    let ex = kind("district_government_executive");
    assert_eq!(
        (
            ex["held"].as_i64(),
            ex["held_without_representatives"].as_i64(),
            ex["with_exemption"].as_i64()
        ),
        (Some(1), Some(1), Some(1))
    );
    assert!(ex["acceptance_rate"].is_null());
    let tw = kind("township_party_government");
    assert_eq!(
        (tw["meetings"].as_i64(), tw["cancelled"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(report["held_without_representatives"][0]["id"], m2);
    assert_eq!(report["with_exemption"][0]["exemption_reason"], "紧急会议");

    let figures: Value =
        w.f.app
            .get(&format!("/stats/participation?{period}"), &w.f.ufwd)
            .await
            .json()
            .await
            .unwrap();
    let person = |id: i64| {
        figures["by_representative"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["cadre_id"] == id)
            .unwrap()
            .clone()
    };
    let a = person(w.a);
    assert_eq!(
        (
            a["invitations"].as_i64(),
            a["accepted"].as_i64(),
            a["present"].as_i64(),
            a["opinions"].as_i64(),
            a["adoption_rate"].as_f64()
        ),
        (Some(1), Some(1), Some(1), Some(1), Some(1.0))
    );
    let b = person(w.b);
    assert_eq!(
        (
            b["invitations"].as_i64(),
            b["accepted"].as_i64(),
            b["opinions"].as_i64()
        ),
        (Some(1), Some(0), Some(0))
    );
    assert!(b["adoption_rate"].is_null());
    let cdl = &figures["by_party"][0];
    assert_eq!(
        (
            cdl["key"].as_str(),
            cdl["invitations"].as_i64(),
            cdl["label"].as_str()
        ),
        (Some("cdl"), Some(2), Some("民盟"))
    );
    let empty: Value =
        w.f.app
            .get(
                "/meetings/compliance?from=2000-01-01T00:00:00Z&to=2000-02-01T00:00:00Z",
                &leader,
            )
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(empty["by_kind"][0]["meetings"], 0);
    let backwards =
        w.f.app
            .get(
                "/meetings/compliance?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
                &leader,
            )
            .await;
    assert_problem(
        backwards,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let _ = (w.d, w.e, w.c);
}
