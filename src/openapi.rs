//! The OpenAPI document's frame; the paths are gathered from the routes themselves
//! (utoipa-actix-web), so a route cannot be served without being documented.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::auth::roles::roles_holding;
use crate::auth::{Permission, Role};
use crate::error::Problem;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "tongxin 同心",
        description = "Non-party representative personnel information system of a district United Front Work Department. Errors are `application/problem+json` (schema `Problem`); see docs/api.md for the codes.",
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Login, token refresh, logout, the signed-in user"),
        (name = "users", description = "User accounts and their roles (administrators)"),
        (name = "units", description = "The district, its townships and departments"),
        (name = "audit", description = "The hash-chained audit log (auditors)"),
        (name = "cadres", description = "The non-party cadre database (mechanism 5)"),
        (name = "meetings", description = "Decision participation, 逢会必进 (mechanism 1)"),
        (name = "contacts", description = "Normalised contact between leaders and cadres (mechanism 3)"),
        (name = "suggestions", description = "The direct channel for suggestions, 直通车 (mechanism 2)"),
        (name = "appointments", description = "Talent pool, appointments, assessments and evaluations (mechanisms 4 and 5)"),
        (name = "notifications", description = "In-app notifications of the signed-in user"),
        (name = "health", description = "Probes"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Completes the document gathered from the routes: the roles of each operation, then the
/// problems every operation can answer.
pub fn complete(doc: &mut utoipa::openapi::OpenApi) {
    name_roles(doc);
    add_common_problems(doc);
}

fn for_each_operation(
    doc: &mut utoipa::openapi::OpenApi,
    mut visit: impl FnMut(&mut utoipa::openapi::path::Operation),
) {
    for item in doc.paths.paths.values_mut() {
        let operations = [
            item.get.as_mut(),
            item.post.as_mut(),
            item.put.as_mut(),
            item.patch.as_mut(),
            item.delete.as_mut(),
        ];
        operations.into_iter().flatten().for_each(&mut visit);
    }
}

/// Names who may call each operation. A handler's annotation gives, as the scope of its bearer
/// requirement, the permission its `Authorized<P>` extractor requires; this replaces it with the
/// roles holding that permission in `auth::roles` (OpenAPI 3.1 lets a non-OAuth requirement list
/// role names), and says the same in the description. An empty scope means any signed-in user.
/// Clients, the fuzzing in `.ci/fuzz.py` and the role-table test read the roles from here.
fn name_roles(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::security::SecurityRequirement;
    for_each_operation(doc, |operation| {
        let Some(requirements) = operation.security.as_mut() else {
            return;
        };
        let mut callers = None;
        for requirement in requirements.iter_mut() {
            // utoipa keeps a requirement's scopes private: its serialised form is how to read them.
            let value = serde_json::to_value(&*requirement).expect("a requirement serialises");
            let Some(("bearer", serde_json::Value::Array(scopes))) = value
                .as_object()
                .and_then(|map| map.iter().next())
                .map(|(name, scopes)| (name.as_str(), scopes))
            else {
                continue;
            };
            let mut roles: Vec<&str> = Vec::new();
            for scope in scopes {
                let name = scope.as_str().unwrap_or_default();
                let permission = Permission::from_name(name)
                    .unwrap_or_else(|| panic!("OpenAPI annotation names no permission {name:?}"));
                roles.extend(roles_holding(permission).into_iter().map(Role::as_str));
            }
            callers = Some(if roles.is_empty() {
                "Any signed-in user.".to_owned()
            } else {
                format!("Roles: {}.", roles.join(", "))
            });
            *requirement = SecurityRequirement::new("bearer", roles);
        }
        if let Some(callers) = callers {
            let description = operation.description.get_or_insert_with(String::new);
            if !description.is_empty() {
                description.push_str("\n\n");
            }
            description.push_str(&callers);
        }
    });
}

/// Problems any operation can answer, whatever its own annotations list: malformed input, a
/// request body too large, of the wrong type or too slow, a spent rate budget, a database that
/// is unreachable, an internal fault — and, where a token is required, 401 and 403. Added to every
/// operation so that the document covers every status the service sends.
fn add_common_problems(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    const COMMON: [(&str, &str); 9] = [
        ("400", "Malformed request: query, cursor or JSON syntax"),
        ("404", "No such record, or one outside the caller's scope"),
        ("408", "The request body did not arrive in time"),
        ("413", "The request body is too large"),
        ("415", "The request body is not application/json"),
        ("422", "The request body or query breaks a rule"),
        (
            "429",
            "Too many requests from this address, or a locked user name",
        ),
        (
            "500",
            "An internal fault; the body carries only the request id",
        ),
        (
            "503",
            "The database is unreachable or busy; retry after Retry-After seconds",
        ),
    ];
    let problem = || {
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build()
    };
    for_each_operation(doc, |operation| {
        let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
        let mut statuses: Vec<(&str, &str)> = COMMON.to_vec();
        if secured {
            statuses.push(("401", "No valid access token"));
            statuses.push(("403", "The caller's roles do not allow this"));
        }
        for (status, description) in statuses {
            operation
                .responses
                .responses
                .entry(status.to_owned())
                .or_insert_with(|| {
                    ResponseBuilder::new()
                        .description(description)
                        .content("application/problem+json", problem())
                        .into()
                });
        }
    });
}
