//! Password hashing (argon2id with OWASP's parameters) and the password policy (length and a
//! list of common passwords; no composition rules, after NIST SP 800-63B).

use std::collections::HashSet;
use std::io::Read;
use std::sync::{Arc, LazyLock};

use actix_web::web;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::Rng;
use tokio::sync::Semaphore;

use crate::error::ApiError;

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 256;

fn argon2() -> Argon2<'static> {
    // m = 19 MiB, t = 2, p = 1: OWASP's recommended argon2id setting.
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password to a PHC string with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt: [u8; 16] = rand::rng().random();
    argon2()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| ApiError::internal(format!("password hashing failed: {e}")))
}

/// Whether the password matches the PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    argon2().verify_password(password.as_bytes(), phc).is_ok()
}

/// Runs hashing on the blocking pool, at most `limit` at a time: each hash takes 19 MiB and a
/// core for tens of milliseconds, so unbounded logins would starve everything else.
#[derive(Clone)]
pub struct PasswordWork {
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified against when the user does not exist, so that an
    /// unknown user name costs the same time as a wrong password.
    decoy_hash: Arc<String>,
}

impl PasswordWork {
    pub fn new(limit: usize) -> Result<Self, ApiError> {
        let decoy: [u8; 16] = rand::rng().random();
        Ok(PasswordWork {
            permits: Arc::new(Semaphore::new(limit.max(1))),
            decoy_hash: Arc::new(hash_password(&hex::encode(decoy))?),
        })
    }

    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| ApiError::Unavailable)?;
        web::block(move || hash_password(&password))
            .await
            .map_err(|_| ApiError::internal("hashing task was cancelled"))?
    }

    /// Verifies against the stored hash, or against the decoy when there is none.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool, ApiError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| ApiError::Unavailable)?;
        let known = phc.is_some();
        let phc = phc.unwrap_or_else(|| self.decoy_hash.as_ref().clone());
        let matched = web::block(move || verify_password(&password, &phc))
            .await
            .map_err(|_| ApiError::internal("hashing task was cancelled"))?;
        Ok(known && matched)
    }
}

static COMMON_PASSWORDS: LazyLock<HashSet<String>> = LazyLock::new(|| {
    let mut text = String::new();
    flate2::read::GzDecoder::new(&include_bytes!("common-passwords.txt.gz")[..])
        .read_to_string(&mut text)
        .expect("the shipped common-password list is valid gzip");
    text.lines().map(str::to_owned).collect()
});

/// Checks a new password; returns the rule it breaks.
///
/// Refused: fewer than 12 or more than 256 characters; a password on the shipped list of
/// 19,625 common passwords, also when only digits or symbols were added around one (`password2024!`);
/// one or two characters repeated, or a run such as `123456789012`; one containing the user name.
pub fn check_password_policy(password: &str, username: &str) -> Result<(), &'static str> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err("too_short");
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err("too_long");
    }
    let lower = password.to_lowercase();
    let core = lower.trim_matches(|c: char| !c.is_alphabetic());
    if COMMON_PASSWORDS.contains(&lower)
        || (core.chars().count() >= 4 && COMMON_PASSWORDS.contains(core))
    {
        return Err("too_common");
    }
    let mut distinct = lower.chars().collect::<Vec<_>>();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() <= 2 || is_mostly_a_run(&lower) {
        return Err("too_simple");
    }
    let username = username.to_lowercase();
    if username.chars().count() >= 3 && lower.contains(&username) {
        return Err("contains_username");
    }
    Ok(())
}

/// Whether at least 80 % of neighbouring characters step by one (`123456789012`, `abcdefghijkl`,
/// `987654321098`): such a password is guessed at once however long it is.
fn is_mostly_a_run(password: &str) -> bool {
    let chars: Vec<u32> = password.chars().map(u32::from).collect();
    let steps = chars
        .windows(2)
        .filter(|w| {
            w[0].abs_diff(w[1]) == 1
                || (w[0] == u32::from('9') && w[1] == u32::from('0'))
                || (w[0] == u32::from('0') && w[1] == u32::from('9'))
        })
        .count();
    steps * 5 >= (chars.len() - 1) * 4
}

/// A random password for generated accounts (the first admin): 24 characters from an alphabet
/// without look-alikes.
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..24)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_refuses_short_common_and_padded_common_passwords() {
        assert_eq!(check_password_policy("short", "u"), Err("too_short"));
        assert_eq!(
            check_password_policy("qwerty123456", "u"),
            Err("too_common")
        );
        assert_eq!(
            check_password_policy("password2024!!", "u"),
            Err("too_common")
        );
        assert_eq!(
            check_password_policy("aaaaaaaaaaaaaa", "u"),
            Err("too_simple")
        );
        assert_eq!(
            check_password_policy("zhangsan-rides-east", "zhangsan"),
            Err("contains_username")
        );
        assert_eq!(
            check_password_policy("晴川历历汉阳树芳草萋萋鹦鹉洲", "u"),
            Ok(())
        );
        assert_eq!(
            check_password_policy("correct horse battery staple", "u"),
            Ok(())
        );
        assert_eq!(
            check_password_policy(&"x1".repeat(129), "u"),
            Err("too_long")
        );
    }

    #[test]
    fn hashes_verify_and_use_argon2id_with_owasp_parameters() {
        let hash = hash_password("correct horse battery staple").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse battery staple", &hash));
        assert!(!verify_password("correct horse battery stable", &hash));
    }
}
