//! The service around the API: probes, the OpenAPI document and its UI, the command line,
//! the two migration trees, and a database that goes away and comes back.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{access_token, assert_problem, on_postgres, RowCount, TestApp, GOOD_PASSWORD};

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
        json!(["admin"])
    );
    assert_eq!(
        doc["paths"]["/api/v1/me"]["get"]["security"][0]["bearer"],
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
    // `cadre_search` and its shadow tables are SQLite's FTS5 search index; PostgreSQL indexes
    // `cadres.search_text` itself.
    let sql = if postgres {
        "SELECT table_name::text AS table_name, column_name::text AS column_name, \
         (is_nullable = 'YES') AS nullable FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name NOT LIKE '\\_\\_diesel%'"
    } else {
        "SELECT m.name AS table_name, p.name AS column_name, (p.\"notnull\" = 0 AND p.pk = 0) AS nullable \
         FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite%' AND m.name NOT LIKE '\\_\\_diesel%' ESCAPE '\\' \
         AND m.name NOT LIKE 'cadre\\_search%' ESCAPE '\\'"
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

/// The upkeep after bulk loads merges the search index's pending entries, which only the
/// index's owner may do: a service connected as another role skips that and goes on, so that an
/// import or the periodic job does not fail over an optimisation.
#[actix_web::test]
async fn index_upkeep_goes_on_for_a_role_that_does_not_own_the_index() {
    if !on_postgres() {
        return;
    }
    let app = TestApp::spawn().await;
    let mut pooled = app.db();
    let conn: &mut tongxin::db::DbConn = &mut pooled;
    conn.batch_execute(
        "DO $$ BEGIN CREATE ROLE tongxin_test_not_owner; \
         EXCEPTION WHEN duplicate_object THEN NULL; END $$; \
         SET ROLE tongxin_test_not_owner",
    )
    .unwrap();
    let refreshed = tongxin::db::refresh_statistics(conn);
    let maintained = tongxin::db::maintain_indexes(conn);
    conn.batch_execute("RESET ROLE").unwrap();
    refreshed.expect("refresh_statistics as a role that owns nothing");
    maintained.expect("maintain_indexes as a role that owns nothing");
}

#[actix_web::test]
async fn both_migration_trees_give_the_same_tables_and_columns() {
    if !on_postgres() {
        return; // Needs both engines; runs in the PostgreSQL pass of .ci/run.
    }
    let pg_app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let sqlite_url = dir.path().join("parity.db").to_string_lossy().into_owned();
    let sqlite_pool = tongxin::db::build_pool(
        &sqlite_url,
        tongxin::db::PoolSettings::sized(1, Duration::from_secs(2)),
    );
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
            .and_then(|database| database.split('?').next())
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

#[actix_web::test]
async fn each_address_has_a_login_and_an_api_budget() {
    let app = TestApp::spawn_with(|config| {
        config.rate_limits = tongxin::web::RateLimits {
            api_per_minute: Some(20),
            login_per_minute: Some(3),
        };
    })
    .await;
    for _ in 0..3 {
        assert_eq!(
            app.login_response("nobody", "a wrong password here")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = app.login_response("admin", &app.admin_password).await;
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_problem(limited, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;
    // Other API calls have their own, larger budget, until it too is spent.
    let mut statuses = Vec::new();
    for _ in 0..20 {
        statuses.push(
            app.request(Method::GET, "/me", None)
                .send()
                .await
                .unwrap()
                .status(),
        );
    }
    assert!(
        statuses[..16]
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert_eq!(*statuses.last().unwrap(), StatusCode::TOO_MANY_REQUESTS);
    // Probes are outside /api and never limited.
    assert_eq!(
        app.request(Method::GET, "/health/live", None)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

#[actix_web::test]
async fn slow_clients_cannot_hold_a_worker() {
    use std::io::{Read, Write as _};
    let app = TestApp::spawn_with(|config| config.client_timeout = Duration::from_secs(1)).await;
    let address = app.address.trim_start_matches("http://").to_owned();

    // A request head that never finishes.
    let started = Instant::now();
    // Blocking sockets on the blocking pool, so that the server's runtime keeps running.
    let head = actix_web::rt::task::spawn_blocking({
        let address = address.clone();
        move || {
            let mut stream = std::net::TcpStream::connect(address).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            stream
                .write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n")
                .unwrap();
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer);
            answer
        }
    });
    // A body that stops halfway.
    let body = actix_web::rt::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream
            .write_all(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"username\":")
            .unwrap();
        let mut answer = Vec::new();
        let mut buffer = [0u8; 4096];
        while let Ok(n) = stream.read(&mut buffer) {
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buffer[..n]);
            if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}") {
                break;
            }
        }
        String::from_utf8_lossy(&answer).into_owned()
    });
    let head = head.await.unwrap();
    let body = body.await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "both were cut off"
    );
    assert!(
        head.is_empty() || head.starts_with("HTTP/1.1 408"),
        "{head}"
    );
    assert!(body.starts_with("HTTP/1.1 408"), "{body}");
    assert!(body.contains("request_timeout"), "{body}");
    // The service still answers.
    assert_eq!(
        app.request(Method::GET, "/health/live", None)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

/// A request to `/api/v1{path}` of a server at `base` (from `serve_with_log`).
fn served_request(
    client: &reqwest::Client,
    base: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> reqwest::RequestBuilder {
    let mut request = client.request(method, format!("{base}/api/v1{path}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    request
}

/// Logs in to a server at `base` (from `serve_with_log`) and answers the access token.
async fn served_login(
    client: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
) -> String {
    let request = served_request(
        client,
        base,
        Method::POST,
        "/auth/login",
        None,
        Some(json!({"username": username, "password": password})),
    );
    access_token(&request.send().await.unwrap().json().await.unwrap())
}

/// Starts the real binary with debug logging into `log`, and answers its base URL.
#[allow(clippy::zombie_processes)] // The caller stops the child and waits for it.
fn serve_with_log(
    dir: &std::path::Path,
    log: &std::path::Path,
    database_url: &str,
) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tongxin"))
        .arg("serve")
        .env("TONGXIN_DATABASE_URL", database_url)
        .env("TONGXIN_DATA_DIR", dir)
        .env("TONGXIN_BIND", "127.0.0.1:0")
        .env("TONGXIN_LOG", "debug")
        .env("TONGXIN_JOB_INTERVAL_SECS", "0")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(port) = text
            .split("port=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
        {
            return (child, format!("http://127.0.0.1:{port}"));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the service did not start: {text}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[actix_web::test]
async fn logs_never_hold_passwords_tokens_id_numbers_or_phones() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("service.log");
    // The same database as the test app (its admin exists); the binary logs at debug level.
    let (mut child, base) = serve_with_log(dir.path(), &log, &app.config.database_url);
    let client = reqwest::Client::new();
    let call = |method: Method, path: &str, token: Option<&str>, body: Option<Value>| {
        served_request(&client, &base, method, path, token, body).send()
    };
    let secret_password = "correct horse battery staple 9";
    let id_number = crate::cadres::id_number("19800315", 11);
    let phone = "13955556666";
    let admin = served_login(&client, &base, "admin", &app.admin_password).await;
    call(Method::POST, "/users", Some(&admin), Some(json!({"username": "log.check", "display_name": "x", "password": secret_password, "roles": ["ufwd_staff"]}))).await.unwrap();
    call(
        Method::POST,
        "/auth/login",
        None,
        Some(json!({"username": "log.check", "password": "wrong but secret 123"})),
    )
    .await
    .unwrap();
    let staff: Value = call(
        Method::POST,
        "/auth/login",
        None,
        Some(json!({"username": "log.check", "password": secret_password})),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let token = staff["access_token"].as_str().unwrap().to_owned();
    let refreshed: Value = call(
        Method::POST,
        "/auth/refresh",
        None,
        Some(json!({"refresh_token": staff["refresh_token"]})),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let mut body = crate::cadres::profile("罗维", "19800315", 11);
    body["phone"] = json!(phone);
    let cadre: Value = call(Method::POST, "/cadres", Some(&token), Some(body))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    call(
        Method::POST,
        &format!("/cadres/{}/reveal", cadre["id"]),
        Some(&token),
        Some(json!({"fields": ["id_number", "phone"], "reason": "核对"})),
    )
    .await
    .unwrap();
    call(
        Method::POST,
        "/cadres/lookup",
        Some(&token),
        Some(json!({"id_number": id_number})),
    )
    .await
    .unwrap();
    call(
        Method::GET,
        &format!("/cadres?q={phone}"),
        Some(&token),
        None,
    )
    .await
    .unwrap();
    call(
        Method::POST,
        "/cadres",
        Some(&token),
        Some(json!({"name": "x", "gender": id_number})),
    )
    .await
    .unwrap();

    terminate(&child);
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("request served"),
        "the log was written: {text}"
    );
    for secret in [
        secret_password,
        "wrong but secret 123",
        app.admin_password.as_str(),
        id_number.as_str(),
        phone,
        admin.as_str(),
        token.as_str(),
        staff["refresh_token"].as_str().unwrap(),
        refreshed["refresh_token"].as_str().unwrap(),
    ] {
        assert!(
            !text.contains(secret),
            "the log holds a secret ({} characters)",
            secret.len()
        );
    }
}

/// Asks the child to stop (SIGTERM) and lets it shut down gracefully.
fn terminate(child: &std::process::Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
}

#[actix_web::test]
async fn a_killed_server_loses_no_acknowledged_write() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = serve_with_log(
        dir.path(),
        &dir.path().join("first.log"),
        &app.config.database_url,
    );
    let client = reqwest::Client::new();
    let token = served_login(&client, &base, "admin", &app.admin_password).await;

    // Writes stream in; the process is killed (SIGKILL) in the middle of them.
    let killer = {
        let pid = child.id();
        actix_web::rt::spawn(async move {
            actix_web::rt::time::sleep(Duration::from_millis(400)).await;
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(pid.to_string())
                .status();
        })
    };
    let mut acknowledged = Vec::new();
    for i in 0..10_000 {
        let sent = client
            .post(format!("{base}/api/v1/units"))
            .bearer_auth(&token)
            .json(&json!({"name": format!("单位{i}"), "kind": "district"}))
            .send()
            .await;
        match sent {
            Ok(response) if response.status() == StatusCode::CREATED => {
                acknowledged.push(
                    response.json::<Value>().await.unwrap()["id"]
                        .as_i64()
                        .unwrap(),
                );
            }
            _ => break,
        }
    }
    killer.await.unwrap();
    let _ = child.wait();
    assert!(
        !acknowledged.is_empty(),
        "some writes were acknowledged before the kill"
    );

    // After a restart every acknowledged write is there, and the audit chain holds.
    let (mut again, base) = serve_with_log(
        dir.path(),
        &dir.path().join("second.log"),
        &app.config.database_url,
    );
    let token = served_login(&client, &base, "admin", &app.admin_password).await;
    for id in &acknowledged {
        let status = client
            .get(format!("{base}/api/v1/units/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::OK, "unit {id} was acknowledged");
    }
    terminate(&again);
    let _ = again.wait();
    let verify = Command::new(env!("CARGO_BIN_EXE_tongxin"))
        .args(["audit", "verify"])
        .env("TONGXIN_DATABASE_URL", &app.config.database_url)
        .env("TONGXIN_DATA_DIR", dir.path())
        .env("TONGXIN_LOG", "off")
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    // Every unit row has its audit row: nothing half-written.
    let units = app.count("SELECT COUNT(*) AS n FROM units");
    let created = app.count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'unit.created'");
    assert_eq!(units, created);
    assert!(units >= i64::try_from(acknowledged.len()).unwrap());
}

/// A cadre edit or a login cannot change who may do what, so they leave the sessions the process
/// remembers (for up to `SessionCache::TTL`) in place; a change to an account through the service
/// retires them at once. Seen from outside through a session revoked behind the service's back, in a
/// server process of its own: the remembered sessions and the write epoch are per process, and
/// the test app's process runs every other test's writes.
#[actix_web::test]
async fn an_edit_or_a_login_keeps_remembered_sessions_and_an_account_change_retires_them() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("service.log");
    let (mut child, base) = serve_with_log(dir.path(), &log, &app.config.database_url);
    let client = reqwest::Client::new();
    let call = |method: Method, path: &str, token: &str, if_match: Option<i32>, body: Value| {
        let body = (!body.is_null()).then_some(body);
        let mut request = served_request(&client, &base, method, path, Some(token), body);
        if let Some(version) = if_match {
            request = request.header("If-Match", format!("\"{version}\""));
        }
        request.send()
    };
    let login = |username: &'static str, password: String| {
        let (client, base) = (&client, &base);
        async move { served_login(client, base, username, &password).await }
    };
    let admin = login("admin", app.admin_password.clone()).await;
    let add_user = |username: &str| {
        call(
            Method::POST,
            "/users",
            &admin,
            None,
            json!({"username": username, "display_name": "x", "password": GOOD_PASSWORD,
                   "roles": ["ufwd_staff"]}),
        )
    };
    assert_eq!(
        add_user("session.keeper").await.unwrap().status(),
        StatusCode::CREATED
    );
    let staff = login("session.keeper", GOOD_PASSWORD.into()).await;
    let created: Value = call(
        Method::POST,
        "/cadres",
        &staff,
        None,
        crate::cadres::profile("罗维", "19800315", 11),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let cadre = format!("/cadres/{}", created["id"]);
    let mut version = 1;
    let mut checked = false;
    // Each attempt must finish within the second a session is remembered; a slow machine tries
    // again with a fresh session.
    for attempt in 0..5 {
        let staff = login("session.keeper", GOOD_PASSWORD.into()).await;
        let remembered_at = Instant::now();
        let me = call(Method::GET, "/me", &staff, None, Value::Null);
        assert_eq!(me.await.unwrap().status(), StatusCode::OK);
        app.execute(
            "UPDATE sessions SET revoked_at = CURRENT_TIMESTAMP, revoked_reason = 'test' \
             WHERE revoked_at IS NULL AND user_id = \
             (SELECT id FROM users WHERE username = 'session.keeper')",
        );
        let edit = json!({"notes": format!("attempt {attempt}")});
        let edited = call(Method::PATCH, &cadre, &staff, Some(version), edit)
            .await
            .unwrap()
            .status();
        if edited == StatusCode::OK {
            version += 1;
        }
        // Someone else logs in, and someone gives a wrong password.
        login("admin", app.admin_password.clone()).await;
        let wrong = served_request(
            &client,
            &base,
            Method::POST,
            "/auth/login",
            None,
            Some(json!({"username": "admin", "password": "not the password"})),
        );
        assert_eq!(
            wrong.send().await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
        let me = call(Method::GET, "/me", &staff, None, Value::Null)
            .await
            .unwrap()
            .status();
        if remembered_at.elapsed() > Duration::from_millis(800) {
            continue;
        }
        assert_eq!(
            (edited, me),
            (StatusCode::OK, StatusCode::OK),
            "the edit or a login retired the remembered session"
        );
        assert_eq!(
            add_user(&format!("someone.{attempt}"))
                .await
                .unwrap()
                .status(),
            StatusCode::CREATED
        );
        let me = call(Method::GET, "/me", &staff, None, Value::Null);
        assert_eq!(me.await.unwrap().status(), StatusCode::UNAUTHORIZED);
        checked = true;
        break;
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        checked,
        "no attempt finished within the second a session is remembered"
    );
}

/// Writes take turns on one connection of their own, and on SQLite a thread of the pool's own
/// copies the log into the database file soon after a commit, rather than the commit that
/// takes the log past 1,000 pages while other writers wait. On PostgreSQL the writers'
/// connection is named in `pg_stat_activity`; on SQLite the database file alone (copied
/// without its log) holds what has been checkpointed, which a few small writes would otherwise
/// have left in the log.
#[actix_web::test]
async fn writes_take_turns_on_one_connection_and_sqlite_checkpoints_apart_from_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for name in ["渝中区", "江北区", "沙坪坝区"] {
        let created = app
            .post(
                "/units",
                Some(&admin),
                json!({"name": name, "kind": "district"}),
            )
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
    }
    if on_postgres() {
        let writers = app.count(&format!(
            "SELECT COUNT(*) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = '{}'",
            tongxin::db::writer::APPLICATION_NAME
        ));
        assert_eq!(writers, 1, "one connection writes");
        return;
    }
    let file = tongxin::db::sqlite_path(&app.config.database_url).to_owned();
    let copies = tempfile::tempdir().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    for attempt in 0.. {
        // A copy taken while the checkpoint writes the file may be torn: then try again.
        let copy = copies.path().join(format!("copy-{attempt}.db"));
        std::fs::copy(&file, &copy).unwrap();
        let checkpointed = diesel::SqliteConnection::establish(copy.to_str().unwrap())
            .ok()
            .and_then(|mut conn| {
                diesel::sql_query("SELECT COUNT(*) AS n FROM units WHERE name = '沙坪坝区'")
                    .get_result::<RowCount>(&mut conn)
                    .ok()
            })
            .is_some_and(|count| count.n == 1);
        if checkpointed {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the last write reached the database file while the server runs"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}
