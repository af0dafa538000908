//! Password hashing (argon2id with OWASP's parameters) and the password policy (length and a
//! list of common passwords; no composition rules, after NIST SP 800-63B).

use std::collections::HashSet;
use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, LazyLock};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::password_hash::PasswordVerifier as _;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::Rng;
use tokio::sync::{oneshot, Semaphore};

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

/// How many steps of CPU priority (nice values) the hashing threads run below the rest of the
/// process where they cannot take Linux's idle policy (see `lower_this_threads_priority`).
const HASHING_NICENESS: libc::c_int = 10;

/// Hashing work with its answer channel, run on a hashing thread with that thread's memory.
type HashJob = Box<dyn FnOnce(&mut Memory) + Send>;

/// Runs hashing on threads of its own, one per permit, at a lower CPU priority
/// (`HASHING_NICENESS`), at most `limit` at a time: each hash takes 19 MiB and a core for tens
/// of milliseconds, so unbounded logins would starve everything else. Each thread keeps its
/// working memory, so hashing never holds more than `limit` × 19 MiB. The threads end when the
/// last clone is dropped.
#[derive(Clone)]
pub struct PasswordWork {
    permits: Arc<Semaphore>,
    jobs: mpsc::Sender<HashJob>,
    /// A hash of a random password, verified against when the user does not exist, so that an
    /// unknown user name costs the same time as a wrong password.
    decoy_hash: Arc<String>,
}

impl PasswordWork {
    pub fn new(limit: usize) -> Result<Self, ApiError> {
        let limit = limit.max(1);
        let (jobs, queue) = mpsc::channel();
        let queue = Arc::new(parking_lot::Mutex::new(queue));
        for _ in 0..limit {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(HASHING_THREAD_NAME.into())
                .spawn(move || hash_on_this_thread(&queue))
                .map_err(|e| ApiError::internal(format!("no hashing thread: {e}")))?;
        }
        let decoy: [u8; 16] = rand::rng().random();
        Ok(PasswordWork {
            permits: Arc::new(Semaphore::new(limit)),
            jobs,
            decoy_hash: Arc::new(hash_password(&hex::encode(decoy))?),
        })
    }

    /// Runs `work` on a hashing thread, once a permit is free. The permit goes with the work
    /// and is returned when the hash is done, not when the request goes away: clients that
    /// give up cannot pile up hashing behind the permits.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| ApiError::Unavailable)?;
        let (answer, answered) = oneshot::channel();
        let job: HashJob = Box::new(move |memory| {
            // The request may have gone away meanwhile; then nobody waits for the answer.
            let _ = answer.send(work(memory));
            drop(permit);
        });
        self.jobs
            .send(job)
            .map_err(|_| ApiError::internal("the hashing threads have stopped"))?;
        answered
            .await
            .map_err(|_| ApiError::internal("hashing task failed"))
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

const HASHING_THREAD_NAME: &str = "password-hash";

/// A hashing thread: lowers its own priority, then runs jobs until `PasswordWork` is dropped. A
/// job that panics drops its answer (the request gets an internal error) and the thread goes on.
fn hash_on_this_thread(queue: &parking_lot::Mutex<mpsc::Receiver<HashJob>>) {
    lower_this_threads_priority();
    // Taken at the first hash, so that a server nobody logs in to never holds it.
    let mut memory = None;
    loop {
        let job = queue.lock().recv();
        let Ok(job) = job else { return };
        let memory = memory.get_or_insert_with(new_memory);
        let _ = catch_unwind(AssertUnwindSafe(|| job(memory)));
    }
}

/// Puts the calling thread under Linux's `SCHED_IDLE` policy: it runs when no thread of normal
/// priority wants its core. A hash takes a core for tens of milliseconds; at the same priority,
/// 4 connections logging in slowed 28 others reading by half or more on two cores, and ten nice
/// values below them still by 31–61 % once reads ran on fewer threads (docs/performance.md).
/// Idle, hashing takes what the requests leave: logins alone still run at the machine's full
/// hashing rate, and under a full read load they wait instead of slowing everyone. Where the
/// policy is refused, the thread's nice value is raised by `HASHING_NICENESS` instead
/// (relative, so a service started with a nice value of its own keeps the gap). Both are a
/// thread's own on Linux, which is why hashing has threads of its own.
fn lower_this_threads_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: `idle` outlives the call that reads it; `pid`/`who = 0` is the calling thread on
    // Linux. Lowering one's own priority needs no privilege; a failure leaves it as it was.
    unsafe {
        let idle = libc::sched_param { sched_priority: 0 };
        if libc::sched_setscheduler(0, libc::SCHED_IDLE, &idle) != 0 {
            let current = libc::getpriority(libc::PRIO_PROCESS, 0);
            libc::setpriority(libc::PRIO_PROCESS, 0, (current + HASHING_NICENESS).min(19));
        }
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

    /// A thread's scheduling policy (`SCHED_*`), from its `/proc/…/stat` (the 41st field; the
    /// name, the 2nd, is in parentheses and may hold spaces, and the 3rd follows it).
    fn scheduling_policy(stat_path: &std::path::Path) -> i32 {
        let stat = std::fs::read_to_string(stat_path).unwrap();
        let after_name = &stat[stat.rfind(')').unwrap() + 1..];
        after_name
            .split_whitespace()
            .nth(41 - 3)
            .unwrap()
            .parse()
            .unwrap()
    }

    /// A runtime to await `PasswordWork` on, outside any server.
    fn test_runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn hashing_runs_on_threads_of_its_own_when_nothing_else_wants_the_core() {
        let work = PasswordWork::new(2).unwrap();
        let runtime = test_runtime();
        let hash = runtime
            .block_on(work.hash("plum blossom in the snow".into()))
            .unwrap();
        assert!(runtime
            .block_on(work.verify("plum blossom in the snow".into(), Some(hash.clone())))
            .unwrap());
        assert!(!runtime
            .block_on(work.verify("plum blossom in the rain".into(), Some(hash)))
            .unwrap());
        assert!(!runtime
            .block_on(work.verify("plum blossom in the snow".into(), None))
            .unwrap());

        let callers = scheduling_policy(std::path::Path::new("/proc/thread-self/stat"));
        let hashing: Vec<i32> = std::fs::read_dir("/proc/self/task")
            .unwrap()
            .map(|task| task.unwrap().path())
            .filter(|task| {
                std::fs::read_to_string(task.join("comm"))
                    .is_ok_and(|name| name.trim() == HASHING_THREAD_NAME)
            })
            .map(|task| scheduling_policy(&task.join("stat")))
            .collect();
        assert_eq!(callers, libc::SCHED_OTHER);
        // At least this pool's two: other tests in this process may have hashing threads alive.
        assert!(hashing.len() >= 2, "{hashing:?}");
        assert!(
            hashing.iter().all(|&policy| policy == libc::SCHED_IDLE),
            "{hashing:?}"
        );
    }

    #[test]
    fn a_permit_is_held_until_its_hash_is_done_even_when_the_request_goes_away() {
        use std::future::Future as _;
        let work = PasswordWork::new(1).unwrap();
        let runtime = test_runtime();
        let (started, has_started) = std::sync::mpsc::channel();
        let (finish, may_finish) = std::sync::mpsc::channel::<()>();
        let mut request = Box::pin(work.run(move |_memory| {
            started.send(()).unwrap();
            may_finish.recv().unwrap();
        }));
        // One poll takes the permit and hands the work over; then the request goes away.
        runtime.block_on(std::future::poll_fn(|cx| {
            assert!(request.as_mut().poll(cx).is_pending());
            std::task::Poll::Ready(())
        }));
        drop(request);
        has_started.recv().unwrap();
        assert_eq!(work.permits.available_permits(), 0, "the hash still runs");
        finish.send(()).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while work.permits.available_permits() == 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(work.permits.available_permits(), 1, "returned once done");
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
