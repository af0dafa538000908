//! Writing and checking the chain.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::db::schema::{audit_chain, audit_events};
use crate::db::{self, DbConn};
use crate::error::ApiError;

/// Who did something.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    /// The user name at the time, or `system` / `cli` / `anonymous`.
    pub label: String,
    pub roles: Vec<String>,
    pub request_id: Option<String>,
}

impl Actor {
    pub fn user(user: &AuthUser) -> Actor {
        Actor {
            user_id: Some(user.id),
            label: user.username.clone(),
            roles: user.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            request_id: Some(crate::web::current_request_id()),
        }
    }

    /// The service itself (start-up) or an operator's command line.
    pub fn system(label: &str) -> Actor {
        Actor {
            user_id: None,
            label: label.to_owned(),
            roles: Vec::new(),
            request_id: None,
        }
    }

    /// Someone not (yet) signed in, such as a login attempt.
    pub fn anonymous() -> Actor {
        Actor {
            user_id: None,
            label: "anonymous".to_owned(),
            roles: Vec::new(),
            request_id: Some(crate::web::current_request_id()),
        }
    }
}

/// What happened to what.
#[derive(Debug)]
pub struct Event {
    /// `entity.verb`, e.g. `user.created`, `session.revoked`.
    pub action: &'static str,
    pub entity: &'static str,
    pub entity_id: Option<String>,
    /// The record before and after, as JSON text: serialised when the event is built, which can
    /// be before the write queue (see `cadres::service::prepare_update`), not in `record`.
    pub before: Option<String>,
    pub after: Option<String>,
}

impl Event {
    pub fn new(action: &'static str, entity: &'static str, entity_id: impl ToString) -> Event {
        Event::about(action, entity, Some(entity_id.to_string()))
    }

    /// An event about no one record (an import, a batch of notifications), or about one that
    /// may not exist (a failed login, a lookup that found nothing).
    pub fn about(action: &'static str, entity: &'static str, entity_id: Option<String>) -> Event {
        Event {
            action,
            entity,
            entity_id,
            before: None,
            after: None,
        }
    }

    pub fn before(mut self, value: impl Serialize) -> Event {
        self.before = serde_json::to_string(&value).ok();
        self
    }

    pub fn after(mut self, value: impl Serialize) -> Event {
        self.after = serde_json::to_string(&value).ok();
        self
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
pub struct AuditRow {
    pub seq: i64,
    pub occurred_at: NaiveDateTime,
    pub actor_id: Option<i64>,
    pub actor_label: String,
    pub actor_roles: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub request_id: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// The canonical form hashed for a row: every column but `hash`, in a fixed order, with the
/// time at microsecond precision (what both engines store), as one compact JSON array. It is
/// written straight into the hash, not built as a string first.
fn row_hash(row: &AuditRow) -> String {
    let canonical = (
        row.seq,
        row.occurred_at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        row.actor_id,
        &row.actor_label,
        &row.actor_roles,
        &row.action,
        &row.entity,
        &row.entity_id,
        &row.before_json,
        &row.after_json,
        &row.request_id,
        &row.prev_hash,
    );
    let mut hasher = Sha256::new();
    // Writing into a hash cannot fail, and these values always serialise.
    serde_json::to_writer(&mut hasher, &canonical).expect("the canonical audit row serialises");
    hex::encode(hasher.finalize())
}

/// Appends an event to the chain. Call it inside the transaction of the change (`db::write`),
/// which holds the chain's head row locked.
pub fn record(conn: &mut DbConn, actor: &Actor, event: Event) -> Result<i64, ApiError> {
    let mut row = AuditRow {
        seq: 0,
        occurred_at: db::now(),
        actor_id: actor.user_id,
        actor_label: actor.label.clone(),
        actor_roles: actor.roles.join(","),
        action: event.action.to_owned(),
        entity: event.entity.to_owned(),
        entity_id: event.entity_id,
        before_json: event.before,
        after_json: event.after,
        request_id: actor.request_id.clone(),
        prev_hash: String::new(),
        hash: String::new(),
    };
    // On the engine's own connection, as a write's busiest statements are (see `db::on_engine`).
    crate::on_engine!(conn, |native| {
        // `get_result`, not `first`, for a key: see `cadres::repo::find`.
        let (last_seq, last_hash) = audit_chain::table
            .find(1)
            .select((audit_chain::last_seq, audit_chain::last_hash))
            .get_result::<(i64, String)>(native)?;
        row.seq = last_seq + 1;
        row.prev_hash = last_hash;
        row.hash = row_hash(&row);
        diesel::insert_into(audit_events::table)
            .values(&row)
            .execute(native)?;
        db::kept_update(
            audit_chain::table,
            (
                audit_chain::last_seq.eq(row.seq),
                audit_chain::last_hash.eq(&row.hash),
            ),
            audit_chain::id.eq(1),
        )
        .execute(native)?;
    });
    Ok(row.seq)
}

/// The result of re-computing the chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyReport {
    /// True when every row's hash and link are intact.
    pub ok: bool,
    /// How many rows were checked.
    pub checked: i64,
    /// The first row found broken, if any.
    pub first_broken: Option<BrokenRow>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BrokenRow {
    /// The sequence number of the row (for `missing_rows`, the first missing one).
    pub seq: i64,
    /// `hash_mismatch` (the row was altered), `broken_link` (it does not follow the row
    /// before it), `missing_rows` (rows were removed) or `head_mismatch` (the chain's head does
    /// not match its last row: rows were removed from the end).
    pub reason: &'static str,
}

const VERIFY_BATCH: i64 = 1000;

/// Re-computes every hash and link, in batches, and names the first broken row.
pub fn verify(conn: &mut DbConn) -> Result<VerifyReport, ApiError> {
    let genesis = "0".repeat(64);
    let mut expected_prev = genesis;
    let mut expected_seq = 1_i64;
    let mut checked = 0_i64;
    let broken = |seq, reason, checked| VerifyReport {
        ok: false,
        checked,
        first_broken: Some(BrokenRow { seq, reason }),
    };
    loop {
        let rows = audit_events::table
            .filter(audit_events::seq.ge(expected_seq))
            .order(audit_events::seq.asc())
            .limit(VERIFY_BATCH)
            .select(AuditRow::as_select())
            .load(conn)?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            checked += 1;
            if row.seq != expected_seq {
                return Ok(broken(expected_seq, "missing_rows", checked));
            }
            if row.prev_hash != expected_prev {
                return Ok(broken(row.seq, "broken_link", checked));
            }
            if row_hash(row) != row.hash {
                return Ok(broken(row.seq, "hash_mismatch", checked));
            }
            expected_prev.clone_from(&row.hash);
            expected_seq += 1;
        }
    }
    let (head_seq, head_hash) = audit_chain::table
        .find(1)
        .select((audit_chain::last_seq, audit_chain::last_hash))
        .first::<(i64, String)>(conn)?;
    if head_seq != expected_seq - 1 || head_hash != expected_prev {
        return Ok(broken(expected_seq, "head_mismatch", checked));
    }
    Ok(VerifyReport {
        ok: true,
        checked,
        first_broken: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chains already stored were hashed over `json!([...]).to_string()` of these columns; the
    /// streamed form must give the same bytes, or every stored chain would fail `verify`.
    #[test]
    fn a_row_hashes_as_the_compact_json_array_of_its_columns() {
        let row = AuditRow {
            seq: 42,
            occurred_at: chrono::NaiveDate::from_ymd_opt(2026, 11, 28)
                .unwrap()
                .and_hms_micro_opt(9, 5, 7, 120)
                .unwrap(),
            actor_id: None,
            actor_label: "王 \"芳\"\\".into(),
            actor_roles: "ufwd_staff,auditor".into(),
            action: "cadre.updated".into(),
            entity: "cadre".into(),
            entity_id: Some("7".into()),
            before_json: Some(r#"{"notes":"line\nbreak","name":"王芳"}"#.into()),
            after_json: None,
            request_id: Some("req-1".into()),
            prev_hash: "0".repeat(64),
            hash: String::new(),
        };
        let canonical = serde_json::json!([
            row.seq,
            "2026-11-28T09:05:07.000120Z",
            row.actor_id,
            row.actor_label,
            row.actor_roles,
            row.action,
            row.entity,
            row.entity_id,
            row.before_json,
            row.after_json,
            row.request_id,
            row.prev_hash,
        ]);
        assert_eq!(
            row_hash(&row),
            hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
        );
    }
}
