//! Building the application: pool, migrations, the first administrator, the HTTP server.
//! `main` and the tests build it the same way, through `Application::build`.

use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle, ServiceFactory, ServiceRequest};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use utoipa::OpenApi as _;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::{scope, AppExt, UtoipaApp};
use utoipa_swagger_ui::SwaggerUi;

use crate::accounts::{self, dto::CreateUserRequest};
use crate::audit::{self, Actor};
use crate::auth::password::{hash_password, random_password, PasswordWork};
use crate::auth::tokens::TokenKeys;
use crate::auth::{Role, SessionCache};
use crate::cadres;
use crate::clock::Clock;
use crate::config::{write_private_file, Config};
use crate::crypto::DataKey;
use crate::db::{self, DbConn, DbPool};
use crate::error::ApiError;
use crate::meetings;
use crate::openapi::{self, ApiDoc};
use crate::{appointments, contacts, jobs, notifications, suggestions};
use crate::{health, web as http};

/// The file the first administrator's password is written to, inside the data directory.
pub const INITIAL_ADMIN_PASSWORD_FILE: &str = "initial-admin-password";

/// Every route of the API, under `/api/v1`: the one table main and tests share.
pub fn configure(cfg: &mut ServiceConfig) {
    // The cadres' routes first: they carry most requests, and actix tries the routes in order,
    // each with a path parameter by a regular expression of its own. Behind the other modules'
    // routes, a cadre read ran some thirty of them first, about a tenth of the server's CPU.
    cadres::routes(cfg);
    accounts::routes(cfg);
    audit::routes(cfg);
    appointments::routes(cfg);
    meetings::routes(cfg);
    contacts::routes(cfg);
    suggestions::routes(cfg);
    notifications::routes(cfg);
}

fn with_routes<T>(app: UtoipaApp<T>) -> UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.openapi(ApiDoc::openapi())
        .service(health::live)
        .service(health::ready)
        .service(scope::scope("/api/v1").configure(configure))
}

/// The OpenAPI document of every route the app serves.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let mut doc = with_routes(App::new().into_utoipa_app())
        .split_for_parts()
        .1;
    openapi::complete(&mut doc);
    doc
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Database(String),
    #[error("cannot listen on {0}: {1}")]
    Bind(String, std::io::Error),
    #[error("cannot write {0}: {1}")]
    DataDir(String, std::io::Error),
}

pub struct Application {
    port: u16,
    server: Server,
    pool: DbPool,
}

impl Application {
    /// Opens the pool, applies migrations, creates the first administrator if there is no user,
    /// and binds the listener (port 0 picks a free port).
    pub async fn build(config: Config) -> Result<Application, StartupError> {
        Application::build_with_clock(config, Clock::system()).await
    }

    /// As `build`, with the clock the rules read (tests move it forward).
    pub async fn build_with_clock(
        config: Config,
        clock: Clock,
    ) -> Result<Application, StartupError> {
        let pool = db::build_pool(&config.database_url, config.pool_settings());
        let setup_pool = pool.clone();
        let data_dir = config.data_dir.clone();
        web::block(move || -> Result<(), StartupError> {
            let mut conn = setup_pool
                .get()
                .map_err(|e| StartupError::Database(e.to_string()))?;
            db::migrate(&mut conn).map_err(|e| StartupError::Database(e.to_string()))?;
            if conn.engine() == db::Engine::Sqlite {
                db::refresh_statistics(&mut conn)
                    .map_err(|e| StartupError::Database(e.to_string()))?;
            }
            bootstrap_admin(&mut conn, &data_dir)
        })
        .await
        .map_err(|e| StartupError::Database(e.to_string()))??;

        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let passwords =
            PasswordWork::new(cores).map_err(|e| StartupError::Database(e.to_string()))?;
        let passwords = web::Data::new(passwords);
        let keys = web::Data::new(TokenKeys::new(&config.jwt_secret));
        let data_key = web::Data::new(DataKey::new(&config.data_key));
        if let Some(interval) = config.job_interval {
            actix_web::rt::spawn(jobs::run_forever(pool.clone(), clock.clone(), interval));
        }
        let clock = web::Data::new(clock);
        let limiter = web::Data::new(http::RateLimiter::new(config.rate_limits));
        let sessions = web::Data::new(SessionCache::default());
        let allowed_methods =
            web::Data::new(http::AllowedMethods::from_document(&openapi_document()));
        let body_timeout = web::Data::new(http::BodyTimeout(config.client_timeout));
        let import_limits = web::Data::new(config.import_limits);
        let pool_data = web::Data::new(pool.clone());

        let listener = TcpListener::bind(&config.bind)
            .map_err(|e| StartupError::Bind(config.bind.clone(), e))?;
        let port = listener
            .local_addr()
            .map_err(|e| StartupError::Bind(config.bind.clone(), e))?
            .port();
        let server = HttpServer::new(move || {
            with_routes(App::new().into_utoipa_app())
                .app_data(pool_data.clone())
                .app_data(keys.clone())
                .app_data(passwords.clone())
                .app_data(data_key.clone())
                .app_data(clock.clone())
                .app_data(limiter.clone())
                .app_data(sessions.clone())
                .app_data(allowed_methods.clone())
                .app_data(body_timeout.clone())
                .app_data(import_limits.clone())
                .app_data(http::json_config())
                .app_data(http::query_config())
                .app_data(http::path_config())
                .openapi_service(|mut api| {
                    openapi::complete(&mut api);
                    SwaggerUi::new("/docs/{_:.*}").url("/api-docs/openapi.json", api)
                })
                .default_service(web::to(http::no_such_route))
                .into_app()
                .wrap(from_fn(http::rate_limit))
                .wrap(from_fn(http::request_context))
        })
        .workers(config.workers.unwrap_or(cores))
        // A client that does not send its request head in time gets 408; one that goes quiet
        // while sending a body is cut off by the extractors' body timeout.
        .client_request_timeout(config.client_timeout)
        .client_disconnect_timeout(Duration::from_secs(2))
        // On SIGTERM or SIGINT, stop accepting and let requests in flight finish.
        .shutdown_timeout(30)
        .listen(listener)
        .map_err(|e| StartupError::Bind(config.bind.clone(), e))?
        .run();
        Ok(Application { port, server, pool })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pool(&self) -> DbPool {
        self.pool.clone()
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// On first start with no users, creates `admin` with a random password, printed once and
/// written to `<data dir>/initial-admin-password` (mode 0600).
fn bootstrap_admin(conn: &mut DbConn, data_dir: &Path) -> Result<(), StartupError> {
    let to_startup = |e: ApiError| StartupError::Database(e.to_string());
    if accounts::repo::count_users(conn).map_err(|e| to_startup(e.into()))? > 0 {
        return Ok(());
    }
    let password = random_password();
    let hash = hash_password(&password).map_err(to_startup)?;
    let request = CreateUserRequest {
        username: "admin".into(),
        display_name: "系统管理员".into(),
        password: String::new(),
        roles: vec![Role::Admin],
        unit_id: None,
        cadre_id: None,
    };
    let path = data_dir.join(INITIAL_ADMIN_PASSWORD_FILE);
    db::write_transaction(conn, |conn| {
        accounts::service::create_user(conn, &Actor::system("system"), request, &hash)?;
        // Written inside the transaction: if the file cannot be written, no admin is created
        // whose password nobody knows.
        write_private_file(&path, format!("{password}\n").as_bytes())
            .map_err(|e| ApiError::internal(format!("cannot write {}: {e}", path.display())))
    })
    .map_err(|e| match e {
        ApiError::Internal(detail) => {
            StartupError::DataDir(path.display().to_string(), std::io::Error::other(detail))
        }
        other => to_startup(other),
    })?;
    // Printed, not logged: the log must never hold a secret.
    println!(
        "Created the first administrator: user name `admin`, password `{password}` \
         (also in {}). Change it after logging in.",
        path.display()
    );
    Ok(())
}
