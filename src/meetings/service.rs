//! The rules of decision participation: the meeting state machine with the 逢会必进 rule,
//! agenda items, matching candidates, invitations and answers, attendance, opinions and their
//! adoption. Every change runs in the caller's transaction and is audited there.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::dto::*;
use super::model::{AgendaItemRow, InvitationRow, MeetingRow, OpinionRow};
use crate::accounts::{self, dto::UnitKind};
use crate::audit::{self, Actor, Event};
use crate::cadres::repo::{EXPERTISE, SECTOR};
use crate::cadres::vocab::Party;
use crate::db::kept_sql::id_in;
use crate::db::schema::{
    agenda_item_tags, agenda_items, cadre_tags, cadres, invitations, meetings, opinions, units,
};
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::text::normalise;
use crate::web::{Page, PageCursor};

fn corrupt(what: &str) -> ApiError {
    ApiError::internal(format!("stored {what} is not a known value"))
}

pub fn find_meeting(conn: &mut DbConn, id: i64) -> Result<MeetingRow, ApiError> {
    meetings::table
        .find(id)
        .select(MeetingRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)
}

fn kind_of(row: &MeetingRow) -> Result<MeetingKind, ApiError> {
    MeetingKind::parse(&row.kind).ok_or_else(|| corrupt("meeting kind"))
}

fn status_of(row: &MeetingRow) -> Result<MeetingStatus, ApiError> {
    MeetingStatus::parse(&row.status).ok_or_else(|| corrupt("meeting status"))
}

fn tags_of(conn: &mut DbConn, item_ids: &[i64]) -> QueryResult<HashMap<i64, Vec<String>>> {
    let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
    for (id, tag) in agenda_item_tags::table
        .filter(id_in(agenda_item_tags::agenda_item_id, item_ids))
        .order((agenda_item_tags::agenda_item_id, agenda_item_tags::tag))
        .select((agenda_item_tags::agenda_item_id, agenda_item_tags::tag))
        .load::<(i64, String)>(conn)?
    {
        tags.entry(id).or_default().push(tag);
    }
    Ok(tags)
}

fn items_of(conn: &mut DbConn, meeting_id: i64) -> Result<Vec<AgendaItemView>, ApiError> {
    let rows: Vec<AgendaItemRow> = agenda_items::table
        .filter(agenda_items::meeting_id.eq(meeting_id))
        .order((agenda_items::position, agenda_items::id))
        .select(AgendaItemRow::as_select())
        .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut tags = tags_of(conn, &ids)?;
    let mut invited: HashMap<i64, i64> = HashMap::new();
    for (item, count) in invitations::table
        .filter(id_in(invitations::agenda_item_id, &ids))
        .filter(invitations::status.ne(InvitationStatus::Declined.as_str()))
        .group_by(invitations::agenda_item_id)
        .select((invitations::agenda_item_id, diesel::dsl::count_star()))
        .load::<(Option<i64>, i64)>(conn)?
    {
        if let Some(item) = item {
            invited.insert(item, count);
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| AgendaItemView {
            tags: tags.remove(&r.id).unwrap_or_default(),
            invited: invited.get(&r.id).copied().unwrap_or(0),
            id: r.id,
            meeting_id: r.meeting_id,
            position: r.position,
            title: r.title,
            summary: r.summary,
            major_decision: r.major_decision,
            version: r.version,
        })
        .collect())
}

fn view(conn: &mut DbConn, row: MeetingRow) -> Result<MeetingView, ApiError> {
    let kind = kind_of(&row)?;
    let status = status_of(&row)?;
    Ok(MeetingView {
        agenda_items: items_of(conn, row.id)?,
        id: row.id,
        kind,
        kind_label: kind.label(),
        unit_id: row.unit_id,
        title: row.title,
        starts_at: row.starts_at.and_utc(),
        place: row.place,
        status,
        status_label: status.label(),
        cancel_reason: row.cancel_reason,
        exemption_reason: row.exemption_reason,
        version: row.version,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

pub fn get(conn: &mut DbConn, id: i64) -> Result<MeetingView, ApiError> {
    let row = find_meeting(conn, id)?;
    view(conn, row)
}

/// A district meeting is convened by the district; a township meeting by a township; any
/// other meeting by either.
fn check_convener(
    conn: &mut DbConn,
    kind: MeetingKind,
    unit_id: i64,
) -> Result<UnitKind, ApiError> {
    let unit = accounts::repo::find_unit(conn, unit_id)?
        .ok_or_else(|| ApiError::field("unit_id", "unknown_unit"))?;
    let unit_kind = UnitKind::parse(&unit.kind).ok_or_else(|| corrupt("unit kind"))?;
    let fits = match kind {
        MeetingKind::DistrictStandingCommittee | MeetingKind::DistrictGovernmentExecutive => {
            unit_kind == UnitKind::District
        }
        MeetingKind::TownshipPartyGovernment => unit_kind == UnitKind::Township,
        MeetingKind::Other => unit_kind != UnitKind::Department,
    };
    if fits {
        Ok(unit_kind)
    } else {
        Err(ApiError::field("unit_id", "convener_kind_not_allowed"))
    }
}

pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    input: CreateMeetingRequest,
) -> Result<MeetingView, ApiError> {
    check_convener(conn, input.kind, input.unit_id)?;
    let now = db::now();
    let id: i64 = diesel::insert_into(meetings::table)
        .values((
            meetings::kind.eq(input.kind.as_str()),
            meetings::unit_id.eq(input.unit_id),
            meetings::title.eq(normalise(&input.title)),
            meetings::starts_at.eq(input.starts_at.naive_utc()),
            meetings::place.eq(input.place.as_deref().map(normalise)),
            meetings::status.eq(MeetingStatus::Draft.as_str()),
            meetings::created_by.eq(actor.user_id),
            meetings::version.eq(1),
            meetings::created_at.eq(now),
            meetings::updated_at.eq(now),
        ))
        .returning(meetings::id)
        .get_result(conn)?;
    let created = get(conn, id)?;
    audit::record(
        conn,
        actor,
        Event::new("meeting.created", "meeting", id).after(&created),
    )?;
    Ok(created)
}

fn require_status(
    row: &MeetingRow,
    allowed: &[MeetingStatus],
    what: &str,
) -> Result<MeetingStatus, ApiError> {
    let status = status_of(row)?;
    if allowed.contains(&status) {
        Ok(status)
    } else {
        Err(ApiError::conflict(
            "meeting_status",
            format!(
                "{what} is not possible while the meeting is {}",
                status.as_str()
            ),
        ))
    }
}

pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    expected_version: i32,
    input: UpdateMeetingRequest,
) -> Result<MeetingView, ApiError> {
    let row = find_meeting(conn, id)?;
    if row.version != expected_version {
        return Err(ApiError::PreconditionFailed);
    }
    require_status(
        &row,
        &[MeetingStatus::Draft, MeetingStatus::Prepared],
        "changing the meeting",
    )?;
    let before = view(conn, row.clone())?;
    diesel::update(meetings::table.find(id))
        .set((
            meetings::title.eq(input.title.as_deref().map_or(row.title.clone(), normalise)),
            meetings::starts_at.eq(input.starts_at.map_or(row.starts_at, |t| t.naive_utc())),
            meetings::place.eq(input.place.as_deref().map(normalise).or(row.place.clone())),
            meetings::version.eq(row.version + 1),
            meetings::updated_at.eq(db::now()),
        ))
        .execute(conn)?;
    let after = get(conn, id)?;
    audit::record(
        conn,
        actor,
        Event::new("meeting.updated", "meeting", id)
            .before(&before)
            .after(&after),
    )?;
    Ok(after)
}

/// Moves a meeting along `draft -> prepared -> held -> closed`, or to `cancelled` from draft
/// or prepared. A mandatory meeting becomes `prepared` only when every major-decision item
/// has an invited representative, or UFWD staff recorded an exemption.
pub fn transition(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    input: TransitionRequest,
) -> Result<MeetingView, ApiError> {
    use MeetingStatus::*;
    let row = find_meeting(conn, id)?;
    let from = status_of(&row)?;
    let to = input.to;
    let legal = matches!(
        (from, to),
        (Draft, Prepared) | (Prepared, Held) | (Held, Closed) | (Draft | Prepared, Cancelled)
    );
    if !legal {
        return Err(ApiError::conflict(
            "illegal_transition",
            format!(
                "a meeting cannot go from {} to {}",
                from.as_str(),
                to.as_str()
            ),
        ));
    }
    let now = db::now();
    match to {
        Prepared => {
            let before = view(conn, row.clone())?;
            let uncovered: Vec<&AgendaItemView> = before
                .agenda_items
                .iter()
                .filter(|i| i.major_decision && i.invited == 0)
                .collect();
            if kind_of(&row)?.is_mandatory()
                && !uncovered.is_empty()
                && row.exemption_reason.is_none()
            {
                let titles: Vec<&str> = uncovered.iter().map(|i| i.title.as_str()).collect();
                return Err(ApiError::conflict(
                    "representatives_required",
                    format!("逢会必进: these major-decision items have no invited representative: {}; invite one or record an exemption", titles.join("; ")),
                ));
            }
        }
        Held if row.starts_at > now => {
            return Err(ApiError::conflict(
                "meeting_not_started",
                "a meeting is held only after its start time",
            ));
        }
        Cancelled if input.reason.is_none() => return Err(ApiError::field("reason", "required")),
        _ => {}
    }
    let before = view(conn, row.clone())?;
    diesel::update(meetings::table.find(id))
        .set((
            meetings::status.eq(to.as_str()),
            meetings::cancel_reason.eq(if to == Cancelled {
                input.reason.clone()
            } else {
                row.cancel_reason.clone()
            }),
            meetings::version.eq(row.version + 1),
            meetings::updated_at.eq(now),
        ))
        .execute(conn)?;
    let after = get(conn, id)?;
    audit::record(
        conn,
        actor,
        Event::new("meeting.transitioned", "meeting", id)
            .before(&before)
            .after(&after),
    )?;
    Ok(after)
}

pub fn exempt(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    reason: &str,
) -> Result<MeetingView, ApiError> {
    let row = find_meeting(conn, id)?;
    require_status(&row, &[MeetingStatus::Draft], "an exemption")?;
    let before = view(conn, row.clone())?;
    diesel::update(meetings::table.find(id))
        .set((
            meetings::exemption_reason.eq(reason.trim()),
            meetings::exempted_by.eq(actor.user_id),
            meetings::version.eq(row.version + 1),
            meetings::updated_at.eq(db::now()),
        ))
        .execute(conn)?;
    let after = get(conn, id)?;
    audit::record(
        conn,
        actor,
        Event::new("meeting.exempted", "meeting", id)
            .before(&before)
            .after(&after),
    )?;
    Ok(after)
}

pub fn list(conn: &mut DbConn, query: MeetingQuery) -> Result<Page<MeetingView>, ApiError> {
    let page = PageCursor::new(query.limit, query.cursor.as_deref())?;
    let mut select = meetings::table
        .select(MeetingRow::as_select())
        .order(meetings::id.asc())
        .limit(page.fetch())
        .into_boxed();
    if let Some(after) = page.after {
        select = select.filter(meetings::id.gt(after));
    }
    if let Some(from) = query.from {
        select = select.filter(meetings::starts_at.ge(from.naive_utc()));
    }
    if let Some(to) = query.to {
        select = select.filter(meetings::starts_at.lt(to.naive_utc()));
    }
    if let Some(kind) = query.kind {
        select = select.filter(meetings::kind.eq(kind.as_str()));
    }
    if let Some(status) = query.status {
        select = select.filter(meetings::status.eq(status.as_str()));
    }
    if let Some(unit_id) = query.unit_id {
        select = select.filter(meetings::unit_id.eq(unit_id));
    }
    let rows = select.load(conn)?;
    let page = page.page(rows, |r| r.id, |r| r);
    let items = page
        .items
        .into_iter()
        .map(|r| view(conn, r))
        .collect::<Result<_, _>>()?;
    Ok(Page {
        items,
        next_cursor: page.next_cursor,
    })
}

// ---------------------------------------------------------------- agenda

fn clean_tags(tags: &[String]) -> Result<Vec<String>, ApiError> {
    let cleaned: BTreeSet<String> = tags.iter().map(|t| normalise(t)).collect();
    if cleaned
        .iter()
        .any(|t| t.is_empty() || t.chars().count() > 40)
    {
        return Err(ApiError::field("tags", "tag_length"));
    }
    Ok(cleaned.into_iter().collect())
}

fn replace_item_tags(conn: &mut DbConn, item_id: i64, tags: &[String]) -> QueryResult<()> {
    diesel::delete(agenda_item_tags::table.filter(agenda_item_tags::agenda_item_id.eq(item_id)))
        .execute(conn)?;
    for tag in tags {
        diesel::insert_into(agenda_item_tags::table)
            .values((
                agenda_item_tags::agenda_item_id.eq(item_id),
                agenda_item_tags::tag.eq(tag),
            ))
            .execute(conn)?;
    }
    Ok(())
}

fn find_item(conn: &mut DbConn, id: i64) -> Result<AgendaItemRow, ApiError> {
    agenda_items::table
        .find(id)
        .select(AgendaItemRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)
}

fn item_view(conn: &mut DbConn, item: &AgendaItemRow) -> Result<AgendaItemView, ApiError> {
    items_of(conn, item.meeting_id)?
        .into_iter()
        .find(|i| i.id == item.id)
        .ok_or(ApiError::NotFound)
}

pub fn add_item(
    conn: &mut DbConn,
    actor: &Actor,
    meeting_id: i64,
    input: AgendaItemRequest,
) -> Result<AgendaItemView, ApiError> {
    let meeting = find_meeting(conn, meeting_id)?;
    require_status(
        &meeting,
        &[MeetingStatus::Draft, MeetingStatus::Prepared],
        "changing the agenda",
    )?;
    let tags = clean_tags(&input.tags)?;
    let last: Option<i32> = agenda_items::table
        .filter(agenda_items::meeting_id.eq(meeting_id))
        .select(diesel::dsl::max(agenda_items::position))
        .first(conn)?;
    let now = db::now();
    let id: i64 = diesel::insert_into(agenda_items::table)
        .values((
            agenda_items::meeting_id.eq(meeting_id),
            agenda_items::position.eq(input.position.unwrap_or(last.unwrap_or(0) + 1)),
            agenda_items::title.eq(normalise(&input.title)),
            agenda_items::summary.eq(input.summary.as_deref().map(normalise)),
            agenda_items::major_decision.eq(input.major_decision),
            agenda_items::version.eq(1),
            agenda_items::created_at.eq(now),
            agenda_items::updated_at.eq(now),
        ))
        .returning(agenda_items::id)
        .get_result(conn)?;
    replace_item_tags(conn, id, &tags)?;
    let item = find_item(conn, id)?;
    let created = item_view(conn, &item)?;
    audit::record(
        conn,
        actor,
        Event::new("agenda_item.created", "agenda_item", id).after(&created),
    )?;
    Ok(created)
}

pub fn update_item(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    input: UpdateAgendaItemRequest,
) -> Result<AgendaItemView, ApiError> {
    let item = find_item(conn, id)?;
    let meeting = find_meeting(conn, item.meeting_id)?;
    require_status(
        &meeting,
        &[MeetingStatus::Draft, MeetingStatus::Prepared],
        "changing the agenda",
    )?;
    let before = item_view(conn, &item)?;
    let tags = input.tags.as_deref().map(clean_tags).transpose()?;
    diesel::update(agenda_items::table.find(id))
        .set((
            agenda_items::title.eq(input.title.as_deref().map_or(item.title.clone(), normalise)),
            agenda_items::summary.eq(input
                .summary
                .as_deref()
                .map(normalise)
                .or(item.summary.clone())),
            agenda_items::major_decision.eq(input.major_decision.unwrap_or(item.major_decision)),
            agenda_items::position.eq(input.position.unwrap_or(item.position)),
            agenda_items::version.eq(item.version + 1),
            agenda_items::updated_at.eq(db::now()),
        ))
        .execute(conn)?;
    if let Some(tags) = tags {
        replace_item_tags(conn, id, &tags)?;
    }
    let item = find_item(conn, id)?;
    let after = item_view(conn, &item)?;
    audit::record(
        conn,
        actor,
        Event::new("agenda_item.updated", "agenda_item", id)
            .before(&before)
            .after(&after),
    )?;
    Ok(after)
}

pub fn items(conn: &mut DbConn, meeting_id: i64) -> Result<Vec<AgendaItemView>, ApiError> {
    find_meeting(conn, meeting_id)?;
    items_of(conn, meeting_id)
}

// ---------------------------------------------------------------- matching

/// Which cadres a meeting draws on, and the name of that rule.
fn eligible_cadres(
    conn: &mut DbConn,
    meeting: &MeetingRow,
) -> Result<(HashSet<i64>, &'static str), ApiError> {
    let unit =
        accounts::repo::find_unit(conn, meeting.unit_id)?.ok_or_else(|| corrupt("meeting unit"))?;
    let active = cadres::table.filter(cadres::status.eq("active"));
    if unit.kind == UnitKind::Township.as_str() {
        let mut units_of_township: Vec<i64> = units::table
            .filter(units::parent_id.eq(unit.id))
            .select(units::id)
            .load(conn)?;
        units_of_township.push(unit.id);
        let ids = active
            .filter(id_in(cadres::unit_id, &units_of_township))
            .select(cadres::id)
            .load::<i64>(conn)?;
        Ok((ids.into_iter().collect(), "same_township"))
    } else {
        let ids = active
            .filter(cadres::level.eq("district"))
            .select(cadres::id)
            .load::<i64>(conn)?;
        Ok((ids.into_iter().collect(), "district_level"))
    }
}

/// Candidates for every agenda item: eligible by the level rule, not yet invited, sharing at
/// least one subject with the item; most shared subjects first, then by name and id.
pub fn candidates(
    conn: &mut DbConn,
    meeting_id: i64,
    limit: usize,
) -> Result<Vec<ItemCandidates>, ApiError> {
    let meeting = find_meeting(conn, meeting_id)?;
    let items = items_of(conn, meeting_id)?;
    let (eligible, rule) = eligible_cadres(conn, &meeting)?;
    let invited: HashSet<i64> = invitations::table
        .filter(invitations::meeting_id.eq(meeting_id))
        .select(invitations::cadre_id)
        .load::<i64>(conn)?
        .into_iter()
        .collect();
    let wanted: BTreeSet<String> = items.iter().flat_map(|i| i.tags.iter().cloned()).collect();
    let mut tags_by_cadre: HashMap<i64, BTreeSet<String>> = HashMap::new();
    for (cadre_id, tag) in cadre_tags::table
        .filter(cadre_tags::kind.eq_any([SECTOR, EXPERTISE]))
        .filter(cadre_tags::tag.eq_any(&wanted))
        .select((cadre_tags::cadre_id, cadre_tags::tag))
        .load::<(i64, String)>(conn)?
    {
        if eligible.contains(&cadre_id) && !invited.contains(&cadre_id) {
            tags_by_cadre.entry(cadre_id).or_default().insert(tag);
        }
    }
    let ids: Vec<i64> = tags_by_cadre.keys().copied().collect();
    let people: HashMap<i64, (String, String, String)> = cadres::table
        .filter(id_in(cadres::id, &ids))
        .select((cadres::id, cadres::name, cadres::party, cadres::sort_key))
        .load::<(i64, String, String, String)>(conn)?
        .into_iter()
        .map(|(id, name, party, key)| (id, (name, party, key)))
        .collect();
    Ok(items
        .into_iter()
        .map(|item| {
            let mut ranked: Vec<(usize, &str, i64, Candidate)> = tags_by_cadre
                .iter()
                .filter_map(|(id, tags)| {
                    let matched: Vec<String> = item
                        .tags
                        .iter()
                        .filter(|t| tags.contains(*t))
                        .cloned()
                        .collect();
                    let (name, party, key) = people.get(id)?;
                    (!matched.is_empty()).then(|| {
                        let party_enum = Party::parse(party);
                        (
                            matched.len(),
                            key.as_str(),
                            *id,
                            Candidate {
                                cadre_id: *id,
                                name: name.clone(),
                                party: party.clone(),
                                party_label: party_enum.map_or("", Party::label),
                                matched_tags: matched,
                                rule,
                            },
                        )
                    })
                })
                .collect();
            ranked.sort_by(|a, b| {
                b.0.cmp(&a.0)
                    .then_with(|| a.1.cmp(b.1))
                    .then_with(|| a.2.cmp(&b.2))
            });
            ItemCandidates {
                agenda_item_id: item.id,
                title: item.title,
                tags: item.tags,
                candidates: ranked
                    .into_iter()
                    .take(limit)
                    .map(|(_, _, _, c)| c)
                    .collect(),
            }
        })
        .collect())
}

// ---------------------------------------------------------------- invitations

fn find_invitation(conn: &mut DbConn, id: i64) -> Result<InvitationRow, ApiError> {
    invitations::table
        .find(id)
        .select(InvitationRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)
}

fn invitation_views(
    conn: &mut DbConn,
    rows: Vec<InvitationRow>,
) -> Result<Vec<InvitationView>, ApiError> {
    let meeting_ids: Vec<i64> = rows.iter().map(|r| r.meeting_id).collect();
    let cadre_ids: Vec<i64> = rows.iter().map(|r| r.cadre_id).collect();
    let meetings_by_id: HashMap<i64, MeetingRow> = meetings::table
        .filter(id_in(meetings::id, &meeting_ids))
        .select(MeetingRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let names = crate::cadres::repo::names_of(conn, &cadre_ids)?;
    rows.into_iter()
        .map(|r| {
            let meeting = meetings_by_id
                .get(&r.meeting_id)
                .ok_or_else(|| corrupt("invitation meeting"))?;
            let status =
                InvitationStatus::parse(&r.status).ok_or_else(|| corrupt("invitation status"))?;
            Ok(InvitationView {
                id: r.id,
                meeting_id: r.meeting_id,
                meeting_title: meeting.title.clone(),
                meeting_kind: kind_of(meeting)?,
                starts_at: meeting.starts_at.and_utc(),
                place: meeting.place.clone(),
                cadre_id: r.cadre_id,
                cadre_name: names.get(&r.cadre_id).cloned().unwrap_or_default(),
                agenda_item_id: r.agenda_item_id,
                reason: r.reason,
                status,
                status_label: status.label(),
                answer_reason: r.answer_reason,
                answered_at: r.answered_at.map(|t| t.and_utc()),
                attendance: r.attendance.as_deref().and_then(Attendance::parse),
                version: r.version,
            })
        })
        .collect()
}

fn invitation_view(conn: &mut DbConn, id: i64) -> Result<InvitationView, ApiError> {
    let row = find_invitation(conn, id)?;
    invitation_views(conn, vec![row])?
        .pop()
        .ok_or(ApiError::NotFound)
}

pub fn invite(
    conn: &mut DbConn,
    actor: &Actor,
    meeting_id: i64,
    input: InviteRequest,
) -> Result<InvitationView, ApiError> {
    let meeting = find_meeting(conn, meeting_id)?;
    require_status(
        &meeting,
        &[MeetingStatus::Draft, MeetingStatus::Prepared],
        "inviting",
    )?;
    let cadre = crate::cadres::repo::find(conn, input.cadre_id)?
        .ok_or_else(|| ApiError::field("cadre_id", "unknown_cadre"))?;
    if cadre.status != "active" {
        return Err(ApiError::field("cadre_id", "archived_cadre"));
    }
    if let Some(item_id) = input.agenda_item_id {
        let item = find_item(conn, item_id)
            .map_err(|_| ApiError::field("agenda_item_id", "not_on_this_agenda"))?;
        if item.meeting_id != meeting_id {
            return Err(ApiError::field("agenda_item_id", "not_on_this_agenda"));
        }
    }
    let already = invitations::table
        .filter(invitations::meeting_id.eq(meeting_id))
        .filter(invitations::cadre_id.eq(input.cadre_id))
        .count()
        .get_result::<i64>(conn)?;
    if already > 0 {
        return Err(ApiError::conflict(
            "already_invited",
            "this cadre is already invited to the meeting",
        ));
    }
    if input.reason.is_none() {
        let is_candidate = candidates(conn, meeting_id, usize::MAX)?
            .iter()
            .filter(|item| {
                input
                    .agenda_item_id
                    .is_none_or(|id| id == item.agenda_item_id)
            })
            .any(|item| item.candidates.iter().any(|c| c.cadre_id == input.cadre_id));
        if !is_candidate {
            return Err(ApiError::field("reason", "required_for_a_non_candidate"));
        }
    }
    let now = db::now();
    let id: i64 = diesel::insert_into(invitations::table)
        .values((
            invitations::meeting_id.eq(meeting_id),
            invitations::cadre_id.eq(input.cadre_id),
            invitations::agenda_item_id.eq(input.agenda_item_id),
            invitations::reason.eq(input.reason.as_deref().map(normalise)),
            invitations::status.eq(InvitationStatus::Invited.as_str()),
            invitations::invited_by.eq(actor.user_id),
            invitations::version.eq(1),
            invitations::created_at.eq(now),
            invitations::updated_at.eq(now),
        ))
        .returning(invitations::id)
        .get_result(conn)
        .map_err(|e| match ApiError::from(e) {
            ApiError::Conflict {
                code: "already_exists",
                ..
            } => ApiError::conflict(
                "already_invited",
                "this cadre is already invited to the meeting",
            ),
            other => other,
        })?;
    let created = invitation_view(conn, id)?;
    audit::record(
        conn,
        actor,
        Event::new("invitation.created", "invitation", id).after(&created),
    )?;
    Ok(created)
}

pub fn invitations_of_meeting(
    conn: &mut DbConn,
    meeting_id: i64,
) -> Result<Vec<InvitationView>, ApiError> {
    find_meeting(conn, meeting_id)?;
    let rows = invitations::table
        .filter(invitations::meeting_id.eq(meeting_id))
        .order(invitations::id)
        .select(InvitationRow::as_select())
        .load(conn)?;
    invitation_views(conn, rows)
}

pub fn invitations_of_cadre(
    conn: &mut DbConn,
    cadre_id: i64,
) -> Result<Vec<InvitationView>, ApiError> {
    let rows = invitations::table
        .filter(invitations::cadre_id.eq(cadre_id))
        .order(invitations::id.desc())
        .select(InvitationRow::as_select())
        .load(conn)?;
    invitation_views(conn, rows)
}

/// A representative accepts or declines (with a reason: the leave request) before the start.
pub fn respond(
    conn: &mut DbConn,
    actor: &Actor,
    cadre_id: i64,
    id: i64,
    input: ResponseRequest,
) -> Result<InvitationView, ApiError> {
    let row = find_invitation(conn, id)?;
    if row.cadre_id != cadre_id {
        return Err(ApiError::NotFound);
    }
    let meeting = find_meeting(conn, row.meeting_id)?;
    require_status(
        &meeting,
        &[MeetingStatus::Draft, MeetingStatus::Prepared],
        "answering",
    )?;
    let now = db::now();
    if now >= meeting.starts_at {
        return Err(ApiError::conflict(
            "meeting_started",
            "answers are taken only before the meeting starts",
        ));
    }
    if input.answer == Answer::Decline && input.reason.is_none() {
        return Err(ApiError::field("reason", "required_to_decline"));
    }
    let before = invitation_view(conn, id)?;
    let status = if input.answer == Answer::Accept {
        InvitationStatus::Accepted
    } else {
        InvitationStatus::Declined
    };
    diesel::update(invitations::table.find(id))
        .set((
            invitations::status.eq(status.as_str()),
            invitations::answer_reason.eq(input.reason.as_deref().map(normalise)),
            invitations::answered_at.eq(now),
            invitations::version.eq(row.version + 1),
            invitations::updated_at.eq(now),
        ))
        .execute(conn)?;
    let after = invitation_view(conn, id)?;
    audit::record(
        conn,
        actor,
        Event::new("invitation.answered", "invitation", id)
            .before(&before)
            .after(&after),
    )?;
    Ok(after)
}

pub fn record_attendance(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    attendance: Attendance,
) -> Result<InvitationView, ApiError> {
    let row = find_invitation(conn, id)?;
    let meeting = find_meeting(conn, row.meeting_id)?;
    require_status(
        &meeting,
        &[MeetingStatus::Held, MeetingStatus::Closed],
        "recording attendance",
    )?;
    let before = invitation_view(conn, id)?;
    diesel::update(invitations::table.find(id))
        .set((
            invitations::attendance.eq(attendance.as_str()),
            invitations::version.eq(row.version + 1),
            invitations::updated_at.eq(db::now()),
        ))
        .execute(conn)?;
    let after = invitation_view(conn, id)?;
    audit::record(
        conn,
        actor,
        Event::new("invitation.attendance_recorded", "invitation", id)
            .before(&before)
            .after(&after),
    )?;
    Ok(after)
}

// ---------------------------------------------------------------- opinions

fn opinion_views(conn: &mut DbConn, rows: Vec<OpinionRow>) -> Result<Vec<OpinionView>, ApiError> {
    let item_ids: Vec<i64> = rows.iter().map(|r| r.agenda_item_id).collect();
    let cadre_ids: Vec<i64> = rows.iter().map(|r| r.cadre_id).collect();
    let items: HashMap<i64, (i64, String)> = agenda_items::table
        .filter(id_in(agenda_items::id, &item_ids))
        .select((
            agenda_items::id,
            agenda_items::meeting_id,
            agenda_items::title,
        ))
        .load::<(i64, i64, String)>(conn)?
        .into_iter()
        .map(|(id, meeting, title)| (id, (meeting, title)))
        .collect();
    let names = crate::cadres::repo::names_of(conn, &cadre_ids)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let (meeting_id, title) = items.get(&r.agenda_item_id).cloned().unwrap_or_default();
            let outcome = r.outcome.as_deref().and_then(Outcome::parse);
            OpinionView {
                id: r.id,
                agenda_item_id: r.agenda_item_id,
                agenda_item_title: title,
                meeting_id,
                cadre_id: r.cadre_id,
                cadre_name: names.get(&r.cadre_id).cloned().unwrap_or_default(),
                content: r.content,
                on_behalf: r.on_behalf,
                outcome,
                outcome_label: outcome.map(Outcome::label),
                outcome_explanation: r.outcome_explanation,
                outcome_on: r.outcome_on,
                created_at: r.created_at.and_utc(),
            }
        })
        .collect())
}

fn find_opinion(conn: &mut DbConn, id: i64) -> Result<OpinionRow, ApiError> {
    opinions::table
        .find(id)
        .select(OpinionRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)
}

fn opinion_view(conn: &mut DbConn, id: i64) -> Result<OpinionView, ApiError> {
    let row = find_opinion(conn, id)?;
    opinion_views(conn, vec![row])?
        .pop()
        .ok_or(ApiError::NotFound)
}

/// Who an opinion is from: the representative themself, or (staff) the cadre named.
pub enum Speaker {
    Own(i64),
    OnBehalfOf(i64),
}

/// Records an opinion on an agenda item, during (after the start) or after the meeting, from a
/// representative invited to it.
pub fn record_opinion(
    conn: &mut DbConn,
    actor: &Actor,
    item_id: i64,
    speaker: Speaker,
    content: &str,
) -> Result<OpinionView, ApiError> {
    let item = find_item(conn, item_id)?;
    let (cadre_id, on_behalf) = match speaker {
        Speaker::Own(id) => (id, false),
        Speaker::OnBehalfOf(id) => (id, true),
    };
    let invited = invitations::table
        .filter(invitations::meeting_id.eq(item.meeting_id))
        .filter(invitations::cadre_id.eq(cadre_id))
        .select(invitations::id)
        .first::<i64>(conn)
        .optional()?;
    if invited.is_none() {
        // A representative does not learn of meetings they are not invited to.
        return Err(if on_behalf {
            ApiError::field("cadre_id", "not_invited")
        } else {
            ApiError::NotFound
        });
    }
    let meeting = find_meeting(conn, item.meeting_id)?;
    require_status(
        &meeting,
        &[MeetingStatus::Prepared, MeetingStatus::Held],
        "recording an opinion",
    )?;
    let now = db::now();
    if now < meeting.starts_at {
        return Err(ApiError::conflict(
            "meeting_not_started",
            "opinions are recorded during or after the meeting",
        ));
    }
    let user = actor.user_id.ok_or(ApiError::Unauthenticated)?;
    let id: i64 = diesel::insert_into(opinions::table)
        .values((
            opinions::agenda_item_id.eq(item_id),
            opinions::cadre_id.eq(cadre_id),
            opinions::content.eq(normalise(content)),
            opinions::recorded_by.eq(user),
            opinions::on_behalf.eq(on_behalf),
            opinions::version.eq(1),
            opinions::created_at.eq(now),
            opinions::updated_at.eq(now),
        ))
        .returning(opinions::id)
        .get_result(conn)?;
    let created = opinion_view(conn, id)?;
    audit::record(
        conn,
        actor,
        Event::new("opinion.recorded", "opinion", id).after(&created),
    )?;
    Ok(created)
}

pub fn record_adoption(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    input: AdoptionRequest,
) -> Result<OpinionView, ApiError> {
    let row = find_opinion(conn, id)?;
    let before = opinion_views(conn, vec![row.clone()])?
        .pop()
        .ok_or(ApiError::NotFound)?;
    diesel::update(opinions::table.find(id))
        .set((
            opinions::outcome.eq(input.outcome.as_str()),
            opinions::outcome_explanation.eq(normalise(&input.explanation)),
            opinions::outcome_on.eq(input
                .date
                .unwrap_or_else(|| chrono::Utc::now().date_naive())),
            opinions::outcome_by.eq(actor.user_id),
            opinions::version.eq(row.version + 1),
            opinions::updated_at.eq(db::now()),
        ))
        .execute(conn)?;
    let after = opinion_view(conn, id)?;
    audit::record(
        conn,
        actor,
        Event::new("opinion.adoption_recorded", "opinion", id)
            .before(&before)
            .after(&after),
    )?;
    Ok(after)
}

pub fn opinions_of_item(conn: &mut DbConn, item_id: i64) -> Result<Vec<OpinionView>, ApiError> {
    find_item(conn, item_id)?;
    let rows = opinions::table
        .filter(opinions::agenda_item_id.eq(item_id))
        .order(opinions::id)
        .select(OpinionRow::as_select())
        .load(conn)?;
    opinion_views(conn, rows)
}

pub fn opinions_of_cadre(conn: &mut DbConn, cadre_id: i64) -> Result<Vec<OpinionView>, ApiError> {
    let rows = opinions::table
        .filter(opinions::cadre_id.eq(cadre_id))
        .order(opinions::id.desc())
        .select(OpinionRow::as_select())
        .load(conn)?;
    opinion_views(conn, rows)
}

/// The meetings, invitations and opinions of a period, for the reports.
pub struct PeriodData {
    pub meetings: Vec<MeetingRow>,
    pub items: Vec<AgendaItemRow>,
    pub invitations: Vec<InvitationRow>,
    pub opinions: Vec<OpinionRow>,
}

pub fn period_data(
    conn: &mut DbConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<PeriodData, ApiError> {
    let meetings: Vec<MeetingRow> = meetings::table
        .filter(meetings::starts_at.ge(from))
        .filter(meetings::starts_at.lt(to))
        .order(meetings::starts_at)
        .select(MeetingRow::as_select())
        .load(conn)?;
    let ids: Vec<i64> = meetings.iter().map(|m| m.id).collect();
    let items: Vec<AgendaItemRow> = agenda_items::table
        .filter(id_in(agenda_items::meeting_id, &ids))
        .select(AgendaItemRow::as_select())
        .load(conn)?;
    let item_ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    Ok(PeriodData {
        invitations: invitations::table
            .filter(id_in(invitations::meeting_id, &ids))
            .select(InvitationRow::as_select())
            .load(conn)?,
        opinions: opinions::table
            .filter(id_in(opinions::agenda_item_id, &item_ids))
            .select(OpinionRow::as_select())
            .load(conn)?,
        meetings,
        items,
    })
}
