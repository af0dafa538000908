//! Typed settings from `TONGXIN_*` environment variables, with safe defaults for local use.
//! In production mode the service refuses to start without a strong token-signing secret.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rand::Rng;

/// The shortest token-signing secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Clone)]
pub struct Config {
    pub environment: Environment,
    pub database_url: String,
    pub bind: String,
    pub data_dir: PathBuf,
    pub jwt_secret: Vec<u8>,
    /// The master key for protected fields (ID numbers, phones), 32 bytes.
    pub data_key: [u8; 32],
    pub log_filter: String,
    pub db_pool_size: u32,
    pub db_checkout_timeout: Duration,
    /// MiB of the SQLite file each connection reads through a memory map (`db::PoolSettings`).
    pub sqlite_mmap_mib: u64,
    /// HTTP worker threads; `None` means one per core.
    pub workers: Option<usize>,
    /// How often the reminder job runs; `None` turns it off.
    pub job_interval: Option<Duration>,
    /// Requests per minute per client address; `None` turns a limit off.
    pub rate_limits: crate::web::RateLimits,
    /// How long a client may take to send a request's head, and its body.
    pub client_timeout: Duration,
    pub import_limits: crate::cadres::transfer::ImportLimits,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret, nor a database password inside the URL.
        f.debug_struct("Config")
            .field("environment", &self.environment)
            .field("database", &redact_url(&self.database_url))
            .field("bind", &self.bind)
            .field("data_dir", &self.data_dir)
            .field("db_pool_size", &self.db_pool_size)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not valid: {1}")]
    Invalid(&'static str, String),
    #[error(
        "TONGXIN_ENV=production needs TONGXIN_JWT_SECRET of at least {MIN_SECRET_BYTES} bytes"
    )]
    WeakSecretInProduction,
    #[error("TONGXIN_JWT_SECRET is shorter than {MIN_SECRET_BYTES} bytes")]
    ShortSecret,
    #[error("TONGXIN_DATA_KEY must be 64 hexadecimal digits (32 bytes); production requires it")]
    DataKey,
    #[error("cannot use the data directory {0}: {1}")]
    DataDir(PathBuf, std::io::Error),
}

/// The parts of the configuration that come straight from the environment.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Config {
    /// The database pool's settings.
    pub fn pool_settings(&self) -> crate::db::PoolSettings {
        crate::db::PoolSettings {
            max_size: self.db_pool_size,
            checkout_timeout: self.db_checkout_timeout,
            sqlite_mmap_mib: self.sqlite_mmap_mib,
        }
    }

    /// Reads the environment. In development a missing secret is generated once and kept in
    /// `<data dir>/jwt-secret` (mode 0600) so that tokens survive a restart.
    pub fn from_env() -> Result<Config, ConfigError> {
        let environment = match var("TONGXIN_ENV").as_deref() {
            None | Some("development") => Environment::Development,
            Some("production") => Environment::Production,
            Some(other) => {
                return Err(ConfigError::Invalid(
                    "TONGXIN_ENV",
                    format!("{other:?} (use development or production)"),
                ))
            }
        };
        let data_dir = PathBuf::from(var("TONGXIN_DATA_DIR").unwrap_or_else(|| "data".into()));
        let database_url = var("TONGXIN_DATABASE_URL")
            .unwrap_or_else(|| data_dir.join("tongxin.db").to_string_lossy().into_owned());
        let jwt_secret = match (var("TONGXIN_JWT_SECRET"), environment) {
            (Some(secret), _) if secret.len() >= MIN_SECRET_BYTES => secret.into_bytes(),
            (_, Environment::Production) => return Err(ConfigError::WeakSecretInProduction),
            (Some(_), Environment::Development) => return Err(ConfigError::ShortSecret),
            (None, Environment::Development) => development_secret(&data_dir)?,
        };
        let data_key = match (var("TONGXIN_DATA_KEY"), environment) {
            (Some(hex_key), _) => parse_data_key(&hex_key).ok_or(ConfigError::DataKey)?,
            (None, Environment::Production) => return Err(ConfigError::DataKey),
            (None, Environment::Development) => development_data_key(&data_dir)?,
        };
        Ok(Config {
            environment,
            data_key,
            database_url,
            bind: var("TONGXIN_BIND").unwrap_or_else(|| "127.0.0.1:8080".into()),
            data_dir,
            jwt_secret,
            log_filter: var("TONGXIN_LOG").unwrap_or_else(|| "info".into()),
            db_pool_size: parse_var("TONGXIN_DB_POOL_SIZE", 10)?,
            db_checkout_timeout: Duration::from_secs(parse_var("TONGXIN_DB_TIMEOUT_SECS", 3)?),
            sqlite_mmap_mib: sqlite_mmap_mib(parse_var("TONGXIN_SQLITE_MMAP_MIB", 0)?)?,
            rate_limits: crate::web::RateLimits {
                api_per_minute: Some(parse_var("TONGXIN_RATE_LIMIT_PER_MINUTE", 600_u32)?)
                    .filter(|n| *n > 0),
                login_per_minute: Some(parse_var("TONGXIN_LOGIN_RATE_LIMIT_PER_MINUTE", 30_u32)?)
                    .filter(|n| *n > 0),
            },
            client_timeout: Duration::from_secs(parse_var("TONGXIN_CLIENT_TIMEOUT_SECS", 10)?),
            import_limits: {
                let default = crate::cadres::transfer::ImportLimits::default();
                crate::cadres::transfer::ImportLimits {
                    max_rows: parse_var("TONGXIN_IMPORT_MAX_ROWS", default.max_rows)?,
                    max_bytes: parse_var("TONGXIN_IMPORT_MAX_MIB", default.max_bytes >> 20)?
                        .checked_mul(1 << 20)
                        .ok_or_else(|| {
                            ConfigError::Invalid("TONGXIN_IMPORT_MAX_MIB", "too large".into())
                        })?,
                }
            },
            job_interval: match parse_var("TONGXIN_JOB_INTERVAL_SECS", 300_u64)? {
                0 => None,
                secs => Some(Duration::from_secs(secs)),
            },
            workers: var("TONGXIN_WORKERS")
                .map(|v| {
                    v.parse()
                        .map_err(|_| ConfigError::Invalid("TONGXIN_WORKERS", v))
                })
                .transpose()?,
        })
    }
}

/// The memory map's size as SQLite can take it: it silently cuts a larger one to its limit, so
/// a setting above that is refused rather than half-applied.
fn sqlite_mmap_mib(mib: u64) -> Result<u64, ConfigError> {
    if mib > crate::db::SQLITE_MAX_MMAP_MIB {
        return Err(ConfigError::Invalid(
            "TONGXIN_SQLITE_MMAP_MIB",
            format!("{mib} (at most {})", crate::db::SQLITE_MAX_MMAP_MIB),
        ));
    }
    Ok(mib)
}

fn parse_var<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, ConfigError> {
    match var(name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| ConfigError::Invalid(name, v)),
    }
}

fn development_secret(data_dir: &Path) -> Result<Vec<u8>, ConfigError> {
    let path = data_dir.join("jwt-secret");
    if let Ok(existing) = std::fs::read(&path) {
        if existing.len() >= MIN_SECRET_BYTES {
            return Ok(existing);
        }
    }
    let bytes: [u8; 32] = rand::rng().random();
    let secret = hex::encode(bytes).into_bytes();
    write_private_file(&path, &secret).map_err(|e| ConfigError::DataDir(data_dir.into(), e))?;
    Ok(secret)
}

fn parse_data_key(hex_key: &str) -> Option<[u8; 32]> {
    hex::decode(hex_key.trim()).ok()?.try_into().ok()
}

/// Like the development secret: generated once, kept in `<data dir>/data-key` (0600). Losing
/// this file makes the protected fields unreadable, so back it up with the database.
fn development_data_key(data_dir: &Path) -> Result<[u8; 32], ConfigError> {
    let path = data_dir.join("data-key");
    if let Some(key) = std::fs::read_to_string(&path)
        .ok()
        .and_then(|s| parse_data_key(&s))
    {
        return Ok(key);
    }
    let key: [u8; 32] = rand::rng().random();
    write_private_file(&path, hex::encode(key).as_bytes())
        .map_err(|e| ConfigError::DataDir(data_dir.into(), e))?;
    Ok(key)
}

/// Writes a file that only its owner can read (0600), creating its directory.
pub fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// A database URL with any password replaced, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{redact_url, sqlite_mmap_mib};

    #[test]
    fn a_memory_map_larger_than_sqlite_takes_is_refused() {
        assert_eq!(sqlite_mmap_mib(0).unwrap(), 0);
        assert_eq!(sqlite_mmap_mib(2047).unwrap(), 2047);
        let refused = sqlite_mmap_mib(2048).unwrap_err().to_string();
        assert!(refused.contains("TONGXIN_SQLITE_MMAP_MIB"), "{refused}");
    }

    #[test]
    fn redacts_passwords_in_urls() {
        assert_eq!(redact_url("postgres://u:pw@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("data/tongxin.db"), "data/tongxin.db");
    }
}
