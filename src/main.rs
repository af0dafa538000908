//! The `tongxin` command: `serve` (default), `migrate`, `create-user`, `audit verify`,
//! `seed-demo`, `openapi`.

use std::io::BufRead;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use tongxin::accounts::{self, dto::CreateUserRequest};
use tongxin::audit::{self, Actor};
use tongxin::auth::password::hash_password;
use tongxin::auth::Role;
use tongxin::cadres::seed;
use tongxin::config::{redact_url, Config};
use tongxin::crypto::DataKey;
use tongxin::db::{self, DbConn};
use tongxin::startup::{openapi_document, Application};
use tongxin::telemetry;

#[derive(Parser)]
#[command(
    name = "tongxin",
    version,
    about = "Non-party representative personnel information system"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Apply migrations and serve the HTTP API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create a user; the password is read from the first line of standard input.
    CreateUser {
        #[arg(long)]
        username: String,
        /// A role (admin, ufwd_staff, org_staff, leader, department, representative, auditor);
        /// repeat the option or separate with commas for several.
        #[arg(long = "role", required = true, value_delimiter = ',')]
        roles: Vec<String>,
        /// The user's unit id (required for the department role).
        #[arg(long)]
        unit: Option<i64>,
        /// The cadre record the user is (for representatives).
        #[arg(long)]
        cadre: Option<i64>,
        /// The name shown for the user (defaults to the user name).
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from standard input (the only way: never on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Add synthetic demo cadres (and the district's units) for trying the system or benchmarks.
    SeedDemo {
        /// How many cadres to add.
        #[arg(long, default_value_t = 1000)]
        cadres: u64,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Re-compute the hash chain; exit 1 and name the first broken row if it is broken.
    Verify,
}

fn main() -> ExitCode {
    tongxin::memory::limit_arenas();
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Openapi = command {
        return match openapi_document().to_pretty_json() {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e.to_string()),
        };
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => return fail(&e.to_string()),
    };
    telemetry::init(&config.log_filter);
    match command {
        Command::Serve => serve(config),
        Command::Migrate => with_connection(&config, |conn| {
            let applied = db::migrate(conn).map_err(|e| e.to_string())?;
            println!("applied {} migration(s): {applied:?}", applied.len());
            Ok(ExitCode::SUCCESS)
        }),
        Command::CreateUser {
            username,
            roles,
            unit,
            cadre,
            display_name,
            password_stdin: _,
        } => with_connection(&config, |conn| {
            create_user(conn, username, &roles, unit, cadre, display_name)
        }),
        Command::Audit {
            command: AuditCommand::Verify,
        } => with_connection(&config, |conn| {
            let report = audit::verify(conn).map_err(|e| e.to_string())?;
            println!(
                "{}",
                serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
            );
            Ok(if report.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }),
        Command::SeedDemo { cadres } => with_connection(&config, |conn| {
            let key = DataKey::new(&config.data_key);
            let started = std::time::Instant::now();
            let written = seed::seed(conn, &key, cadres, 1000, |done| {
                if done % 10_000 == 0 || done == cadres {
                    eprintln!("seed-demo: {done} of {cadres} cadres");
                }
            })
            .map_err(describe)?;
            db::refresh_statistics(conn).map_err(|e| e.to_string())?;
            db::merge_search_tables_after_load(conn, written).map_err(|e| e.to_string())?;
            println!(
                "added {written} demo cadres in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }),
        Command::Openapi => unreachable!("handled above"),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("tongxin: {message}");
    ExitCode::from(2)
}

fn serve(config: Config) -> ExitCode {
    let result = actix_web::rt::System::new().block_on(async move {
        let database = redact_url(&config.database_url);
        let app = Application::build(config.clone())
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(
            bind = %config.bind,
            port = app.port(),
            database = %database,
            environment = ?config.environment,
            "tongxin is serving; API docs at /docs"
        );
        app.run_until_stopped().await.map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// Runs a command-line action on one connection, with migrations applied first.
fn with_connection(
    config: &Config,
    action: impl FnOnce(&mut DbConn) -> Result<ExitCode, String>,
) -> ExitCode {
    let pool = db::build_pool(
        &config.database_url,
        db::PoolSettings {
            max_size: 1,
            ..config.pool_settings()
        },
    );
    let result = pool
        .get()
        .map_err(|e| format!("cannot connect to the database: {e}"))
        .and_then(|mut conn| {
            db::migrate(&mut conn).map_err(|e| e.to_string())?;
            action(&mut conn)
        });
    result.unwrap_or_else(|e| fail(&e))
}

fn create_user(
    conn: &mut DbConn,
    username: String,
    roles: &[String],
    unit_id: Option<i64>,
    cadre_id: Option<i64>,
    display_name: Option<String>,
) -> Result<ExitCode, String> {
    let roles = roles
        .iter()
        .map(|r| Role::parse(r.trim()).ok_or_else(|| format!("unknown role {r:?}")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    let username = accounts::service::normalise_username(&username).map_err(describe)?;
    accounts::service::check_password("password", &password, &username).map_err(describe)?;
    let hash = hash_password(&password).map_err(describe)?;
    let request = CreateUserRequest {
        display_name: display_name.unwrap_or_else(|| username.clone()),
        username,
        password: String::new(),
        roles,
        unit_id,
        cadre_id,
    };
    let user = db::write_transaction(conn, |conn| {
        accounts::service::create_user(conn, &Actor::system("cli"), request, &hash)
    })
    .map_err(describe)?;
    println!(
        "{}",
        serde_json::to_string_pretty(&user).map_err(|e| e.to_string())?
    );
    Ok(ExitCode::SUCCESS)
}

/// An API error as one line for the terminal.
fn describe(error: tongxin::error::ApiError) -> String {
    let problem = error.problem();
    match problem.fields {
        Some(fields) => format!("{}: {fields:?}", problem.code),
        None => format!("{}: {}", problem.code, problem.detail.unwrap_or_default()),
    }
}
