//! The cadre list's queries, as the service builds them, are served by indexes: every filter and
//! sort the API offers is planned on both engines, and a sequential scan of `cadres` fails.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::web::Query;
use diesel::connection::{Connection, InstrumentationEvent};
use diesel::RunQueryDsl;
use tongxin::audit::Actor;
use tongxin::cadres::dto::{CadreFilter, CadrePageParams, UpdateCadreRequest};
use tongxin::crypto::DataKey;
use tongxin::db::DbConn;

use crate::cadres::{id_number, profile, CadreFixture};
use crate::helpers::{on_postgres, TestApp};

#[derive(diesel::QueryableByName)]
struct PgPlanLine {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
    line: String,
}

#[derive(diesel::QueryableByName)]
struct SqlitePlanLine {
    #[diesel(sql_type = diesel::sql_types::Text)]
    detail: String,
}

/// The bind values of a statement as diesel prints them (`["active", '\\\\', 21, ["a", "b"]]`),
/// as SQL literals: diesel prints strings and characters in Rust's quoted form, numbers and dates
/// bare, and arrays as lists.
fn bind_literals(binds: &str) -> Vec<String> {
    let mut chars = binds.trim().chars().peekable();
    assert_eq!(chars.next(), Some('['));
    list_literals(&mut chars)
}

fn list_literals(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Vec<String> {
    let mut literals = Vec::new();
    while let Some(c) = chars.next() {
        match c {
            ']' => break,
            ' ' | ',' => {}
            '[' => literals.push(format!("ARRAY[{}]", list_literals(chars).join(", "))),
            quote @ ('"' | '\'') => {
                let mut value = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => match chars.next() {
                            Some('n') => value.push('\n'),
                            Some('t') => value.push('\t'),
                            Some(other) => value.push(other),
                            None => {}
                        },
                        end if end == quote => break,
                        other => value.push(other),
                    }
                }
                literals.push(format!("'{}'", value.replace('\'', "''")));
            }
            first => {
                let mut value = first.to_string();
                while let Some(&c) = chars.peek() {
                    if c == ',' || c == ']' {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
                literals.push(format!("'{}'", value.trim()));
            }
        }
    }
    literals
}

/// The plan the engine makes for a statement: on PostgreSQL for its bind values (the pool plans
/// every run with its values), with sequential scans disabled so that a plan that still scans
/// `cadres` has no index to use; on SQLite, whose plans do not depend on the values, for the
/// statement alone.
fn plan(conn: &mut DbConn, sql: &str, binds: &str) -> Vec<String> {
    if on_postgres() {
        let parameters = bind_literals(binds);
        diesel::sql_query(format!("PREPARE planned AS {sql}"))
            .execute(conn)
            .unwrap();
        let explain = if parameters.is_empty() {
            "EXPLAIN EXECUTE planned".to_owned()
        } else {
            format!("EXPLAIN EXECUTE planned({})", parameters.join(", "))
        };
        let lines = diesel::sql_query(explain).load::<PgPlanLine>(conn).unwrap();
        diesel::sql_query("DEALLOCATE planned")
            .execute(conn)
            .unwrap();
        lines.into_iter().map(|l| l.line).collect()
    } else {
        diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
            .load::<SqlitePlanLine>(conn)
            .unwrap()
            .into_iter()
            .map(|l| l.detail)
            .collect()
    }
}

/// Runs the service's list and returns the SQL of each statement that reads `cadres` or SQLite's
/// trigram table (as `statements` recorded them; a search in name order is up to three) with its
/// plan.
fn planned_page(
    conn: &mut DbConn,
    statements: &Mutex<Vec<String>>,
    filter: &CadreFilter,
    params: &CadrePageParams,
) -> Vec<(String, Vec<String>)> {
    statements.lock().unwrap().clear();
    tongxin::cadres::service::list(conn, filter, params).unwrap();
    let page_queries: Vec<String> = statements
        .lock()
        .unwrap()
        .iter()
        .filter(|s| {
            [
                "FROM `cadres`",
                "FROM \"cadres\"",
                "FROM `cadre_search`",
                "FROM `cadre_search_by_name`",
            ]
            .iter()
            .any(|table| s.contains(table))
        })
        .cloned()
        .collect();
    assert!(!page_queries.is_empty(), "the list reads cadres");
    page_queries
        .iter()
        .map(|query| {
            let (sql, binds) = query.split_once(" -- binds: ").unwrap();
            (sql.to_owned(), plan(conn, sql, binds))
        })
        .collect()
}

fn scans_cadres(plan: &[String]) -> bool {
    plan.iter().any(|line| {
        let line = line.trim_start_matches([' ', '-', '>']);
        line.starts_with("Seq Scan on cadres") || line == "SCAN cadres"
    })
}

/// Fills `cadres` with rows whose statistics look like a real register's (an empty table is
/// planned as if any scan were free), then collects the engine's statistics.
fn fill(app: &TestApp, rows: u32) {
    let birth_date = if on_postgres() {
        "DATE '1950-01-01' + (i % 18000)"
    } else {
        "date('1950-01-01', '+' || (i % 18000) || ' days')"
    };
    // Distinct search text per row, in the stored form (`text::search_text`): the row's number
    // marked, then plain.
    let marked_number = (0..10).fold("CAST(i AS TEXT)".to_owned(), |sql, digit| {
        format!("replace({sql}, '{digit}', '{digit}ǂ')")
    });
    app.execute(&format!(
        "INSERT INTO cadres (name, gender, ethnicity, birth_date, party, level, status, education, \
             search_text, sort_key, created_at, updated_at) \
         WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) \
         SELECT 'n' || i, CASE WHEN i % 2 = 0 THEN 'male' ELSE 'female' END, \
             CASE WHEN i % 10 = 0 THEN '15' ELSE '01' END, {birth_date}, \
             CASE i % 4 WHEN 0 THEN 'jiusan' WHEN 1 THEN 'rcck' WHEN 2 THEN 'cdl' ELSE 'none' END, \
             CASE WHEN i % 3 = 0 THEN 'township' ELSE 'district' END, \
             CASE WHEN i % 20 = 0 THEN 'archived' ELSE 'active' END, \
             CASE WHEN i % 2 = 0 THEN 'bachelor' ELSE 'graduate' END, \
             {marked_number} || ' ' || i, 'n' || i, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP \
         FROM n;\
         INSERT INTO cadre_tags (cadre_id, kind, tag) \
         SELECT id, 'category', 'ethnic_minority' FROM cadres WHERE ethnicity = '15';\
         INSERT INTO cadre_tags (cadre_id, kind, tag) \
         SELECT id, 'sector', 'finance' FROM cadres WHERE id % 50 = 0;\
         ANALYZE;"
    ));
    // As after the service's bulk loads: on PostgreSQL this also merges the search index's
    // pending entries, which the planner would cost as read by every search.
    tongxin::db::refresh_statistics(&mut app.db()).unwrap();
}

#[actix_web::test]
async fn every_cadre_filter_and_sort_is_served_by_an_index() {
    let app = TestApp::spawn().await;
    fill(&app, 20_000);
    let pool = tongxin::db::build_pool(
        &app.config.database_url,
        tongxin::db::PoolSettings::sized(1, Duration::from_secs(5)),
    );
    let mut conn = pool.get().unwrap();
    let conn: &mut DbConn = &mut conn;
    if on_postgres() {
        diesel::sql_query("SET enable_seqscan = off")
            .execute(conn)
            .unwrap();
    }
    let statements = Arc::new(Mutex::new(Vec::<String>::new()));
    let recorded = Arc::clone(&statements);
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            recorded.lock().unwrap().push(query.to_string());
        }
    });

    let filters = [
        "status=active",
        "status=all",
        "q=王芳",
        "q=wangfang",
        "q=wf",
        "q=luo wei",
        "q=王",
        "q=wangfang&party=jiusan",
        "party=jiusan",
        "gender=female",
        "ethnicity=01",
        "level=township",
        "unit_id=1",
        "education=bachelor",
        "category=ethnic_minority",
        "tag=finance",
        "age_min=40&age_max=50",
    ];
    let sorts = [
        "sort=name",
        "sort=-name",
        "sort=birth_date",
        "sort=-birth_date",
        "sort=updated_at",
        "sort=-updated_at",
    ];
    let mut checked = 0;
    for filter in filters {
        for sort in sorts {
            let (cadre_filter, params) = list_request(filter, sort);
            let pages = planned_page(conn, &statements, &cadre_filter, &params);
            for (sql, plan) in &pages {
                assert!(
                    !scans_cadres(plan),
                    "{filter}&{sort} scans cadres:\n{}\n{sql}",
                    plan.join("\n")
                );
            }
            // A search of two characters or more reads the search index (a walk of another
            // index with the `LIKE` as a filter is no sequential scan, but as slow): a search in
            // name order first walks a bounded stretch of the name index, then reads every
            // match (on SQLite it reads the trigram table first, and walks only when that finds
            // many). A query with spaces is two patterns, whose `OR` PostgreSQL plans by cost.
            let uses = |index: &str| {
                pages
                    .iter()
                    .any(|(_, plan)| plan.iter().any(|line| line.contains(index)))
            };
            let indexed_search =
                filter.starts_with("q=") && filter.chars().count() > 3 && !filter.contains(' ');
            let by_name_on_status = sort.ends_with("name") && !filter.contains('&');
            let search_index = if on_postgres() {
                "cadres_search_text_trgm_idx"
            } else if by_name_on_status {
                // SQLite's trigram table in name order, which gives the page's matches first.
                "SCAN cadre_search_by_name VIRTUAL TABLE"
            } else {
                "SCAN cadre_search VIRTUAL TABLE"
            };
            if indexed_search {
                assert!(
                    uses(search_index),
                    "{filter}&{sort} does not use the search index:\n{pages:#?}"
                );
            }
            // On SQLite such a search, on a status alone, reads its matches' status and name
            // from an index, without reading their rows; another condition is checked on each
            // match's row.
            if indexed_search && by_name_on_status && !on_postgres() {
                assert!(
                    uses("USING COVERING INDEX cadres_id_status_sort_idx"),
                    "{filter}&{sort} reads the matches' rows to sort them:\n{pages:#?}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, filters.len() * sorts.len());

    // A later page seeks the sort index to the cursor rather than reading up to it.
    for (sort, column) in [
        ("sort=name", "sort_key"),
        ("sort=-name", "sort_key"),
        ("sort=birth_date", "birth_date"),
        ("sort=-birth_date", "birth_date"),
        ("sort=updated_at", "updated_at"),
        ("sort=-updated_at", "updated_at"),
    ] {
        let filter = CadreFilter::default();
        let first = Query::<CadrePageParams>::from_query(&format!("{sort}&limit=2")).unwrap();
        let cursor = tongxin::cadres::service::list(conn, &filter, &first)
            .unwrap()
            .next_cursor
            .expect("a second page");
        let later = Query::<CadrePageParams>::from_query(&format!("{sort}&cursor={cursor}"))
            .unwrap()
            .into_inner();
        let (_, plan) = &planned_page(conn, &statements, &filter, &later)[0];
        let seeks = plan.iter().any(|line| {
            (line.contains("Index Cond") || line.trim_start().starts_with("SEARCH cadres"))
                && line.contains(column)
        });
        assert!(seeks, "{sort} after a cursor:\n{}", plan.join("\n"));
    }
}

#[test]
fn printed_binds_become_literals() {
    assert_eq!(
        bind_literals(r#"["active", "%王ǂ \"it's\"%", '\\', 21, 2026-11-27, ["a", "b"]]"#),
        [
            "'active'",
            "'%王ǂ \"it''s\"%'",
            "'\\'",
            "'21'",
            "'2026-11-27'",
            "ARRAY['a', 'b']"
        ]
    );
}

#[test]
fn a_sequential_scan_is_recognised() {
    assert!(scans_cadres(&[
        "  ->  Seq Scan on cadres  (cost=0.00..1.00)".into()
    ]));
    assert!(scans_cadres(&["SCAN cadres".into()]));
    assert!(!scans_cadres(&[
        "SCAN cadres USING INDEX cadres_status_sort_idx".into()
    ]));
    assert!(!scans_cadres(&[
        "Index Scan using cadres_pkey on cadres".into()
    ]));
}

#[derive(diesel::QueryableByName)]
struct StatementPlans {
    #[diesel(sql_type = diesel::sql_types::Text)]
    statement: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    generic_plans: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    custom_plans: i64,
}

fn prepared_statements(conn: &mut DbConn) -> Vec<StatementPlans> {
    diesel::sql_query("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        .load(conn)
        .unwrap()
}

/// A list request's filter and its order and page, from their query strings.
fn list_request(filter: &str, params: &str) -> (CadreFilter, CadrePageParams) {
    (
        Query::<CadreFilter>::from_query(filter)
            .unwrap()
            .into_inner(),
        Query::<CadrePageParams>::from_query(params)
            .unwrap()
            .into_inner(),
    )
}

/// Runs the list of `filter` in the order and page of `params` (query strings) `times` times.
fn list_times(conn: &mut DbConn, filter: &str, params: &str, times: usize) {
    let (filter, params) = list_request(filter, params);
    for _ in 0..times {
        tongxin::cadres::service::list(conn, &filter, &params).unwrap();
    }
}

/// PostgreSQL keeps a prepared statement's plan once it has run five times; for a search, a
/// generic plan ignores the pattern. diesel keeps the list's statements prepared on the
/// connection, but not one with a search condition, so each search is planned with its pattern.
#[actix_web::test]
async fn searches_are_planned_with_their_pattern_and_other_lists_keep_their_plans() {
    if !on_postgres() {
        return;
    }
    let app = TestApp::spawn().await;
    let pool = tongxin::db::build_pool(
        &app.config.database_url,
        tongxin::db::PoolSettings::sized(1, Duration::from_secs(5)),
    );
    let mut conn = pool.get().unwrap();
    let conn: &mut DbConn = &mut conn;
    for filter in ["q=王芳", "q=wangfang", "q=王", "party=jiusan"] {
        list_times(conn, filter, "sort=name", 6);
    }
    let kept: Vec<String> = prepared_statements(conn)
        .into_iter()
        .map(|kept| kept.statement)
        .collect();
    assert!(
        kept.iter().any(|s| s.contains("\"party\" = 'jiusan'")),
        "the party list is kept: {kept:?}"
    );
    assert!(
        !kept.iter().any(|s| s.contains(" LIKE ")),
        "no search is kept: {kept:?}"
    );
}

/// Statements the connection runs, and those it prepares and keeps, from now on.
type Watched = Arc<Mutex<Vec<String>>>;

fn watch_statements(conn: &mut DbConn) -> (Watched, Watched) {
    let run = Watched::default();
    let prepared = Watched::default();
    let (run_by, prepared_by) = (Arc::clone(&run), Arc::clone(&prepared));
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| match event {
        InstrumentationEvent::StartQuery { query, .. } => {
            run_by.lock().unwrap().push(query.to_string());
        }
        InstrumentationEvent::CacheQuery { sql, .. } => {
            prepared_by.lock().unwrap().push(sql.to_string());
        }
        _ => {}
    });
    (run, prepared)
}

/// Reading one cadre and a filtered list page, the busiest requests, run one statement each (the
/// row holds the tags) of the columns a view shows, prepared once on either engine; PostgreSQL
/// keeps their plans: after five runs each is executed with its generic plan, not planned anew.
#[actix_web::test]
async fn reading_a_cadre_or_a_list_page_reuses_its_plans() {
    let fixture = CadreFixture::new().await;
    let id = fixture.create_id(profile("王芳", "19800101", 1)).await;
    // More than a page.
    for n in 2..30 {
        fixture.create(profile("王芳", "19800101", n)).await;
    }
    let pool = tongxin::db::build_pool(
        &fixture.app.config.database_url,
        tongxin::db::PoolSettings::sized(1, Duration::from_secs(5)),
    );
    let mut conn = pool.get().unwrap();
    let conn: &mut DbConn = &mut conn;
    let (run, prepared) = watch_statements(conn);
    for _ in 0..8 {
        tongxin::cadres::service::get(conn, id).unwrap();
    }
    let reads = run.lock().unwrap().clone();
    assert_eq!(reads.len(), 8, "one statement a read: {reads:?}");
    // SQLite (3.50) prepares a statement with a bound LIMIT anew on every run.
    assert!(!reads[0].contains("LIMIT"), "{}", reads[0]);
    list_times(conn, "party=cdl", "sort=-birth_date&limit=20", 8);
    assert_eq!(
        prepared.lock().unwrap().len(),
        2,
        "the statements of a read and of a page are prepared once each: {:?}",
        prepared.lock().unwrap()
    );
    // Nothing a page's plan depends on is bound: SQLite prepares a statement again whenever such
    // a value is bound anew, and PostgreSQL plans a bound LIMIT on every run.
    let page = prepared.lock().unwrap()[1].clone();
    assert!(
        page.contains("'active'") && page.contains("'cdl'") && page.ends_with(" LIMIT 21"),
        "{page}"
    );
    assert!(!page.contains('?') && !page.contains('$'), "{page}");
    // Neither reads what a view does not show: the ciphertexts, the lookup, the search text.
    for statement in [&reads[0], &page] {
        for column in [
            "id_number_cipher",
            "phone_cipher",
            "id_number_lookup",
            "search_text",
        ] {
            assert!(!statement.contains(column), "{column} in {statement}");
        }
    }
    if !on_postgres() {
        return;
    }
    let statements = prepared_statements(conn);
    assert_eq!(
        statements.len(),
        2,
        "one statement for a cadre, one for a page: {:?}",
        statements.iter().map(|s| &s.statement).collect::<Vec<_>>()
    );
    for s in &statements {
        assert!(
            s.generic_plans >= 3 && s.custom_plans <= 5,
            "planned anew on every run ({} custom, {} generic): {}",
            s.custom_plans,
            s.generic_plans,
            s.statement
        );
    }
}

/// Edits cadre `id` from `version` through the service, in a write transaction on `conn`.
fn edit(
    conn: &mut DbConn,
    fixture: &CadreFixture,
    id: i64,
    version: i32,
    changes: serde_json::Value,
) {
    let key = DataKey::new(&fixture.app.config.data_key);
    let changes: UpdateCadreRequest = serde_json::from_value(changes).unwrap();
    tongxin::db::write_transaction(conn, |conn| {
        tongxin::cadres::service::update(conn, &key, &Actor::system("test"), id, version, changes)
    })
    .unwrap();
}

/// An edit, the busiest write, prepares each of its statements once per connection. Diesel
/// prepares every UPDATE anew unless it is built with `db::kept_update`; on SQLite that cost a
/// sixth of a write's CPU (the cadre update carries its triggers), all of it under the write gate.
#[actix_web::test]
async fn an_edit_prepares_its_statements_once() {
    let fixture = CadreFixture::new().await;
    let id = fixture.create_id(profile("王芳", "19800101", 1)).await;
    let pool = tongxin::db::build_pool(
        &fixture.app.config.database_url,
        tongxin::db::PoolSettings::sized(1, Duration::from_secs(5)),
    );
    let mut conn = pool.get().unwrap();
    let conn: &mut DbConn = &mut conn;
    let (_, prepared) = watch_statements(conn);
    let mut prepared_by_first_edit = 0;
    for version in 1..=4 {
        edit(
            conn,
            &fixture,
            id,
            version,
            serde_json::json!({"notes": format!("edit {version}")}),
        );
        if version == 1 {
            prepared_by_first_edit = prepared.lock().unwrap().len();
        }
    }
    let prepared = prepared.lock().unwrap().clone();
    assert_eq!(
        prepared.len(),
        prepared_by_first_edit,
        "later edits prepared statements again: {prepared:?}"
    );
    let updates: Vec<&String> = prepared
        .iter()
        .filter(|sql| sql.starts_with("UPDATE"))
        .collect();
    assert_eq!(
        updates.len(),
        3,
        "the chain's head locked, the cadre, the chain's head moved on: {updates:?}"
    );
    assert!(
        updates
            .iter()
            .any(|sql| sql.replace(['`', '"'], "").starts_with("UPDATE cadres SET")),
        "{updates:?}"
    );
}

/// An edit sets an indexed column only when it changes it: SQLite rewrites every index with a
/// column an UPDATE sets, and runs the statistics' tally trigger for any of their columns. A
/// note sets none of them; each other edit sets its own group; the tallies follow the party.
#[actix_web::test]
async fn an_edit_sets_indexed_columns_only_when_it_changes_them() {
    let fixture = CadreFixture::new().await;
    let id = fixture.create_id(profile("王芳", "19800101", 1)).await;
    let pool = tongxin::db::build_pool(
        &fixture.app.config.database_url,
        tongxin::db::PoolSettings::sized(1, Duration::from_secs(5)),
    );
    let mut conn = pool.get().unwrap();
    let conn: &mut DbConn = &mut conn;
    let (run, _) = watch_statements(conn);
    let edits = [
        (serde_json::json!({"notes": "调研"}), &[][..]),
        (
            serde_json::json!({"party": "jiusan"}),
            &["party", "birth_date"],
        ),
        (serde_json::json!({"name": "王芬"}), &["sort_key"]),
        (
            serde_json::json!({"id_number": id_number("19800101", 3)}),
            &["id_number_lookup"],
        ),
    ];
    for (version, (changes, indexed)) in (1..).zip(edits) {
        run.lock().unwrap().clear();
        edit(conn, &fixture, id, version, changes);
        let update = run
            .lock()
            .unwrap()
            .iter()
            .map(|sql| sql.replace(['`', '"'], ""))
            .find(|sql| sql.starts_with("UPDATE cadres SET"))
            .expect("the edit updates the cadre");
        let set = update.split(" WHERE ").next().unwrap();
        assert!(set.contains("notes = "), "{set}");
        for column in ["sort_key", "party", "birth_date", "id_number_lookup"] {
            assert_eq!(
                set.contains(&format!(" {column} = ")),
                indexed.contains(&column),
                "edit {version} and {column}: {set}"
            );
        }
    }
    let read: serde_json::Value = fixture
        .app
        .get(&format!("/cadres/{id}"), &fixture.ufwd)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            &read["name"],
            &read["party"],
            &read["notes"],
            &read["version"]
        ),
        (
            &serde_json::json!("王芬"),
            &serde_json::json!("jiusan"),
            &serde_json::json!("调研"),
            &serde_json::json!(5)
        )
    );
    let tally = |party: &str| {
        fixture.app.count(&format!(
            "SELECT cadre_count AS n FROM cadre_tallies \
             WHERE status = 'active' AND dimension = 'party' AND value = '{party}'"
        ))
    };
    assert_eq!((tally("cdl"), tally("jiusan")), (0, 1));
}
