//! Request and response types of appointment and evaluation.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::vocabulary::vocabulary;

vocabulary!(
    /// 人才库阶段: 发现、培养、推荐、考察、决定、任用; or 退出.
    Stage {
        Discovered = "discovered", "发现";
        Cultivating = "cultivating", "培养";
        Recommended = "recommended", "推荐";
        Inspected = "inspected", "考察";
        Decided = "decided", "决定";
        Appointed = "appointed", "任用";
        Withdrawn = "withdrawn", "退出";
    }
);

impl Stage {
    /// The stage after this one on the way to appointment.
    pub fn next(self) -> Option<Stage> {
        use Stage::*;
        match self {
            Discovered => Some(Cultivating),
            Cultivating => Some(Recommended),
            Recommended => Some(Inspected),
            Inspected => Some(Decided),
            Decided => Some(Appointed),
            Appointed | Withdrawn => None,
        }
    }

    pub fn previous(self) -> Option<Stage> {
        Stage::ALL.iter().copied().find(|s| s.next() == Some(self))
    }

    /// Moving into these needs a `ufwd_staff` and an `org_staff` approval.
    pub fn needs_joint_approval(self) -> bool {
        matches!(self, Stage::Inspected | Stage::Decided)
    }
}

vocabulary!(
    CultivationKind {
        Training = "training", "培训";
        Secondment = "secondment", "挂职锻炼";
        PracticePost = "practice_post", "实践锻炼";
        Other = "other", "其他";
    }
);

vocabulary!(
    AppointmentKind {
        Appointment = "appointment", "任职";
        Removal = "removal", "免职";
        Transfer = "transfer", "调任";
    }
);

vocabulary!(
    /// 年度考核等次.
    Grade {
        Excellent = "excellent", "优秀";
        Competent = "competent", "称职";
        BasicallyCompetent = "basically_competent", "基本称职";
        Incompetent = "incompetent", "不称职";
    }
);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEntryRequest {
    pub cadre_id: i64,
    /// How the cadre was found.
    #[validate(length(min = 1, max = 500))]
    pub source: String,
    #[validate(length(min = 1, max = 200))]
    pub recommended_by: Option<String>,
    /// Default: today.
    pub discovered_on: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageRequest {
    pub to: Stage,
    /// Default: today.
    pub date: Option<NaiveDate>,
    /// Required to withdraw.
    #[validate(length(min = 1, max = 2000))]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalDecision {
    Approve,
    Reject,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRequest {
    pub decision: ApprovalDecision,
    #[validate(length(min = 1, max = 2000))]
    pub comment: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MoveView {
    pub from: Option<Stage>,
    pub to: Stage,
    pub on: NaiveDate,
    pub actor_id: Option<i64>,
    pub note: Option<String>,
    /// Days spent in the stage this move left (none for the first).
    pub days_in_previous_stage: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApprovalView {
    pub to_stage: Stage,
    pub approver_id: i64,
    pub department: String,
    pub approve: bool,
    pub comment: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProposalView {
    pub to: Stage,
    pub proposed_by: i64,
    pub proposed_on: NaiveDate,
    pub note: Option<String>,
    /// Approvals so far (the move happens with one from each department).
    pub approvals: Vec<ApprovalView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EntryView {
    pub id: i64,
    pub cadre_id: i64,
    pub cadre_name: String,
    pub source: String,
    pub recommended_by: Option<String>,
    pub stage: Stage,
    pub stage_label: &'static str,
    pub stage_since: NaiveDate,
    /// Days in the current stage as of today.
    pub days_in_stage: i64,
    pub withdrawn_reason: Option<String>,
    pub proposal: Option<ProposalView>,
    pub moves: Vec<MoveView>,
    pub approvals: Vec<ApprovalView>,
    pub version: i32,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EntryQuery {
    pub stage: Option<Stage>,
    pub cadre_id: Option<i64>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CultivationRequest {
    pub kind: CultivationKind,
    #[validate(length(min = 1, max = 200))]
    pub title: String,
    #[validate(length(min = 1, max = 200))]
    pub place: Option<String>,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    #[validate(length(min = 1, max = 2000))]
    pub outcome: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CultivationView {
    pub id: i64,
    pub cadre_id: i64,
    pub kind: CultivationKind,
    pub kind_label: &'static str,
    pub title: String,
    pub place: Option<String>,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub outcome: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecommendationRequest {
    pub cadre_id: i64,
    /// The recommending unit or person.
    #[validate(length(min = 1, max = 200))]
    pub recommender: String,
    /// The kind of post, e.g. 乡镇长, 部门副职.
    #[validate(length(min = 1, max = 100))]
    pub post_kind: String,
    #[validate(length(min = 1, max = 5000))]
    pub reasons: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecommendationView {
    pub id: i64,
    pub cadre_id: i64,
    pub recommender: String,
    pub post_kind: String,
    pub reasons: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecommendationQuery {
    pub cadre_id: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppointmentRequest {
    pub kind: AppointmentKind,
    #[validate(length(min = 1, max = 200))]
    pub position: String,
    /// A unit in the system, or only its name.
    pub unit_id: Option<i64>,
    #[validate(length(min = 1, max = 200))]
    pub unit_name: Option<String>,
    /// 职级, e.g. 正科级.
    #[validate(length(min = 1, max = 50))]
    pub rank: Option<String>,
    /// District- or township-level post.
    pub level: crate::cadres::vocab::Level,
    /// A leadership post (counted against appointment targets).
    #[serde(default)]
    pub leadership: bool,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    /// 任免文号.
    #[validate(length(min = 1, max = 100))]
    pub document_number: String,
    #[validate(length(min = 1, max = 200))]
    pub appointing_body: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionRequest {
    /// The corrected record, whole.
    #[validate(nested)]
    pub record: AppointmentRequest,
    #[validate(length(min = 1, max = 2000))]
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AppointmentView {
    pub id: i64,
    pub cadre_id: i64,
    pub kind: AppointmentKind,
    pub kind_label: &'static str,
    pub position: String,
    pub unit_id: Option<i64>,
    pub unit_name: String,
    pub rank: Option<String>,
    pub level: crate::cadres::vocab::Level,
    pub leadership: bool,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub document_number: String,
    pub appointing_body: String,
    /// The record this one corrects.
    pub supersedes: Option<i64>,
    pub correction_reason: Option<String>,
    pub recorded_by: i64,
    pub recorded_by_name: String,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Answer as the system knew it at the end of this day (default: now).
    pub as_of: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryRecord {
    #[serde(flatten)]
    pub record: AppointmentView,
    /// In effect (by its valid time) on the `as_of` day.
    pub in_effect: bool,
    /// A correction recorded after `as_of` that supersedes this record, if any.
    pub later_corrected_by: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CorrectionLink {
    pub superseded: i64,
    pub corrected_by: i64,
    pub reason: Option<String>,
    pub recorded_by: i64,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    pub cadre_id: i64,
    pub as_of: NaiveDate,
    /// The records the system held as current at the end of `as_of`.
    pub records: Vec<HistoryRecord>,
    /// Every correction ever recorded for this cadre, with who and when.
    pub corrections: Vec<CorrectionLink>,
    /// Every record ever made, superseded ones included (auditors' full view).
    pub all_records: Vec<AppointmentView>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentRequest {
    pub cadre_id: i64,
    #[validate(range(min = 1949, max = 2200))]
    pub year: i32,
    pub grade: Grade,
    #[validate(length(min = 1, max = 2000))]
    pub comment: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentView {
    pub id: i64,
    pub cadre_id: i64,
    pub year: i32,
    pub grade: Grade,
    pub grade_label: &'static str,
    pub comment: Option<String>,
    pub recorded_by: i64,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AssessmentQuery {
    pub cadre_id: Option<i64>,
    pub year: Option<i32>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    #[validate(length(min = 1, max = 50))]
    pub name: String,
    /// Relative weight, 1 to 100.
    #[validate(range(min = 1, max = 100))]
    pub weight: i32,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CycleRequest {
    #[validate(length(min = 1, max = 100))]
    pub name: String,
    #[validate(length(min = 1, max = 20), nested)]
    pub criteria: Vec<Criterion>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CycleView {
    pub id: i64,
    pub name: String,
    pub criteria: Vec<Criterion>,
    /// `open` or `closed`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingRequest {
    pub cadre_id: i64,
    /// Criterion name -> score 0 to 100; every criterion of the cycle.
    pub scores: BTreeMap<String, i32>,
    #[validate(length(min = 1, max = 2000))]
    pub comment: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RatingView {
    pub id: i64,
    pub cycle_id: i64,
    pub cadre_id: i64,
    pub rater_id: i64,
    /// `ufwd`, `org` or `unit` (the cadre's own unit).
    pub side: String,
    pub scores: BTreeMap<String, i32>,
    pub comment: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CadreResult {
    pub cadre_id: i64,
    pub cadre_name: String,
    pub raters: usize,
    /// Mean of the raters' weighted scores.
    pub weighted_score: f64,
    /// Mean per criterion.
    pub by_criterion: BTreeMap<String, f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CycleRatings {
    pub cycle: CycleView,
    /// While the cycle is open, only the caller's own ratings.
    pub ratings: Vec<RatingView>,
    /// Once the cycle is closed, the aggregate per cadre.
    pub results: Option<Vec<CadreResult>>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetRequest {
    /// A unit, or …
    pub unit_id: Option<i64>,
    /// … a level (one of the two).
    pub level: Option<crate::cadres::vocab::Level>,
    /// Leadership posts in the unit or level.
    #[validate(range(min = 1, max = 100000))]
    pub leadership_posts: i32,
    /// Target share of non-party cadres among them, in percent.
    #[validate(range(min = 0, max = 100))]
    pub target_percent: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TargetView {
    pub id: i64,
    pub unit_id: Option<i64>,
    pub level: Option<String>,
    pub leadership_posts: i32,
    pub target_percent: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TargetStatus {
    pub target: TargetView,
    /// Non-party cadres in leadership posts in effect today.
    pub held: i64,
    pub current_percent: f64,
    /// Posts still to fill to reach the target (0 when met).
    pub gap_posts: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppointmentStats {
    pub targets: Vec<TargetStatus>,
    /// Open pool entries per stage (and the withdrawn and appointed).
    pub pipeline: BTreeMap<String, i64>,
    /// Mean days from discovered to appointed, over appointed entries.
    pub average_days_to_appointment: Option<f64>,
}
