//! Coverage of the contact plan: per leader, pairings and contacts against the plan for a year;
//! pairings below the minimum; active cadres without a pairing; campaign completion.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::model::{CampaignRow, PairingRow, TermRow};
use super::service::find_term;
use crate::db::kept_sql::id_in;
use crate::db::schema::{cadres, campaigns, pairings, talk_pairings, talks};
use crate::db::DbConn;
use crate::error::ApiError;

/// The most unpaired cadres listed by name (the count is always complete).
const UNPAIRED_LISTED: i64 = 200;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PairingBelowPlan {
    pub pairing_id: i64,
    pub cadre_id: i64,
    pub cadre_name: String,
    pub contacts: i64,
    pub minimum: i32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LeaderCoverage {
    pub leader_id: i64,
    pub leader_name: String,
    /// Pairings active at some time in the year.
    pub pairings: i64,
    /// Contacts held in the year, counted per pairing (a symposium counts for each cadre).
    pub contacts: i64,
    /// The plan: the term's minimum times the pairings.
    pub planned: i64,
    pub below_plan: Vec<PairingBelowPlan>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CadreRef {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignCompletion {
    pub campaign_id: i64,
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// Pairings active during the campaign.
    pub pairings: i64,
    /// Of those, with at least one talk in the campaign.
    pub covered: i64,
    pub completion_rate: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Coverage {
    pub term_id: i64,
    pub term_number: i32,
    pub year: i32,
    pub min_contacts_per_year: i32,
    pub by_leader: Vec<LeaderCoverage>,
    pub unpaired_cadres: i64,
    /// The first of them by name.
    pub unpaired: Vec<CadreRef>,
    pub campaigns: Vec<CampaignCompletion>,
}

fn overlaps(pairing: &PairingRow, term: &TermRow, from: NaiveDate, to: NaiveDate) -> bool {
    pairing.starts_on <= to && pairing.last_day(term) >= from
}

pub fn coverage(
    conn: &mut DbConn,
    term_id: i64,
    year: i32,
    today: NaiveDate,
) -> Result<Coverage, ApiError> {
    let term = find_term(conn, term_id)?;
    let year_start =
        NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(|| ApiError::field("year", "range"))?;
    let year_end =
        NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(|| ApiError::field("year", "range"))?;
    let all: Vec<PairingRow> = pairings::table
        .filter(pairings::term_id.eq(term.id))
        .select(PairingRow::as_select())
        .load(conn)?;
    let in_year: Vec<&PairingRow> = all
        .iter()
        .filter(|p| overlaps(p, &term, year_start, year_end))
        .collect();
    let ids: Vec<i64> = in_year.iter().map(|p| p.id).collect();
    let held: Vec<(i64, NaiveDate, Option<i64>)> = talk_pairings::table
        .inner_join(talks::table)
        .filter(id_in(talk_pairings::pairing_id, &ids))
        .select((
            talk_pairings::pairing_id,
            talks::held_on,
            talks::campaign_id,
        ))
        .load(conn)?;
    let mut contacts: HashMap<i64, i64> = HashMap::new();
    for (pairing, held_on, _) in &held {
        if (year_start..=year_end).contains(held_on) {
            *contacts.entry(*pairing).or_default() += 1;
        }
    }
    let people: Vec<i64> = in_year.iter().map(|p| p.cadre_id).collect();
    let cadre_names = crate::cadres::repo::names_of(conn, &people)?;
    let leader_ids: Vec<i64> = in_year.iter().map(|p| p.leader_id).collect();
    let leader_names = crate::accounts::repo::display_names_of(conn, &leader_ids)?;

    let minimum = term.min_contacts_per_year;
    let mut by_leader: BTreeMap<i64, LeaderCoverage> = BTreeMap::new();
    for pairing in &in_year {
        let done = contacts.get(&pairing.id).copied().unwrap_or(0);
        let entry = by_leader
            .entry(pairing.leader_id)
            .or_insert_with(|| LeaderCoverage {
                leader_id: pairing.leader_id,
                leader_name: leader_names
                    .get(&pairing.leader_id)
                    .cloned()
                    .unwrap_or_default(),
                pairings: 0,
                contacts: 0,
                planned: 0,
                below_plan: Vec::new(),
            });
        entry.pairings += 1;
        entry.contacts += done;
        entry.planned += i64::from(minimum);
        if done < i64::from(minimum) {
            entry.below_plan.push(PairingBelowPlan {
                pairing_id: pairing.id,
                cadre_id: pairing.cadre_id,
                cadre_name: cadre_names
                    .get(&pairing.cadre_id)
                    .cloned()
                    .unwrap_or_default(),
                contacts: done,
                minimum,
            });
        }
    }

    // Cadres without an open pairing in this term (one ending today has been ended).
    let paired: HashSet<i64> = all
        .iter()
        .filter(|p| p.ends_on.is_none_or(|end| end > today))
        .map(|p| p.cadre_id)
        .collect();
    let paired: Vec<i64> = paired.into_iter().collect();
    let not_paired = diesel::dsl::not(id_in(cadres::id, &paired));
    let unpaired_query = || {
        cadres::table
            .filter(cadres::status.eq("active"))
            .filter(not_paired.clone())
    };
    let unpaired_cadres: i64 = unpaired_query().count().get_result(conn)?;
    let unpaired = unpaired_query()
        .order((cadres::sort_key, cadres::id))
        .limit(UNPAIRED_LISTED)
        .select((cadres::id, cadres::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .map(|(id, name)| CadreRef { id, name })
        .collect();

    let term_campaigns: Vec<CampaignRow> = campaigns::table
        .filter(campaigns::term_id.eq(term.id))
        .order(campaigns::starts_on)
        .select(CampaignRow::as_select())
        .load(conn)?;
    let campaigns = term_campaigns
        .into_iter()
        .filter(|c| c.starts_on <= year_end && c.ends_on >= year_start)
        .map(|c| {
            let during: Vec<i64> = all
                .iter()
                .filter(|p| overlaps(p, &term, c.starts_on, c.ends_on))
                .map(|p| p.id)
                .collect();
            let covered: HashSet<i64> = held
                .iter()
                .filter(|(p, _, campaign)| *campaign == Some(c.id) && during.contains(p))
                .map(|(p, _, _)| *p)
                .collect();
            let pairings = i64::try_from(during.len()).unwrap_or(0);
            let covered = i64::try_from(covered.len()).unwrap_or(0);
            let completion_rate = crate::figures::rate(
                usize::try_from(covered).unwrap_or(0),
                usize::try_from(pairings).unwrap_or(0),
            );
            CampaignCompletion {
                campaign_id: c.id,
                name: c.name,
                starts_on: c.starts_on,
                ends_on: c.ends_on,
                pairings,
                covered,
                completion_rate,
            }
        })
        .collect();

    Ok(Coverage {
        term_id: term.id,
        term_number: term.number,
        year,
        min_contacts_per_year: minimum,
        by_leader: by_leader.into_values().collect(),
        unpaired_cadres,
        unpaired,
        campaigns,
    })
}
