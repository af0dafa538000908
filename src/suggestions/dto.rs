//! Request and response types of the direct channel.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::vocabulary::vocabulary;

vocabulary!(
    /// 建议类别.
    Category {
        RegionalEconomy = "regional_economy", "区域经济";
        Industry = "industry", "产业发展";
        RuralRevitalisation = "rural_revitalisation", "乡村振兴";
        Ecology = "ecology", "生态环保";
        UrbanConstruction = "urban_construction", "城乡建设";
        SocialServices = "social_services", "社会事业";
        Governance = "governance", "社会治理";
        Other = "other", "其他";
    }
);

vocabulary!(
    SuggestionStatus {
        Submitted = "submitted", "已提交";
        Accepted = "accepted", "已受理";
        NotAccepted = "not_accepted", "不予受理";
        Merged = "merged", "已合并";
        Presented = "presented", "已呈送领导";
        Instructed = "instructed", "领导已批示";
        Replied = "replied", "已答复";
        Closed = "closed", "已办结";
    }
);

vocabulary!(
    AssignmentStatus {
        Assigned = "assigned", "已交办";
        Acknowledged = "acknowledged", "已签收";
        Replied = "replied", "已答复";
        Returned = "returned", "已退回";
    }
);

vocabulary!(
    /// 办理结果.
    ReplyResult {
        Adopted = "adopted", "已采纳";
        BeingImplemented = "being_implemented", "正在落实";
        IncludedInPlan = "included_in_plan", "列入计划";
        ForReference = "for_reference", "留作参考";
        NotAdopted = "not_adopted", "未采纳";
    }
);

impl ReplyResult {
    /// Counted as adopted in the statistics.
    pub fn is_adoption(self) -> bool {
        matches!(
            self,
            ReplyResult::Adopted | ReplyResult::BeingImplemented | ReplyResult::IncludedInPlan
        )
    }
}

vocabulary!(
    /// 满意度.
    Rating {
        Satisfied = "satisfied", "满意";
        BasicallySatisfied = "basically_satisfied", "基本满意";
        Unsatisfied = "unsatisfied", "不满意";
    }
);

#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    #[validate(length(min = 1, max = 200))]
    pub title: String,
    #[validate(length(min = 1, max = 20000))]
    pub body: String,
    pub category: Category,
    /// Representatives asked to co-sign; listed once they confirm within 7 days.
    #[serde(default)]
    #[validate(length(max = 20))]
    pub cosigner_cadre_ids: Vec<i64>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplementRequest {
    #[validate(length(min = 1, max = 20000))]
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IntakeDecision {
    Accept,
    NotAccept,
    Merge,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntakeRequest {
    pub decision: IntakeDecision,
    /// For `not_accept`: a short code, e.g. `out_of_scope`, `duplicate`, `insufficient`.
    #[validate(length(min = 1, max = 50))]
    pub reason_code: Option<String>,
    #[validate(length(min = 1, max = 2000))]
    pub explanation: Option<String>,
    /// For `merge`: the suggestion this one joins.
    pub merge_into: Option<i64>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresentRequest {
    /// Users holding the `leader` role.
    #[validate(length(min = 1, max = 20))]
    pub leader_ids: Vec<i64>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstructionRequest {
    #[validate(length(min = 1, max = 5000))]
    pub text: String,
    /// Default: today.
    pub date: Option<NaiveDate>,
    /// The lead handling department (a unit of kind `department`).
    pub lead_unit_id: i64,
    #[serde(default)]
    #[validate(length(max = 20))]
    pub co_unit_ids: Vec<i64>,
    pub due_on: NaiveDate,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgressRequest {
    #[validate(length(min = 1, max = 5000))]
    pub text: String,
    /// The department's own notes on its assignment (replaces earlier notes when given).
    #[validate(length(min = 1, max = 5000))]
    pub internal_notes: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// More time: give `requested_due_on`.
    Extension,
    /// The item was assigned to the wrong department.
    Return,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentRequestInput {
    pub kind: RequestKind,
    pub requested_due_on: Option<NaiveDate>,
    #[validate(length(min = 1, max = 2000))]
    pub reason: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestDecision {
    pub approve: bool,
    #[validate(length(min = 1, max = 2000))]
    pub reason: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyRequest {
    pub result: ReplyResult,
    #[validate(length(min = 1, max = 20000))]
    pub explanation: String,
    /// Required when the result is `not_adopted`.
    #[validate(length(min = 1, max = 2000))]
    pub not_adopted_reason: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationRequest {
    pub rating: Rating,
    /// Required when unsatisfied.
    #[validate(length(min = 1, max = 2000))]
    pub comment: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    #[validate(length(min = 1, max = 2000))]
    pub reason: String,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SuggestionQuery {
    pub status: Option<SuggestionStatus>,
    pub category: Option<Category>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AssignmentQuery {
    pub status: Option<AssignmentStatus>,
    /// A department (staff only; a department user sees its own unit).
    pub unit_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CosignerView {
    pub cadre_id: i64,
    pub name: String,
    pub confirmed: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SupplementView {
    pub id: i64,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InstructionView {
    pub id: i64,
    pub round: i32,
    pub leader_id: i64,
    pub leader_name: String,
    pub text: String,
    pub instructed_on: NaiveDate,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProgressView {
    pub text: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssignmentView {
    pub id: i64,
    pub suggestion_id: i64,
    pub suggestion_title: String,
    pub instruction_id: i64,
    pub round: i32,
    pub unit_id: i64,
    pub unit_name: String,
    /// The lead handling department (承办); otherwise co-handling (协办).
    pub lead: bool,
    pub due_on: NaiveDate,
    pub status: AssignmentStatus,
    pub status_label: &'static str,
    /// Not replied and past due.
    pub overdue: bool,
    pub result: Option<ReplyResult>,
    pub result_label: Option<&'static str>,
    pub reply_text: Option<String>,
    pub not_adopted_reason: Option<String>,
    pub replied_at: Option<DateTime<Utc>>,
    pub progress: Vec<ProgressView>,
    /// Shown to the department itself and to staff only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal_notes: Option<String>,
    pub version: i32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RatingView {
    pub round: i32,
    pub rating: Rating,
    pub rating_label: &'static str,
    pub comment: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssignmentRequestView {
    pub id: i64,
    pub assignment_id: i64,
    pub kind: RequestKind,
    pub requested_due_on: Option<NaiveDate>,
    pub reason: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    pub decision_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SuggestionView {
    pub id: i64,
    pub author_cadre_id: i64,
    pub author_name: String,
    pub title: String,
    /// The text as submitted; it never changes (supplements follow it).
    pub body: String,
    pub category: Category,
    pub category_label: &'static str,
    pub status: SuggestionStatus,
    pub status_label: &'static str,
    /// The handling round; an unsatisfied rating opens the next.
    pub round: i32,
    pub intake_reason_code: Option<String>,
    pub intake_explanation: Option<String>,
    pub merged_into: Option<i64>,
    pub closed_reason: Option<String>,
    pub cosigners: Vec<CosignerView>,
    pub supplements: Vec<SupplementView>,
    pub presented_to: Vec<i64>,
    pub instructions: Vec<InstructionView>,
    pub assignments: Vec<AssignmentView>,
    pub ratings: Vec<RatingView>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A suggestion in a list: without its history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SuggestionSummary {
    pub id: i64,
    pub author_cadre_id: i64,
    pub title: String,
    pub category: Category,
    pub status: SuggestionStatus,
    pub status_label: &'static str,
    pub round: i32,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// Suggestions submitted at or after this time (default: the start of this year).
    pub from: Option<DateTime<Utc>>,
    /// Suggestions submitted before this time (default: now).
    pub to: Option<DateTime<Utc>>,
}
