//! The compliance view of 逢会必进 and the participation roll-up, computed from one period's
//! meetings, invitations and opinions.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::dto::{MeetingKind, MeetingStatus, Outcome};
use super::model::MeetingRow;
use super::service::{self, PeriodData};
use crate::cadres::vocab::Party;
use crate::db::kept_sql::id_in;
use crate::db::schema::cadres;
use crate::db::DbConn;
use crate::error::ApiError;

/// `figures::rate` over counts kept as `i64`.
fn rate(part: i64, whole: i64) -> Option<f64> {
    crate::figures::rate(
        usize::try_from(part).unwrap_or(0),
        usize::try_from(whole).unwrap_or(0),
    )
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingRef {
    pub id: i64,
    pub title: String,
    pub kind: MeetingKind,
    pub starts_at: DateTime<Utc>,
    pub status: MeetingStatus,
    /// The recorded exemption, if any.
    pub exemption_reason: Option<String>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct KindFigures {
    pub kind: String,
    pub label: String,
    pub meetings: i64,
    /// Held or closed.
    pub held: i64,
    pub cancelled: i64,
    /// Held or closed with no representative present (or, before attendance is recorded, none
    /// accepted).
    pub held_without_representatives: i64,
    pub with_exemption: i64,
    pub invitations: i64,
    pub accepted: i64,
    pub declined: i64,
    /// Accepted / invitations.
    pub acceptance_rate: Option<f64>,
    pub attendance_recorded: i64,
    pub present: i64,
    /// Present / invitations whose attendance was recorded.
    pub attendance_rate: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Compliance {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub by_kind: Vec<KindFigures>,
    /// Meetings of the mandatory kinds held without representatives.
    pub held_without_representatives: Vec<MeetingRef>,
    pub with_exemption: Vec<MeetingRef>,
}

fn reference(m: &MeetingRow) -> MeetingRef {
    MeetingRef {
        id: m.id,
        title: m.title.clone(),
        kind: MeetingKind::parse(&m.kind).unwrap_or(MeetingKind::Other),
        starts_at: m.starts_at.and_utc(),
        status: MeetingStatus::parse(&m.status).unwrap_or(MeetingStatus::Draft),
        exemption_reason: m.exemption_reason.clone(),
    }
}

pub fn compliance(
    conn: &mut DbConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Compliance, ApiError> {
    let data = service::period_data(conn, from, to)?;
    let mut by_kind: BTreeMap<&'static str, KindFigures> = MeetingKind::ALL
        .iter()
        .map(|k| {
            (
                k.as_str(),
                KindFigures {
                    kind: k.as_str().into(),
                    label: k.label().into(),
                    ..KindFigures::default()
                },
            )
        })
        .collect();
    let mut without = Vec::new();
    let mut exempted = Vec::new();
    for meeting in &data.meetings {
        let kind = MeetingKind::parse(&meeting.kind).unwrap_or(MeetingKind::Other);
        let status = MeetingStatus::parse(&meeting.status).unwrap_or(MeetingStatus::Draft);
        let figures = by_kind.entry(kind.as_str()).or_default();
        figures.meetings += 1;
        if meeting.exemption_reason.is_some() {
            figures.with_exemption += 1;
            exempted.push(reference(meeting));
        }
        if status == MeetingStatus::Cancelled {
            figures.cancelled += 1;
            continue;
        }
        let invited: Vec<_> = data
            .invitations
            .iter()
            .filter(|i| i.meeting_id == meeting.id)
            .collect();
        figures.invitations += i64::try_from(invited.len()).unwrap_or(0);
        for invitation in &invited {
            match invitation.status.as_str() {
                "accepted" => figures.accepted += 1,
                "declined" => figures.declined += 1,
                _ => {}
            }
            if let Some(attendance) = &invitation.attendance {
                figures.attendance_recorded += 1;
                if attendance == "present" {
                    figures.present += 1;
                }
            }
        }
        if matches!(status, MeetingStatus::Held | MeetingStatus::Closed) {
            figures.held += 1;
            let attended = invited.iter().any(|i| match &i.attendance {
                Some(a) => a == "present",
                None => i.status == "accepted",
            });
            if !attended && kind.is_mandatory() {
                figures.held_without_representatives += 1;
                without.push(reference(meeting));
            }
        }
    }
    let by_kind = by_kind
        .into_values()
        .map(|mut f| {
            f.acceptance_rate = rate(f.accepted, f.invitations);
            f.attendance_rate = rate(f.present, f.attendance_recorded);
            f
        })
        .collect();
    Ok(Compliance {
        from: from.and_utc(),
        to: to.and_utc(),
        by_kind,
        held_without_representatives: without,
        with_exemption: exempted,
    })
}

#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub struct Figures {
    pub invitations: i64,
    pub accepted: i64,
    pub present: i64,
    pub opinions: i64,
    /// Opinions with an outcome recorded.
    pub decided: i64,
    /// Adopted or partially adopted.
    pub adopted: i64,
    /// Adopted (fully or partially) / opinions with an outcome.
    pub adoption_rate: Option<f64>,
}

impl Figures {
    fn finish(mut self) -> Self {
        self.adoption_rate = rate(self.adopted, self.decided);
        self
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RepresentativeFigures {
    pub cadre_id: i64,
    pub name: String,
    pub party: String,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupFigures {
    pub key: String,
    pub label: String,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Participation {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub by_representative: Vec<RepresentativeFigures>,
    pub by_party: Vec<GroupFigures>,
    pub by_meeting_kind: Vec<GroupFigures>,
}

pub fn participation(
    conn: &mut DbConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Participation, ApiError> {
    let PeriodData {
        meetings,
        items,
        invitations,
        opinions,
    } = service::period_data(conn, from, to)?;
    let kind_of_meeting: HashMap<i64, String> =
        meetings.iter().map(|m| (m.id, m.kind.clone())).collect();
    let cancelled: std::collections::HashSet<i64> = meetings
        .iter()
        .filter(|m| m.status == "cancelled")
        .map(|m| m.id)
        .collect();
    let meeting_of_item: HashMap<i64, i64> = items.iter().map(|i| (i.id, i.meeting_id)).collect();
    let mut per_cadre: BTreeMap<i64, Figures> = BTreeMap::new();
    let mut per_kind: BTreeMap<String, Figures> = BTreeMap::new();
    for invitation in invitations
        .iter()
        .filter(|i| !cancelled.contains(&i.meeting_id))
    {
        let kind = kind_of_meeting
            .get(&invitation.meeting_id)
            .cloned()
            .unwrap_or_default();
        for f in [
            per_cadre.entry(invitation.cadre_id).or_default(),
            per_kind.entry(kind).or_default(),
        ] {
            f.invitations += 1;
            f.accepted += i64::from(invitation.status == "accepted");
            f.present += i64::from(invitation.attendance.as_deref() == Some("present"));
        }
    }
    for opinion in &opinions {
        let kind = meeting_of_item
            .get(&opinion.agenda_item_id)
            .and_then(|m| kind_of_meeting.get(m))
            .cloned()
            .unwrap_or_default();
        let outcome = opinion.outcome.as_deref().and_then(Outcome::parse);
        for f in [
            per_cadre.entry(opinion.cadre_id).or_default(),
            per_kind.entry(kind).or_default(),
        ] {
            f.opinions += 1;
            f.decided += i64::from(outcome.is_some());
            f.adopted += i64::from(matches!(
                outcome,
                Some(Outcome::Adopted | Outcome::PartiallyAdopted)
            ));
        }
    }
    let ids: Vec<i64> = per_cadre.keys().copied().collect();
    let people: HashMap<i64, (String, String)> = cadres::table
        .filter(id_in(cadres::id, &ids))
        .select((cadres::id, cadres::name, cadres::party))
        .load::<(i64, String, String)>(conn)?
        .into_iter()
        .map(|(id, name, party)| (id, (name, party)))
        .collect();
    let mut per_party: BTreeMap<String, Figures> = BTreeMap::new();
    let by_representative = per_cadre
        .into_iter()
        .map(|(cadre_id, f)| {
            let (name, party) = people.get(&cadre_id).cloned().unwrap_or_default();
            let p = per_party.entry(party.clone()).or_default();
            p.invitations += f.invitations;
            p.accepted += f.accepted;
            p.present += f.present;
            p.opinions += f.opinions;
            p.decided += f.decided;
            p.adopted += f.adopted;
            RepresentativeFigures {
                cadre_id,
                name,
                party,
                figures: f.finish(),
            }
        })
        .collect();
    let by_party = per_party
        .into_iter()
        .map(|(key, f)| GroupFigures {
            label: Party::parse(&key).map_or_else(|| key.clone(), |p| p.label().to_owned()),
            key,
            figures: f.finish(),
        })
        .collect();
    let by_meeting_kind = per_kind
        .into_iter()
        .map(|(key, f)| GroupFigures {
            label: MeetingKind::parse(&key).map_or_else(|| key.clone(), |k| k.label().to_owned()),
            key,
            figures: f.finish(),
        })
        .collect();
    Ok(Participation {
        from: from.and_utc(),
        to: to.and_utc(),
        by_representative,
        by_party,
        by_meeting_kind,
    })
}
