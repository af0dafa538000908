//! The rules of normalised contact: terms that do not overlap, pairings of leaders with active
//! cadres, campaigns, talks dated within their pairings, the 7-day correction window, follow-ups.
//! Every change runs in the caller's transaction and is audited there.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::dto::*;
use super::model::{CampaignRow, FollowUpRow, PairingRow, TalkRow, TermRow};
use crate::audit::{self, Actor, Event};
use crate::auth::Role;
use crate::db::kept_sql::id_in;
use crate::db::schema::{
    campaigns, follow_ups, pairings, talk_notes, talk_pairings, talks, terms, user_roles, users,
};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::text::normalise;

/// How long the author may correct a talk record directly.
pub const CORRECTION_DAYS: i64 = 7;

/// Who is looking: staff read everything; a leader only what concerns its own pairings.
#[derive(Debug, Clone, Copy)]
pub enum Viewer {
    Staff(i64),
    Leader(i64),
}

impl Viewer {
    fn user_id(self) -> i64 {
        match self {
            Viewer::Staff(id) | Viewer::Leader(id) => id,
        }
    }
}

fn text(value: Option<String>) -> Option<String> {
    value.map(|v| normalise(&v)).filter(|v| !v.is_empty())
}

// ---------------------------------------------------------------- terms

pub fn find_term(conn: &mut DbConn, id: i64) -> Result<TermRow, ApiError> {
    terms::table
        .find(id)
        .select(TermRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)
}

pub fn current_term(conn: &mut DbConn, today: NaiveDate) -> Result<Option<TermRow>, ApiError> {
    Ok(terms::table
        .filter(terms::starts_on.le(today))
        .filter(terms::ends_on.ge(today))
        .select(TermRow::as_select())
        .first(conn)
        .optional()?)
}

fn term_view(row: &TermRow, today: NaiveDate) -> TermView {
    TermView {
        id: row.id,
        number: row.number,
        starts_on: row.starts_on,
        ends_on: row.ends_on,
        min_contacts_per_year: row.min_contacts_per_year,
        current: row.starts_on <= today && today <= row.ends_on,
    }
}

pub fn terms(conn: &mut DbConn, today: NaiveDate) -> Result<Vec<TermView>, ApiError> {
    let rows: Vec<TermRow> = terms::table
        .order(terms::starts_on)
        .select(TermRow::as_select())
        .load(conn)?;
    Ok(rows.iter().map(|t| term_view(t, today)).collect())
}

/// Terms may not overlap, so at most one is current on any day.
pub fn create_term(
    conn: &mut DbConn,
    actor: &Actor,
    input: CreateTermRequest,
    now: NaiveDateTime,
) -> Result<TermView, ApiError> {
    if input.ends_on <= input.starts_on {
        return Err(ApiError::field("ends_on", "not_after_starts_on"));
    }
    let overlapping: i64 = terms::table
        .filter(terms::starts_on.le(input.ends_on))
        .filter(terms::ends_on.ge(input.starts_on))
        .count()
        .get_result(conn)?;
    if overlapping > 0 {
        return Err(ApiError::conflict(
            "terms_overlap",
            "the dates overlap another term",
        ));
    }
    let id: i64 = diesel::insert_into(terms::table)
        .values((
            terms::number.eq(input.number),
            terms::starts_on.eq(input.starts_on),
            terms::ends_on.eq(input.ends_on),
            terms::min_contacts_per_year.eq(input.min_contacts_per_year.unwrap_or(2)),
            terms::created_at.eq(now),
        ))
        .returning(terms::id)
        .get_result(conn)
        .map_err(|e| match ApiError::from(e) {
            ApiError::Conflict {
                code: "already_exists",
                ..
            } => ApiError::conflict("term_number_taken", "a term with this number exists"),
            other => other,
        })?;
    let view = term_view(&find_term(conn, id)?, now.date());
    audit::record(
        conn,
        actor,
        Event::new("term.created", "term", id).after(&view),
    )?;
    Ok(view)
}

// ---------------------------------------------------------------- pairings

fn find_pairing(conn: &mut DbConn, id: i64) -> Result<PairingRow, ApiError> {
    pairings::table
        .find(id)
        .select(PairingRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)
}

fn pairing_views(
    conn: &mut DbConn,
    rows: Vec<PairingRow>,
    today: NaiveDate,
) -> Result<Vec<PairingView>, ApiError> {
    let leader_ids: Vec<i64> = rows.iter().map(|r| r.leader_id).collect();
    let cadre_ids: Vec<i64> = rows.iter().map(|r| r.cadre_id).collect();
    let leaders = crate::accounts::repo::display_names_of(conn, &leader_ids)?;
    let names = crate::cadres::repo::names_of(conn, &cadre_ids)?;
    Ok(rows
        .into_iter()
        .map(|r| PairingView {
            active: r.active_on(today),
            id: r.id,
            term_id: r.term_id,
            leader_name: leaders.get(&r.leader_id).cloned().unwrap_or_default(),
            leader_id: r.leader_id,
            cadre_name: names.get(&r.cadre_id).cloned().unwrap_or_default(),
            cadre_id: r.cadre_id,
            starts_on: r.starts_on,
            ends_on: r.ends_on,
            end_reason: r.end_reason,
        })
        .collect())
}

fn pairing_view(conn: &mut DbConn, id: i64, today: NaiveDate) -> Result<PairingView, ApiError> {
    let row = find_pairing(conn, id)?;
    pairing_views(conn, vec![row], today)?
        .pop()
        .ok_or(ApiError::NotFound)
}

pub fn pairings_of_term(
    conn: &mut DbConn,
    viewer: Viewer,
    term_id: i64,
    query: PairingQuery,
    today: NaiveDate,
) -> Result<Vec<PairingView>, ApiError> {
    find_term(conn, term_id)?;
    let mut select = pairings::table
        .filter(pairings::term_id.eq(term_id))
        .order(pairings::id)
        .select(PairingRow::as_select())
        .into_boxed();
    if let Viewer::Leader(id) = viewer {
        select = select.filter(pairings::leader_id.eq(id));
    }
    if let Some(leader) = query.leader_id {
        select = select.filter(pairings::leader_id.eq(leader));
    }
    if let Some(cadre) = query.cadre_id {
        select = select.filter(pairings::cadre_id.eq(cadre));
    }
    let mut rows: Vec<PairingRow> = select.load(conn)?;
    if let Some(active) = query.active {
        rows.retain(|r| r.active_on(today) == active);
    }
    pairing_views(conn, rows, today)
}

fn is_active_leader(conn: &mut DbConn, user_id: i64) -> Result<bool, ApiError> {
    Ok(diesel::select(diesel::dsl::exists(
        users::table
            .inner_join(user_roles::table)
            .filter(users::id.eq(user_id))
            .filter(users::active.eq(true))
            .filter(user_roles::role.eq(Role::Leader.as_str())),
    ))
    .get_result(conn)?)
}

pub fn create_pairing(
    conn: &mut DbConn,
    actor: &Actor,
    term_id: i64,
    input: CreatePairingRequest,
    now: NaiveDateTime,
) -> Result<PairingView, ApiError> {
    let term = find_term(conn, term_id)?;
    let today = now.date();
    if !is_active_leader(conn, input.leader_id)? {
        return Err(ApiError::field("leader_id", "not_an_active_leader"));
    }
    let cadre = crate::cadres::repo::find(conn, input.cadre_id)?
        .ok_or_else(|| ApiError::field("cadre_id", "unknown_cadre"))?;
    if cadre.status != "active" {
        return Err(ApiError::field("cadre_id", "archived_cadre"));
    }
    let starts_on = input.starts_on.unwrap_or_else(|| today.max(term.starts_on));
    if starts_on < term.starts_on || starts_on > term.ends_on {
        return Err(ApiError::field("starts_on", "outside_term"));
    }
    let existing: Vec<PairingRow> = pairings::table
        .filter(pairings::leader_id.eq(input.leader_id))
        .filter(pairings::cadre_id.eq(input.cadre_id))
        .select(PairingRow::as_select())
        .load(conn)?;
    if existing
        .iter()
        .any(|p| p.ends_on.is_none_or(|end| end >= starts_on))
    {
        return Err(ApiError::conflict(
            "already_paired",
            "this leader already has an active pairing with this cadre",
        ));
    }
    let id: i64 = diesel::insert_into(pairings::table)
        .values((
            pairings::term_id.eq(term_id),
            pairings::leader_id.eq(input.leader_id),
            pairings::cadre_id.eq(input.cadre_id),
            pairings::starts_on.eq(starts_on),
            pairings::created_at.eq(now),
            pairings::updated_at.eq(now),
        ))
        .returning(pairings::id)
        .get_result(conn)?;
    let view = pairing_view(conn, id, today)?;
    audit::record(
        conn,
        actor,
        Event::new("pairing.created", "pairing", id).after(&view),
    )?;
    Ok(view)
}

fn end_one(
    conn: &mut DbConn,
    actor: &Actor,
    row: &PairingRow,
    ends_on: NaiveDate,
    reason: &str,
    now: NaiveDateTime,
) -> Result<PairingView, ApiError> {
    if ends_on < row.starts_on {
        return Err(ApiError::field("ends_on", "before_start"));
    }
    let before = pairing_view(conn, row.id, now.date())?;
    diesel::update(pairings::table.find(row.id))
        .set((
            pairings::ends_on.eq(ends_on),
            pairings::end_reason.eq(normalise(reason)),
            pairings::updated_at.eq(now),
        ))
        .execute(conn)?;
    let after = pairing_view(conn, row.id, now.date())?;
    audit::record(
        conn,
        actor,
        Event::new("pairing.ended", "pairing", row.id)
            .before(&before)
            .after(&after),
    )?;
    Ok(after)
}

pub fn end_pairing(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    input: EndPairingRequest,
    now: NaiveDateTime,
) -> Result<PairingView, ApiError> {
    let row = find_pairing(conn, id)?;
    if row.ends_on.is_some() {
        return Err(ApiError::conflict(
            "already_ended",
            "this pairing has ended",
        ));
    }
    end_one(
        conn,
        actor,
        &row,
        input.ends_on.unwrap_or(now.date()),
        &input.reason,
        now,
    )
}

/// A leader leaves the committee: every open pairing of theirs in the term ends.
pub fn leader_departs(
    conn: &mut DbConn,
    actor: &Actor,
    term_id: i64,
    input: LeaderDepartureRequest,
    now: NaiveDateTime,
) -> Result<Vec<PairingView>, ApiError> {
    find_term(conn, term_id)?;
    let open: Vec<PairingRow> = pairings::table
        .filter(pairings::term_id.eq(term_id))
        .filter(pairings::leader_id.eq(input.leader_id))
        .filter(pairings::ends_on.is_null())
        .select(PairingRow::as_select())
        .load(conn)?;
    let ends_on = input.ends_on.unwrap_or(now.date());
    open.iter()
        .map(|row| end_one(conn, actor, row, ends_on, &input.reason, now))
        .collect()
}

// ---------------------------------------------------------------- campaigns

fn campaign_view(row: CampaignRow) -> CampaignView {
    CampaignView {
        id: row.id,
        term_id: row.term_id,
        name: row.name,
        starts_on: row.starts_on,
        ends_on: row.ends_on,
    }
}

pub fn campaigns(conn: &mut DbConn, term_id: Option<i64>) -> Result<Vec<CampaignView>, ApiError> {
    let mut select = campaigns::table
        .order(campaigns::starts_on)
        .select(CampaignRow::as_select())
        .into_boxed();
    if let Some(term_id) = term_id {
        select = select.filter(campaigns::term_id.eq(term_id));
    }
    Ok(select.load(conn)?.into_iter().map(campaign_view).collect())
}

pub fn create_campaign(
    conn: &mut DbConn,
    actor: &Actor,
    input: CreateCampaignRequest,
    now: NaiveDateTime,
) -> Result<CampaignView, ApiError> {
    let term =
        find_term(conn, input.term_id).map_err(|_| ApiError::field("term_id", "unknown_term"))?;
    if input.ends_on < input.starts_on {
        return Err(ApiError::field("ends_on", "before_starts_on"));
    }
    if input.starts_on < term.starts_on || input.ends_on > term.ends_on {
        return Err(ApiError::field("starts_on", "outside_term"));
    }
    let id: i64 = diesel::insert_into(campaigns::table)
        .values((
            campaigns::term_id.eq(input.term_id),
            campaigns::name.eq(normalise(&input.name)),
            campaigns::starts_on.eq(input.starts_on),
            campaigns::ends_on.eq(input.ends_on),
            campaigns::created_at.eq(now),
        ))
        .returning(campaigns::id)
        .get_result(conn)?;
    let row = campaigns::table
        .find(id)
        .select(CampaignRow::as_select())
        .first(conn)?;
    let view = campaign_view(row);
    audit::record(
        conn,
        actor,
        Event::new("campaign.created", "campaign", id).after(&view),
    )?;
    Ok(view)
}

// ---------------------------------------------------------------- talks

fn find_talk(conn: &mut DbConn, id: i64) -> Result<TalkRow, ApiError> {
    talks::table
        .find(id)
        .select(TalkRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)
}

fn pairings_of_talk(conn: &mut DbConn, talk_id: i64) -> Result<Vec<PairingRow>, ApiError> {
    Ok(pairings::table
        .inner_join(talk_pairings::table)
        .filter(talk_pairings::talk_id.eq(talk_id))
        .order(pairings::id)
        .select(PairingRow::as_select())
        .load(conn)?)
}

/// Whether the viewer may see the talk: staff always; a leader when the talk covers one of its
/// pairings (else the talk does not exist for them).
fn check_talk_scope(
    conn: &mut DbConn,
    viewer: Viewer,
    talk: &TalkRow,
) -> Result<Vec<PairingRow>, ApiError> {
    let covered = pairings_of_talk(conn, talk.id)?;
    match viewer {
        Viewer::Staff(_) => Ok(covered),
        Viewer::Leader(id) if talk.author_id == id || covered.iter().any(|p| p.leader_id == id) => {
            Ok(covered)
        }
        Viewer::Leader(_) => Err(ApiError::NotFound),
    }
}

fn follow_up_view(row: FollowUpRow, today: NaiveDate) -> FollowUpView {
    FollowUpView {
        overdue: !row.done && row.due_on < today,
        id: row.id,
        talk_id: row.talk_id,
        what: row.what,
        responsible: row.responsible,
        due_on: row.due_on,
        done: row.done,
        outcome: row.outcome,
        done_on: row.done_on,
        version: row.version,
    }
}

fn follow_ups_of(
    conn: &mut DbConn,
    talk_id: i64,
    today: NaiveDate,
) -> Result<Vec<FollowUpView>, ApiError> {
    Ok(follow_ups::table
        .filter(follow_ups::talk_id.eq(talk_id))
        .order(follow_ups::id)
        .select(FollowUpRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|r| follow_up_view(r, today))
        .collect())
}

fn talk_view(
    conn: &mut DbConn,
    viewer: Viewer,
    talk: TalkRow,
    covered: &[PairingRow],
    today: NaiveDate,
) -> Result<TalkView, ApiError> {
    let form = TalkForm::parse(&talk.form)
        .ok_or_else(|| ApiError::internal("stored talk form is not a known value"))?;
    let notes = talk_notes::table
        .filter(talk_notes::talk_id.eq(talk.id))
        .order(talk_notes::id)
        .select((
            talk_notes::id,
            talk_notes::author_id,
            talk_notes::text,
            talk_notes::created_at,
        ))
        .load::<(i64, i64, String, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(id, author_id, text, created_at)| NoteView {
            id,
            author_id,
            text,
            created_at: created_at.and_utc(),
        })
        .collect();
    Ok(TalkView {
        follow_ups: follow_ups_of(conn, talk.id, today)?,
        notes,
        pairing_ids: covered.iter().map(|p| p.id).collect(),
        form_label: form.label(),
        form,
        private_notes: if viewer.user_id() == talk.author_id {
            talk.private_notes
        } else {
            None
        },
        correctable_until: (talk.created_at + Duration::days(CORRECTION_DAYS)).and_utc(),
        id: talk.id,
        author_id: talk.author_id,
        held_on: talk.held_on,
        campaign_id: talk.campaign_id,
        work: talk.work,
        study: talk.study,
        life: talk.life,
        concerns: talk.concerns,
        response: talk.response,
        version: talk.version,
        created_at: talk.created_at.and_utc(),
    })
}

pub fn get_talk(
    conn: &mut DbConn,
    viewer: Viewer,
    id: i64,
    today: NaiveDate,
) -> Result<TalkView, ApiError> {
    let talk = find_talk(conn, id)?;
    let covered = check_talk_scope(conn, viewer, &talk)?;
    talk_view(conn, viewer, talk, &covered, today)
}

/// The talks covering a pairing, newest first; a leader sees only its own pairings' talks.
pub fn talks_of_pairing(
    conn: &mut DbConn,
    viewer: Viewer,
    pairing_id: i64,
    today: NaiveDate,
) -> Result<Vec<TalkView>, ApiError> {
    let pairing = find_pairing(conn, pairing_id)?;
    if let Viewer::Leader(id) = viewer {
        if pairing.leader_id != id {
            return Err(ApiError::NotFound);
        }
    }
    let ids: Vec<i64> = talk_pairings::table
        .filter(talk_pairings::pairing_id.eq(pairing_id))
        .select(talk_pairings::talk_id)
        .load(conn)?;
    let rows: Vec<TalkRow> = talks::table
        .filter(id_in(talks::id, &ids))
        .order((talks::held_on.desc(), talks::id.desc()))
        .select(TalkRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|talk| {
            let covered = pairings_of_talk(conn, talk.id)?;
            talk_view(conn, viewer, talk, &covered, today)
        })
        .collect()
}

fn check_date_in_pairings(
    conn: &mut DbConn,
    held_on: NaiveDate,
    covered: &[PairingRow],
) -> Result<(), ApiError> {
    for pairing in covered {
        let term = find_term(conn, pairing.term_id)?;
        if held_on < pairing.starts_on || held_on > pairing.last_day(&term) {
            return Err(ApiError::field("held_on", "outside_pairing"));
        }
    }
    Ok(())
}

/// A leader records a talk held under one of its pairings (and any others it covered).
pub fn create_talk(
    conn: &mut DbConn,
    actor: &Actor,
    leader_id: i64,
    pairing_id: i64,
    input: CreateTalkRequest,
    now: NaiveDateTime,
) -> Result<TalkView, ApiError> {
    let main = find_pairing(conn, pairing_id)?;
    if main.leader_id != leader_id {
        return Err(ApiError::NotFound);
    }
    let mut covered = vec![main.clone()];
    let extra: BTreeSet<i64> = input
        .also_pairing_ids
        .iter()
        .copied()
        .filter(|id| *id != pairing_id)
        .collect();
    for id in extra {
        let pairing = find_pairing(conn, id)
            .map_err(|_| ApiError::field("also_pairing_ids", "unknown_pairing"))?;
        if pairing.term_id != main.term_id {
            return Err(ApiError::field("also_pairing_ids", "other_term"));
        }
        covered.push(pairing);
    }
    if input.held_on > now.date() {
        return Err(ApiError::field("held_on", "in_the_future"));
    }
    check_date_in_pairings(conn, input.held_on, &covered)?;
    if let Some(campaign_id) = input.campaign_id {
        let campaign = campaigns::table
            .find(campaign_id)
            .select(CampaignRow::as_select())
            .first(conn)
            .optional()?;
        let fits = campaign.is_some_and(|c| {
            c.term_id == main.term_id && c.starts_on <= input.held_on && input.held_on <= c.ends_on
        });
        if !fits {
            return Err(ApiError::field("campaign_id", "outside_campaign"));
        }
    }
    let id: i64 = diesel::insert_into(talks::table)
        .values((
            talks::author_id.eq(leader_id),
            talks::held_on.eq(input.held_on),
            talks::form.eq(input.form.as_str()),
            talks::campaign_id.eq(input.campaign_id),
            talks::work.eq(text(input.work)),
            talks::study.eq(text(input.study)),
            talks::life.eq(text(input.life)),
            talks::concerns.eq(text(input.concerns)),
            talks::response.eq(text(input.response)),
            talks::private_notes.eq(text(input.private_notes)),
            talks::version.eq(1),
            talks::created_at.eq(now),
            talks::updated_at.eq(now),
        ))
        .returning(talks::id)
        .get_result(conn)?;
    for pairing in &covered {
        diesel::insert_into(talk_pairings::table)
            .values((
                talk_pairings::talk_id.eq(id),
                talk_pairings::pairing_id.eq(pairing.id),
            ))
            .execute(conn)?;
    }
    for follow_up in &input.follow_ups {
        insert_follow_up(conn, id, follow_up, now)?;
    }
    let viewer = Viewer::Leader(leader_id);
    let created = get_talk(conn, viewer, id, now.date())?;
    audit::record(
        conn,
        actor,
        Event::new("talk.created", "talk", id).after(without_private_notes(&created)),
    )?;
    Ok(created)
}

/// Private notes stay out of the audit log's before/after, which auditors read.
fn without_private_notes(view: &TalkView) -> TalkView {
    let mut shown = view.clone();
    shown.private_notes = None;
    shown
}

/// The author corrects a talk within 7 days of recording it; later, only a note can be added.
pub fn update_talk(
    conn: &mut DbConn,
    actor: &Actor,
    leader_id: i64,
    id: i64,
    expected_version: i32,
    input: UpdateTalkRequest,
    now: NaiveDateTime,
) -> Result<TalkView, ApiError> {
    let talk = find_talk(conn, id)?;
    let viewer = Viewer::Leader(leader_id);
    let covered = check_talk_scope(conn, viewer, &talk)?;
    if talk.author_id != leader_id {
        return Err(ApiError::Forbidden);
    }
    if talk.version != expected_version {
        return Err(ApiError::PreconditionFailed);
    }
    if now > talk.created_at + Duration::days(CORRECTION_DAYS) {
        return Err(ApiError::conflict(
            "correction_window_closed",
            "a talk is corrected within 7 days of recording it; add a note instead",
        ));
    }
    let held_on = input.held_on.unwrap_or(talk.held_on);
    if held_on > now.date() {
        return Err(ApiError::field("held_on", "in_the_future"));
    }
    check_date_in_pairings(conn, held_on, &covered)?;
    let before = talk_view(conn, viewer, talk.clone(), &covered, now.date())?;
    diesel::update(talks::table.find(id))
        .set((
            talks::held_on.eq(held_on),
            talks::form.eq(input
                .form
                .map_or(talk.form.clone(), |f| f.as_str().to_owned())),
            talks::work.eq(text(input.work).or(talk.work.clone())),
            talks::study.eq(text(input.study).or(talk.study.clone())),
            talks::life.eq(text(input.life).or(talk.life.clone())),
            talks::concerns.eq(text(input.concerns).or(talk.concerns.clone())),
            talks::response.eq(text(input.response).or(talk.response.clone())),
            talks::private_notes.eq(text(input.private_notes).or(talk.private_notes.clone())),
            talks::version.eq(talk.version + 1),
            talks::updated_at.eq(now),
        ))
        .execute(conn)?;
    let after = get_talk(conn, viewer, id, now.date())?;
    audit::record(
        conn,
        actor,
        Event::new("talk.corrected", "talk", id)
            .before(without_private_notes(&before))
            .after(without_private_notes(&after)),
    )?;
    Ok(after)
}

pub fn add_note(
    conn: &mut DbConn,
    actor: &Actor,
    leader_id: i64,
    id: i64,
    input: NoteRequest,
    now: NaiveDateTime,
) -> Result<TalkView, ApiError> {
    let talk = find_talk(conn, id)?;
    let viewer = Viewer::Leader(leader_id);
    check_talk_scope(conn, viewer, &talk)?;
    if talk.author_id != leader_id {
        return Err(ApiError::Forbidden);
    }
    let note_id: i64 = diesel::insert_into(talk_notes::table)
        .values((
            talk_notes::talk_id.eq(id),
            talk_notes::author_id.eq(leader_id),
            talk_notes::text.eq(normalise(&input.text)),
            talk_notes::created_at.eq(now),
        ))
        .returning(talk_notes::id)
        .get_result(conn)?;
    audit::record(
        conn,
        actor,
        Event::new("talk.note_added", "talk", id)
            .after(serde_json::json!({"note_id": note_id, "text": normalise(&input.text)})),
    )?;
    get_talk(conn, viewer, id, now.date())
}

fn insert_follow_up(
    conn: &mut DbConn,
    talk_id: i64,
    input: &FollowUpRequest,
    now: NaiveDateTime,
) -> Result<i64, ApiError> {
    Ok(diesel::insert_into(follow_ups::table)
        .values((
            follow_ups::talk_id.eq(talk_id),
            follow_ups::what.eq(normalise(&input.what)),
            follow_ups::responsible.eq(normalise(&input.responsible)),
            follow_ups::due_on.eq(input.due_on),
            follow_ups::done.eq(false),
            follow_ups::version.eq(1),
            follow_ups::created_at.eq(now),
            follow_ups::updated_at.eq(now),
        ))
        .returning(follow_ups::id)
        .get_result(conn)?)
}

pub fn follow_ups(
    conn: &mut DbConn,
    viewer: Viewer,
    talk_id: i64,
    today: NaiveDate,
) -> Result<Vec<FollowUpView>, ApiError> {
    let talk = find_talk(conn, talk_id)?;
    check_talk_scope(conn, viewer, &talk)?;
    follow_ups_of(conn, talk_id, today)
}

pub fn add_follow_up(
    conn: &mut DbConn,
    actor: &Actor,
    leader_id: i64,
    talk_id: i64,
    input: FollowUpRequest,
    now: NaiveDateTime,
) -> Result<FollowUpView, ApiError> {
    let talk = find_talk(conn, talk_id)?;
    check_talk_scope(conn, Viewer::Leader(leader_id), &talk)?;
    if talk.author_id != leader_id {
        return Err(ApiError::Forbidden);
    }
    let id = insert_follow_up(conn, talk_id, &input, now)?;
    let row = follow_ups::table
        .find(id)
        .select(FollowUpRow::as_select())
        .first(conn)?;
    let view = follow_up_view(row, now.date());
    audit::record(
        conn,
        actor,
        Event::new("follow_up.created", "follow_up", id).after(&view),
    )?;
    Ok(view)
}

/// The talk's author marks a follow-up done (with its outcome) or moves its due date.
pub fn update_follow_up(
    conn: &mut DbConn,
    actor: &Actor,
    leader_id: i64,
    id: i64,
    input: UpdateFollowUpRequest,
    now: NaiveDateTime,
) -> Result<FollowUpView, ApiError> {
    let row: FollowUpRow = follow_ups::table
        .find(id)
        .select(FollowUpRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)?;
    let talk = find_talk(conn, row.talk_id)?;
    check_talk_scope(conn, Viewer::Leader(leader_id), &talk)?;
    if talk.author_id != leader_id {
        return Err(ApiError::Forbidden);
    }
    let done = input.done.unwrap_or(row.done);
    if done && input.outcome.is_none() && row.outcome.is_none() {
        return Err(ApiError::field("outcome", "required_when_done"));
    }
    let before = follow_up_view(row.clone(), now.date());
    diesel::update(follow_ups::table.find(id))
        .set((
            follow_ups::done.eq(done),
            follow_ups::outcome.eq(text(input.outcome).or(row.outcome.clone())),
            follow_ups::done_on.eq(if done {
                Some(input.done_on.or(row.done_on).unwrap_or(now.date()))
            } else {
                None
            }),
            follow_ups::due_on.eq(input.due_on.unwrap_or(row.due_on)),
            follow_ups::version.eq(row.version + 1),
            follow_ups::updated_at.eq(now),
        ))
        .execute(conn)?;
    let after_row = follow_ups::table
        .find(id)
        .select(FollowUpRow::as_select())
        .first(conn)?;
    let after = follow_up_view(after_row, now.date());
    audit::record(
        conn,
        actor,
        Event::new("follow_up.updated", "follow_up", id)
            .before(&before)
            .after(&after),
    )?;
    Ok(after)
}

/// The talks held with a representative's cadre: dates, forms, leaders and follow-ups only.
pub fn talks_with_cadre(
    conn: &mut DbConn,
    cadre_id: i64,
    today: NaiveDate,
) -> Result<Vec<MyTalkView>, ApiError> {
    let rows: Vec<(TalkRow, i64)> = talks::table
        .inner_join(talk_pairings::table.inner_join(pairings::table))
        .filter(pairings::cadre_id.eq(cadre_id))
        .order((talks::held_on.desc(), talks::id.desc()))
        .select((TalkRow::as_select(), pairings::leader_id))
        .load(conn)?;
    let leader_ids: Vec<i64> = rows.iter().map(|(_, leader)| *leader).collect();
    let leaders = crate::accounts::repo::display_names_of(conn, &leader_ids)?;
    let mut seen = BTreeSet::new();
    let mut views = Vec::new();
    for (talk, leader) in rows {
        if !seen.insert(talk.id) {
            continue;
        }
        let form = TalkForm::parse(&talk.form).unwrap_or(TalkForm::Other);
        views.push(MyTalkView {
            follow_ups: follow_ups_of(conn, talk.id, today)?,
            id: talk.id,
            held_on: talk.held_on,
            form,
            form_label: form.label(),
            leader_name: leaders.get(&leader).cloned().unwrap_or_default(),
        });
    }
    Ok(views)
}

/// A cadre's pairings (all terms) and the date of its last contact, for the person overview.
pub fn pairings_of_cadre(
    conn: &mut DbConn,
    cadre_id: i64,
    today: NaiveDate,
) -> Result<(Vec<PairingView>, Option<NaiveDate>), ApiError> {
    let rows: Vec<PairingRow> = pairings::table
        .filter(pairings::cadre_id.eq(cadre_id))
        .order(pairings::id)
        .select(PairingRow::as_select())
        .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let last: Option<NaiveDate> = talks::table
        .inner_join(talk_pairings::table)
        .filter(id_in(talk_pairings::pairing_id, &ids))
        .select(diesel::dsl::max(talks::held_on))
        .first(conn)?;
    Ok((pairing_views(conn, rows, today)?, last))
}
