//! Spawns the real application on port 0 with its own fresh database (a temporary SQLite file,
//! or a fresh PostgreSQL database when `TEST_DATABASE_URL` is set) and talks to it over HTTP.

use std::path::PathBuf;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};
use tempfile::TempDir;

use tongxin::clock::Clock;
use tongxin::config::{Config, Environment};
use tongxin::db::{DbConn, DbPool};
use tongxin::startup::{Application, INITIAL_ADMIN_PASSWORD_FILE};

pub const ROLES: [&str; 7] = [
    "admin",
    "ufwd_staff",
    "org_staff",
    "leader",
    "department",
    "representative",
    "auditor",
];

/// A password that passes the policy.
pub const GOOD_PASSWORD: &str = "plum blossom in the snow 2026";

/// A fresh PostgreSQL database for one test, dropped with it.
struct PgTestDatabase {
    admin_url: String,
    name: String,
}

impl PgTestDatabase {
    fn create(admin_url: &str) -> (PgTestDatabase, String) {
        let name = format!("tongxin_test_{}", hex_id());
        let mut conn = PgConnection::establish(admin_url).expect("connect to TEST_DATABASE_URL");
        conn.batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .expect("create the test database");
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url, |(base, _)| base);
        // Without TLS: libpq's TLS state belongs to libcrypto, whose exit handlers crashed the
        // test process once (SIGSEGV in libcrypto.so.3 as it exited) while the pools of finished
        // tests still held TLS connections on their threads.
        let url = format!("{base}/{name}?sslmode=disable");
        (
            PgTestDatabase {
                admin_url: admin_url.to_owned(),
                name,
            },
            url,
        )
    }
}

impl Drop for PgTestDatabase {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&self.admin_url) {
            let _ = conn.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}

fn hex_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{}_{:x}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty())
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub pool: DbPool,
    pub admin_password: String,
    pub data_dir: PathBuf,
    pub config: Config,
    /// The clock the app's rules read; tests move it forward instead of sleeping.
    pub clock: Clock,
    handle: ServerHandle,
    _pg: Option<PgTestDatabase>,
    _dir: TempDir,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(|_| {}).await
    }

    /// Spawns with the test configuration changed by `configure` (limits, timeouts).
    pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let data_dir = dir.path().to_path_buf();
        let (pg, database_url) = match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => {
                let (db, url) = PgTestDatabase::create(&url);
                (Some(db), url)
            }
            _ => (
                None,
                data_dir.join("tongxin.db").to_string_lossy().into_owned(),
            ),
        };
        let config = Config {
            environment: Environment::Development,
            database_url,
            bind: "127.0.0.1:0".into(),
            data_dir: data_dir.clone(),
            jwt_secret: b"a test secret that is long enough for HS256 use".to_vec(),
            data_key: [42; 32],
            log_filter: std::env::var("TEST_LOG").unwrap_or_else(|_| "off".into()),
            db_pool_size: 4,
            sqlite_mmap_mib: 0,
            db_checkout_timeout: Duration::from_secs(2),
            workers: Some(1),
            job_interval: None,
            // Tests call the API hundreds of times a minute from one address.
            rate_limits: tongxin::web::RateLimits {
                api_per_minute: None,
                login_per_minute: None,
            },
            client_timeout: Duration::from_secs(10),
            import_limits: Default::default(),
        };
        let mut config = config;
        configure(&mut config);
        tongxin::telemetry::init(&config.log_filter);
        let clock = Clock::system();
        let (address, pool, handle) = start(config.clone(), clock.clone()).await;
        let admin_password = std::fs::read_to_string(data_dir.join(INITIAL_ADMIN_PASSWORD_FILE))
            .expect("initial admin password file")
            .trim()
            .to_owned();
        TestApp {
            address,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            pool,
            admin_password,
            data_dir,
            config,
            clock,
            handle,
            _pg: pg,
            _dir: dir,
        }
    }

    /// Stops the server and starts a new one on the same database and data directory.
    pub async fn restart(&mut self) {
        self.handle.stop(true).await;
        let (address, pool, handle) = start(self.config.clone(), self.clock.clone()).await;
        self.address = address;
        self.pool = pool;
        self.handle = handle;
    }

    pub fn url(&self, path: &str) -> String {
        // Paths of the API are given without their `/api/v1` prefix.
        if ["/api", "/health", "/docs"]
            .iter()
            .any(|p| path.starts_with(p))
        {
            format!("{}{path}", self.address)
        } else {
            format!("{}/api/v1{path}", self.address)
        }
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let builder = self.client.request(method, self.url(path));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    /// The OpenAPI document the running app serves.
    pub async fn served_openapi(&self) -> Value {
        self.request(Method::GET, "/api-docs/openapi.json", None)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token))
            .send()
            .await
            .unwrap()
    }

    /// The JSON body of a GET (whatever its status).
    pub async fn get_json(&self, path: &str, token: &str) -> Value {
        self.get(path, token).await.json().await.unwrap()
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.request(Method::POST, path, token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch(
        &self,
        path: &str,
        token: &str,
        if_match: Option<&str>,
        body: Value,
    ) -> Response {
        let mut builder = self.request(Method::PATCH, path, Some(token)).json(&body);
        if let Some(tag) = if_match {
            builder = builder.header("If-Match", tag);
        }
        builder.send().await.unwrap()
    }

    pub async fn login_response(&self, username: &str, password: &str) -> Response {
        self.post(
            "/auth/login",
            None,
            json!({"username": username, "password": password}),
        )
        .await
    }

    /// Logs in and returns the whole token response.
    pub async fn login(&self, username: &str, password: &str) -> Value {
        let response = self.login_response(username, password).await;
        assert_eq!(response.status(), StatusCode::OK, "login as {username}");
        response.json().await.unwrap()
    }

    pub async fn admin_token(&self) -> String {
        access_token(&self.login("admin", &self.admin_password).await)
    }

    /// Creates a user through the API (as admin) and returns its id.
    pub async fn create_user(
        &self,
        admin: &str,
        username: &str,
        roles: &[&str],
        unit_id: Option<i64>,
    ) -> i64 {
        let response = self
            .post(
                "/users",
                Some(admin),
                json!({
                    "username": username,
                    "display_name": format!("用户 {username}"),
                    "password": GOOD_PASSWORD,
                    "roles": roles,
                    "unit_id": unit_id,
                }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "create {username}");
        response.json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap()
    }

    /// Creates a unit through the API (as admin) and returns its id.
    pub async fn create_unit(
        &self,
        admin: &str,
        name: &str,
        kind: &str,
        parent_id: Option<i64>,
    ) -> i64 {
        let response = self
            .post(
                "/units",
                Some(admin),
                json!({"name": name, "kind": kind, "parent_id": parent_id}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "create unit {name}");
        response.json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap()
    }

    /// A signed-in user holding exactly `role` (a department user gets a department unit).
    pub async fn token_for(&self, admin: &str, role: &str) -> String {
        if role == "admin" {
            return self.admin_token().await;
        }
        let unit = if role == "department" {
            let district = self
                .create_unit(admin, &format!("区 {}", hex_id()), "district", None)
                .await;
            Some(
                self.create_unit(admin, "交通局", "department", Some(district))
                    .await,
            )
        } else {
            None
        };
        let username = format!("{}-{}", role.replace('_', "-"), hex_id());
        self.create_user(admin, &username, &[role], unit).await;
        access_token(&self.login(&username, GOOD_PASSWORD).await)
    }

    /// A connection to the app's database, for asserting on (or tampering with) rows.
    pub fn db(&self) -> diesel::r2d2::PooledConnection<tongxin::db::ConnectionManager> {
        self.pool.get().expect("database connection")
    }

    pub fn execute(&self, sql: &str) {
        let mut conn = self.db();
        let conn: &mut DbConn = &mut conn;
        conn.batch_execute(sql).expect("execute SQL");
    }

    /// The number of rows a `SELECT COUNT(*) AS n ...` query returns in `n`.
    pub fn count(&self, sql: &str) -> i64 {
        use diesel::RunQueryDsl;
        let mut conn = self.db();
        diesel::sql_query(sql)
            .get_result::<RowCount>(&mut *conn)
            .expect("count query")
            .n
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command now; the server's threads end on their own.
        drop(self.handle.stop(false));
    }
}

async fn start(config: Config, clock: Clock) -> (String, DbPool, ServerHandle) {
    let app = Application::build_with_clock(config, clock)
        .await
        .expect("application starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let pool = app.pool();
    let handle = app.handle();
    actix_web::rt::spawn(app.run_until_stopped());
    (address, pool, handle)
}

pub fn access_token(tokens: &Value) -> String {
    tokens["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// Asserts the status and the problem code of an error answer, and returns its body.
pub async fn assert_problem(response: Response, status: StatusCode, code: &str) -> Value {
    let actual = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let header_id = response
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: Value = response.json().await.expect("problem body is JSON");
    assert_eq!(actual, status, "status of {body}");
    assert_eq!(body["code"], code, "code of {body}");
    assert_eq!(body["status"], status.as_u16());
    assert!(
        content_type.starts_with("application/problem+json"),
        "{content_type}"
    );
    assert_eq!(body["request_id"].as_str(), header_id.as_deref());
    body
}

/// The row of a `SELECT COUNT(*) AS n ...` query.
#[derive(diesel::QueryableByName)]
pub struct RowCount {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub n: i64,
}
