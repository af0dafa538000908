//! The database's own limit for the benchmark's operations (see `bench/run`), without HTTP,
//! authentication, scope checks or JSON: the service's own queries in a tight loop, one
//! connection per thread. For SQLite this plays the part pgbench plays for PostgreSQL. Also the
//! machine's argon2id verify rate with the service's parameters, the bound for logins.
//!
//! `sqlite_baseline <database file> <point|list|write|argon2> <seconds> <threads> <highest id>`
//! prints one JSON object: `{"scenario", "operations", "seconds", "per_second"}`.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use rand::Rng;
use serde_json::json;
use tongxin::audit::{self, Actor, Event};
use tongxin::cadres::dto::CadreFilter;
use tongxin::cadres::model::CadreViewRow;
use tongxin::cadres::repo::{self, SearchWith};
use tongxin::db::schema::cadres;
use tongxin::db::{self, DbConn};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, path, scenario, seconds, threads, highest_id] = args.as_slice() else {
        eprintln!("usage: sqlite_baseline <database file> <point|list|write|argon2> <seconds> <threads> <highest id>");
        std::process::exit(2);
    };
    let seconds: u64 = seconds.parse().expect("seconds");
    let threads: u32 = threads.parse().expect("threads");
    let highest_id: i64 = highest_id.parse().expect("highest id");
    // The server's memory map, when the benchmark's environment gives it one.
    let sqlite_mmap_mib = std::env::var("TONGXIN_SQLITE_MMAP_MIB")
        .ok()
        .and_then(|mib| mib.parse().ok())
        .unwrap_or(0);
    let pool = db::build_pool(
        path,
        db::PoolSettings {
            sqlite_mmap_mib,
            ..db::PoolSettings::sized(threads, Duration::from_secs(10))
        },
    );
    let phc = tongxin::auth::password::hash_password("Baseline-password-42").expect("hash");
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let operations: u64 = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let pool = &pool;
                let phc = &phc;
                scope.spawn(move || {
                    let mut conn = pool.get().expect("connection");
                    let mut done = 0u64;
                    while Instant::now() < deadline {
                        run(&mut conn, scenario, highest_id, phc);
                        done += 1;
                    }
                    done
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().expect("worker")).sum()
    });
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({
            "scenario": scenario,
            "operations": operations,
            "seconds": elapsed,
            "per_second": operations as f64 / elapsed,
        })
    );
}

fn run(conn: &mut DbConn, scenario: &str, highest_id: i64, phc: &str) {
    let id = rand::rng().random_range(1..=highest_id);
    match scenario {
        // What `GET /cadres/{id}` reads.
        "point" => {
            repo::find_view(conn, id).expect("point read");
        }
        // What `GET /cadres?party=jiusan&sort=-birth_date&limit=20` reads for the page.
        "list" => {
            let filter: CadreFilter = serde_json::from_value(json!({"party": "jiusan"})).unwrap();
            repo::filtered(
                &filter,
                chrono::Utc::now().date_naive(),
                SearchWith::TrigramTable,
            )
            .select(CadreViewRow::as_select())
            .order((cadres::birth_date.desc(), cadres::id.desc()))
            .limit(21)
            .load::<CadreViewRow>(conn)
            .expect("list page");
        }
        // An update of one cadre with its audit event, in one transaction.
        "write" => {
            db::write_transaction(conn, |conn| {
                let now = chrono::Utc::now().naive_utc();
                diesel::update(cadres::table.find(id))
                    .set((
                        cadres::notes.eq(format!("baseline {now}")),
                        cadres::version.eq(cadres::version + 1),
                        cadres::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                audit::record(
                    conn,
                    &Actor::system("baseline"),
                    Event::new("cadres.updated", "cadre", id),
                )?;
                Ok(())
            })
            .expect("write");
        }
        "argon2" => {
            assert!(tongxin::auth::password::verify_password(
                "Baseline-password-42",
                phc
            ));
        }
        other => panic!("unknown scenario {other}"),
    }
}
