//! The OpenAPI document's frame; the paths are gathered from the routes themselves
//! (utoipa-actix-web), so a route cannot be served without being documented.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

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
