//! Password hashing (argon2id with OWASP's parameters) and the password policy (length and a
//! list of common passwords; no composition rules, after NIST SP 800-63B).

use std::collections::HashSet;
use std::io::Read;
use std::sync::{Arc, LazyLock, Mutex};

use actix_web::web;
use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::password_hash::PasswordVerifier as _;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::Rng;
use tokio::sync::Semaphore;

use crate::error::ApiError;

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 256;
const HASH_BYTES: usize = 32;

fn params() -> Params {
    // m = 19 MiB, t = 2, p = 1: OWASP's recommended argon2id setting.
    Params::new(19 * 1024, 2, 1, Some(HASH_BYTES)).expect("valid argon2 parameters")
}

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
}

/// Argon2's working memory (19 MiB). Reused across hashes: allocated per hash, a burst of logins
/// leaves hundreds of MiB parked in the allocator's per-thread arenas.
type Memory = Vec<Block>;

fn new_memory() -> Memory {
    vec![Block::default(); params().block_count()]
}

/// Hashes a password to a PHC string with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    hash_password_in(&mut new_memory(), password)
}

fn hash_password_in(memory: &mut Memory, password: &str) -> Result<String, ApiError> {
    let failed =
        |e: &dyn std::fmt::Display| ApiError::internal(format!("password hashing failed: {e}"));
    let salt: [u8; 16] = rand::rng().random();
    let mut out = [0u8; HASH_BYTES];
    argon2()
        .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, memory.as_mut_slice())
        .map_err(|e| failed(&e))?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params()).map_err(|e| failed(&e))?,
        salt: Some(Salt::new(&salt).map_err(|e| failed(&e))?),
        hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
    };
    Ok(hash.to_string())
}

/// Whether the password matches the PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    verify_password_in(&mut new_memory(), password, phc)
}

fn verify_password_in(memory: &mut Memory, password: &str, phc: &str) -> bool {
    let Ok(stored) = PasswordHash::new(phc) else {
        return false;
    };
    let made_here = stored.algorithm == Algorithm::Argon2id.ident()
        && stored.version == Some(Version::V0x13.into())
        && ParamsString::try_from(&params()).is_ok_and(|ours| stored.params == ours);
    if !made_here {
        // Other parameters (an older policy): the library verifies with memory of that size.
        return argon2()
            .verify_password(password.as_bytes(), &stored)
            .is_ok();
    }
    let (Some(salt), Some(expected)) = (&stored.salt, &stored.hash) else {
        return false;
    };
    let mut out = [0u8; HASH_BYTES];
    argon2()
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, memory.as_mut_slice())
        .is_ok()
        // `Output` compares in constant time.
        && Output::new(&out).is_ok_and(|computed| &computed == expected)
}

/// Runs hashing on the blocking pool, at most `limit` at a time: each hash takes 19 MiB and a
/// core for tens of milliseconds, so unbounded logins would starve everything else. The
/// working memory is pooled, so hashing never holds more than `limit` × 19 MiB.
#[derive(Clone)]
pub struct PasswordWork {
    permits: Arc<Semaphore>,
    memory: Arc<Mutex<Vec<Memory>>>,
    /// A hash of a random password, verified against when the user does not exist, so that an
    /// unknown user name costs the same time as a wrong password.
    decoy_hash: Arc<String>,
}

impl PasswordWork {
    pub fn new(limit: usize) -> Result<Self, ApiError> {
        let decoy: [u8; 16] = rand::rng().random();
        Ok(PasswordWork {
            permits: Arc::new(Semaphore::new(limit.max(1))),
            memory: Arc::new(Mutex::new(Vec::new())),
            decoy_hash: Arc::new(hash_password(&hex::encode(decoy))?),
        })
    }

    /// Runs `work` on the blocking pool with a permit and pooled memory.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| ApiError::Unavailable)?;
        let pool = Arc::clone(&self.memory);
        web::block(move || {
            let taken = pool.lock().ok().and_then(|mut free| free.pop());
            let mut memory = taken.unwrap_or_else(new_memory);
            let answer = work(&mut memory);
            if let Ok(mut free) = pool.lock() {
                free.push(memory);
            }
            answer
        })
        .await
        .map_err(|_| ApiError::internal("hashing task was cancelled"))
    }

    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.run(move |memory| hash_password_in(memory, &password))
            .await?
    }

    /// Verifies against the stored hash, or against the decoy when there is none.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool, ApiError> {
        let known = phc.is_some();
        let phc = phc.unwrap_or_else(|| self.decoy_hash.as_ref().clone());
        let matched = self
            .run(move |memory| verify_password_in(memory, &password, &phc))
            .await?;
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
    use argon2::password_hash::PasswordHasher as _;

    #[test]
    fn pooled_hashes_are_standard_argon2id_and_older_parameters_still_verify() {
        let mut memory = new_memory();
        let ours = hash_password_in(&mut memory, "plum blossom in the snow").unwrap();
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        // The library's own verifier accepts it, and ours tells right from wrong twice over
        // the same memory.
        assert!(argon2()
            .verify_password(
                b"plum blossom in the snow",
                &PasswordHash::new(&ours).unwrap()
            )
            .is_ok());
        assert!(verify_password_in(
            &mut memory,
            "plum blossom in the snow",
            &ours
        ));
        assert!(!verify_password_in(
            &mut memory,
            "plum blossom in the rain",
            &ours
        ));
        // A hash made by the library with other parameters goes the library's way.
        let older = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 3, 1, None).unwrap(),
        )
        .hash_password_with_salt(b"plum blossom in the snow", b"0123456789abcdef")
        .unwrap()
        .to_string();
        assert!(verify_password_in(
            &mut memory,
            "plum blossom in the snow",
            &older
        ));
        assert!(!verify_password_in(&mut memory, "plum blossom", &older));
        assert!(!verify_password_in(&mut memory, "x", "not a hash"));
    }

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
