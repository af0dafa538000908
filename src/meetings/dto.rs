//! Request and response types of the decision-participation API.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::vocabulary::vocabulary;

vocabulary!(
    /// 会议类型.
    MeetingKind {
        DistrictStandingCommittee = "district_standing_committee", "区委常委会";
        DistrictGovernmentExecutive = "district_government_executive", "区政府常务会";
        TownshipPartyGovernment = "township_party_government", "乡镇党委政府会议";
        Other = "other", "其他会议";
    }
);

impl MeetingKind {
    /// The kinds that must have representatives for their major decisions (逢会必进).
    pub fn is_mandatory(self) -> bool {
        self != MeetingKind::Other
    }
}

vocabulary!(
    MeetingStatus {
        Draft = "draft", "草拟";
        Prepared = "prepared", "已筹备";
        Held = "held", "已召开";
        Closed = "closed", "已办结";
        Cancelled = "cancelled", "已取消";
    }
);

vocabulary!(
    InvitationStatus {
        Invited = "invited", "已邀请";
        Accepted = "accepted", "已接受";
        Declined = "declined", "已请假";
    }
);

vocabulary!(
    Attendance {
        Present = "present", "出席";
        Absent = "absent", "缺席";
        Excused = "excused", "请假";
    }
);

vocabulary!(
    /// 采纳情况.
    Outcome {
        Adopted = "adopted", "采纳";
        PartiallyAdopted = "partially_adopted", "部分采纳";
        NotAdopted = "not_adopted", "未采纳";
        ForReference = "for_reference", "留作参考";
    }
);

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMeetingRequest {
    pub kind: MeetingKind,
    /// The convening unit: the district, or a township for township meetings.
    pub unit_id: i64,
    #[validate(length(min = 1, max = 200))]
    pub title: String,
    pub starts_at: DateTime<Utc>,
    #[validate(length(min = 1, max = 200))]
    pub place: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeetingRequest {
    #[validate(length(min = 1, max = 200))]
    pub title: Option<String>,
    pub starts_at: Option<DateTime<Utc>>,
    #[validate(length(min = 1, max = 200))]
    pub place: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    pub to: MeetingStatus,
    /// Required to cancel.
    #[validate(length(min = 1, max = 500))]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExemptionRequest {
    /// Why this meeting's major decisions go ahead without representatives.
    #[validate(length(min = 4, max = 500))]
    pub reason: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgendaItemRequest {
    #[validate(length(min = 1, max = 200))]
    pub title: String,
    #[validate(length(max = 2000))]
    pub summary: Option<String>,
    /// Subjects, in the vocabulary of the cadres' sectors and fields of expertise.
    #[serde(default)]
    #[validate(length(max = 20))]
    pub tags: Vec<String>,
    #[serde(default)]
    pub major_decision: bool,
    /// Order on the agenda (default: last).
    #[validate(range(min = 1, max = 1000))]
    pub position: Option<i32>,
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAgendaItemRequest {
    #[validate(length(min = 1, max = 200))]
    pub title: Option<String>,
    #[validate(length(max = 2000))]
    pub summary: Option<String>,
    #[validate(length(max = 20))]
    pub tags: Option<Vec<String>>,
    pub major_decision: Option<bool>,
    #[validate(range(min = 1, max = 1000))]
    pub position: Option<i32>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgendaItemView {
    pub id: i64,
    pub meeting_id: i64,
    pub position: i32,
    pub title: String,
    pub summary: Option<String>,
    pub tags: Vec<String>,
    pub major_decision: bool,
    /// Invitations for this item that were not declined.
    pub invited: i64,
    pub version: i32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeetingView {
    pub id: i64,
    pub kind: MeetingKind,
    pub kind_label: &'static str,
    pub unit_id: i64,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub place: Option<String>,
    pub status: MeetingStatus,
    pub status_label: &'static str,
    pub cancel_reason: Option<String>,
    /// Set when UFWD staff let the meeting be prepared without representatives.
    pub exemption_reason: Option<String>,
    pub agenda_items: Vec<AgendaItemView>,
    /// The record's version; also its ETag.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MeetingQuery {
    /// Meetings starting at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Meetings starting before this time.
    pub to: Option<DateTime<Utc>>,
    pub kind: Option<MeetingKind>,
    pub status: Option<MeetingStatus>,
    pub unit_id: Option<i64>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CandidateQuery {
    /// Candidates per agenda item, 1 to 100 (default 20).
    #[validate(range(min = 1, max = 100))]
    pub limit: Option<i64>,
}

/// Why a candidate fits.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Candidate {
    pub cadre_id: i64,
    pub name: String,
    pub party: String,
    pub party_label: &'static str,
    /// The item's subjects found among the cadre's sectors and expertise.
    pub matched_tags: Vec<String>,
    /// `district_level` (a district meeting draws district-level cadres) or `same_township`
    /// (a township meeting draws that township's cadres).
    pub rule: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemCandidates {
    pub agenda_item_id: i64,
    pub title: String,
    pub tags: Vec<String>,
    /// Most matched subjects first, then by name (pinyin) and id: the same data gives the
    /// same order.
    pub candidates: Vec<Candidate>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    pub cadre_id: i64,
    /// The agenda item the representative is invited for.
    pub agenda_item_id: Option<i64>,
    /// Required when the cadre is not a candidate (level rule or no matching subject).
    #[validate(length(min = 1, max = 500))]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendanceRequest {
    pub attendance: Attendance,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Accept,
    Decline,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseRequest {
    pub answer: Answer,
    /// Required to decline (the leave request).
    #[validate(length(min = 1, max = 500))]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvitationView {
    pub id: i64,
    pub meeting_id: i64,
    pub meeting_title: String,
    pub meeting_kind: MeetingKind,
    pub starts_at: DateTime<Utc>,
    pub place: Option<String>,
    pub cadre_id: i64,
    pub cadre_name: String,
    pub agenda_item_id: Option<i64>,
    pub reason: Option<String>,
    pub status: InvitationStatus,
    pub status_label: &'static str,
    pub answer_reason: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    pub attendance: Option<Attendance>,
    pub version: i32,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpinionRequest {
    #[validate(length(min = 1, max = 5000))]
    pub content: String,
    /// Staff recording for a representative name them here (recorded as on their behalf).
    pub cadre_id: Option<i64>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdoptionRequest {
    pub outcome: Outcome,
    #[validate(length(min = 1, max = 2000))]
    pub explanation: String,
    /// Default: today.
    pub date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OpinionView {
    pub id: i64,
    pub agenda_item_id: i64,
    pub agenda_item_title: String,
    pub meeting_id: i64,
    pub cadre_id: i64,
    pub cadre_name: String,
    pub content: String,
    /// True when staff recorded it for the representative.
    pub on_behalf: bool,
    pub outcome: Option<Outcome>,
    pub outcome_label: Option<&'static str>,
    pub outcome_explanation: Option<String>,
    pub outcome_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// Meetings starting at or after this time (default: the start of this year).
    pub from: Option<DateTime<Utc>>,
    /// Meetings starting before this time (default: now).
    pub to: Option<DateTime<Utc>>,
}
