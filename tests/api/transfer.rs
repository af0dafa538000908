//! Import from spreadsheets (dry run, all-or-nothing), export with masking and audit, the
//! template, and statistics on a known data set.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::cadres::{id_number, profile, urlencode, CadreFixture};
use crate::helpers::assert_problem;

const HEADER: &str = "姓名,性别,民族,出生日期,公民身份号码,联系电话,党派,加入党派时间,统战类别,管理层级,所属单位,工作单位,职务,学历,行业领域,专长";

pub fn csv(rows: &[String]) -> Vec<u8> {
    let mut text = String::from("\u{feff}");
    text.push_str(HEADER);
    for row in rows {
        text.push('\n');
        text.push_str(row);
    }
    text.into_bytes()
}

/// The `n`-th of many distinct people for one import: born `n` days after 1 January 1970 (so
/// the ID number is unique), a man in the township `仙女山镇`.
pub fn numbered_row(n: u64, name: &str, sector: &str) -> (String, String) {
    let first_birth = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    let birth = (first_birth + chrono::Days::new(n))
        .format("%Y%m%d")
        .to_string();
    let row = format!(
        "{name},男,土家族,{}-{}-{},{},13812345678,民盟,,民主党派成员,乡镇级,仙女山镇,武隆中学,教师,大学本科,{sector},基础教育",
        &birth[..4],
        &birth[4..6],
        &birth[6..],
        id_number(&birth, 11),
    );
    (row, birth)
}

fn row(name: &str, gender: &str, birth: &str, id: &str, party: &str) -> String {
    format!("{name},{gender},土家族,{}-{}-{},{id},13812345678,{party},,民主党派成员；少数民族人士,乡镇级,仙女山镇,武隆中学,教师,大学本科,教育；文化旅游,基础教育", &birth[..4], &birth[4..6], &birth[6..])
}

pub async fn import(
    f: &CadreFixture,
    dry_run: bool,
    body: Vec<u8>,
    content_type: &str,
) -> reqwest::Response {
    f.app
        .request(
            Method::POST,
            &format!("/cadres/import?dry_run={dry_run}"),
            Some(&f.ufwd),
        )
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

pub async fn fixture_with_township() -> CadreFixture {
    fixture_with_townships(&["仙女山镇"]).await.0
}

/// A district with the named townships under it; returns their ids in order.
async fn fixture_with_townships(names: &[&str]) -> (CadreFixture, Vec<i64>) {
    let f = CadreFixture::new().await;
    let district = f
        .app
        .create_unit(&f.admin, "武隆区", "district", None)
        .await;
    let mut townships = Vec::new();
    for name in names {
        townships.push(
            f.app
                .create_unit(&f.admin, name, "township", Some(district))
                .await,
        );
    }
    (f, townships)
}

#[actix_web::test]
async fn an_import_is_checked_row_by_row_and_written_all_or_nothing() {
    let f = fixture_with_township().await;
    let rows = vec![
        row("罗维", "男", "19800315", &id_number("19800315", 11), "民盟"),
        row(
            "張芳",
            "女",
            "19850101",
            &id_number("19850101", 22),
            "九三學社",
        ),
        row("错号", "男", "19900101", "500156199001010110", "民进"),
        row("", "男", "19900101", "", "民革"),
    ];
    let report = import(&f, true, csv(&rows), "text/csv").await;
    assert_eq!(report.status(), StatusCode::OK);
    let report: Value = report.json().await.unwrap();
    assert_eq!(
        (
            report["rows"].as_i64(),
            report["valid"].as_i64(),
            report["imported"].as_i64()
        ),
        (Some(4), Some(2), Some(0))
    );
    assert_eq!(report["errors"][0]["row"], 4);
    assert_eq!(
        report["errors"][0]["fields"]["id_number"][0],
        "id_number_checksum"
    );
    assert_eq!(report["errors"][1]["row"], 5);
    assert_eq!(report["errors"][1]["fields"]["name"][0], "required");
    assert_eq!(
        f.app.count("SELECT COUNT(*) AS n FROM cadres"),
        0,
        "a dry run writes nothing"
    );

    let refused = import(&f, false, csv(&rows), "text/csv").await;
    let problem = assert_problem(
        refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        problem["fields"]["rows[4].id_number"][0],
        "id_number_checksum"
    );
    assert_eq!(
        f.app.count("SELECT COUNT(*) AS n FROM cadres"),
        0,
        "all or nothing"
    );
    assert_eq!(
        f.app
            .count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'cadres.imported'"),
        0
    );

    let good = import(&f, false, csv(&rows[..2]), "text/csv").await;
    assert_eq!(good.status(), StatusCode::OK);
    let report: Value = good.json().await.unwrap();
    assert_eq!(report["imported"], 2);
    let list: Value = f
        .app
        .get("/cadres?party=jiusan", &f.ufwd)
        .await
        .json()
        .await
        .unwrap();
    let zhang = &list["items"][0];
    assert_eq!(zhang["name"], "張芳");
    assert_eq!(
        zhang["categories"],
        json!(["democratic_party_member", "ethnic_minority"])
    );
    assert_eq!(zhang["sectors"], json!(["教育", "文化旅游"]));
    assert!(zhang["unit_id"].is_i64());
    assert_eq!(f.app.count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'cadres.imported' AND after_json LIKE '%\"count\":2%'"), 1);

    // The same people again: their ID numbers are taken.
    let again: Value = import(&f, true, csv(&rows[..2]), "text/csv")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        again["errors"][0]["fields"]["id_number"][0],
        "id_number_taken"
    );
}

#[actix_web::test]
async fn xlsx_and_gb18030_csv_files_import_too() {
    let f = fixture_with_township().await;
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (c, title) in HEADER.split(',').enumerate() {
        sheet
            .write_string(0, u16::try_from(c).unwrap(), title)
            .unwrap();
    }
    let values = row("罗维", "男", "19800315", &id_number("19800315", 11), "民盟");
    for (c, value) in values.split(',').enumerate() {
        let c = u16::try_from(c).unwrap();
        if c == 3 {
            // A real date cell, as a spreadsheet program writes it.
            let date = rust_xlsxwriter::ExcelDateTime::from_ymd(1980, 3, 15).unwrap();
            sheet
                .write_datetime_with_format(
                    1,
                    c,
                    &date,
                    &rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd"),
                )
                .unwrap();
        } else if c == 5 {
            sheet.write_number(1, c, 13_812_345_678.0).unwrap();
        } else {
            sheet.write_string(1, c, value).unwrap();
        }
    }
    let bytes = workbook.save_to_buffer().unwrap();
    let response = import(
        &f,
        false,
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    .await;
    let status = response.status();
    let report: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["imported"], 1);

    let gb = csv(&[row(
        "王芳",
        "女",
        "19850101",
        &id_number("19850101", 22),
        "民盟",
    )]);
    let text = String::from_utf8(gb[3..].to_vec()).unwrap();
    let (encoded, _, _) = encoding_rs::GB18030.encode(&text);
    let response = import(&f, false, encoded.into_owned(), "text/csv").await;
    assert_eq!(response.status(), StatusCode::OK);
    let list: Value = f
        .app
        .get(&format!("/cadres?q={}", urlencode("王芳")), &f.ufwd)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    let wrong = import(&f, true, b"name,colour\nx,red".to_vec(), "text/csv").await;
    assert_problem(wrong, StatusCode::BAD_REQUEST, "template_mismatch").await;
}

#[actix_web::test]
async fn an_import_over_its_limits_is_refused_before_any_row_is_checked() {
    let f = CadreFixture::with_config(|config| {
        config.import_limits = tongxin::cadres::transfer::ImportLimits {
            max_rows: 2,
            max_bytes: 4096,
        };
    })
    .await;
    let rows: Vec<String> = (0..3)
        .map(|n| {
            let birth = format!("1980031{n}");
            row("罗维", "男", &birth, &id_number(&birth, 11), "民盟")
        })
        .collect();
    for dry_run in [true, false] {
        let refused = import(&f, dry_run, csv(&rows), "text/csv").await;
        let problem = assert_problem(refused, StatusCode::BAD_REQUEST, "too_many_rows").await;
        assert_eq!(problem["detail"], "an import takes at most 2 rows");
    }
    // Blank rows do not count; the limit itself is accepted.
    let mut two = rows[..2].to_vec();
    two.insert(1, ",,,,,,,,,,,,,,,".into());
    let response = import(&f, true, csv(&two), "text/csv").await;
    assert_eq!(response.status(), StatusCode::OK);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["rows"], 2, "{report}");

    let big = import(&f, true, vec![b'a'; 4097], "text/csv").await;
    assert_problem(big, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    assert_eq!(f.app.count("SELECT COUNT(*) AS n FROM cadres"), 0);
}

/// An import larger than one insert statement (500 cadres): every row is written once, with its
/// own tags, its protected fields bound to its own id and its unit in the search text; the
/// tallies count it, and ids go on after it.
#[actix_web::test]
async fn a_large_import_writes_every_row_with_its_own_values() {
    let f = fixture_with_township().await;
    const SECTORS: [&str; 3] = ["教育", "文化旅游", "医疗卫生"];
    let rows: Vec<String> = (0..1_201)
        .map(|n| numbered_row(n, "罗维", SECTORS[n as usize % 3]).0)
        .collect();
    let response = import(&f, false, csv(&rows), "text/csv").await;
    assert_eq!(response.status(), StatusCode::OK);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["imported"], 1_201, "{report}");
    assert_eq!(
        f.app
            .count("SELECT COUNT(DISTINCT id) AS n FROM cadres WHERE search_text LIKE '%仙女山%'"),
        1_201
    );
    assert_eq!(
        f.app
            .count("SELECT COUNT(*) AS n FROM cadre_tags WHERE kind = 'sector'"),
        1_201
    );
    assert_eq!(
        f.app.count(
            "SELECT cadre_count AS n FROM cadre_tallies \
             WHERE status = 'active' AND dimension = 'party' AND value = 'cdl'"
        ),
        1_201
    );

    // Rows from the first and the last statement, read back whole.
    for n in [0, 1_000] {
        let date = numbered_row(n, "罗维", "").1;
        let id = f.app.count(&format!(
            "SELECT id AS n FROM cadres WHERE birth_date = '{}-{}-{}'",
            &date[..4],
            &date[4..6],
            &date[6..]
        ));
        let path = format!("/cadres/{id}");
        let cadre: Value = f.app.get(&path, &f.ufwd).await.json().await.unwrap();
        assert_eq!(
            cadre["sectors"],
            json!([SECTORS[n as usize % 3]]),
            "row {n}"
        );
        assert_eq!(cadre["categories"], json!(["democratic_party_member"]));
        let revealed = f
            .reveal(&path, &["phone", "id_number"], "核对导入结果")
            .await;
        assert_eq!(revealed["id_number"], id_number(&date, 11), "row {n}");
        assert_eq!(revealed["phone"], "13812345678");
    }

    let last = f.app.count("SELECT MAX(id) AS n FROM cadres");
    let created = f.create(profile("张芳", "19850101", 22)).await;
    assert!(created["id"].as_i64().unwrap() > last, "{created}");
}

#[actix_web::test]
async fn the_template_round_trips_through_an_import() {
    let f = fixture_with_township().await;
    let template = f
        .app
        .get("/cadres/import-template?format=csv", &f.ufwd)
        .await;
    assert_eq!(template.status(), StatusCode::OK);
    assert!(template.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("cadre-import-template.csv"));
    let text = template.text().await.unwrap();
    assert!(text
        .trim_start_matches('\u{feff}')
        .starts_with("姓名,曾用名,性别,民族,出生日期"));
    let xlsx = f
        .app
        .get("/cadres/import-template", &f.ufwd)
        .await
        .bytes()
        .await
        .unwrap();
    assert!(xlsx.starts_with(b"PK"));
    let report: Value = import(&f, true, text.into_bytes(), "text/csv")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["rows"], 0);
}

/// An exported file imports again, categories whose labels hold `、` included.
#[actix_web::test]
async fn an_export_without_protected_columns_imports_again() {
    let f = CadreFixture::new().await;
    let mut wang = profile("王芳", "19800315", 11);
    wang["categories"] = json!(["hong_kong_macao", "overseas_chinese", "ethnic_minority"]);
    f.create(wang).await;
    let fields = "name,gender,ethnicity,birth_date,party,categories,level,workplace";
    let exported = f
        .app
        .get(
            &format!("/cadres/export?format=xlsx&fields={fields}"),
            &f.ufwd,
        )
        .await
        .bytes()
        .await
        .unwrap();
    let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    let imported = import(&f, false, exported.to_vec(), xlsx).await;
    assert_eq!(
        imported.status(),
        StatusCode::OK,
        "{}",
        imported.text().await.unwrap()
    );
    let list: Value = f
        .app
        .get(&format!("/cadres?q={}", urlencode("王芳")), &f.ufwd)
        .await
        .json()
        .await
        .unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    for item in items {
        assert_eq!(
            item["categories"],
            json!(["ethnic_minority", "hong_kong_macao", "overseas_chinese"]),
            "{item}"
        );
    }
}

#[actix_web::test]
async fn exports_are_masked_filtered_and_audited() {
    let f = CadreFixture::new().await;
    f.create(profile("罗维", "19800315", 11)).await;
    let mut other = profile("张芳", "19850101", 22);
    other["party"] = json!("jiusan");
    f.create(other).await;

    let response = f
        .app
        .get(
            "/cadres/export?format=csv&party=cdl&fields=name,id_number,phone,party,categories",
            &f.ufwd,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = response.text().await.unwrap();
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0], "姓名,公民身份号码,联系电话,党派,统战类别");
    let expected_id = format!("5001**********{}", &id_number("19800315", 11)[14..]);
    assert_eq!(
        lines[1],
        format!("罗维,{expected_id},138****5678,民盟,民主党派成员；少数民族人士")
    );
    assert!(!text.contains("13812345678"));

    let xlsx = f.app.get("/cadres/export", &f.ufwd).await;
    let bytes = xlsx.bytes().await.unwrap();
    let mut workbook: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = calamine::Reader::worksheet_range_at(&mut workbook, 0)
        .unwrap()
        .unwrap();
    assert_eq!(range.height(), 3);

    let bad = f
        .app
        .get("/cadres/export?fields=name,salary", &f.ufwd)
        .await;
    assert_problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let leader = f.app.token_for(&f.admin, "leader").await;
    assert_eq!(
        f.app.get("/cadres/export", &leader).await.status(),
        StatusCode::FORBIDDEN
    );

    let auditor = f.app.token_for(&f.admin, "auditor").await;
    let events: Value = f
        .app
        .get("/audit/events?action=cadres.exported", &auditor)
        .await
        .json()
        .await
        .unwrap();
    let items = events["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[1]["after"]["count"], 1);
    assert_eq!(items[1]["after"]["filter"]["party"], "cdl");
    assert_eq!(items[1]["actor_roles"], json!(["ufwd_staff"]));
}

#[actix_web::test]
async fn statistics_count_a_known_data_set_and_drill_down() {
    let f = CadreFixture::new().await;
    let a = profile("罗维", "19800315", 11);
    let mut b = profile("王芳", "19950101", 22);
    b["party"] = json!("jiusan");
    b["ethnicity"] = json!("01");
    b["level"] = json!("district");
    b["education"] = json!("graduate");
    b["categories"] = json!(["democratic_party_member"]);
    let mut c = profile("张伟", "19600601", 13);
    c["party"] = json!("non_party");
    c["party_joined_on"] = json!(null);
    c["ethnicity"] = json!("01");
    c["level"] = json!("district");
    c["education"] = json!(null);
    c["categories"] = json!(["non_party_personage"]);
    let d = profile("陈静", "19750101", 24);
    for body in [a, b, c] {
        f.create(body).await;
    }
    let archived = f.create(d).await;
    f.app
        .post(
            &format!("/cadres/{}/archive", archived["id"]),
            Some(&f.ufwd),
            json!({"reason": "退休"}),
        )
        .await;

    let stats: Value = f
        .app
        .get("/stats/cadres?age_at=2026-01-01", &f.ufwd)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stats["total"], 3);
    assert_eq!(stats["average_age"], 47.0, "(45 + 31 + 65) / 3");
    let counts_in = |stats: &Value, key: &str| -> Vec<(String, i64)> {
        stats[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                (
                    b["key"].as_str().unwrap().to_owned(),
                    b["count"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let counts = |key: &str| counts_in(&stats, key);
    let pairs = |items: &[(&str, i64)]| -> Vec<(String, i64)> {
        items.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect()
    };
    assert_eq!(
        counts("by_party"),
        pairs(&[("cdl", 1), ("jiusan", 1), ("non_party", 1)])
    );
    assert_eq!(
        counts("by_category"),
        pairs(&[
            ("democratic_party_member", 2),
            ("ethnic_minority", 1),
            ("non_party_personage", 1)
        ])
    );
    assert_eq!(counts("by_gender"), pairs(&[("male", 2), ("female", 1)]));
    assert_eq!(counts("by_ethnicity"), pairs(&[("01", 2), ("15", 1)]));
    assert_eq!(
        counts("by_age_band"),
        pairs(&[("0-35", 1), ("36-45", 1), ("46-55", 0), ("56-", 1)])
    );
    assert_eq!(
        counts("by_level"),
        pairs(&[("district", 2), ("township", 1)])
    );
    assert_eq!(
        counts("by_education"),
        pairs(&[("bachelor", 1), ("graduate", 1), ("unknown", 1)])
    );
    assert!(stats["by_education"][2]["filter"].is_null());

    // On 罗维's 46th birthday he moves up a band and the mean follows.
    let on_birthday: Value = f
        .app
        .get("/stats/cadres?age_at=2026-03-15", &f.ufwd)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(on_birthday["average_age"], 47.3, "(46 + 31 + 65) / 3");
    assert_eq!(
        counts_in(&on_birthday, "by_age_band"),
        pairs(&[("0-35", 1), ("36-45", 0), ("46-55", 1), ("56-", 1)])
    );

    // Every bucket's filter lists exactly its people.
    for key in [
        "by_party",
        "by_category",
        "by_gender",
        "by_age_band",
        "by_level",
    ] {
        for bucket in stats[key].as_array().unwrap() {
            let filter = bucket["filter"].as_str().unwrap();
            let list = f
                .app
                .get_json(&format!("/cadres?{filter}&limit=200"), &f.ufwd)
                .await;
            assert_eq!(
                list["items"].as_array().unwrap().len() as i64,
                bucket["count"].as_i64().unwrap(),
                "{key} {filter}"
            );
        }
    }

    // The statistics take the list's filters.
    let district: Value = f
        .app
        .get("/stats/cadres?level=district&age_at=2026-01-01", &f.ufwd)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(district["total"], 2);
    let with_archived: Value = f
        .app
        .get("/stats/cadres?status=all", &f.ufwd)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(with_archived["total"], 4);
    let rep = f.app.token_for(&f.admin, "representative").await;
    assert_eq!(
        f.app.get("/stats/cadres", &rep).await.status(),
        StatusCode::FORBIDDEN
    );
}

/// Every dimension's counts, the total and the mean age of a statistics answer, without the
/// drill-down filters (which name the request's own filter).
fn composition(stats: &Value) -> Value {
    let mut counts = serde_json::Map::new();
    for (key, value) in stats.as_object().unwrap() {
        let value = match value.as_array() {
            Some(buckets) => buckets
                .iter()
                .map(|b| json!([b["key"], b["count"]]))
                .collect(),
            None => value.clone(),
        };
        counts.insert(key.clone(), value);
    }
    Value::Object(counts)
}

#[actix_web::test]
async fn statistics_of_a_whole_status_follow_every_write() {
    let (f, townships) = fixture_with_townships(&["仙女山镇", "白马镇"]).await;
    let unit = townships[1];
    let mut created = Vec::new();
    for (sequence, (name, birth)) in [
        ("罗维", "19800315"),
        ("王芳", "19950101"),
        ("张伟", "19600601"),
        ("陈静", "19751231"),
    ]
    .into_iter()
    .enumerate()
    {
        let sequence = u32::try_from(sequence).unwrap() + 11;
        created.push(f.create(profile(name, birth, sequence)).await["id"].clone());
    }
    let imported = import(
        &f,
        false,
        csv(&[row(
            "李娜",
            "女",
            "19881010",
            &id_number("19881010", 42),
            "民盟",
        )]),
        "text/csv",
    )
    .await;
    assert_eq!(imported.status(), StatusCode::OK);

    // Every dimension changes: party, categories, gender, ethnicity, level, education (to
    // none), unit, birth date; one cadre is archived, another archived and restored.
    let changed = f
        .app
        .patch(
            &format!("/cadres/{}", created[0]),
            &f.ufwd,
            Some("\"1\""),
            json!({"party": "jiusan", "categories": ["non_party_intellectual"], "gender": "female",
                   "ethnicity": "01", "level": "district", "education": null,
                   "birth_date": "1979-02-28", "id_number": id_number("19790228", 12)}),
        )
        .await;
    assert_eq!(
        changed.status(),
        StatusCode::OK,
        "{:?}",
        changed.text().await
    );
    let moved = f
        .app
        .patch(
            &format!("/cadres/{}", created[1]),
            &f.ufwd,
            Some("\"1\""),
            json!({"unit_id": unit}),
        )
        .await;
    assert_eq!(moved.status(), StatusCode::OK);
    for id in [&created[2], &created[3]] {
        let archived = f
            .app
            .post(
                &format!("/cadres/{id}/archive"),
                Some(&f.ufwd),
                json!({"reason": "退休"}),
            )
            .await;
        assert_eq!(archived.status(), StatusCode::OK);
    }
    let restored = f
        .app
        .request(
            Method::POST,
            &format!("/cadres/{}/restore", created[3]),
            Some(&f.ufwd),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(restored.status(), StatusCode::OK);

    // The whole status is answered from the tallies; adding `age_min=0` (everyone) makes the
    // same question go through the grouped pass over the rows. Both must agree.
    let stats = |query: String| {
        let app = &f.app;
        let token = &f.ufwd;
        async move {
            let response = app.get(&format!("/stats/cadres?{query}"), token).await;
            assert_eq!(response.status(), StatusCode::OK);
            composition(&response.json().await.unwrap())
        }
    };
    for status in ["active", "archived", "all"] {
        for at in ["2026-01-01", "2026-03-15", "2026-12-31"] {
            let whole = stats(format!("status={status}&age_at={at}")).await;
            let grouped = stats(format!("status={status}&age_at={at}&age_min=0")).await;
            assert_eq!(whole, grouped, "status={status} age_at={at}");
        }
    }
    let active = stats("age_at=2026-01-01".into()).await;
    assert_eq!(active["total"], 4);
    assert_eq!(
        active["by_party"],
        json!([["cdl", 3], ["jiusan", 1]]),
        "the imported 民盟 member counts"
    );
    assert_eq!(active["by_unit"].as_array().unwrap().len(), 3);

    // And the tallies are what the whole status reads: a count changed behind the service's
    // back shows there and not in the grouped pass.
    f.app.execute(
        "UPDATE cadre_tallies SET cadre_count = cadre_count + 100 \
         WHERE status = 'active' AND dimension = 'party' AND value = 'jiusan'",
    );
    assert_eq!(stats(String::new()).await["total"], 104);
    assert_eq!(stats("age_min=0".into()).await["total"], 4);
}

/// An export reads in one snapshot (`db::read_snapshot`) instead of holding the write queue: an
/// edit committed by another connection after the snapshot's first read is not seen in it, so
/// the export's batches still see one register.
#[actix_web::test]
async fn an_export_reads_one_snapshot_while_others_write() {
    use diesel::prelude::*;
    use tongxin::db::schema::cadres;

    let f = CadreFixture::new().await;
    let id = f.create_id(profile("张芳", "19850101", 22)).await;
    let pool = tongxin::db::build_pool(
        &f.app.config.database_url,
        tongxin::db::PoolSettings::sized(2, std::time::Duration::from_secs(5)),
    );
    let mut reader = pool.get().unwrap();
    let mut writer = pool.get().unwrap();
    let notes = |conn: &mut tongxin::db::DbConn| {
        cadres::table
            .find(id)
            .select(cadres::notes)
            .get_result::<Option<String>>(conn)
    };
    let (first, second) = tongxin::db::read_snapshot(&mut reader, |conn| {
        let first = notes(conn)?;
        diesel::update(cadres::table.find(id))
            .set(cadres::notes.eq("edited meanwhile"))
            .execute(&mut *writer)?;
        Ok((first, notes(conn)?))
    })
    .unwrap();
    assert_eq!(first, second, "the snapshot saw a later commit");
    assert_eq!(
        notes(&mut reader).unwrap().as_deref(),
        Some("edited meanwhile")
    );
}

/// An export is written to a temporary file and sent from it in chunks: a file of many chunks
/// arrives whole, with its length announced, in both formats.
#[actix_web::test]
async fn a_large_export_is_sent_whole_from_its_file() {
    let f = CadreFixture::new().await;
    let key = tongxin::crypto::DataKey::new(&f.app.config.data_key);
    tongxin::cadres::seed::seed(&mut f.app.db(), &key, 1000, 1000, |_| ()).unwrap();

    let csv = f.app.get("/cadres/export?format=csv", &f.ufwd).await;
    assert_eq!(csv.status(), StatusCode::OK);
    let length = content_length(&csv);
    let text = csv.text().await.unwrap();
    assert_eq!(text.len(), length);
    assert!(
        length > 2 * 64 * 1024,
        "more than two chunks: {length} bytes"
    );
    assert!(text.starts_with('\u{feff}'));
    assert_eq!(text.lines().count(), 1001, "the header and every cadre");

    let xlsx = f.app.get("/cadres/export?format=xlsx", &f.ufwd).await;
    let length = content_length(&xlsx);
    let bytes = xlsx.bytes().await.unwrap();
    assert_eq!(bytes.len(), length);
    let mut workbook: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = calamine::Reader::worksheet_range_at(&mut workbook, 0)
        .unwrap()
        .unwrap();
    assert_eq!(range.height(), 1001);
}

fn content_length(response: &reqwest::Response) -> usize {
    response.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}
