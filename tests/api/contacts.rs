//! Normalised contact through HTTP: terms and pairings, talks within their pairings, the 7-day
//! correction window on a controllable clock, scope and private notes, coverage, and the
//! reminder job's notifications.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::cadres::{profile, CadreFixture};
use crate::helpers::{access_token, assert_problem, GOOD_PASSWORD};

struct Contacts {
    f: CadreFixture,
    term: i64,
    /// Leaders: tokens and user ids.
    l1: (String, i64),
    l2: (String, i64),
    /// Cadres.
    c1: i64,
    c2: i64,
    c3: i64,
}

async fn leader(f: &CadreFixture, username: &str) -> (String, i64) {
    let id = f
        .app
        .create_user(&f.admin, username, &["leader"], None)
        .await;
    (
        access_token(&f.app.login(username, GOOD_PASSWORD).await),
        id,
    )
}

impl Contacts {
    /// Term 2024–2028 (plan: 2 contacts a year); L1 paired with C1 and C2, L2 with C3, from 2025.
    async fn new() -> Contacts {
        let f = CadreFixture::new().await;
        let term: Value = f
            .app
            .post(
                "/terms",
                Some(&f.ufwd),
                json!({"number": 15, "starts_on": "2024-01-01", "ends_on": "2028-12-31"}),
            )
            .await
            .json()
            .await
            .unwrap();
        let term = term["id"].as_i64().unwrap();
        let l1 = leader(&f, "li.shuji").await;
        let l2 = leader(&f, "wang.quzhang").await;
        let c1 = f.create_id(profile("安然", "19800101", 11)).await;
        let c2 = f.create_id(profile("白杨", "19810101", 13)).await;
        let c3 = f.create_id(profile("陈晨", "19820101", 15)).await;
        let c = Contacts {
            f,
            term,
            l1,
            l2,
            c1,
            c2,
            c3,
        };
        for (leader_id, cadre) in [(c.l1.1, c1), (c.l1.1, c2), (c.l2.1, c3)] {
            let response = c.pair(leader_id, cadre, Some("2025-01-01")).await;
            assert_eq!(response.status(), StatusCode::CREATED);
        }
        c
    }

    async fn pair(
        &self,
        leader_id: i64,
        cadre_id: i64,
        starts_on: Option<&str>,
    ) -> reqwest::Response {
        self.f
            .app
            .post(
                &format!("/terms/{}/pairings", self.term),
                Some(&self.f.ufwd),
                json!({"leader_id": leader_id, "cadre_id": cadre_id, "starts_on": starts_on}),
            )
            .await
    }

    async fn pairing_of(&self, cadre: i64) -> i64 {
        let list: Value = self
            .f
            .app
            .get(
                &format!("/terms/{}/pairings?cadre_id={cadre}", self.term),
                &self.f.ufwd,
            )
            .await
            .json()
            .await
            .unwrap();
        list[0]["id"].as_i64().unwrap()
    }

    async fn talk(&self, token: &str, pairing: i64, body: Value) -> reqwest::Response {
        self.f
            .app
            .post(&format!("/pairings/{pairing}/talks"), Some(token), body)
            .await
    }
}

#[actix_web::test]
async fn pairing_rules_hold() {
    let c = Contacts::new().await;
    let overlapping =
        c.f.app
            .post(
                "/terms",
                Some(&c.f.ufwd),
                json!({"number": 16, "starts_on": "2028-06-01", "ends_on": "2033-05-31"}),
            )
            .await;
    assert_problem(overlapping, StatusCode::CONFLICT, "terms_overlap").await;
    let terms: Value = c.f.app.get("/terms", &c.l1.0).await.json().await.unwrap();
    assert_eq!(terms[0]["current"], true);
    assert_eq!(terms[0]["min_contacts_per_year"], 2);

    assert_problem(
        c.pair(c.l1.1, c.c1, None).await,
        StatusCode::CONFLICT,
        "already_paired",
    )
    .await;
    let staff_id =
        c.f.app
            .create_user(&c.f.admin, "not.a.leader", &["org_staff"], None)
            .await;
    let not_leader = c.pair(staff_id, c.c1, None).await;
    assert_eq!(
        assert_problem(
            not_leader,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed"
        )
        .await["fields"]["leader_id"][0],
        "not_an_active_leader"
    );
    let archived = c.f.create_id(profile("邓丽", "19830101", 22)).await;
    c.f.app
        .post(
            &format!("/cadres/{archived}/archive"),
            Some(&c.f.ufwd),
            json!({"reason": "退休"}),
        )
        .await;
    assert_problem(
        c.pair(c.l1.1, archived, None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_problem(
        c.pair(c.l2.1, c.c1, Some("2023-06-01")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        c.pair(c.l2.1, c.c1, None).await.status(),
        StatusCode::CREATED,
        "another leader may pair with the same cadre"
    );

    // A leader leaves the committee: its pairings end and its cadres show as unpaired.
    let departed: Value =
        c.f.app
            .post(
                &format!("/terms/{}/leader-departures", c.term),
                Some(&c.f.ufwd),
                json!({"leader_id": c.l2.1, "reason": "调离"}),
            )
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(departed.as_array().unwrap().len(), 2);
    let coverage: Value =
        c.f.app
            .get(&format!("/contacts/coverage?term_id={}", c.term), &c.f.ufwd)
            .await
            .json()
            .await
            .unwrap();
    let unpaired: Vec<i64> = coverage["unpaired"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_i64().unwrap())
        .collect();
    assert!(unpaired.contains(&c.c3), "{coverage}");
    assert!(!unpaired.contains(&c.c1), "C1 is still paired with L1");
    let tomorrow = (Utc::now() + Duration::days(1)).date_naive().to_string();
    let same_day = c.pair(c.l2.1, c.c3, None).await;
    assert_problem(same_day, StatusCode::CONFLICT, "already_paired").await;
    let again = c.pair(c.l2.1, c.c3, Some(&tomorrow)).await;
    assert_eq!(
        again.status(),
        StatusCode::CREATED,
        "an ended pairing does not block a new one"
    );
    let leaders_view: Value =
        c.f.app
            .get(&format!("/terms/{}/pairings", c.term), &c.l1.0)
            .await
            .json()
            .await
            .unwrap();
    assert!(
        leaders_view
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["leader_id"] == c.l1.1),
        "a leader sees its own pairings"
    );
}

#[actix_web::test]
async fn talks_stay_within_their_pairings_and_are_corrected_only_for_seven_days() {
    let c = Contacts::new().await;
    let p1 = c.pairing_of(c.c1).await;
    let before_pairing = c
        .talk(
            &c.l1.0,
            p1,
            json!({"held_on": "2024-12-31", "form": "heart_to_heart"}),
        )
        .await;
    assert_eq!(
        assert_problem(
            before_pairing,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed"
        )
        .await["fields"]["held_on"][0],
        "outside_pairing"
    );
    let tomorrow = (Utc::now() + Duration::days(2)).date_naive().to_string();
    let future = c
        .talk(&c.l1.0, p1, json!({"held_on": tomorrow, "form": "visit"}))
        .await;
    assert_problem(
        future,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    c.f.app
        .post(
            &format!("/pairings/{p1}/end"),
            Some(&c.f.ufwd),
            json!({"ends_on": "2025-06-30", "reason": "岗位调整"}),
        )
        .await;
    let after_end = c
        .talk(
            &c.l1.0,
            p1,
            json!({"held_on": "2025-07-01", "form": "phone"}),
        )
        .await;
    assert_problem(
        after_end,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;

    let created = c.talk(&c.l1.0, p1, json!({"held_on": "2025-03-01", "form": "heart_to_heart", "work": "工作顺利", "concerns": "子女入学", "private_notes": "需关注其家庭情况"})).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let talk: Value = created.json().await.unwrap();
    let path = format!("/talks/{}", talk["id"]);
    let corrected =
        c.f.app
            .patch(
                &path,
                &c.l1.0,
                Some("\"1\""),
                json!({"concerns": "子女入学、住房"}),
            )
            .await;
    assert_eq!(corrected.status(), StatusCode::OK);

    c.f.app.clock.advance(Duration::days(8));
    let late =
        c.f.app
            .patch(&path, &c.l1.0, Some("\"2\""), json!({"concerns": "改写"}))
            .await;
    assert_problem(late, StatusCode::CONFLICT, "correction_window_closed").await;
    let note =
        c.f.app
            .post(
                &format!("{path}/notes"),
                Some(&c.l1.0),
                json!({"text": "补充：住房问题已协调"}),
            )
            .await;
    assert_eq!(note.status(), StatusCode::CREATED);
    let shown: Value = c.f.app.get(&path, &c.l1.0).await.json().await.unwrap();
    assert_eq!(
        (
            shown["concerns"].as_str(),
            shown["notes"][0]["text"].as_str()
        ),
        (Some("子女入学、住房"), Some("补充：住房问题已协调"))
    );
    let auditor = c.f.app.token_for(&c.f.admin, "auditor").await;
    let trail: Value =
        c.f.app
            .get(
                &format!("/audit/events?entity=talk&entity_id={}", talk["id"]),
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
    assert_eq!(
        actions,
        ["talk.note_added", "talk.corrected", "talk.created"]
    );
    assert!(
        !trail.to_string().contains("需关注其家庭情况"),
        "private notes stay out of the audit log"
    );
}

#[actix_web::test]
async fn each_reader_sees_what_its_role_allows_and_private_notes_stay_private() {
    let c = Contacts::new().await;
    let (p1, p3) = (c.pairing_of(c.c1).await, c.pairing_of(c.c3).await);
    let talk: Value = c
        .talk(&c.l1.0, p1, json!({"held_on": "2025-03-01", "form": "heart_to_heart", "concerns": "子女入学", "private_notes": "需关注其家庭情况",
            "follow_ups": [{"what": "协调子女入学", "responsible": "区教委", "due_on": "2025-04-01"}]}))
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/talks/{}", talk["id"]);
    assert_eq!(talk["private_notes"], "需关注其家庭情况");

    // Another leader: the talk and the pairing do not exist for it.
    assert_problem(
        c.f.app.get(&path, &c.l2.0).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        c.f.app.get(&format!("/pairings/{p1}/talks"), &c.l2.0).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let foreign = c
        .talk(
            &c.l2.0,
            p1,
            json!({"held_on": "2025-03-01", "form": "visit"}),
        )
        .await;
    assert_problem(foreign, StatusCode::NOT_FOUND, "not_found").await;
    let theirs =
        c.f.app
            .patch(&path, &c.l2.0, Some("\"1\""), json!({"work": "x"}))
            .await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        c.talk(
            &c.l2.0,
            p3,
            json!({"held_on": "2025-03-02", "form": "visit"})
        )
        .await
        .status(),
        StatusCode::CREATED
    );

    // Staff read every talk, without the private notes.
    for role in ["ufwd_staff", "org_staff", "auditor"] {
        let token = c.f.app.token_for(&c.f.admin, role).await;
        let seen: Value = c.f.app.get(&path, &token).await.json().await.unwrap();
        assert_eq!(seen["concerns"], "子女入学", "{role}");
        assert!(seen.get("private_notes").is_none(), "{role}");
    }
    for role in ["department", "admin"] {
        let token = c.f.app.token_for(&c.f.admin, role).await;
        assert_eq!(
            c.f.app.get(&path, &token).await.status(),
            StatusCode::FORBIDDEN,
            "{role}"
        );
    }

    // The representative: dates, forms and follow-ups of its own talks only.
    let rep = c.f.representative_of(c.c1, "an.ran").await;
    let mine: Value = c.f.app.get("/me/talks", &rep).await.json().await.unwrap();
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(
        (
            mine[0]["held_on"].as_str(),
            mine[0]["form"].as_str(),
            mine[0]["leader_name"].as_str()
        ),
        (
            Some("2025-03-01"),
            Some("heart_to_heart"),
            Some("用户 li.shuji")
        )
    );
    assert_eq!(mine[0]["follow_ups"][0]["what"], "协调子女入学");
    assert!(mine[0].get("private_notes").is_none() && mine[0].get("concerns").is_none());
    assert_eq!(
        c.f.app.get(&path, &rep).await.status(),
        StatusCode::FORBIDDEN
    );
    let other_rep = c.f.representative_of(c.c2, "bai.yang").await;
    let none: Value =
        c.f.app
            .get("/me/talks", &other_rep)
            .await
            .json()
            .await
            .unwrap();
    assert!(none.as_array().unwrap().is_empty());
}

#[actix_web::test]
async fn coverage_matches_a_hand_count() {
    let c = Contacts::new().await;
    let (p1, p2) = (c.pairing_of(c.c1).await, c.pairing_of(c.c2).await);
    let campaign: Value = c.f.app.post("/campaigns", Some(&c.f.ufwd), json!({"term_id": c.term, "name": "2025年暑期谈心谈话", "starts_on": "2025-06-01", "ends_on": "2025-08-31"})).await.json().await.unwrap();
    let outside = c.talk(&c.l1.0, p1, json!({"held_on": "2025-05-01", "form": "heart_to_heart", "campaign_id": campaign["id"]})).await;
    assert_eq!(
        assert_problem(
            outside,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed"
        )
        .await["fields"]["campaign_id"][0],
        "outside_campaign"
    );
    // P1: a summer talk and a symposium with C2 (P2); P3 (L2): none. Plus a 2024 talk that
    // does not count for 2025.
    assert_eq!(c.talk(&c.l1.0, p1, json!({"held_on": "2025-07-10", "form": "heart_to_heart", "campaign_id": campaign["id"]})).await.status(), StatusCode::CREATED);
    assert_eq!(
        c.talk(
            &c.l1.0,
            p1,
            json!({"held_on": "2025-10-10", "form": "symposium", "also_pairing_ids": [p2]})
        )
        .await
        .status(),
        StatusCode::CREATED
    );

    let report: Value =
        c.f.app
            .get(
                &format!("/contacts/coverage?term_id={}&year=2025", c.term),
                &c.f.ufwd,
            )
            .await
            .json()
            .await
            .unwrap();
    let l1 = report["by_leader"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["leader_id"] == c.l1.1)
        .unwrap();
    assert_eq!(
        (
            l1["pairings"].as_i64(),
            l1["contacts"].as_i64(),
            l1["planned"].as_i64()
        ),
        (Some(2), Some(3), Some(4))
    );
    assert_eq!(l1["below_plan"].as_array().unwrap().len(), 1);
    assert_eq!(
        (
            l1["below_plan"][0]["cadre_id"].as_i64(),
            l1["below_plan"][0]["contacts"].as_i64()
        ),
        (Some(c.c2), Some(1))
    );
    let l2 = report["by_leader"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["leader_id"] == c.l2.1)
        .unwrap();
    assert_eq!(
        (
            l2["pairings"].as_i64(),
            l2["contacts"].as_i64(),
            l2["below_plan"][0]["cadre_id"].as_i64()
        ),
        (Some(1), Some(0), Some(c.c3))
    );
    assert_eq!(report["unpaired_cadres"], 0);
    let summer = &report["campaigns"][0];
    assert_eq!(
        (
            summer["pairings"].as_i64(),
            summer["covered"].as_i64(),
            summer["completion_rate"].as_f64()
        ),
        (Some(3), Some(1), Some(0.333))
    );
    let other_year: Value =
        c.f.app
            .get(
                &format!("/contacts/coverage?term_id={}&year=2026", c.term),
                &c.f.ufwd,
            )
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(other_year["by_leader"][0]["contacts"], 0);
    assert_eq!(
        c.f.app.get("/contacts/coverage", &c.l1.0).await.status(),
        StatusCode::FORBIDDEN
    );
}

#[actix_web::test]
async fn the_reminder_job_notifies_once_even_when_two_runs_overlap() {
    let c = Contacts::new().await;
    let p1 = c.pairing_of(c.c1).await;
    let talk: Value = c
        .talk(&c.l1.0, p1, json!({"held_on": "2025-03-01", "form": "visit", "follow_ups": [{"what": "协调子女入学", "responsible": "区教委", "due_on": "2025-04-01"}]}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(talk["follow_ups"][0]["overdue"], true);

    // Move into December, when leaders below plan are reminded.
    let today = Utc::now().date_naive();
    let mid_december = NaiveDate::from_ymd_opt(today.year(), 12, 15).unwrap();
    if today < mid_december {
        c.f.app.clock.advance(mid_december - today);
    }
    let run = |pool: tongxin::db::DbPool, clock: tongxin::clock::Clock| {
        std::thread::spawn(move || {
            let mut conn = pool.get().unwrap();
            tongxin::jobs::run_once(&mut conn, &clock).unwrap()
        })
    };
    let first = run(c.f.app.pool.clone(), c.f.app.clock.clone());
    let second = run(c.f.app.pool.clone(), c.f.app.clock.clone());
    let created = first.join().unwrap() + second.join().unwrap();
    assert_eq!(
        created, 3,
        "one overdue follow-up, and two leaders below plan"
    );
    let again = run(c.f.app.pool.clone(), c.f.app.clock.clone())
        .join()
        .unwrap();
    assert_eq!(again, 0);

    let notes: Value =
        c.f.app
            .get("/me/notifications", &c.l1.0)
            .await
            .json()
            .await
            .unwrap();
    let kinds: Vec<&str> = notes["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 2);
    assert!(kinds.contains(&"follow_up_overdue") && kinds.contains(&"contacts_below_plan"));
    let first_id = notes["items"][0]["id"].as_i64().unwrap();
    let theirs =
        c.f.app
            .request(
                Method::POST,
                &format!("/notifications/{first_id}/read"),
                Some(&c.l2.0),
            )
            .send()
            .await
            .unwrap();
    assert_problem(theirs, StatusCode::NOT_FOUND, "not_found").await;
    let read: Value =
        c.f.app
            .request(
                Method::POST,
                &format!("/notifications/{first_id}/read"),
                Some(&c.l1.0),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert!(read["read_at"].is_string());
    let unread: Value =
        c.f.app
            .get("/me/notifications?unread=true", &c.l1.0)
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(unread["items"].as_array().unwrap().len(), 1);

    // Done follow-ups are no longer overdue.
    let follow_up = talk["follow_ups"][0]["id"].as_i64().unwrap();
    let no_outcome =
        c.f.app
            .request(
                Method::PATCH,
                &format!("/follow-ups/{follow_up}"),
                Some(&c.l1.0),
            )
            .json(&json!({"done": true}))
            .send()
            .await
            .unwrap();
    assert_problem(
        no_outcome,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let done: Value =
        c.f.app
            .request(
                Method::PATCH,
                &format!("/follow-ups/{follow_up}"),
                Some(&c.l1.0),
            )
            .json(&json!({"done": true, "outcome": "已入学"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(
        (done["done"].as_bool(), done["overdue"].as_bool()),
        (Some(true), Some(false))
    );
}
