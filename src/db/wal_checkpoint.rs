//! SQLite's checkpoints, mostly moved off the write path.
//!
//! In WAL mode a commit appends pages to the log, and the commit that takes the log past 1,000
//! pages copies it back into the database file, with two `fsync`s, before it returns. In the
//! server that commit holds the writers' turn (`db::writer`), so every queued writer, and the
//! requests behind them, waited on the disk: a fifth of the machine sat idle under a stream of
//! edits. A thread of the pool's own now runs a `PASSIVE` checkpoint every [`INTERVAL`] on a
//! connection of its own: it waits for no one, copies and syncs what no reader still needs
//! while the writers go on, and leaves the committing connection's checkpoint little to copy.
//! That one stays: the log can only start again from its beginning when a write begins with all
//! of it copied, which under back-to-back writes happens only right after the committing
//! connection's own checkpoint (without it the log grew to 829 MB in a benchmark run).
//! Durability is unchanged: a checkpoint syncs the log before it copies and the database after.

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;

/// How often the log is copied back. At a few thousand small edits a second the log then stays
/// within tens of MB; when nothing was written since, a checkpoint only reads the log's header.
pub const INTERVAL: Duration = Duration::from_millis(100);

/// Keeps the checkpointing thread running; dropping the last clone (with the last clone of the
/// pool that owns it) stops it.
#[derive(Clone, Debug)]
pub struct Checkpointer {
    _running: Sender<()>,
}

impl Checkpointer {
    /// Starts checkpointing the database at `path`. The thread opens its connection once the
    /// file exists (the pool's first connection creates it) and opens it again after an error.
    pub fn start(path: &str) -> std::io::Result<Checkpointer> {
        let (running, stopped) = mpsc::channel::<()>();
        let path = path.to_owned();
        std::thread::Builder::new()
            .name("wal-checkpoint".into())
            .spawn(move || {
                let mut conn: Option<SqliteConnection> = None;
                // Told once per run of failures, not every INTERVAL.
                let mut failing = false;
                // Sleeps for INTERVAL until the sender is dropped.
                while stopped.recv_timeout(INTERVAL) == Err(RecvTimeoutError::Timeout) {
                    if !Path::new(&path).exists() {
                        continue;
                    }
                    // Ok(true) once a checkpoint ran, Ok(false) once the connection opened.
                    let checkpointed = match conn.as_mut() {
                        Some(open) => open
                            .batch_execute("PRAGMA wal_checkpoint(PASSIVE);")
                            .map(|()| true)
                            .map_err(|error| error.to_string()),
                        None => SqliteConnection::establish(&path)
                            .map(|open| {
                                conn = Some(open);
                                false
                            })
                            .map_err(|error| error.to_string()),
                    };
                    match checkpointed {
                        Ok(true) => failing = false,
                        Ok(false) => {}
                        Err(error) => {
                            if !failing {
                                tracing::warn!(%error, "cannot checkpoint the database; will retry");
                            }
                            failing = true;
                            conn = None;
                        }
                    }
                }
            })?;
        Ok(Checkpointer { _running: running })
    }
}
