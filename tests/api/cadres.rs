//! The cadre database through HTTP: validation, concurrency, masking and reveal, every role's
//! view, search, history records, corrections, archive.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{access_token, assert_problem, TestApp, GOOD_PASSWORD};
use tongxin::cadres::identity::check_char;

/// A valid ID number for a birth date (YYYYMMDD) and sex (odd sequence = male).
pub fn id_number(birth: &str, sequence: u32) -> String {
    let first17 = format!("500156{birth}{sequence:03}");
    format!("{first17}{}", check_char(&first17).unwrap())
}

/// A complete, valid profile; tests change what they need.
pub fn profile(name: &str, birth: &str, sequence: u32) -> Value {
    let male = sequence % 2 == 1;
    json!({
        "name": name,
        "gender": if male { "male" } else { "female" },
        "ethnicity": "15",
        "birth_date": format!("{}-{}-{}", &birth[..4], &birth[4..6], &birth[6..]),
        "id_number": id_number(birth, sequence),
        "phone": "13812345678",
        "email": "someone@example.cn",
        "party": "cdl",
        "party_joined_on": "2005-07-01",
        "categories": ["democratic_party_member", "ethnic_minority"],
        "level": "township",
        "workplace": "仙女山旅游公司",
        "position": "总经理",
        "education": "bachelor",
        "degree": "bachelor",
        "sectors": ["文化旅游"],
        "expertise": ["旅游规划"],
    })
}

pub struct CadreFixture {
    pub app: TestApp,
    pub admin: String,
    pub ufwd: String,
}

impl CadreFixture {
    pub async fn new() -> CadreFixture {
        CadreFixture::with_config(|_| {}).await
    }

    pub async fn with_config(configure: impl FnOnce(&mut tongxin::config::Config)) -> CadreFixture {
        let app = TestApp::spawn_with(configure).await;
        let admin = app.admin_token().await;
        let ufwd = app.token_for(&admin, "ufwd_staff").await;
        CadreFixture { app, admin, ufwd }
    }

    pub async fn create(&self, body: Value) -> Value {
        let response = self
            .app
            .post("/cadres", Some(&self.ufwd), body.clone())
            .await;
        let status = response.status();
        let created: Value = response.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body} -> {created}");
        created
    }

    /// [`CadreFixture::create`], for the new cadre's id.
    pub async fn create_id(&self, body: Value) -> i64 {
        self.create(body).await["id"].as_i64().unwrap()
    }

    /// UFWD staff reveal protected `fields` of the cadre at `cadre_path` (`/cadres/{id}`).
    pub async fn reveal(&self, cadre_path: &str, fields: &[&str], reason: &str) -> Value {
        self.app
            .post(
                &format!("{cadre_path}/reveal"),
                Some(&self.ufwd),
                json!({"fields": fields, "reason": reason}),
            )
            .await
            .json()
            .await
            .unwrap()
    }

    /// A representative user linked to a cadre; returns the access token.
    pub async fn representative_of(&self, cadre_id: i64, username: &str) -> String {
        let response = self
            .app
            .post(
                "/users",
                Some(&self.admin),
                json!({"username": username, "display_name": username, "password": GOOD_PASSWORD, "roles": ["representative"], "cadre_id": cadre_id}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        access_token(&self.app.login(username, GOOD_PASSWORD).await)
    }
}

#[actix_web::test]
async fn a_profile_is_created_with_labels_and_masked_protected_fields() {
    let f = CadreFixture::new().await;
    let created = f.create(profile("羅維", "19800315", 11)).await;
    assert_eq!(created["name"], "羅維");
    assert_eq!(
        created["id_number"],
        format!("5001**********{}", &id_number("19800315", 11)[14..])
    );
    assert_eq!(created["phone"], "138****5678");
    assert_eq!(created["party_label"], "民盟");
    assert_eq!(created["ethnicity_label"], "土家族");
    assert_eq!(
        created["categories"],
        json!(["democratic_party_member", "ethnic_minority"])
    );
    assert_eq!(created["status"], "active");
    assert_eq!(created["version"], 1);
    assert!(created["age"].as_i64().unwrap() >= 46);

    // At rest the values are encrypted: neither appears in the row.
    let id = created["id"].as_i64().unwrap();
    let full = id_number("19800315", 11);
    assert_eq!(f.app.count(&format!("SELECT COUNT(*) AS n FROM cadres WHERE id = {id} AND (id_number_cipher LIKE '%{full}%' OR phone_cipher LIKE '%13812345678%')")), 0);
    assert_eq!(f.app.count(&format!("SELECT COUNT(*) AS n FROM cadres WHERE id = {id} AND id_number_cipher IS NOT NULL AND phone_cipher IS NOT NULL")), 1);
    // Nor in the audit log.
    assert_eq!(f.app.count(&format!("SELECT COUNT(*) AS n FROM audit_events WHERE after_json LIKE '%{full}%' OR after_json LIKE '%13812345678%'")), 0);
    assert_eq!(
        f.app
            .count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'cadre.created'"),
        1
    );
}

#[actix_web::test]
async fn every_field_is_validated() {
    let f = CadreFixture::new().await;
    let with = |change: Value| {
        let mut body = profile("罗维", "19800315", 11);
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let cases = [
        (
            json!({"id_number": "500156198003150110"}),
            "id_number",
            "id_number_checksum",
        ),
        (
            json!({"id_number": id_number("19800316", 11)}),
            "id_number",
            "birth_date_mismatch",
        ),
        (
            json!({"id_number": id_number("19800315", 12)}),
            "id_number",
            "gender_mismatch",
        ),
        (
            json!({"id_number": "50015619800315"}),
            "id_number",
            "id_number_length",
        ),
        (json!({"name": "罗维2号"}), "name", "characters"),
        (json!({"name": "罗".repeat(51)}), "name", "length"),
        (json!({"ethnicity": "57"}), "ethnicity", "unknown_ethnicity"),
        (
            json!({"birth_date": "2020-01-01", "id_number": null}),
            "birth_date",
            "age_out_of_range",
        ),
        (
            json!({"party": "none"}),
            "party_joined_on",
            "no_party_to_join",
        ),
        (json!({"phone": "12345"}), "phone", "phone_format"),
        (json!({"email": "not-an-email"}), "email", "email"),
        (json!({"unit_id": 999_999}), "unit_id", "unknown_unit"),
        (json!({"sectors": [" "]}), "sectors", "tag_length"),
        (json!({"workplace": "x".repeat(101)}), "workplace", "length"),
    ];
    for (change, field, rule) in cases {
        let response = f
            .app
            .post("/cadres", Some(&f.ufwd), with(change.clone()))
            .await;
        let body = assert_problem(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        let rules: Vec<String> =
            serde_json::from_value(body["fields"][field].clone()).unwrap_or_default();
        assert!(rules.contains(&rule.to_owned()), "{change}: {body}");
    }
    let nul = f
        .app
        .post("/cadres", Some(&f.ufwd), with(json!({"notes": "a\u{0}b"})))
        .await;
    assert_problem(nul, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let unknown_party = f
        .app
        .post("/cadres", Some(&f.ufwd), with(json!({"party": "cpc"})))
        .await;
    assert_problem(
        unknown_party,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await;
    assert_eq!(f.app.count("SELECT COUNT(*) AS n FROM cadres"), 0);

    // Rare characters, the middle dot, and the X check character are fine.
    f.create(with(json!({"name": "𠮷䶮", "id_number": null})))
        .await;
    f.create(with(
        json!({"name": "阿依古丽·买买提", "id_number": null, "gender": "female"}),
    ))
    .await;
    let x = f.create(json!({"name": "王芳", "gender": "female", "ethnicity": "01", "birth_date": "1949-12-31",
        "id_number": "11010519491231002x", "party": "jiusan", "level": "district"})).await;
    assert_eq!(x["id_number"], "1101**********002X");
    // One ID number, one cadre.
    let again = f.app.post("/cadres", Some(&f.ufwd), json!({"name": "王芳", "gender": "female", "ethnicity": "01",
        "birth_date": "1949-12-31", "id_number": "11010519491231002X", "party": "jiusan", "level": "district"})).await;
    assert_problem(again, StatusCode::CONFLICT, "id_number_taken").await;
}

#[actix_web::test]
async fn two_edits_from_the_same_version_one_wins_one_gets_412() {
    let f = CadreFixture::new().await;
    let org = f.app.token_for(&f.admin, "org_staff").await;
    let created = f.create(profile("罗维", "19800315", 11)).await;
    let path = format!("/cadres/{}", created["id"]);
    let etag = f.app.get(&path, &f.ufwd).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();

    let missing = f
        .app
        .patch(&path, &f.ufwd, None, json!({"position": "董事长"}))
        .await;
    assert_problem(
        missing,
        StatusCode::PRECONDITION_REQUIRED,
        "if_match_required",
    )
    .await;

    let (first, second) = futures_join(
        f.app
            .patch(&path, &f.ufwd, Some(&etag), json!({"position": "董事长"})),
        f.app
            .patch(&path, &org, Some(&etag), json!({"position": "副总经理"})),
    )
    .await;
    let mut statuses = [first.status(), second.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::PRECONDITION_FAILED]);
    let now: Value = f.app.get(&path, &f.ufwd).await.json().await.unwrap();
    assert_eq!(now["version"], 2);

    // A change keeps what it does not name; `null` clears; protected fields stay masked.
    let cleared = f
        .app
        .patch(
            &path,
            &f.ufwd,
            Some("\"2\""),
            json!({"email": null, "phone": "023-77712345"}),
        )
        .await;
    assert_eq!(cleared.status(), StatusCode::OK);
    let body: Value = cleared.json().await.unwrap();
    assert!(body["email"].is_null());
    assert_eq!(body["phone"], "********2345");
    assert_eq!(body["name"], "罗维");
    let events: Value = f
        .app
        .get(
            &format!(
                "/audit/events?entity=cadre&entity_id={}&action=cadre.updated",
                created["id"]
            ),
            &f.app.token_for(&f.admin, "auditor").await,
        )
        .await
        .json()
        .await
        .unwrap();
    let last = &events["items"][0];
    assert_eq!(last["before"]["phone"], "138****5678");
    assert_eq!(last["after"]["phone"], "********2345");
    assert_eq!(
        body["sectors"],
        json!(["文化旅游"]),
        "tags not named are kept"
    );
    assert_eq!(last["after"]["expertise"], json!(["旅游规划"]));

    // New tags are stored and answered as a later read gives them; the new phone is
    // encrypted for this row.
    let retagged = f
        .app
        .patch(
            &path,
            &f.ufwd,
            Some("\"3\""),
            json!({"sectors": ["教育", "文化旅游"], "expertise": [], "categories": ["religious"]}),
        )
        .await;
    assert_eq!(retagged.status(), StatusCode::OK);
    let answered: Value = retagged.json().await.unwrap();
    let read: Value = f.app.get(&path, &f.ufwd).await.json().await.unwrap();
    assert_eq!(answered, read);
    assert_eq!(read["expertise"], json!([]));
    assert_eq!(read["categories"], json!(["religious"]));
    // In code point order (教 U+6559, 文 U+6587), as the filters' rows of cadre_tags hold them.
    assert_eq!(read["sectors"], json!(["教育", "文化旅游"]));
    let id = read["id"].as_i64().unwrap();
    assert_eq!(
        f.app.count(&format!(
            "SELECT COUNT(*) AS n FROM cadre_tags WHERE cadre_id = {id} AND \
             ((kind = 'sector' AND tag IN ('教育', '文化旅游')) OR kind = 'category')"
        )),
        3,
        "cadre_tags holds the two sectors and the one category, and nothing else: {read}"
    );
    assert_eq!(
        f.app.count(&format!(
            "SELECT COUNT(*) AS n FROM cadre_tags WHERE cadre_id = {id}"
        )),
        3
    );
    let revealed = f
        .reveal(&path, &["phone", "id_number"], "核对推荐材料")
        .await;
    assert_eq!(revealed["phone"], "023-77712345");
    assert_eq!(revealed["id_number"], id_number("19800315", 11));
}

/// Migration 000009 fills `cadres.tag_lists` from the rows of `cadre_tags`: its down and up
/// scripts, run again over cadres with and without sectors and expertise, give the same reads.
#[actix_web::test]
async fn the_tag_lists_migration_fills_each_cadre_from_its_tags() {
    let f = CadreFixture::new().await;
    let mut tagged = profile("王芳", "19800315", 11);
    tagged["sectors"] = json!(["文化旅游", "教育"]);
    tagged["expertise"] = json!(["会计审计"]);
    let mut untagged = profile("李强", "19800316", 13);
    untagged["sectors"] = json!([]);
    untagged["expertise"] = json!([]);
    let mut reads = Vec::new();
    for body in [tagged, untagged] {
        let id = f.create_id(body).await;
        reads.push((id, f.app.get_json(&format!("/cadres/{id}"), &f.ufwd).await));
    }
    assert_eq!(reads[0].1["sectors"], json!(["教育", "文化旅游"]));
    assert_eq!(reads[1].1["sectors"], json!([]));

    let engine = if crate::helpers::on_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    let migration = format!(
        "{}/migrations/{engine}/2026-11-28-000009_cadre_tag_lists",
        env!("CARGO_MANIFEST_DIR")
    );
    for script in ["down.sql", "up.sql"] {
        f.app
            .execute(&std::fs::read_to_string(format!("{migration}/{script}")).unwrap());
    }
    for (id, before) in reads {
        let after = f.app.get_json(&format!("/cadres/{id}"), &f.ufwd).await;
        assert_eq!(after, before);
    }
}

async fn futures_join<A: std::future::Future, B: std::future::Future>(
    a: A,
    b: B,
) -> (A::Output, B::Output) {
    let a = Box::pin(a);
    let b = Box::pin(b);
    let mut a_out = None;
    let mut b_out = None;
    let mut a = Some(a);
    let mut b = Some(b);
    std::future::poll_fn(|cx| {
        if let Some(fut) = a.as_mut() {
            if let std::task::Poll::Ready(v) = fut.as_mut().poll(cx) {
                a_out = Some(v);
                a = None;
            }
        }
        if let Some(fut) = b.as_mut() {
            if let std::task::Poll::Ready(v) = fut.as_mut().poll(cx) {
                b_out = Some(v);
                b = None;
            }
        }
        if a.is_none() && b.is_none() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    (a_out.unwrap(), b_out.unwrap())
}

#[actix_web::test]
async fn reveal_is_for_ufwd_and_org_staff_and_is_audited_with_the_reason() {
    let f = CadreFixture::new().await;
    let created = f.create(profile("罗维", "19800315", 11)).await;
    let path = format!("/cadres/{}/reveal", created["id"]);
    let body = json!({"fields": ["id_number", "phone"], "reason": "核对推荐材料"});

    let revealed: Value = f
        .app
        .post(&path, Some(&f.ufwd), body.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(revealed["id_number"], id_number("19800315", 11));
    assert_eq!(revealed["phone"], "13812345678");
    let org = f.app.token_for(&f.admin, "org_staff").await;
    let only_phone: Value = f
        .app
        .post(
            &path,
            Some(&org),
            json!({"fields": ["phone"], "reason": "联系本人"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(only_phone, json!({"phone": "13812345678"}));

    for role in ["leader", "auditor", "department", "admin"] {
        let token = f.app.token_for(&f.admin, role).await;
        let refused = f.app.post(&path, Some(&token), body.clone()).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{role}");
    }
    let no_reason = f
        .app
        .post(
            &path,
            Some(&f.ufwd),
            json!({"fields": ["phone"], "reason": ""}),
        )
        .await;
    assert_problem(
        no_reason,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let missing = f
        .app
        .post("/cadres/999999/reveal", Some(&f.ufwd), body.clone())
        .await;
    assert_problem(missing, StatusCode::NOT_FOUND, "not_found").await;

    let auditor = f.app.token_for(&f.admin, "auditor").await;
    let events: Value = f
        .app
        .get("/audit/events?action=cadre.revealed", &auditor)
        .await
        .json()
        .await
        .unwrap();
    let items = events["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[1]["after"],
        json!({"fields": ["id_number", "phone"], "reason": "核对推荐材料"})
    );
    assert!(!events.to_string().contains("13812345678"));

    // Exact lookup by ID number, sent in the body.
    let found: Value = f
        .app
        .post(
            "/cadres/lookup",
            Some(&f.ufwd),
            json!({"id_number": id_number("19800315", 11)}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["id"], created["id"]);
    let none = f
        .app
        .post(
            "/cadres/lookup",
            Some(&f.ufwd),
            json!({"id_number": id_number("19900101", 11)}),
        )
        .await;
    assert_problem(none, StatusCode::NOT_FOUND, "not_found").await;
}

#[actix_web::test]
async fn each_role_sees_what_it_may_and_a_representative_only_itself() {
    let f = CadreFixture::new().await;
    let own = f.create(profile("罗维", "19800315", 11)).await;
    let other = f.create(profile("张芳", "19850101", 22)).await;
    let rep = f
        .representative_of(own["id"].as_i64().unwrap(), "luo.wei")
        .await;

    for role in ["leader", "auditor", "org_staff"] {
        let token = f.app.token_for(&f.admin, role).await;
        let seen: Value = f
            .app
            .get(&format!("/cadres/{}", other["id"]), &token)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(seen["phone"], "138****5678", "{role} sees the mask");
        let list: Value = f.app.get("/cadres", &token).await.json().await.unwrap();
        assert_eq!(list["items"].as_array().unwrap().len(), 2, "{role}");
    }
    for role in ["department", "admin"] {
        let token = f.app.token_for(&f.admin, role).await;
        assert_eq!(
            f.app
                .get(&format!("/cadres/{}", other["id"]), &token)
                .await
                .status(),
            StatusCode::FORBIDDEN,
            "{role}"
        );
        assert_eq!(
            f.app.get("/cadres", &token).await.status(),
            StatusCode::FORBIDDEN,
            "{role}"
        );
    }

    let mine: Value = f.app.get("/me/profile", &rep).await.json().await.unwrap();
    assert_eq!(mine["id"], own["id"]);
    assert_eq!(mine["phone"], "138****5678");
    assert_eq!(
        f.app
            .get(&format!("/cadres/{}", own["id"]), &rep)
            .await
            .status(),
        StatusCode::OK
    );
    let elsewhere = f.app.get(&format!("/cadres/{}", other["id"]), &rep).await;
    assert_problem(elsewhere, StatusCode::NOT_FOUND, "not_found").await;
    let history = f
        .app
        .get(&format!("/cadres/{}/positions", other["id"]), &rep)
        .await;
    assert_eq!(history.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        f.app.get("/cadres", &rep).await.status(),
        StatusCode::FORBIDDEN
    );

    // A representative without a linked cadre has no profile.
    let unlinked = f.app.token_for(&f.admin, "representative").await;
    assert_problem(
        f.app.get("/me/profile", &unlinked).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // A user cannot be linked to a cadre that does not exist.
    let bad_link = f.app.post("/users", Some(&f.admin), json!({"username": "ghost.rep", "display_name": "x", "password": GOOD_PASSWORD, "roles": ["representative"], "cadre_id": 999_999})).await;
    assert_problem(
        bad_link,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}

/// The search index (pg_trgm on PostgreSQL, FTS5 on SQLite) answers short and long queries
/// exactly and follows every write in the same transaction.
#[actix_web::test]
async fn search_index_answers_short_queries_and_follows_edits() {
    let f = CadreFixture::new().await;
    let wang = f.create(profile("王芳", "19800315", 11)).await;
    let mut zhang = profile("张三丰", "19700101", 13);
    zhang["workplace"] = json!("武隆区人民医院");
    f.create(zhang).await;
    let found = |q: &'static str| {
        let app = &f.app;
        let token = f.ufwd.clone();
        async move {
            let list: Value = app
                .get(&format!("/cadres?q={}", urlencode(q)), &token)
                .await
                .json()
                .await
                .unwrap();
            let mut names: Vec<String> = list["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap().to_owned())
                .collect();
            names.sort();
            names
        }
    };
    assert_eq!(found("王芳").await, ["王芳"]);
    assert_eq!(found("三丰").await, ["张三丰"]);
    assert_eq!(found("芳").await, ["王芳"], "one character");
    assert_eq!(found("wangfang").await, ["王芳"]);
    assert_eq!(found("wf").await, ["王芳"]);
    assert_eq!(found("人民医院").await, ["张三丰"]);
    assert!(found("芳张").await.is_empty(), "no match across cadres");
    assert!(found("王\"芳").await.is_empty(), "quotes are literal");
    assert!(
        found("王ǂ").await.len() == 1,
        "the index's mark is not searchable"
    );

    let path = format!("/cadres/{}", wang["id"]);
    let etag = f.app.get(&path, &f.ufwd).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let renamed = f
        .app
        .patch(&path, &f.ufwd, Some(&etag), json!({"name": "李小芳"}))
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    assert!(found("王芳").await.is_empty());
    assert_eq!(found("小芳").await, ["李小芳"]);
    assert_eq!(found("lxf").await, ["李小芳"]);
}

/// Imports `count` cadres in one CSV, the `n`th named `name(n)` (in the township 仙女山镇 of
/// `transfer::fixture_with_township`).
async fn import_named(f: &CadreFixture, count: u64, name: impl Fn(u64) -> String) {
    let rows: Vec<String> = (0..count)
        .map(|n| crate::transfer::numbered_row(n, &name(n), "教育").0)
        .collect();
    let imported = crate::transfer::import(f, false, crate::transfer::csv(&rows), "text/csv").await;
    assert_eq!(imported.status(), StatusCode::OK);
}

/// Every cadre in name order as (id, name), as the plain list gives it (no search).
async fn names_in_order(f: &CadreFixture) -> Vec<(i64, String)> {
    let mut in_order = Vec::new();
    let mut path = "/cadres?sort=name&limit=200".to_owned();
    loop {
        let list: Value = f.app.get(&path, &f.ufwd).await.json().await.unwrap();
        in_order.extend(list["items"].as_array().unwrap().iter().map(|c| {
            (
                c["id"].as_i64().unwrap(),
                c["name"].as_str().unwrap().to_owned(),
            )
        }));
        let Some(next) = list["next_cursor"].as_str() else {
            return in_order;
        };
        path = format!("/cadres?sort=name&limit=200&cursor={next}");
    }
}

/// The ids a search (`query`: the list's parameters, encoded) finds in name order or its
/// reverse, read 20 a page from cursor to cursor.
async fn searched_in_order(f: &CadreFixture, query: &str, desc: bool) -> Vec<i64> {
    let sort = if desc { "-name" } else { "name" };
    let mut found = Vec::new();
    let mut cursor = None;
    loop {
        let mut path = format!("/cadres?{query}&sort={sort}&limit=20");
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={cursor}"));
        }
        let page: Value = f.app.get(&path, &f.ufwd).await.json().await.unwrap();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 20, "{path}");
        found.extend(items.iter().map(|c| c["id"].as_i64().unwrap()));
        match page["next_cursor"].as_str() {
            // Bounded, so that a cursor that leads nowhere fails the test rather than hangs it.
            Some(next) if found.len() < 10_000 => cursor = Some(next.to_owned()),
            _ => return found,
        }
    }
}

/// Over a thousand matches that all sort after two thousand other cadres: on SQLite the first
/// thousand names hold none of them, so the matches are sorted, while in reverse order and after
/// a cursor among them the next names hold the page. Either way, and with another condition
/// beside the text, every match comes once, in order.
#[actix_web::test]
async fn a_search_pages_in_name_order_when_its_many_matches_sort_last() {
    let f = crate::transfer::fixture_with_township().await;
    let key = tongxin::crypto::DataKey::new(&f.app.config.data_key);
    tongxin::cadres::seed::seed(&mut f.app.db(), &key, 2_100, 1_000, |_| ()).unwrap();
    // 左 (zuo) sorts after every surname the demo cadres have; the township 仙女山镇 is not one
    // of the demo units, so the search finds these cadres alone.
    const GIVEN: [&str; 6] = ["兰", "敏", "强", "峰", "涛", "霞"];
    import_named(&f, 1_050, |n| {
        format!("左{}", GIVEN[n as usize % GIVEN.len()])
    })
    .await;

    let in_order = names_in_order(&f).await;
    assert_eq!(in_order.len(), 3_150);
    let mut expected: Vec<i64> = in_order
        .iter()
        .filter(|(_, name)| name.starts_with('左'))
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(expected.len(), 1_050);
    assert!(
        in_order[..2_100]
            .iter()
            .all(|(_, name)| !name.starts_with('左')),
        "the matches sort last"
    );
    for desc in [false, true] {
        if desc {
            expected.reverse();
        }
        let town = urlencode("仙女山镇");
        for query in [format!("q={town}"), format!("q={town}&gender=male")] {
            let found = searched_in_order(&f, &query, desc).await;
            assert_eq!(found, expected, "{query} desc={desc}");
        }
    }
}

/// Every page of a search in name order, both ways, against the register's own name order:
/// 1,060 matches that come first in name order, more than either engine sorts at once
/// (PostgreSQL's bounded walk and SQLite's look among the next names find each page), and 40
/// that come after them, more than the walk reads (they are sorted at once).
#[actix_web::test]
async fn searches_page_in_name_order_whether_matches_come_early_or_late() {
    let f = crate::transfer::fixture_with_township().await;
    const GIVEN: [&str; 6] = ["兰", "敏", "强", "峰", "涛", "霞"];
    let name = |n: u64| -> String {
        let given = GIVEN[n as usize % GIVEN.len()];
        if n < 1_060 {
            format!("阿依{given}")
        } else {
            format!("张伟{given}")
        }
    };
    import_named(&f, 1_100, name).await;
    if crate::helpers::on_postgres() {
        // The import merged the search index's pending entries, which every search would read.
        f.app.execute("CREATE EXTENSION IF NOT EXISTS pgstattuple");
        assert_eq!(
            f.app.count(
                "SELECT pending_tuples AS n FROM pgstatginindex('cadres_search_text_trgm_idx')"
            ),
            0
        );
    }

    let in_order = names_in_order(&f).await;
    assert_eq!(in_order.len(), 1_100);

    for (q, prefix) in [
        ("阿依", "阿依"),
        ("张伟", "张伟"),
        ("zw", "张伟"),
        ("ayi", "阿依"),
    ] {
        for desc in [false, true] {
            let mut expected: Vec<i64> = in_order
                .iter()
                .filter(|(_, name)| name.starts_with(prefix))
                .map(|(id, _)| *id)
                .collect();
            if desc {
                expected.reverse();
            }
            let found = searched_in_order(&f, &format!("q={}", urlencode(q)), desc).await;
            assert_eq!(found, expected, "q={q} desc={desc}");
        }
    }

    // Late matches are read through the search index, which follows archiving and renaming.
    let ids_found = |path: String| {
        let app = &f.app;
        let token = f.ufwd.clone();
        async move {
            let page: Value = app.get(&path, &token).await.json().await.unwrap();
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_i64().unwrap())
                .collect::<Vec<i64>>()
        }
    };
    let zhang_wei: Vec<i64> = in_order
        .iter()
        .filter(|(_, name)| name.starts_with("张伟"))
        .map(|(id, _)| *id)
        .collect();
    let (archived, renamed) = (zhang_wei[0], zhang_wei[1]);
    let archive = f
        .app
        .post(
            &format!("/cadres/{archived}/archive"),
            Some(&f.ufwd),
            json!({"reason": "调离本区"}),
        )
        .await;
    assert_eq!(archive.status(), StatusCode::OK);
    let path = format!("/cadres/{renamed}");
    let etag = f.app.get(&path, &f.ufwd).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let rename = f
        .app
        .patch(&path, &f.ufwd, Some(&etag), json!({"name": "欧阳修"}))
        .await;
    assert_eq!(rename.status(), StatusCode::OK);
    assert_eq!(
        ids_found("/cadres?q=zw&limit=100".into()).await,
        zhang_wei[2..],
        "neither the archived nor the renamed cadre"
    );
    assert_eq!(
        ids_found("/cadres?q=zw&status=archived".into()).await,
        [archived]
    );
    assert_eq!(
        ids_found(format!("/cadres?q={}", urlencode("欧阳"))).await,
        [renamed]
    );
    assert_eq!(ids_found("/cadres?q=oyx".into()).await, [renamed]);

    if !crate::helpers::on_postgres() {
        // A letter past `z` in the name order key (吕: `lü`), then SQLite's trigram table in name
        // order holds every cadre once, at the rowid the service computes for it
        // (`cadres::repo::name_order_key`): its triggers followed the import, the rename and this
        // rename, leaving no entry behind.
        let path = format!("/cadres/{}", zhang_wei[2]);
        let etag = f.app.get(&path, &f.ufwd).await.headers()["etag"]
            .to_str()
            .unwrap()
            .to_owned();
        let rename = f
            .app
            .patch(&path, &f.ufwd, Some(&etag), json!({"name": "吕敏"}))
            .await;
        assert_eq!(rename.status(), StatusCode::OK);
        assert_eq!(
            ids_found(format!("/cadres?q={}", urlencode("吕敏"))).await,
            [zhang_wei[2]]
        );
        assert_name_order_index_holds_every_cadre(&f.app, 'ü');
    }
}

/// 1,400 matches alike in their first eight letters (`zhangwei`…), more than SQLite's trigram
/// table in name order reads before it walks such a run of names instead (its rowids give the
/// run in id order, which here is not name order: the names were imported in turn): every page,
/// both ways, and one of archived cadres only, against the register's own name order.
#[actix_web::test]
async fn a_search_pages_through_a_long_run_of_names_alike() {
    let f = crate::transfer::fixture_with_township().await;
    const GIVEN: [&str; 7] = ["兰", "敏", "强", "峰", "涛", "霞", "安"];
    import_named(&f, 1_400, |n| {
        format!("张伟{}", GIVEN[n as usize % GIVEN.len()])
    })
    .await;
    let in_order = names_in_order(&f).await;
    assert_eq!(in_order.len(), 1_400);
    let mut expected: Vec<i64> = in_order.iter().map(|(id, _)| *id).collect();
    let mut ids_in_turn = expected.clone();
    ids_in_turn.sort_unstable();
    assert_ne!(
        expected, ids_in_turn,
        "name order is not the order of import"
    );
    for desc in [false, true] {
        if desc {
            expected.reverse();
        }
        for q in ["张伟", "zw", "zhangwei"] {
            let found = searched_in_order(&f, &format!("q={}", urlencode(q)), desc).await;
            assert_eq!(found, expected, "q={q} desc={desc}");
        }
    }

    // Of another status, the run's matches are mostly of no use to a page.
    let mut archived: Vec<i64> = expected.iter().copied().step_by(50).collect();
    for id in &archived {
        let archive = f
            .app
            .post(
                &format!("/cadres/{id}/archive"),
                Some(&f.ufwd),
                json!({"reason": "调离本区"}),
            )
            .await;
        assert_eq!(archive.status(), StatusCode::OK);
    }
    archived.reverse();
    let found = searched_in_order(&f, "q=zw&status=archived", false).await;
    assert_eq!(found, archived);
}

/// An import that is a large part of the register leaves SQLite's trigram tables in one b-tree
/// each (a search reads its trigrams' lists in every b-tree); a small one into a larger register
/// leaves its own for FTS5's merging, as merging costs what the whole table costs. On both
/// engines the imported cadres are found by name and by pinyin after each import (on SQLite
/// through the merged tables).
#[actix_web::test]
async fn a_large_import_merges_the_search_tables_and_a_small_one_does_not() {
    let f = crate::transfer::fixture_with_township().await;
    // 40 into none, 20 into 40 (a third of 60), then 2 into 60 (a thirty-first of 62).
    for (rows, merged) in [(0..40, true), (40..60, true), (60..62, false)] {
        let last = rows.end;
        let csv: Vec<String> = rows
            .map(|n| {
                let name = format!("龚{}", ["兰", "敏", "强"][n as usize % 3]);
                crate::transfer::numbered_row(n, &name, "教育").0
            })
            .collect();
        let imported =
            crate::transfer::import(&f, false, crate::transfer::csv(&csv), "text/csv").await;
        assert_eq!(imported.status(), StatusCode::OK);
        let named_lan = (0..last).filter(|n| n % 3 == 0).count();
        for q in ["龚兰", "gonglan"] {
            let found: Value = f
                .app
                .get_json(&format!("/cadres?q={}&limit=100", urlencode(q)), &f.ufwd)
                .await;
            assert_eq!(found["items"].as_array().unwrap().len(), named_lan, "{q}");
        }
        if !crate::helpers::on_postgres() {
            let btrees = search_table_btrees(&f.app);
            if merged {
                assert_eq!(btrees, [1, 1], "after {last} cadres");
            } else {
                assert!(btrees.iter().all(|&n| n > 1), "after {last}: {btrees:?}");
            }
        }
    }
    // Each import's audit record names the range of ids it gave, whatever their order.
    let auditor = f.app.token_for(&f.admin, "auditor").await;
    let events: Value = f
        .app
        .get_json("/audit/events?action=cadres.imported", &auditor)
        .await;
    let events = events["items"].as_array().unwrap();
    assert_eq!(events.len(), 3);
    for event in events {
        let after = &event["after"];
        let (first, last) = (after["first_id"].as_i64(), after["last_id"].as_i64());
        assert_eq!(
            last.unwrap() - first.unwrap() + 1,
            after["count"].as_i64().unwrap()
        );
    }
}

/// How many b-trees each of SQLite's FTS5 trigram tables (`cadre_search`, `cadre_search_by_name`)
/// is stored in.
fn search_table_btrees(app: &TestApp) -> Vec<i64> {
    use diesel::sql_types::BigInt;
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        btrees: i64,
    }
    let mut conn = app.db();
    ["cadre_search_idx", "cadre_search_by_name_idx"]
        .iter()
        .map(|table| {
            diesel::sql_query(format!(
                "SELECT count(DISTINCT segid) AS btrees FROM {table}"
            ))
            .get_result::<Count>(&mut *conn)
            .unwrap()
            .btrees
        })
        .collect()
}

/// Names whose sort keys hold characters other than letters, which SQLite's trigram table in
/// name order does not tell apart (`'` and `-` both below `a`, `•` above `z`; `aili'maimaiti`
/// sorts before `aili-abudu`): a search pages through them one at a time in the register's own
/// name order, both ways.
#[actix_web::test]
async fn a_search_pages_in_name_order_through_names_with_marks() {
    let f = CadreFixture::new().await;
    for (n, name) in [
        "艾力-阿不都",
        "艾力'买买提",
        "艾力-买买提",
        "艾力买买提",
        "艾力•阿不都",
        "艾力'阿不都",
    ]
    .iter()
    .enumerate()
    {
        f.create(profile(name, "19800315", 20 + n as u32)).await;
    }
    let in_order = names_in_order(&f).await;
    let mut expected: Vec<i64> = in_order
        .iter()
        .filter(|(_, name)| name.starts_with("艾力"))
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(expected.len(), 6);
    for desc in [false, true] {
        if desc {
            expected.reverse();
        }
        let sort = if desc { "-name" } else { "name" };
        let mut found = Vec::new();
        let mut path = format!("/cadres?q=aili&sort={sort}&limit=1");
        loop {
            let page: Value = f.app.get(&path, &f.ufwd).await.json().await.unwrap();
            found.extend(
                page["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["id"].as_i64().unwrap()),
            );
            match page["next_cursor"].as_str() {
                Some(next) if found.len() < 10 => {
                    path = format!("/cadres?q=aili&sort={sort}&limit=1&cursor={next}");
                }
                _ => break,
            }
        }
        assert_eq!(found, expected, "desc={desc}");
    }
    if !crate::helpers::on_postgres() {
        assert_name_order_index_holds_every_cadre(&f.app, '-');
        assert_name_order_index_holds_every_cadre(&f.app, '•');
    }
}

/// SQLite's `cadre_search_by_name` holds one entry per cadre, at `name_order_key`'s rowid; some
/// cadre's sort key holds `character`.
fn assert_name_order_index_holds_every_cadre(app: &TestApp, character: char) {
    use diesel::sql_types::{BigInt, Text};
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Keyed {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = Text)]
        sort_key: String,
    }
    #[derive(diesel::QueryableByName)]
    struct Entry {
        #[diesel(sql_type = BigInt)]
        rowid: i64,
    }
    let mut conn = app.db();
    let cadres: Vec<Keyed> = diesel::sql_query("SELECT id, sort_key FROM cadres")
        .load(&mut *conn)
        .unwrap();
    assert!(cadres.iter().any(|c| c.sort_key.contains(character)));
    let mut expected: Vec<i64> = cadres
        .iter()
        .map(|c| tongxin::cadres::repo::name_order_key(&c.sort_key, c.id))
        .collect();
    let mut stored: Vec<i64> = diesel::sql_query("SELECT rowid FROM cadre_search_by_name")
        .load::<Entry>(&mut *conn)
        .unwrap()
        .into_iter()
        .map(|e| e.rowid)
        .collect();
    expected.sort_unstable();
    stored.sort_unstable();
    assert_eq!(stored, expected);
}

#[actix_web::test]
async fn search_finds_traditional_simplified_pinyin_and_initials() {
    let f = CadreFixture::new().await;
    f.create(profile("羅維", "19800315", 11)).await;
    let mut zhang = profile("张三丰", "19700101", 13);
    zhang["workplace"] = json!("武隆区人民医院");
    zhang["party"] = json!("jiusan");
    f.create(zhang).await;
    let names = |list: &Value| -> Vec<String> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    };
    for q in [
        "罗维",
        "羅維",
        "luowei",
        "LuoWei",
        "luo wei",
        "lw",
        "ＬＵＯＷＥＩ",
        "维",
    ] {
        let found: Value = f
            .app
            .get(&format!("/cadres?q={}", urlencode(q)), &f.ufwd)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(names(&found), vec!["羅維"], "q={q}");
    }
    let by_workplace: Value = f
        .app
        .get(&format!("/cadres?q={}", urlencode("人民医院")), &f.ufwd)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(names(&by_workplace), vec!["张三丰"]);
    let wildcard: Value = f
        .app
        .get("/cadres?q=%25", &f.ufwd)
        .await
        .json()
        .await
        .unwrap();
    assert!(names(&wildcard).is_empty(), "LIKE wildcards are literal");

    let by_party: Value = f
        .app
        .get("/cadres?party=jiusan", &f.ufwd)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(names(&by_party), vec!["张三丰"]);
    let by_age: Value = f
        .app
        .get("/cadres?age_min=50&age_at=2026-01-01", &f.ufwd)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(names(&by_age), vec!["张三丰"]);
    let by_age: Value = f
        .app
        .get("/cadres?age_max=45&age_at=2026-01-01", &f.ufwd)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(names(&by_age), vec!["羅維"]);
    let by_tag: Value = f
        .app
        .get(&format!("/cadres?tag={}", urlencode("旅游规划")), &f.ufwd)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(names(&by_tag).len(), 2);
    let by_category: Value = f
        .app
        .get(
            "/cadres?category=ethnic_minority&gender=male&ethnicity=15",
            &f.ufwd,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(names(&by_category).len(), 2);
    let bad = f.app.get("/cadres?party=cpc", &f.ufwd).await;
    assert_problem(bad, StatusCode::BAD_REQUEST, "invalid_query").await;
    let bad = f.app.get("/cadres?colour=red", &f.ufwd).await;
    assert_problem(bad, StatusCode::BAD_REQUEST, "invalid_query").await;
}

#[actix_web::test]
async fn lists_sort_by_pinyin_birth_date_or_update_and_page_by_cursor() {
    let f = CadreFixture::new().await;
    for (i, name) in ["张伟", "安娜", "王芳", "陈静", "白雪"].iter().enumerate() {
        f.create(profile(
            name,
            &format!("198{i}0101"),
            11 + 2 * u32::try_from(i).unwrap(),
        ))
        .await;
    }
    let collect = |sort: &'static str| {
        let app = &f.app;
        let token = f.ufwd.clone();
        async move {
            let mut names = Vec::new();
            let mut cursor = String::new();
            loop {
                let page: Value = app
                    .get(&format!("/cadres?sort={sort}&limit=2{cursor}"), &token)
                    .await
                    .json()
                    .await
                    .unwrap();
                names.extend(
                    page["items"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|c| c["name"].as_str().unwrap().to_owned()),
                );
                match page["next_cursor"].as_str() {
                    Some(next) => cursor = format!("&cursor={next}"),
                    None => break names,
                }
            }
        }
    };
    assert_eq!(
        collect("name").await,
        ["安娜", "白雪", "陈静", "王芳", "张伟"]
    );
    assert_eq!(
        collect("-name").await,
        ["张伟", "王芳", "陈静", "白雪", "安娜"]
    );
    assert_eq!(
        collect("-birth_date").await,
        ["白雪", "陈静", "王芳", "安娜", "张伟"]
    );
    assert_eq!(
        collect("updated_at").await,
        ["张伟", "安娜", "王芳", "陈静", "白雪"]
    );
    let bad = f.app.get("/cadres?limit=201", &f.ufwd).await;
    assert_problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

#[actix_web::test]
async fn archived_cadres_leave_the_lists_and_can_return() {
    let f = CadreFixture::new().await;
    let created = f.create(profile("罗维", "19800315", 11)).await;
    let id = created["id"].as_i64().unwrap();
    let archived = f
        .app
        .post(
            &format!("/cadres/{id}/archive"),
            Some(&f.ufwd),
            json!({"reason": "已加入中国共产党"}),
        )
        .await;
    assert_eq!(archived.status(), StatusCode::OK);
    let body: Value = archived.json().await.unwrap();
    assert_eq!(
        (body["status"].as_str(), body["archived_reason"].as_str()),
        (Some("archived"), Some("已加入中国共产党"))
    );
    let twice = f
        .app
        .post(
            &format!("/cadres/{id}/archive"),
            Some(&f.ufwd),
            json!({"reason": "again"}),
        )
        .await;
    assert_problem(twice, StatusCode::CONFLICT, "status_unchanged").await;

    let active: Value = f.app.get("/cadres", &f.ufwd).await.json().await.unwrap();
    assert!(active["items"].as_array().unwrap().is_empty());
    let archived: Value = f
        .app
        .get("/cadres?status=archived", &f.ufwd)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(archived["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        f.app.get(&format!("/cadres/{id}"), &f.ufwd).await.status(),
        StatusCode::OK
    );

    let restored = f
        .app
        .request(
            Method::POST,
            &format!("/cadres/{id}/restore"),
            Some(&f.ufwd),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(restored.status(), StatusCode::OK);
    let all: Value = f
        .app
        .get("/cadres?status=all", &f.ufwd)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["items"][0]["status"], "active");
    // Nothing is deleted through the API.
    let delete = f
        .app
        .request(Method::DELETE, &format!("/cadres/{id}"), Some(&f.ufwd))
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[actix_web::test]
async fn only_the_five_history_kinds_are_record_routes() {
    let f = CadreFixture::new().await;
    let id = f.create_id(profile("罗维", "19800315", 11)).await;
    for kind in ["positions", "education", "family", "rewards", "memberships"] {
        let list = f.app.get(&format!("/cadres/{id}/{kind}"), &f.ufwd).await;
        assert_eq!(list.status(), StatusCode::OK, "{kind}");
    }
    assert_problem(
        f.app.get(&format!("/cadres/{id}/hobbies"), &f.ufwd).await,
        StatusCode::NOT_FOUND,
        "no_such_route",
    )
    .await;
    // The appointment history is not a record kind: changing it is a method it does not allow.
    let patch = f
        .app
        .patch(
            &format!("/cadres/{id}/appointments/history"),
            &f.ufwd,
            None,
            json!({}),
        )
        .await;
    assert_eq!(patch.headers()["allow"], "GET");
    assert_problem(patch, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
}

#[actix_web::test]
async fn history_records_are_added_corrected_and_removed_with_audit() {
    let f = CadreFixture::new().await;
    let created = f.create(profile("罗维", "19800315", 11)).await;
    let base = format!("/cadres/{}/positions", created["id"]);
    let position = json!({"unit": "武隆区仙女山镇人民政府", "title": "镇长", "rank": "正科级", "from": "2012-03-01", "document": "武隆委〔2012〕15号"});
    let response = f.app.post(&base, Some(&f.ufwd), position).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let record: Value = response.json().await.unwrap();
    assert_eq!(record["data"]["title"], "镇长");
    let item = format!("{base}/{}", record["id"]);

    let backwards = f
        .app
        .patch(&item, &f.ufwd, Some("\"1\""), json!({"to": "2010-01-01"}))
        .await;
    assert_problem(
        backwards,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let unknown = f
        .app
        .patch(&item, &f.ufwd, Some("\"1\""), json!({"salary": 1}))
        .await;
    assert_problem(unknown, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    let ended = f
        .app
        .patch(&item, &f.ufwd, Some("\"1\""), json!({"to": "2016-09-30"}))
        .await;
    assert_eq!(ended.status(), StatusCode::OK);
    let ended: Value = ended.json().await.unwrap();
    assert_eq!(
        (
            ended["data"]["to"].as_str(),
            ended["data"]["title"].as_str(),
            ended["version"].as_i64()
        ),
        (Some("2016-09-30"), Some("镇长"), Some(2))
    );

    // Every kind takes its own shape.
    let kinds = [
        (
            "education",
            json!({"school": "西南大学", "major": "旅游管理", "degree": "bachelor", "from": "1998-09-01", "to": "2002-07-01", "full_time": true}),
        ),
        (
            "family",
            json!({"relation": "配偶", "name": "张芳", "workplace": "武隆中学", "political_affiliation": "none"}),
        ),
        (
            "rewards",
            json!({"kind": "reward", "date": "2019-12-01", "issuer": "中共武隆区委", "reason": "优秀党外干部"}),
        ),
        (
            "memberships",
            json!({"body": "cppcc", "level": "district", "term": "第十五届", "from": "2021-12-01"}),
        ),
    ];
    for (kind, body) in kinds {
        let response = f
            .app
            .post(
                &format!("/cadres/{}/{kind}", created["id"]),
                Some(&f.ufwd),
                body,
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "{kind}");
    }
    let wrong_shape = f
        .app
        .post(
            &format!("/cadres/{}/rewards", created["id"]),
            Some(&f.ufwd),
            json!({"school": "x"}),
        )
        .await;
    assert_problem(
        wrong_shape,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await;
    let leader = f.app.token_for(&f.admin, "leader").await;
    let list: Value = f
        .app
        .get(&format!("/cadres/{}/family", created["id"]), &leader)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    let leader_write = f.app.post(&base, Some(&leader), json!({})).await;
    assert_eq!(leader_write.status(), StatusCode::FORBIDDEN);

    // A record is reached only under its own cadre and kind.
    let other = f.create(profile("张芳", "19850101", 22)).await;
    let wrong_cadre = f
        .app
        .patch(
            &format!("/cadres/{}/positions/{}", other["id"], record["id"]),
            &f.ufwd,
            Some("\"2\""),
            json!({"title": "x"}),
        )
        .await;
    assert_problem(wrong_cadre, StatusCode::NOT_FOUND, "not_found").await;
    let wrong_kind = f
        .app
        .request(
            Method::DELETE,
            &format!("/cadres/{}/rewards/{}", created["id"], record["id"]),
            Some(&f.ufwd),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_kind.status(), StatusCode::NOT_FOUND);

    let deleted = f
        .app
        .request(Method::DELETE, &item, Some(&f.ufwd))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let list: Value = f.app.get(&base, &f.ufwd).await.json().await.unwrap();
    assert!(list.as_array().unwrap().is_empty());
    let auditor = f.app.token_for(&f.admin, "auditor").await;
    let trail: Value = f
        .app
        .get(
            &format!(
                "/audit/events?entity=cadre_record&entity_id={}",
                record["id"]
            ),
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
        [
            "cadre_record.deleted",
            "cadre_record.updated",
            "cadre_record.created"
        ]
    );
    assert_eq!(trail["items"][0]["before"]["data"]["title"], "镇长");
    assert_eq!(trail["items"][1]["before"]["data"]["to"], Value::Null);
}

#[actix_web::test]
async fn a_representative_asks_for_corrections_that_ufwd_staff_decide() {
    let f = CadreFixture::new().await;
    let own = f.create(profile("罗维", "19800315", 11)).await;
    let rep = f
        .representative_of(own["id"].as_i64().unwrap(), "luo.wei")
        .await;

    let invalid = f
        .app
        .post(
            "/me/profile/corrections",
            Some(&rep),
            json!({"changes": {"phone": "123"}, "reason": "换号"}),
        )
        .await;
    assert_problem(
        invalid,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let response = f.app.post("/me/profile/corrections", Some(&rep), json!({"changes": {"phone": "13900001111", "position": "董事长"}, "reason": "手机号和职务已变更"})).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let request: Value = response.json().await.unwrap();
    assert_eq!(request["status"], "pending");
    assert_eq!(request["changes"]["phone"], "139****1111");
    assert_eq!(
        f.app.count(
            "SELECT COUNT(*) AS n FROM profile_corrections WHERE changes LIKE '%13900001111%'"
        ),
        0,
        "encrypted at rest"
    );

    let org = f.app.token_for(&f.admin, "org_staff").await;
    let decision = format!("/profile-corrections/{}/decision", request["id"]);
    assert_eq!(
        f.app
            .post(&decision, Some(&org), json!({"decision": "approve"}))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let pending: Value = f
        .app
        .get("/profile-corrections", &f.ufwd)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pending["items"].as_array().unwrap().len(), 1);
    let approved = f
        .app
        .post(
            &decision,
            Some(&f.ufwd),
            json!({"decision": "approve", "note": "已核实"}),
        )
        .await;
    assert_eq!(approved.status(), StatusCode::OK);
    let again = f
        .app
        .post(&decision, Some(&f.ufwd), json!({"decision": "reject"}))
        .await;
    assert_problem(again, StatusCode::CONFLICT, "already_decided").await;

    let now: Value = f.app.get("/me/profile", &rep).await.json().await.unwrap();
    assert_eq!(
        (now["phone"].as_str(), now["position"].as_str()),
        (Some("139****1111"), Some("董事长"))
    );
    let revealed = f
        .reveal(&format!("/cadres/{}", own["id"]), &["phone"], "核对变更")
        .await;
    assert_eq!(revealed["phone"], "13900001111");
    let mine: Value = f
        .app
        .get("/me/profile/corrections", &rep)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"][0]["status"], "approved");
    let auditor = f.app.token_for(&f.admin, "auditor").await;
    let trail: Value = f
        .app
        .get(
            &format!(
                "/audit/events?entity=cadre&entity_id={}&action=cadre.updated",
                own["id"]
            ),
            &auditor,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        trail["items"][0]["before"]["position"], "总经理",
        "the original stays in the audit trail"
    );

    let rejected = f
        .app
        .post(
            "/me/profile/corrections",
            Some(&rep),
            json!({"changes": {"workplace": "别处"}, "reason": "调动"}),
        )
        .await;
    let rejected: Value = rejected.json().await.unwrap();
    let response = f
        .app
        .post(
            &format!("/profile-corrections/{}/decision", rejected["id"]),
            Some(&f.ufwd),
            json!({"decision": "reject", "note": "未见调动文件"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let unchanged: Value = f.app.get("/me/profile", &rep).await.json().await.unwrap();
    assert_eq!(unchanged["workplace"], "仙女山旅游公司");
}

pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[actix_web::test]
async fn error_answers_never_echo_an_id_number_or_phone() {
    let f = CadreFixture::new().await;
    let mut body = profile("罗维", "19800315", 11);
    body["gender"] = json!(id_number("19800315", 11));
    body["ethnicity"] = json!(13_812_345_678_i64);
    let response = f.app.post("/cadres", Some(&f.ufwd), body).await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    let text = problem.to_string();
    assert!(!text.contains(&id_number("19800315", 11)[..10]), "{text}");
    assert!(!text.contains("13812345678"), "{text}");
}

#[actix_web::test]
async fn seed_demo_fills_a_database_with_plausible_cadres() {
    let f = CadreFixture::new().await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tongxin"))
        .args(["seed-demo", "--cadres", "120"])
        .env("TONGXIN_DATABASE_URL", &f.app.config.database_url)
        .env("TONGXIN_DATA_DIR", &f.app.data_dir)
        .env("TONGXIN_DATA_KEY", hex_key(&f.app.config.data_key))
        .env("TONGXIN_LOG", "off")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stats: Value = f
        .app
        .get("/stats/cadres", &f.ufwd)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stats["total"], 120);
    if !crate::helpers::on_postgres() {
        // A load into an empty register merges SQLite's search tables.
        assert_eq!(search_table_btrees(&f.app), [1, 1]);
    }
    assert!(
        stats["by_party"].as_array().unwrap().len() >= 8,
        "all parties appear: {}",
        stats["by_party"]
    );
    assert!(stats["by_unit"].as_array().unwrap().len() > 5);
    // The protected fields decrypt with the service's key, and the ID numbers are valid.
    let list: Value = f
        .app
        .get("/cadres?limit=1", &f.ufwd)
        .await
        .json()
        .await
        .unwrap();
    let id = &list["items"][0]["id"];
    let revealed = f
        .reveal(&format!("/cadres/{id}"), &["id_number"], "检查演示数据")
        .await;
    let number = revealed["id_number"].as_str().unwrap();
    assert!(
        tongxin::cadres::identity::parse_id_number(number).is_ok(),
        "{number}"
    );
}

fn hex_key(key: &[u8; 32]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

/// `TONGXIN_SQLITE_MMAP_MIB`: SQLite's connections read the file through a memory map of that
/// size, and the register is searched and edited as before; PostgreSQL ignores the setting.
#[actix_web::test]
async fn a_register_read_through_a_memory_map_is_searched_and_edited_as_before() {
    let f = CadreFixture::with_config(|config| config.sqlite_mmap_mib = 16).await;
    if !crate::helpers::on_postgres() {
        #[derive(diesel::QueryableByName)]
        struct MmapSize {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            mmap_size: i64,
        }
        let mut conn = f.app.db();
        let mapped: MmapSize =
            diesel::RunQueryDsl::get_result(diesel::sql_query("PRAGMA mmap_size"), &mut *conn)
                .unwrap();
        assert_eq!(mapped.mmap_size, 16 << 20);
    }
    let id = f.create_id(profile("罗维", "19800315", 11)).await;
    let found = f.app.get_json("/cadres?q=luowei", &f.ufwd).await;
    assert_eq!(found["items"][0]["id"], id, "{found}");
    let path = format!("/cadres/{id}");
    let edited = f
        .app
        .patch(&path, &f.ufwd, Some("\"1\""), json!({"position": "董事长"}))
        .await;
    assert_eq!(edited.status(), StatusCode::OK);
    let now = f.app.get_json(&path, &f.ufwd).await;
    assert_eq!(
        (now["position"].as_str(), now["version"].as_i64()),
        (Some("董事长"), Some(2))
    );
}
