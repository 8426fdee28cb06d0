//! The `Caller` extractor: every authenticated handler takes one, so a route cannot forget to check the token.

use std::future::ready;

use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::jwt::{Claims, JwtSettings, TokenError};
use crate::db::session::{Municipality, Session};
use crate::http::error::AppError;
use crate::http::request_id::RequestId;
use crate::national_id::{NationalId, NationalIdKey};

crate::text_enum! {
    /// What a token says its bearer is (`roles`); the access log records the most specific one.
    pub enum Role {
        Professional,
        Guardian,
        Youth,
        Admin,
        Integration,
        /// A unit leader (*enhetsleder*): the token's `services` are the services they lead. Sees the case
        /// metadata of those services and moves the relay when a holder is away; never content, unless
        /// also a participant (see `crate::policy`).
        Leader,
    }
}

/// The verified identity behind a request. `Debug` leaves out the national identity number.
#[derive(Clone)]
pub struct Caller {
    pub tenant: String,
    /// `tenant`, checked: what each of the caller's transactions names (row-level security).
    municipality: Municipality,
    pub user_id: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub services: Vec<String>,
    /// National identity number from a national login; matched against guardians and the subject.
    pub pid: Option<String>,
    /// The keyed hash of `pid`, as participants' national ids are stored: how guardians are recognised.
    pub pid_hash: Option<Vec<u8>>,
    /// The token's OAuth scopes (`scope`, space-separated).
    pub scopes: Vec<String>,
    pub request_id: String,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("tenant", &self.tenant)
            .field("user_id", &self.user_id)
            .field("roles", &self.roles)
            .field("services", &self.services)
            .field("pid", &self.pid.as_ref().map(|_| "***********"))
            .finish_non_exhaustive()
    }
}

impl Caller {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn require_role(&self, role: Role) -> Result<(), AppError> {
        if self.has_role(role) {
            Ok(())
        } else {
            Err(AppError::forbidden(format!(
                "this needs the `{}` role",
                role.as_str()
            )))
        }
    }

    /// What each of the caller's transactions begins with: the municipality (row-level security) and, for
    /// staff, the check that the municipality has not registered them as departed.
    pub fn session(&self) -> Session {
        let staff = [
            Role::Professional,
            Role::Leader,
            Role::Admin,
            Role::Integration,
        ];
        if staff.iter().any(|r| self.has_role(*r)) {
            Session::staff(self.municipality, &self.user_id)
        } else {
            Session::from(self.municipality)
        }
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    pub fn works_in(&self, service: &str) -> bool {
        self.services.iter().any(|s| s == service)
    }

    /// Whether the caller leads `service` (a `leader` token names the services led in `services`).
    pub fn leads(&self, service: &str) -> bool {
        self.has_role(Role::Leader) && self.works_in(service)
    }

    /// The integration a webhook acts for when its deliveries are sent: its municipality, its login and the
    /// services of the token that created the webhook. Nothing else gets one: requests get theirs from a
    /// verified token.
    pub fn webhook_owner(tenant: &str, user_id: &str, services: Vec<String>) -> Option<Caller> {
        Some(Caller {
            tenant: tenant.into(),
            municipality: Municipality::parse(tenant)?,
            user_id: user_id.into(),
            name: user_id.into(),
            roles: vec![Role::Integration],
            services,
            pid: None,
            pid_hash: None,
            scopes: vec![],
            request_id: String::new(),
        })
    }

    /// The person a calendar feed belongs to, as the token that made the feed said (a calendar app asks
    /// without a token): their municipality, login, name, roles, services and national id's hash.
    /// Nothing else gets one: requests get theirs from a verified token.
    pub fn calendar_owner(
        tenant: String,
        (user_id, name): (String, String),
        roles: Vec<Role>,
        services: Vec<String>,
        pid_hash: Option<Vec<u8>>,
    ) -> Option<Caller> {
        Some(Caller {
            municipality: Municipality::parse(&tenant)?,
            tenant,
            user_id,
            name,
            roles,
            services,
            pid: None,
            pid_hash,
            scopes: vec![],
            request_id: String::new(),
        })
    }

    /// A caller for tests of the rules (no token, no national id): the unit tests, and the test that holds
    /// the grant table to the rule. Requests never get one: theirs comes from a verified token.
    #[doc(hidden)]
    pub fn for_tests(tenant: &str, user_id: &str, roles: &[Role], services: &[&str]) -> Caller {
        Caller {
            tenant: tenant.into(),
            municipality: Municipality::parse(tenant).expect("a 4-digit municipality"),
            user_id: user_id.into(),
            name: user_id.into(),
            roles: roles.to_vec(),
            services: services.iter().map(|s| s.to_string()).collect(),
            pid: None,
            pid_hash: None,
            scopes: vec![],
            request_id: String::new(),
        }
    }

    /// The role recorded in the access log: the most specific one the caller acts in.
    pub fn primary_role(&self) -> Role {
        [
            Role::Professional,
            Role::Guardian,
            Role::Youth,
            Role::Integration,
            Role::Leader,
            Role::Admin,
        ]
        .into_iter()
        .find(|r| self.has_role(*r))
        .unwrap_or(Role::Professional)
    }
}

/// The bearer token of the request.
fn bearer(req: &HttpRequest) -> Result<String, AppError> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or_else(|| {
            AppError::unauthorized("missing Authorization header with a bearer token")
        })?;
    let value = header
        .to_str()
        .map_err(|_| AppError::unauthorized("the Authorization header is not readable"))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or_else(|| AppError::unauthorized("the Authorization header must be `Bearer <token>`"))?
        .trim();
    Ok(token.to_string())
}

fn settings(req: &HttpRequest) -> web::Data<JwtSettings> {
    req.app_data::<web::Data<JwtSettings>>()
        .expect("JwtSettings is registered in app data")
        .clone()
}

/// The most services and roles one token may name; with the lengths below, what a token says of its
/// holder fits the bounds the spec states where it is echoed (`GET /me`, access events, records).
pub const MAX_CLAIMED_SERVICES: usize = 1000;
pub const MAX_CLAIMED_ROLES: usize = 6;

/// Whether a verified token's claims are within the bounds the service keeps: a longer name or more
/// services than any person has is a misconfigured identity provider, refused rather than stored.
pub fn claims_within_bounds(claims: &Claims) -> Result<(), &'static str> {
    if claims.sub.is_empty() || claims.sub.chars().count() > 200 {
        return Err("the `sub` claim must be 1-200 characters");
    }
    if claims.name.chars().count() > 200 {
        return Err("the `name` claim must be at most 200 characters");
    }
    if claims.roles.len() > MAX_CLAIMED_ROLES {
        return Err("the `roles` claim names at most 6 roles");
    }
    if claims.services.len() > MAX_CLAIMED_SERVICES {
        return Err("the `services` claim names at most 1,000 services");
    }
    if claims
        .pid
        .as_ref()
        .is_some_and(|p| p.len() != 11 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err("the `pid` claim must be an 11-digit national identity number");
    }
    Ok(())
}

fn caller(req: &HttpRequest, verified: Result<Claims, TokenError>) -> Result<Caller, AppError> {
    let claims = verified.map_err(|e| AppError::unauthorized(e.to_string()))?;
    let municipality = Municipality::parse(&claims.tenant).ok_or_else(|| {
        AppError::unauthorized("the `tenant` claim must be a 4-digit municipality number")
    })?;
    // These end up in the access log; PostgreSQL cannot store a NUL character.
    if std::iter::once(&claims.sub)
        .chain([&claims.name])
        .chain(&claims.services)
        .any(|c| c.contains('\0'))
    {
        return Err(AppError::unauthorized(
            "the `sub`, `name` and `services` claims must not contain the NUL character",
        ));
    }
    claims_within_bounds(&claims).map_err(AppError::unauthorized)?;
    let mut claims = claims;
    let claimed = claims.services.len();
    // An entry that is no service code (an identity provider's group name, say) can name no service of
    // this municipality: it is left out rather than refusing the token.
    claims
        .services
        .retain(|s| crate::http::bounds::is_service_code(s));
    if claims.services.len() < claimed {
        log::info!(
            "left out {} entries of a token's `services` claim that are no service codes",
            claimed - claims.services.len()
        );
    }
    crate::http::rate_limit::check_caller(req, &claims.tenant, &claims.sub)?;
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let pid_hash = match (&claims.pid, req.app_data::<web::Data<NationalIdKey>>()) {
        (Some(pid), Some(key)) => NationalId::parse(pid).ok().map(|id| key.lookup_hash(&id)),
        _ => None,
    };
    Ok(Caller {
        tenant: claims.tenant,
        municipality,
        user_id: claims.sub,
        name: claims.name,
        roles: claims.roles,
        services: claims.services,
        pid: claims.pid,
        pid_hash,
        scopes: claims.scope.split_whitespace().map(String::from).collect(),
        request_id,
    })
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    /// Verifies on the spot. Only a token naming a `kid` the identity provider's key set lacks waits: for
    /// one fetch of the keys on a blocking thread (bounded by its timeout, at most once a cooldown), after
    /// which it is verified again. Everything else is answered without touching a file or the network.
    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let token = match bearer(req) {
            Ok(t) => t,
            Err(e) => return Box::pin(ready(Err(e))),
        };
        let settings = settings(req);
        match settings.verify(&token) {
            Err(TokenError::UnknownKey) if settings.claim_fetch_for_unknown_kid() => {
                let req = req.clone();
                Box::pin(async move {
                    let fetching = settings.clone();
                    // A failed fetch keeps the keys at hand; the token is then refused as unknown.
                    let _ = web::block(move || fetching.refresh_keys()).await;
                    caller(&req, settings.verify(&token))
                })
            }
            verified => Box::pin(ready(caller(req, verified))),
        }
    }
}

/// The service a caller acts for: the one named (in `field`), which must be one of theirs, or their only
/// one.
pub fn one_of_mine(mine: &[String], named: Option<&str>, field: &str) -> Result<String, AppError> {
    match (named, mine) {
        (Some(s), _) if mine.iter().any(|m| m == s) => Ok(s.to_string()),
        (Some(_), _) => Err(AppError::invalid(
            field,
            "is not one of your services (token claim `services`)",
        )),
        (None, [only]) => Ok(only.clone()),
        (None, _) => Err(AppError::invalid(
            field,
            "is required when your token names more or fewer than one service",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            sub: "ola".into(),
            name: "Ola Testperson".into(),
            tenant: "3805".into(),
            roles: vec![],
            services: vec!["barnehage-solstua".into()],
            pid: None,
            scope: String::new(),
            iss: "i".into(),
            aud: "a".into(),
            exp: 0,
            iat: 0,
        }
    }

    #[test]
    fn claims_within_bounds_take_an_ordinary_token() {
        assert_eq!(claims_within_bounds(&claims()), Ok(()));
    }

    #[test]
    fn claims_within_bounds_refuse_a_name_longer_than_200_characters() {
        let mut c = claims();
        c.name = "ø".repeat(200);
        assert_eq!(claims_within_bounds(&c), Ok(()));
        c.name.push('x');
        assert!(claims_within_bounds(&c).unwrap_err().contains("`name`"));
    }

    #[test]
    fn claims_within_bounds_refuse_more_than_1000_services() {
        let mut c = claims();
        c.services = (0..1000).map(|i| format!("s{i}")).collect();
        assert_eq!(claims_within_bounds(&c), Ok(()));
        c.services.push("s1000".into());
        assert!(claims_within_bounds(&c).unwrap_err().contains("`services`"));
    }

    #[test]
    fn claims_within_bounds_refuse_a_pid_that_is_not_11_digits() {
        let mut c = claims();
        c.pid = Some("1234567890".into());
        assert!(claims_within_bounds(&c).unwrap_err().contains("`pid`"));
        c.pid = Some("1483201008x".into());
        assert!(claims_within_bounds(&c).unwrap_err().contains("`pid`"));
        c.pid = Some("14832010082".into());
        assert_eq!(claims_within_bounds(&c), Ok(()));
    }
}
