//! One answer about one person: each part present only where the caller's role may see it.

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
use utoipa::ToSchema;

use super::dto::{AppointmentView, AssessmentQuery, AssessmentView, EntryQuery, EntryView};
use super::{evaluation, pool, records};
use crate::auth::{AuthUser, Permission};
use crate::cadres::dto::CadreView;
use crate::cadres::records::{RecordKind, RecordView};
use crate::contacts::dto::PairingView;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::meetings::dto::{InvitationView, OpinionView};
use crate::suggestions::dto::{SuggestionQuery, SuggestionSummary};
use crate::suggestions::service::Scope;

#[derive(Debug, Serialize, ToSchema)]
pub struct Overview {
    /// ID number and phone masked.
    pub profile: CadreView,
    /// 人大代表 and 政协委员 seats.
    pub memberships: Vec<RecordView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appointments: Option<Vec<AppointmentView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assessments: Option<Vec<AssessmentView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub talent_pool: Option<Vec<EntryView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitations: Option<Vec<InvitationView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opinions: Option<Vec<OpinionView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestions: Option<Vec<SuggestionSummary>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pairings: Option<Vec<PairingView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_contact: Option<NaiveDate>,
}

/// Builds the overview; the caller has already been checked to see the profile.
pub fn overview(
    conn: &mut DbConn,
    user: &AuthUser,
    cadre_id: i64,
    now: NaiveDateTime,
) -> Result<Overview, ApiError> {
    let today = now.date();
    let own = user.cadre_id == Some(cadre_id);
    let profile = crate::cadres::service::get(conn, cadre_id)?;
    let memberships = crate::cadres::records::list(conn, cadre_id, RecordKind::Memberships)?;
    let appointments = (user.has(Permission::AppointmentsRead) || own)
        .then(|| records::current(conn, cadre_id, now))
        .transpose()?;
    let assessments = user
        .has(Permission::AssessmentsRead)
        .then(|| {
            evaluation::list_assessments(
                conn,
                AssessmentQuery {
                    cadre_id: Some(cadre_id),
                    year: None,
                },
            )
        })
        .transpose()?;
    let talent_pool = user
        .has(Permission::PoolRead)
        .then(|| {
            pool::list_entries(
                conn,
                EntryQuery {
                    stage: None,
                    cadre_id: Some(cadre_id),
                },
                today,
            )
        })
        .transpose()?;
    let meetings = user.has(Permission::MeetingsRead) || own;
    let invitations = meetings
        .then(|| crate::meetings::service::invitations_of_cadre(conn, cadre_id))
        .transpose()?;
    let opinions = meetings
        .then(|| crate::meetings::service::opinions_of_cadre(conn, cadre_id))
        .transpose()?;
    let suggestions = (user.has(Permission::SuggestionsReadAll) || own)
        .then(|| {
            crate::suggestions::service::list(
                conn,
                Scope::Representative(cadre_id),
                SuggestionQuery {
                    status: None,
                    category: None,
                    limit: Some(200),
                    cursor: None,
                },
            )
            .map(|p| p.items)
        })
        .transpose()?;
    let (pairings, last_contact) = if user.has(Permission::ContactsReadAll) {
        let (pairings, last) = crate::contacts::service::pairings_of_cadre(conn, cadre_id, today)?;
        (Some(pairings), last)
    } else {
        (None, None)
    };
    Ok(Overview {
        profile,
        memberships,
        appointments,
        assessments,
        talent_pool,
        invitations,
        opinions,
        suggestions,
        pairings,
        last_contact,
    })
}
