//! Who is looking at a page: a signed-in person (the session cookie), or a
//! redirect to `/login` that comes back here afterwards.

use crate::auth::{Credential, Permission, Principal};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use std::convert::Infallible;

pub struct Viewer {
    pub principal: Principal,
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Viewer, Response> {
        match Principal::from_request_parts(parts, state).await {
            Ok(principal) => Ok(Viewer { principal }),
            Err(e) if e.status == StatusCode::UNAUTHORIZED => {
                let here = parts
                    .uri
                    .path_and_query()
                    .map_or("/", |p| p.as_str())
                    .to_owned();
                let next: String = form_urlencoded::byte_serialize(here.as_bytes()).collect();
                Err(Redirect::to(&format!("/login?next={next}")).into_response())
            }
            Err(e) => Err(PageError(e).into_response()),
        }
    }
}

/// `Option<Viewer>`: whoever is signed in, if anyone (the sign-in page).
impl OptionalFromRequestParts<AppState> for Viewer {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Viewer>, Infallible> {
        let principal =
            <Principal as FromRequestParts<AppState>>::from_request_parts(parts, state).await;
        Ok(principal.ok().map(|principal| Viewer { principal }))
    }
}

/// What the page chrome shows of the viewer.
pub struct Chrome {
    pub title: String,
    /// Which navigation entry is this page's.
    pub nav: &'static str,
    pub who: String,
    pub tenant: String,
    pub can_export: bool,
    pub can_manage: bool,
}

impl Viewer {
    pub fn chrome(&self, title: impl Into<String>, nav: &'static str) -> Chrome {
        let p = &self.principal;
        Chrome {
            title: title.into(),
            nav,
            who: match &p.credential {
                Credential::Person { email, role, .. } => format!("{email} ({})", role.as_str()),
                Credential::ApiKey { name, .. } => format!("key {name}"),
            },
            tenant: p.tenant.clone(),
            can_export: p.may(Permission::Export),
            can_manage: p.may(Permission::Manage),
        }
    }

    pub fn require(&self, permission: Permission) -> Result<(), PageError> {
        self.principal.require(permission).map_err(PageError)
    }
}

/// An API error, shown as a page.
pub struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let template = super::pages::ErrorPage {
            status: self.0.status.as_u16(),
            message: self.0.message,
        };
        let body = askama::Template::render(&template)
            .unwrap_or_else(|_| "flightrec: the error page failed to render".into());
        (self.0.status, Html(body)).into_response()
    }
}

pub type PageResult = Result<Response, PageError>;

/// Renders a template as a page.
pub fn render(template: &impl askama::Template) -> PageResult {
    template
        .render()
        .map(|html| Html(html).into_response())
        .map_err(|e| PageError(ApiError::internal("a page failed to render", &e)))
}
