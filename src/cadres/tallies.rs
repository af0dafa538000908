//! Bulk inserts and the statistics tallies (`cadre_tallies`, kept by triggers).
//!
//! On PostgreSQL a transaction that inserts many cadres one statement at a time would update the
//! same few tally rows once per cadre, and each update of a row already updated in the same
//! transaction walks every earlier version of it: 100,000 imported rows took over ten minutes.
//! Such a transaction pauses the trigger and adds the counts of the cadres it wrote in a few
//! grouped statements before it commits. SQLite updates rows in place and keeps its row triggers.

use diesel::prelude::*;

use crate::db::{DbConn, Engine};

/// Cadres counted per statement when catching up.
const CATCH_UP_CHUNK: usize = 1_000;

/// Stops the tally trigger for the rest of the transaction. Every cadre the transaction then
/// writes must be inserted by it and passed to [`count_inserted`] before it commits.
pub fn pause(conn: &mut DbConn) -> QueryResult<()> {
    if conn.engine() == Engine::Postgres {
        diesel::sql_query("SET LOCAL tongxin.tallies_paused = 'on'").execute(conn)?;
    }
    Ok(())
}

/// Adds the cadres `ids` (inserted since [`pause`], in their present state) to the tallies and
/// starts the trigger again.
pub fn count_inserted(conn: &mut DbConn, ids: &[i64]) -> QueryResult<()> {
    if conn.engine() != Engine::Postgres {
        return Ok(());
    }
    for chunk in ids.chunks(CATCH_UP_CHUNK) {
        // The ids are integers written here, not text from a request.
        let list = chunk
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        diesel::sql_query(format!(
            "INSERT INTO cadre_tallies AS t (status, dimension, value, cadre_count) \
             SELECT r.status, d.dimension, d.value, COUNT(*) \
             FROM cadres r CROSS JOIN LATERAL cadre_dimensions(r) d \
             WHERE r.id IN ({list}) \
             GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 \
             ON CONFLICT (status, dimension, value) \
             DO UPDATE SET cadre_count = t.cadre_count + excluded.cadre_count"
        ))
        .execute(conn)?;
    }
    diesel::sql_query("SET LOCAL tongxin.tallies_paused = 'off'").execute(conn)?;
    Ok(())
}
