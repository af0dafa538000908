//! The role table, walked over every route of the OpenAPI document and every role. A route
//! that is served but missing here (or listed here but not served) fails the test, so every
//! new route must state who may call it.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{TestApp, ROLES};

/// Who may call a route.
enum Access {
    /// Anyone, without a token.
    Public,
    /// Any signed-in user.
    SignedIn,
    /// Signed-in users holding one of these roles; the others get 403.
    Roles(&'static [&'static str]),
}

use Access::{Public, Roles, SignedIn};

const EVERYONE: &[&str] = &ROLES;

/// Keep the cadre database: the UFWD and the Organization Department.
const CADRE_KEEPERS: &[&str] = &["ufwd_staff", "org_staff"];
/// Read every cadre (masked).
const CADRE_READERS: &[&str] = &["ufwd_staff", "org_staff", "leader", "auditor"];
/// Read one cadre: the readers, and a representative (only their own; others answer 404).
const CADRE_VIEWERS: &[&str] = &[
    "ufwd_staff",
    "org_staff",
    "leader",
    "auditor",
    "representative",
];

/// Read meetings and the participation reports.
const MEETING_READERS: &[&str] = &["ufwd_staff", "org_staff", "leader", "auditor"];

/// Read contact records (a leader: only its own pairings').
const CONTACT_READERS: &[&str] = &["ufwd_staff", "org_staff", "leader", "auditor"];

/// Read suggestions, each within its scope (admin sees none).
const SUGGESTION_READERS: &[&str] = &[
    "ufwd_staff",
    "org_staff",
    "leader",
    "department",
    "representative",
    "auditor",
];
/// Read assignments (a department: its own unit's).
const ASSIGNMENT_READERS: &[&str] = &["ufwd_staff", "org_staff", "department", "auditor"];

/// Read the talent pool, appointments, assessments and the appointment figures.
const APPOINTMENT_READERS: &[&str] = &["ufwd_staff", "org_staff", "leader", "auditor"];

/// The expected rule of every route. Keep it in step with `src/auth/roles.rs`.
const TABLE: &[(&str, &str, Access)] = &[
    ("GET", "/health/live", Public),
    ("GET", "/health/ready", Public),
    ("POST", "/api/v1/auth/login", Public),
    ("POST", "/api/v1/auth/refresh", Public),
    ("POST", "/api/v1/auth/logout", SignedIn),
    ("GET", "/api/v1/me", SignedIn),
    ("PUT", "/api/v1/me/password", SignedIn),
    ("GET", "/api/v1/users", Roles(&["admin"])),
    ("POST", "/api/v1/users", Roles(&["admin"])),
    ("GET", "/api/v1/users/{id}", Roles(&["admin"])),
    ("PATCH", "/api/v1/users/{id}", Roles(&["admin"])),
    (
        "POST",
        "/api/v1/users/{id}/reset-password",
        Roles(&["admin"]),
    ),
    ("GET", "/api/v1/units", Roles(EVERYONE)),
    ("POST", "/api/v1/units", Roles(&["admin"])),
    ("GET", "/api/v1/units/{id}", Roles(EVERYONE)),
    ("PATCH", "/api/v1/units/{id}", Roles(&["admin"])),
    ("GET", "/api/v1/audit/events", Roles(&["auditor"])),
    ("GET", "/api/v1/audit/verify", Roles(&["auditor"])),
    ("GET", "/api/v1/cadres", Roles(CADRE_READERS)),
    ("POST", "/api/v1/cadres", Roles(CADRE_KEEPERS)),
    ("GET", "/api/v1/cadres/export", Roles(CADRE_KEEPERS)),
    (
        "GET",
        "/api/v1/cadres/import-template",
        Roles(CADRE_KEEPERS),
    ),
    ("POST", "/api/v1/cadres/import", Roles(CADRE_KEEPERS)),
    ("POST", "/api/v1/cadres/lookup", Roles(CADRE_READERS)),
    ("GET", "/api/v1/stats/cadres", Roles(CADRE_READERS)),
    ("GET", "/api/v1/cadres/{id}", Roles(CADRE_VIEWERS)),
    ("PATCH", "/api/v1/cadres/{id}", Roles(CADRE_KEEPERS)),
    ("POST", "/api/v1/cadres/{id}/archive", Roles(CADRE_KEEPERS)),
    ("POST", "/api/v1/cadres/{id}/restore", Roles(CADRE_KEEPERS)),
    ("POST", "/api/v1/cadres/{id}/reveal", Roles(CADRE_KEEPERS)),
    ("GET", "/api/v1/cadres/{id}/{kind}", Roles(CADRE_VIEWERS)),
    ("POST", "/api/v1/cadres/{id}/{kind}", Roles(CADRE_KEEPERS)),
    (
        "PATCH",
        "/api/v1/cadres/{id}/{kind}/{record_id}",
        Roles(CADRE_KEEPERS),
    ),
    (
        "DELETE",
        "/api/v1/cadres/{id}/{kind}/{record_id}",
        Roles(CADRE_KEEPERS),
    ),
    ("GET", "/api/v1/me/profile", Roles(&["representative"])),
    (
        "POST",
        "/api/v1/me/profile/corrections",
        Roles(&["representative"]),
    ),
    (
        "GET",
        "/api/v1/me/profile/corrections",
        Roles(&["representative"]),
    ),
    ("GET", "/api/v1/profile-corrections", Roles(&["ufwd_staff"])),
    (
        "POST",
        "/api/v1/profile-corrections/{id}/decision",
        Roles(&["ufwd_staff"]),
    ),
    ("GET", "/api/v1/meetings", Roles(MEETING_READERS)),
    ("POST", "/api/v1/meetings", Roles(&["ufwd_staff"])),
    ("GET", "/api/v1/meetings/compliance", Roles(MEETING_READERS)),
    ("GET", "/api/v1/stats/participation", Roles(MEETING_READERS)),
    ("GET", "/api/v1/meetings/{id}", Roles(MEETING_READERS)),
    ("PATCH", "/api/v1/meetings/{id}", Roles(&["ufwd_staff"])),
    (
        "POST",
        "/api/v1/meetings/{id}/transitions",
        Roles(&["ufwd_staff"]),
    ),
    (
        "POST",
        "/api/v1/meetings/{id}/exemption",
        Roles(&["ufwd_staff"]),
    ),
    (
        "GET",
        "/api/v1/meetings/{id}/agenda-items",
        Roles(MEETING_READERS),
    ),
    (
        "POST",
        "/api/v1/meetings/{id}/agenda-items",
        Roles(&["ufwd_staff"]),
    ),
    ("PATCH", "/api/v1/agenda-items/{id}", Roles(&["ufwd_staff"])),
    (
        "GET",
        "/api/v1/meetings/{id}/candidates",
        Roles(MEETING_READERS),
    ),
    (
        "GET",
        "/api/v1/meetings/{id}/invitations",
        Roles(MEETING_READERS),
    ),
    (
        "POST",
        "/api/v1/meetings/{id}/invitations",
        Roles(&["ufwd_staff"]),
    ),
    ("PATCH", "/api/v1/invitations/{id}", Roles(&["ufwd_staff"])),
    ("GET", "/api/v1/me/invitations", Roles(&["representative"])),
    (
        "POST",
        "/api/v1/invitations/{id}/response",
        Roles(&["representative"]),
    ),
    (
        "GET",
        "/api/v1/agenda-items/{id}/opinions",
        Roles(MEETING_READERS),
    ),
    (
        "POST",
        "/api/v1/agenda-items/{id}/opinions",
        Roles(&["ufwd_staff", "representative"]),
    ),
    (
        "POST",
        "/api/v1/opinions/{id}/adoption",
        Roles(&["ufwd_staff"]),
    ),
    ("GET", "/api/v1/me/opinions", Roles(&["representative"])),
    ("GET", "/api/v1/terms", Roles(CONTACT_READERS)),
    ("POST", "/api/v1/terms", Roles(&["ufwd_staff"])),
    ("GET", "/api/v1/terms/{id}/pairings", Roles(CONTACT_READERS)),
    (
        "POST",
        "/api/v1/terms/{id}/pairings",
        Roles(&["ufwd_staff"]),
    ),
    (
        "POST",
        "/api/v1/terms/{id}/leader-departures",
        Roles(&["ufwd_staff"]),
    ),
    ("POST", "/api/v1/pairings/{id}/end", Roles(&["ufwd_staff"])),
    ("GET", "/api/v1/campaigns", Roles(CONTACT_READERS)),
    ("POST", "/api/v1/campaigns", Roles(&["ufwd_staff"])),
    ("GET", "/api/v1/pairings/{id}/talks", Roles(CONTACT_READERS)),
    ("POST", "/api/v1/pairings/{id}/talks", Roles(&["leader"])),
    ("GET", "/api/v1/talks/{id}", Roles(CONTACT_READERS)),
    ("PATCH", "/api/v1/talks/{id}", Roles(&["leader"])),
    ("POST", "/api/v1/talks/{id}/notes", Roles(&["leader"])),
    (
        "GET",
        "/api/v1/talks/{id}/follow-ups",
        Roles(CONTACT_READERS),
    ),
    ("POST", "/api/v1/talks/{id}/follow-ups", Roles(&["leader"])),
    ("PATCH", "/api/v1/follow-ups/{id}", Roles(&["leader"])),
    (
        "GET",
        "/api/v1/contacts/coverage",
        Roles(&["ufwd_staff", "org_staff", "auditor"]),
    ),
    ("GET", "/api/v1/me/talks", Roles(&["representative"])),
    ("POST", "/api/v1/suggestions", Roles(&["representative"])),
    ("GET", "/api/v1/suggestions", Roles(SUGGESTION_READERS)),
    (
        "GET",
        "/api/v1/suggestions/overdue",
        Roles(ASSIGNMENT_READERS),
    ),
    (
        "GET",
        "/api/v1/suggestions/due-soon",
        Roles(ASSIGNMENT_READERS),
    ),
    ("GET", "/api/v1/suggestions/{id}", Roles(SUGGESTION_READERS)),
    (
        "POST",
        "/api/v1/suggestions/{id}/supplements",
        Roles(&["representative"]),
    ),
    (
        "POST",
        "/api/v1/suggestions/{id}/cosign",
        Roles(&["representative"]),
    ),
    (
        "POST",
        "/api/v1/suggestions/{id}/intake",
        Roles(&["ufwd_staff"]),
    ),
    (
        "POST",
        "/api/v1/suggestions/{id}/present",
        Roles(&["ufwd_staff"]),
    ),
    (
        "POST",
        "/api/v1/suggestions/{id}/instructions",
        Roles(&["leader"]),
    ),
    (
        "POST",
        "/api/v1/suggestions/{id}/evaluation",
        Roles(&["representative"]),
    ),
    (
        "POST",
        "/api/v1/suggestions/{id}/close",
        Roles(&["ufwd_staff"]),
    ),
    ("GET", "/api/v1/assignments", Roles(ASSIGNMENT_READERS)),
    (
        "POST",
        "/api/v1/assignments/{id}/acknowledge",
        Roles(&["department"]),
    ),
    (
        "POST",
        "/api/v1/assignments/{id}/progress",
        Roles(&["department"]),
    ),
    (
        "POST",
        "/api/v1/assignments/{id}/extension-requests",
        Roles(&["department"]),
    ),
    (
        "POST",
        "/api/v1/assignments/{id}/reply",
        Roles(&["department"]),
    ),
    (
        "POST",
        "/api/v1/extension-requests/{id}/decision",
        Roles(&["ufwd_staff"]),
    ),
    (
        "GET",
        "/api/v1/stats/suggestions",
        Roles(&["ufwd_staff", "org_staff", "leader", "auditor"]),
    ),
    ("GET", "/api/v1/talent-pool", Roles(APPOINTMENT_READERS)),
    ("POST", "/api/v1/talent-pool", Roles(&["org_staff"])),
    (
        "GET",
        "/api/v1/talent-pool/{id}",
        Roles(APPOINTMENT_READERS),
    ),
    (
        "POST",
        "/api/v1/talent-pool/{id}/transitions",
        Roles(&["org_staff"]),
    ),
    (
        "POST",
        "/api/v1/talent-pool/{id}/approvals",
        Roles(&["ufwd_staff", "org_staff"]),
    ),
    (
        "GET",
        "/api/v1/cadres/{id}/cultivation",
        Roles(APPOINTMENT_READERS),
    ),
    (
        "POST",
        "/api/v1/cadres/{id}/cultivation",
        Roles(&["ufwd_staff", "org_staff"]),
    ),
    ("GET", "/api/v1/recommendations", Roles(APPOINTMENT_READERS)),
    (
        "POST",
        "/api/v1/recommendations",
        Roles(&["ufwd_staff", "org_staff"]),
    ),
    (
        "GET",
        "/api/v1/cadres/{id}/appointments",
        Roles(&[
            "ufwd_staff",
            "org_staff",
            "leader",
            "auditor",
            "representative",
        ]),
    ),
    (
        "POST",
        "/api/v1/cadres/{id}/appointments",
        Roles(&["org_staff"]),
    ),
    (
        "POST",
        "/api/v1/appointments/{id}/corrections",
        Roles(&["org_staff"]),
    ),
    (
        "GET",
        "/api/v1/cadres/{id}/appointments/history",
        Roles(&[
            "ufwd_staff",
            "org_staff",
            "leader",
            "auditor",
            "representative",
        ]),
    ),
    ("GET", "/api/v1/assessments", Roles(APPOINTMENT_READERS)),
    ("POST", "/api/v1/assessments", Roles(&["org_staff"])),
    (
        "GET",
        "/api/v1/evaluation-cycles",
        Roles(&["ufwd_staff", "org_staff", "leader", "auditor", "department"]),
    ),
    (
        "POST",
        "/api/v1/evaluation-cycles",
        Roles(&["ufwd_staff", "org_staff"]),
    ),
    (
        "POST",
        "/api/v1/evaluation-cycles/{id}/close",
        Roles(&["ufwd_staff", "org_staff"]),
    ),
    (
        "GET",
        "/api/v1/evaluation-cycles/{id}/ratings",
        Roles(&["ufwd_staff", "org_staff", "leader", "auditor", "department"]),
    ),
    (
        "POST",
        "/api/v1/evaluation-cycles/{id}/ratings",
        Roles(&["ufwd_staff", "org_staff", "department"]),
    ),
    (
        "GET",
        "/api/v1/appointment-targets",
        Roles(APPOINTMENT_READERS),
    ),
    ("POST", "/api/v1/appointment-targets", Roles(&["org_staff"])),
    (
        "GET",
        "/api/v1/stats/appointments",
        Roles(APPOINTMENT_READERS),
    ),
    ("GET", "/api/v1/cadres/{id}/overview", Roles(CADRE_VIEWERS)),
    ("GET", "/api/v1/me/notifications", SignedIn),
    ("POST", "/api/v1/notifications/{id}/read", SignedIn),
];

/// Routes that end the caller's session are walked last, so that the tokens stay valid.
const SESSION_ENDING: &[&str] = &["/api/v1/auth/logout"];

fn documented_routes(doc: &Value) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                routes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    routes
}

#[actix_web::test]
async fn every_route_and_role_follows_the_table() {
    let app = TestApp::spawn().await;
    let doc = app.served_openapi().await;
    let documented = documented_routes(&doc);
    let tabled: BTreeSet<(String, String)> = TABLE
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(
        documented, tabled,
        "the OpenAPI document and the role table list different routes"
    );

    // The document names the same callers as the table (clients and the fuzzing read them).
    for (method, path, access) in TABLE {
        let security = &doc["paths"][path][method.to_lowercase()]["security"];
        let documented: Option<Vec<&str>> = security.as_array().map(|requirements| {
            let scopes = requirements[0]["bearer"].as_array().unwrap();
            scopes.iter().map(|scope| scope.as_str().unwrap()).collect()
        });
        let expected: Option<Vec<&str>> = match access {
            Public => None,
            SignedIn => Some(Vec::new()),
            Roles(allowed) => {
                let mut roles = allowed.to_vec();
                roles.sort_by_key(|role| ROLES.iter().position(|r| r == role));
                Some(roles)
            }
        };
        assert_eq!(
            documented, expected,
            "the roles documented for {method} {path}"
        );
    }

    let admin = app.admin_token().await;
    let mut tokens = Vec::new();
    for role in ROLES {
        tokens.push((role, app.token_for(&admin, role).await));
    }

    let mut order: Vec<&(&str, &str, Access)> = TABLE.iter().collect();
    order.sort_by_key(|(_, path, _)| SESSION_ENDING.contains(path));
    for (method, path, access) in order {
        let url = path
            .replace("{id}", "999999")
            .replace("{kind}", "positions")
            .replace("{record_id}", "999999");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let callers = std::iter::once((None, None))
            .chain(tokens.iter().map(|(r, t)| (Some(*r), Some(t.as_str()))));
        for (role, token) in callers {
            let mut request = app.request(method.clone(), &url, token);
            if method != Method::GET {
                request = request.json(&serde_json::json!({}));
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            let who = role.unwrap_or("no token");
            assert!(
                !status.is_server_error(),
                "{method} {path} as {who}: {status} {body}"
            );
            assert_ne!(
                body["code"], "no_such_route",
                "{method} {path} is documented but not served"
            );
            let expected_refusal = match (access, role) {
                (Public, _) => None,
                (_, None) => Some(StatusCode::UNAUTHORIZED),
                (SignedIn, Some(_)) => None,
                (Roles(allowed), Some(role)) if allowed.contains(&role) => None,
                (Roles(_), Some(_)) => Some(StatusCode::FORBIDDEN),
            };
            match expected_refusal {
                Some(refusal) => assert_eq!(status, refusal, "{method} {path} as {who}: {body}"),
                None => assert!(
                    status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                    "{method} {path} as {who} was refused: {status} {body}"
                ),
            }
        }
    }
}
