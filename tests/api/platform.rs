//! The service around the API: probes, the OpenAPI document and its UI, the command line,
//! the two migration trees, and a database that goes away and comes back.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, on_postgres, TestApp, GOOD_PASSWORD};

#[actix_web::test]
async fn probes_answer_without_a_token() {
    let app = TestApp::spawn().await;
    for path in ["/health/live", "/health/ready"] {
        let response = app.request(Method::GET, path, None).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"status": "ok"})
        );
    }
}

#[actix_web::test]
async fn the_openapi_document_declares_bearer_auth_and_the_ui_is_served() {
    let app = TestApp::spawn().await;
    let doc = app.served_openapi().await;
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    assert_eq!(
        doc["paths"]["/api/v1/users/{id}"]["patch"]["security"][0]["bearer"],
        json!([])
    );
    assert!(doc["paths"]["/api/v1/auth/login"]["post"]["security"].is_null());
    // The document served is the one the command line prints.
    assert_eq!(
        doc,
        serde_json::to_value(tongxin::startup::openapi_document()).unwrap()
    );

    let ui = app
        .request(Method::GET, "/docs/", None)
        .send()
        .await
        .unwrap();
    assert_eq!(ui.status(), StatusCode::OK);
    assert!(ui.text().await.unwrap().contains("swagger"));
}

#[actix_web::test]
async fn create_user_on_the_command_line_reads_the_password_from_stdin() {
    let app = TestApp::spawn().await;
    let run = |args: &[&str], password: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tongxin"))
            .arg("create-user")
            .args(args)
            .env("TONGXIN_DATABASE_URL", &app.config.database_url)
            .env("TONGXIN_DATA_DIR", &app.data_dir)
            .env("TONGXIN_LOG", "off")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        child.wait_with_output().unwrap()
    };
    let ok = run(
        &[
            "--username",
            "Luo.Wei",
            "--role",
            "representative",
            "--display-name",
            "罗维",
            "--password-stdin",
        ],
        GOOD_PASSWORD,
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let user: Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(user["username"], "luo.wei");
    app.login("luo.wei", GOOD_PASSWORD).await;

    let weak = run(
        &[
            "--username",
            "weak.one",
            "--role",
            "leader",
            "--password-stdin",
        ],
        "qwerty123456",
    );
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("too_common"));
    let mixed = run(
        &[
            "--username",
            "mixed.one",
            "--role",
            "admin,leader",
            "--password-stdin",
        ],
        GOOD_PASSWORD,
    );
    assert!(!mixed.status.success());
    let events = app.count("SELECT COUNT(*) AS n FROM audit_events WHERE actor_label = 'cli' AND action = 'user.created'");
    assert_eq!(events, 1);
}

#[test]
fn both_migration_trees_have_the_same_migrations() {
    let names = |engine: &str| {
        let mut names: Vec<String> = std::fs::read_dir(format!(
            "{}/migrations/{engine}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
        names.sort();
        names
    };
    assert_eq!(names("postgres"), names("sqlite"));
    assert!(!names("sqlite").is_empty());
}

/// Tables, columns and whether each is nullable, as the database reports them.
fn columns(conn: &mut tongxin::db::DbConn, postgres: bool) -> Vec<(String, String, bool)> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Column {
        #[diesel(sql_type = diesel::sql_types::Text)]
        table_name: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        column_name: String,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        nullable: bool,
    }
    let sql = if postgres {
        "SELECT table_name::text AS table_name, column_name::text AS column_name, \
         (is_nullable = 'YES') AS nullable FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name NOT LIKE '\\_\\_diesel%'"
    } else {
        "SELECT m.name AS table_name, p.name AS column_name, (p.\"notnull\" = 0 AND p.pk = 0) AS nullable \
         FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite%' AND m.name NOT LIKE '\\_\\_diesel%' ESCAPE '\\'"
    };
    let mut columns: Vec<(String, String, bool)> = diesel::sql_query(sql)
        .load::<Column>(conn)
        .unwrap()
        .into_iter()
        .map(|c| (c.table_name, c.column_name, c.nullable))
        .collect();
    columns.sort();
    columns
}

#[actix_web::test]
async fn both_migration_trees_give_the_same_tables_and_columns() {
    if !on_postgres() {
        return; // Needs both engines; runs in the PostgreSQL pass of .ci/run.
    }
    let pg_app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let sqlite_url = dir.path().join("parity.db").to_string_lossy().into_owned();
    let sqlite_pool = tongxin::db::build_pool(&sqlite_url, 1, Duration::from_secs(2));
    let mut sqlite = sqlite_pool.get().unwrap();
    tongxin::db::migrate(&mut sqlite).unwrap();
    let sqlite_columns = columns(&mut sqlite, false);
    let pg_columns = columns(&mut pg_app.db(), true);
    assert_eq!(sqlite_columns, pg_columns);
    assert!(sqlite_columns.len() > 40);
}

#[actix_web::test]
async fn a_database_that_goes_away_gives_503_and_the_service_recovers() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    if on_postgres() {
        // Cut this test's database off (others keep running) and end its connections.
        let admin_url = std::env::var("TEST_DATABASE_URL").unwrap();
        let name = app
            .config
            .database_url
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned();
        let mut control = PgConnection::establish(&admin_url).unwrap();
        control
            .batch_execute(&format!(
                "ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false; \
                 SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            ))
            .unwrap();
        let started = Instant::now();
        let ready = app
            .request(Method::GET, "/health/ready", None)
            .send()
            .await
            .unwrap();
        assert_eq!(ready.headers()["retry-after"], "5");
        assert_problem(
            ready,
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
        )
        .await;
        let api = app.get("/me", &admin).await;
        assert_problem(api, StatusCode::SERVICE_UNAVAILABLE, "service_unavailable").await;
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "answers within the checkout timeout"
        );

        control
            .batch_execute(&format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true"))
            .unwrap();
    } else {
        // Another process holds SQLite's write lock past the busy timeout.
        let mut blocker = app.db();
        blocker.batch_execute("BEGIN IMMEDIATE").unwrap();
        let write = app
            .post(
                "/units",
                Some(&admin),
                json!({"name": "武隆区", "kind": "district"}),
            )
            .await;
        assert_eq!(write.headers()["retry-after"], "5");
        assert_problem(
            write,
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
        )
        .await;
        blocker.batch_execute("ROLLBACK").unwrap();
    }
    // The same process serves again, without a restart.
    let ready = app
        .request(Method::GET, "/health/ready", None)
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(app.get("/me", &admin).await.status(), StatusCode::OK);
    let write = app
        .post(
            "/units",
            Some(&admin),
            json!({"name": "武隆区", "kind": "district"}),
        )
        .await;
    assert_eq!(write.status(), StatusCode::CREATED);
}
