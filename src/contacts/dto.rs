//! Request and response types of the normalised-contact API.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::vocabulary::vocabulary;

vocabulary!(
    /// 联系形式.
    TalkForm {
        HeartToHeart = "heart_to_heart", "谈心谈话";
        Symposium = "symposium", "座谈";
        Visit = "visit", "走访";
        Phone = "phone", "电话联系";
        Other = "other", "其他";
    }
);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTermRequest {
    /// 届次, e.g. 15 for the fifteenth term.
    #[validate(range(min = 1, max = 1000))]
    pub number: i32,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// The plan: contacts per pairing per year (default 2).
    #[validate(range(min = 0, max = 52))]
    pub min_contacts_per_year: Option<i32>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TermView {
    pub id: i64,
    pub number: i32,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub min_contacts_per_year: i32,
    /// Whether today falls within the term.
    pub current: bool,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePairingRequest {
    /// A user holding the `leader` role.
    pub leader_id: i64,
    pub cadre_id: i64,
    /// Default: today, or the term's start if later.
    pub starts_on: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndPairingRequest {
    pub ends_on: Option<NaiveDate>,
    #[validate(length(min = 1, max = 500))]
    pub reason: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaderDepartureRequest {
    pub leader_id: i64,
    pub ends_on: Option<NaiveDate>,
    #[validate(length(min = 1, max = 500))]
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PairingView {
    pub id: i64,
    pub term_id: i64,
    pub leader_id: i64,
    pub leader_name: String,
    pub cadre_id: i64,
    pub cadre_name: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub end_reason: Option<String>,
    pub active: bool,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PairingQuery {
    pub leader_id: Option<i64>,
    pub cadre_id: Option<i64>,
    /// Only pairings active today.
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCampaignRequest {
    pub term_id: i64,
    #[validate(length(min = 1, max = 100))]
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CampaignView {
    pub id: i64,
    pub term_id: i64,
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CampaignQuery {
    pub term_id: Option<i64>,
}

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpRequest {
    #[validate(length(min = 1, max = 1000))]
    pub what: String,
    /// Who is responsible (a person or a unit).
    #[validate(length(min = 1, max = 100))]
    pub responsible: String,
    pub due_on: NaiveDate,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTalkRequest {
    pub held_on: NaiveDate,
    pub form: TalkForm,
    pub campaign_id: Option<i64>,
    /// Further pairings the talk covers (a symposium with several cadres, or several leaders).
    #[serde(default)]
    #[validate(length(max = 50))]
    pub also_pairing_ids: Vec<i64>,
    /// The cadre's work.
    #[validate(length(max = 5000))]
    pub work: Option<String>,
    /// The cadre's study.
    #[validate(length(max = 5000))]
    pub study: Option<String>,
    /// The cadre's life.
    #[validate(length(max = 5000))]
    pub life: Option<String>,
    /// Concerns the cadre raised.
    #[validate(length(max = 5000))]
    pub concerns: Option<String>,
    /// The leader's response.
    #[validate(length(max = 5000))]
    pub response: Option<String>,
    /// Seen by the author only.
    #[validate(length(max = 5000))]
    pub private_notes: Option<String>,
    #[serde(default)]
    #[validate(length(max = 50), nested)]
    pub follow_ups: Vec<FollowUpRequest>,
}

/// A correction within the first 7 days: the fields given replace the recorded ones.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTalkRequest {
    pub held_on: Option<NaiveDate>,
    pub form: Option<TalkForm>,
    #[validate(length(max = 5000))]
    pub work: Option<String>,
    #[validate(length(max = 5000))]
    pub study: Option<String>,
    #[validate(length(max = 5000))]
    pub life: Option<String>,
    #[validate(length(max = 5000))]
    pub concerns: Option<String>,
    #[validate(length(max = 5000))]
    pub response: Option<String>,
    #[validate(length(max = 5000))]
    pub private_notes: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    #[validate(length(min = 1, max = 5000))]
    pub text: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateFollowUpRequest {
    pub done: Option<bool>,
    #[validate(length(min = 1, max = 2000))]
    pub outcome: Option<String>,
    pub done_on: Option<NaiveDate>,
    pub due_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FollowUpView {
    pub id: i64,
    pub talk_id: i64,
    pub what: String,
    pub responsible: String,
    pub due_on: NaiveDate,
    pub done: bool,
    pub outcome: Option<String>,
    pub done_on: Option<NaiveDate>,
    /// Not done and past due.
    pub overdue: bool,
    pub version: i32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoteView {
    pub id: i64,
    pub author_id: i64,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TalkView {
    pub id: i64,
    pub author_id: i64,
    pub pairing_ids: Vec<i64>,
    pub held_on: NaiveDate,
    pub form: TalkForm,
    pub form_label: &'static str,
    pub campaign_id: Option<i64>,
    pub work: Option<String>,
    pub study: Option<String>,
    pub life: Option<String>,
    pub concerns: Option<String>,
    pub response: Option<String>,
    /// Present for the author only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_notes: Option<String>,
    pub follow_ups: Vec<FollowUpView>,
    pub notes: Vec<NoteView>,
    /// Until when the author may correct the record directly.
    pub correctable_until: DateTime<Utc>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
}

/// A talk as the representative it was held with sees it: when, how, who, and what follows.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyTalkView {
    pub id: i64,
    pub held_on: NaiveDate,
    pub form: TalkForm,
    pub form_label: &'static str,
    pub leader_name: String,
    pub follow_ups: Vec<FollowUpView>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CoverageQuery {
    /// Default: the current term.
    pub term_id: Option<i64>,
    /// Default: this year.
    #[validate(range(min = 1949, max = 2200))]
    pub year: Option<i32>,
}
