//! The process's memory, as the operating system sees it.

/// Returns the allocator's free memory to the operating system. glibc keeps what a burst of
/// requests freed (many threads, each with its own arena) for reuse; after 32 connections of
/// statistics requests the server held 50 MB more than it used. An import or an export, which
/// needs tens of megabytes for a few seconds, calls this first, so that the process's peak is
/// its working set plus the file rather than plus every earlier burst; the periodic job calls
/// it too (`jobs::run_forever`). It takes milliseconds, which only such long requests and a
/// background job can spare. Other allocators and platforms keep their default.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` takes no pointers; it locks each arena and releases its free pages.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Caps glibc's arenas at one per core, unless the operator set `MALLOC_ARENA_MAX`. By default
/// glibc gives up to eight per core, one to each new thread that allocates while the others are
/// in use (the HTTP workers, the reader threads, the writers' and the hashing threads),
/// and each arena keeps what its threads freed. After the benchmark's load scenarios the server
/// held 210 MB at its peak with the default and 159 MB with two arenas on two cores, for about
/// 7 % of a filtered list's rate on PostgreSQL (docs/operations.md). Call it first in `main`,
/// before any thread starts.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let arenas = libc::c_int::try_from(cores).unwrap_or(libc::c_int::MAX);
        // SAFETY: `mallopt` takes no pointers; it sets the limit for arenas created from now on.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use std::ffi::CString;
    use std::sync::{Arc, Barrier};

    /// Set in the child process this test runs itself in: arenas are global to a process, and
    /// the parent's other tests have made some already.
    const CHILD: &str = "TONGXIN_ARENA_TEST_CHILD";

    #[test]
    fn threads_allocating_at_once_share_one_arena_per_core() {
        if std::env::var_os(CHILD).is_some() {
            return count_arenas_of_busy_threads();
        }
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "memory::tests::threads_allocating_at_once_share_one_arena_per_core",
                "--exact",
                "--test-threads=1",
                "--nocapture",
            ])
            .env(CHILD, "1")
            .env_remove("MALLOC_ARENA_MAX")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Four threads a core, each allocating while all are alive: glibc's default (eight a core)
    /// gives each its own arena.
    fn count_arenas_of_busy_threads() {
        super::limit_arenas();
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let all_alive = Arc::new(Barrier::new(cores * 4 + 1));
        let threads: Vec<_> = (0..cores * 4)
            .map(|_| {
                let all_alive = all_alive.clone();
                std::thread::spawn(move || {
                    let held = vec![String::from("allocated"); 64];
                    all_alive.wait();
                    all_alive.wait();
                    drop(held);
                })
            })
            .collect();
        all_alive.wait();
        let arenas = arenas_in_use();
        all_alive.wait();
        for thread in threads {
            thread.join().unwrap();
        }
        assert!(
            arenas <= cores,
            "{arenas} arenas for {} threads on {cores} cores",
            cores * 4
        );
    }

    /// The `<heap>` entries of `malloc_info`, one per arena.
    fn arenas_in_use() -> usize {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("malloc_info.xml");
        let c_path = CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: the path and mode are NUL-terminated; the stream is closed before it is read.
        unsafe {
            let stream = libc::fopen(c_path.as_ptr(), c"w".as_ptr());
            assert!(!stream.is_null());
            assert_eq!(libc::malloc_info(0, stream), 0);
            libc::fclose(stream);
        }
        std::fs::read_to_string(path)
            .unwrap()
            .matches("<heap nr=")
            .count()
    }
}
