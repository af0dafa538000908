//! The background job: reminders that no request triggers. Each run works in one writing
//! transaction (serialised with every other writer) and creates each notification under a
//! unique key, so runs that overlap, on one instance or several, notify once.

use std::time::Duration;

use chrono::Datelike;
use diesel::prelude::*;
use serde_json::json;

use crate::audit::{self, Actor, Event};
use crate::clock::Clock;
use crate::contacts;
use crate::db::schema::{follow_ups, talks};
use crate::db::{self, DbConn, DbPool};
use crate::error::ApiError;
use crate::notifications::{notify, Notice};

/// One run: overdue follow-ups of talks, (in December) leaders whose pairings are below the
/// contact plan for the year, and assignments of suggestions due within 7 days or overdue. Returns how many notifications were created.
pub fn run_once(conn: &mut DbConn, clock: &Clock) -> Result<usize, ApiError> {
    db::write_transaction(conn, |conn| {
        let now = clock.now_naive();
        let today = now.date();
        let mut created = 0;

        let overdue: Vec<(i64, String, i64)> = follow_ups::table
            .inner_join(talks::table)
            .filter(follow_ups::done.eq(false))
            .filter(follow_ups::due_on.lt(today))
            .select((follow_ups::id, follow_ups::what, talks::author_id))
            .load(conn)?;
        for (id, what, author) in overdue {
            let key = format!("follow_up_overdue:{id}");
            let notice = Notice {
                user_id: author,
                kind: "follow_up_overdue",
                title: format!("谈心谈话跟进事项已逾期：{what}"),
                entity: Some("follow_up"),
                entity_id: Some(id),
                dedupe_key: &key,
            };
            created += usize::from(notify(conn, notice, now)?);
        }

        // One month before the year ends.
        if today.month() == 12 {
            if let Some(term) = contacts::service::current_term(conn, today)? {
                let coverage = contacts::coverage::coverage(conn, term.id, today.year(), today)?;
                for leader in coverage
                    .by_leader
                    .iter()
                    .filter(|l| !l.below_plan.is_empty())
                {
                    let key = format!(
                        "contacts_below_plan:{}:{}:{}",
                        term.id,
                        today.year(),
                        leader.leader_id
                    );
                    let notice = Notice {
                        user_id: leader.leader_id,
                        kind: "contacts_below_plan",
                        title: format!(
                            "{}年联系计划尚有{}名党外干部未达到最低联系次数",
                            today.year(),
                            leader.below_plan.len()
                        ),
                        entity: Some("term"),
                        entity_id: Some(term.id),
                        dedupe_key: &key,
                    };
                    created += usize::from(notify(conn, notice, now)?);
                }
            }
        }

        created += crate::suggestions::service::remind(conn, today, now)?;

        if created > 0 {
            audit::record(
                conn,
                &Actor::system("jobs"),
                Event::about("notifications.sent", "notification", None)
                    .after(json!({"count": created})),
            )?;
        }
        Ok(created)
    })
}

/// Runs the job every `interval` for the life of the server. Each run also returns the memory
/// that earlier bursts of requests freed to the system, so that a server that was busy does not
/// keep its peak until the next import or export.
pub async fn run_forever(pool: DbPool, clock: Clock, interval: Duration) {
    let mut ticker = actix_web::rt::time::interval(interval);
    loop {
        ticker.tick().await;
        let (pool, clock) = (pool.clone(), clock.clone());
        match db::run(&pool, move |conn| {
            crate::memory::release_free_memory();
            db::maintain_indexes(conn)?;
            run_once(conn, &clock)
        })
        .await
        {
            Ok(0) => {}
            Ok(created) => tracing::info!(created, "reminders sent"),
            Err(error) => tracing::warn!(code = error.code(), "reminder job failed; will retry"),
        }
    }
}
