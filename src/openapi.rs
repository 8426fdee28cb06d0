//! The contract. Paths and schemas are collected from the routes as they are mounted (utoipa-actix-web),
//! so no route exists outside the spec; this module adds what every operation shares: the security scheme,
//! the problem responses, and the route table that answers 405 for a known path with the wrong method.

use actix_web::dev::ResourceDef;
use actix_web::http::Method;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, Response};
use utoipa::{Modify, OpenApi, ToResponse};

use crate::error::{FieldError, Problem, ProblemType};

macro_rules! problem_response {
    ($name:ident, $desc:literal) => {
        #[derive(ToResponse)]
        #[response(description = $desc, content_type = "application/problem+json")]
        #[allow(dead_code)]
        pub struct $name(Problem);
    };
}

problem_response!(
    MalformedRequest,
    "Malformed request: bad JSON, or a bad path or query parameter or header (named in `errors`)"
);
problem_response!(Unauthorized, "Missing, invalid or expired bearer token");
problem_response!(Forbidden, "A known caller acting outside their role");
problem_response!(NotFound, "No such resource, or one the caller may not see");
problem_response!(
    Conflict,
    "The request conflicts with the current state (the detail names the rule)"
);
problem_response!(
    PreconditionFailed,
    "If-Match does not match the current version"
);
problem_response!(
    PayloadTooLarge,
    "The body is larger than the configured limit (BODY_LIMIT_BYTES, default 1 MiB)"
);
problem_response!(UnsupportedMediaType, "The body is not application/json");
problem_response!(
    Validation,
    "Validation failed; `errors` names each field and what is wrong"
);
problem_response!(PreconditionRequired, "If-Match is required for this change");
problem_response!(Internal, "An unexpected error; logged with the request id");
problem_response!(
    Unavailable,
    "The database is unreachable; answered fast, never a hang"
);

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Stafettlogg API",
        description = "Open API for the BTI stafettlogg: who holds the relay, which level a case is at, what \
measures were agreed and how they went, shared only with the services the family consented to.\n\n\
Errors are RFC 9457 `application/problem+json`; the `type` URIs are listed in the `ProblemType` schema. \
Every response carries `X-Request-Id`.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0")
    ),
    components(
        schemas(Problem, ProblemType, FieldError, crate::cases::api::HolderFilter),
        responses(MalformedRequest, Unauthorized, Forbidden, NotFound, Conflict, PreconditionFailed,
            PayloadTooLarge, UnsupportedMediaType, Validation, PreconditionRequired, Internal, Unavailable)
    ),
    modifiers(&Security),
    tags(
        (name = "cases", description = "Cases: open, list, read, change, close"),
        (name = "participants", description = "Professionals, guardians, the subject youth and others in a case"),
        (name = "consents", description = "Consents to share with services, and what they cover today"),
        (name = "measures", description = "Measures (tiltak) and their evaluations"),
        (name = "levels", description = "Level changes of a case"),
        (name = "entries", description = "The log: append-only entries"),
        (name = "integration", description = "The change feed, export and import, for record systems and scripts"),
        (name = "handovers", description = "The stafettholder role passing to another professional"),
        (name = "timeline", description = "Everything that happened in a case"),
        (name = "access log", description = "Who read or changed what in a case"),
        (name = "configuration", description = "The municipality's settings, services and level definitions"),
        (name = "me", description = "The caller"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A JWT with claims sub, name, tenant, roles, services, pid. Development tokens: `stafettlogg token`.",
                    ))
                    .build(),
            ),
        );
    }
}

fn reference(name: &str) -> RefOr<Response> {
    RefOr::Ref(utoipa::openapi::Ref::from_response_name(name))
}

/// Adds the problem responses every operation shares, so each documents all its failure modes without
/// repeating them in every `#[utoipa::path]`.
pub fn add_standard_responses(api: &mut utoipa::openapi::OpenApi) {
    for (path, item) in api.paths.paths.iter_mut() {
        let is_api = path.starts_with("/api/");
        let has_path_params = path.contains('{');
        for op in [
            item.get.as_mut(),
            item.post.as_mut(),
            item.put.as_mut(),
            item.patch.as_mut(),
            item.delete.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            let has_body = op.request_body.is_some();
            let has_query = op
                .parameters
                .iter()
                .flatten()
                .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == utoipa::openapi::path::ParameterIn::Query));
            let responses = &mut op.responses.responses;
            let mut add = |code: &str, name: &str| {
                responses
                    .entry(code.to_string())
                    .or_insert_with(|| reference(name));
            };
            if has_body || has_query || has_path_params {
                add("400", "MalformedRequest");
            }
            if is_api {
                add("401", "Unauthorized");
            }
            if has_path_params {
                add("404", "NotFound");
            }
            if has_body {
                add("413", "PayloadTooLarge");
                add("415", "UnsupportedMediaType");
                add("422", "Validation");
            }
            add("500", "Internal");
            if is_api || path == "/health/ready" {
                add("503", "Unavailable");
            }
        }
    }
}

/// Every POST under `/api/` takes an optional `Idempotency-Key` (see `crate::idempotency`): the header, the
/// answers it adds (400 for a bad key, 409 while the first request runs, 422 for a key used for another
/// request), and `Idempotent-Replayed` on the success answers.
pub fn add_idempotency_key_header(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::header::HeaderBuilder;
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::Required;

    let key_schema = || {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(crate::idempotency::MAX_KEY_LENGTH))
            .pattern(Some("^[!-~]+$"))
            .examples([serde_json::json!("0192f6a4-7c1e-7b3a-9d2e-5b8f1c0a4e77")])
            .build()
    };
    for (path, item) in api.paths.paths.iter_mut() {
        let Some(op) = item.post.as_mut().filter(|_| path.starts_with("/api/")) else {
            continue;
        };
        let parameter = ParameterBuilder::new()
            .name(crate::idempotency::FIELD)
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Makes a retry safe: 1-255 visible ASCII characters, unique per request (a UUID). The same \
key with the same method, path and body from the same caller (tenant and token `sub`) within 24 hours \
replays the first answer (status, `Location`, `ETag`, `Content-Type`, `Link` and body) with \
`Idempotent-Replayed: true`, without executing again; only 2xx and 4xx answers are kept. The same key \
with another request is 422 naming `Idempotency-Key`; while the first request still runs it is 409 with \
`Retry-After: 1`; an empty, too long or non-ASCII key is 400.",
            ))
            .schema(Some(key_schema()))
            .build();
        op.parameters
            .get_or_insert_with(Vec::new)
            .push(RefOr::T(parameter));
        for response in op
            .responses
            .responses
            .iter_mut()
            .filter_map(|(code, r)| match r {
                RefOr::T(r) if code.starts_with('2') => Some(r),
                _ => None,
            })
        {
            response.headers.insert(
                "Idempotent-Replayed".into(),
                RefOr::T(
                HeaderBuilder::new()
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .enum_values(Some(["true"])),
                    ))
                    .description(Some(
                        "Present (`true`) when this is the stored answer to an earlier request with the same `Idempotency-Key`",
                    ))
                    .build()),
            );
        }
        for (code, name) in [
            ("400", "MalformedRequest"),
            ("409", "Conflict"),
            ("422", "Validation"),
        ] {
            op.responses
                .responses
                .entry(code.to_string())
                .or_insert_with(|| reference(name));
        }
    }
}

/// The known paths and their methods, for answering 405 (with `Allow`) instead of 404 when only the
/// method is wrong.
pub struct RouteTable(Vec<(ResourceDef, Vec<Method>)>);

impl RouteTable {
    pub fn from_spec(api: &utoipa::openapi::OpenApi) -> Self {
        let value = serde_json::to_value(api).expect("spec serializes");
        let mut table = Vec::new();
        if let Some(paths) = value.get("paths").and_then(|p| p.as_object()) {
            for (path, item) in paths {
                let methods: Vec<Method> = item
                    .as_object()
                    .into_iter()
                    .flat_map(|o| o.keys())
                    .filter_map(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok())
                    .collect();
                table.push((ResourceDef::new(path.as_str()), methods));
            }
        }
        RouteTable(table)
    }

    /// The methods a path takes, when the path is known at all.
    pub fn allowed(&self, path: &str) -> Option<&[Method]> {
        self.0
            .iter()
            .find(|(def, _)| def.is_match(path))
            .map(|(_, m)| m.as_slice())
    }
}

/// utoipa writes a `#[serde(tag = "kind")]` enum as `oneOf: [{allOf: [$ref Variant, {kind}]}]`. With
/// `deny_unknown_fields` the variant's own schema says `additionalProperties: false` without knowing `kind`,
/// so no body could satisfy it. Each such branch becomes one closed object: the tag first, then the variant.
pub fn close_tagged_unions(spec: &mut serde_json::Value) {
    use serde_json::Value;
    let schemas = spec["components"]["schemas"].clone();
    let merged = |branch: &Value| -> Option<Value> {
        let [Value::Object(reference), Value::Object(tag)] =
            branch.get("allOf")?.as_array()?.as_slice()
        else {
            return None;
        };
        let name = reference
            .get("$ref")?
            .as_str()?
            .strip_prefix("#/components/schemas/")?;
        let target = schemas.get(name)?.as_object()?;
        if target.get("additionalProperties") != Some(&Value::Bool(false)) {
            return None;
        }
        let mut properties = tag.get("properties")?.as_object()?.clone();
        properties.extend(target.get("properties")?.as_object()?.clone());
        let mut required: Vec<Value> = tag
            .get("required")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        required.extend(
            target
                .get("required")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        );
        let mut object = target.clone();
        object.insert("title".into(), Value::String(name.to_string()));
        object.insert("properties".into(), Value::Object(properties));
        object.insert("required".into(), Value::Array(required));
        Some(Value::Object(object))
    };
    fn visit(node: &mut Value, merged: &dyn Fn(&Value) -> Option<Value>) {
        match node {
            Value::Object(map) => {
                if let Some(Value::Array(branches)) = map.get_mut("oneOf") {
                    for branch in branches.iter_mut() {
                        if let Some(m) = merged(branch) {
                            *branch = m;
                        }
                    }
                }
                map.values_mut().for_each(|v| visit(v, merged));
            }
            Value::Array(items) => items.iter_mut().for_each(|v| visit(v, merged)),
            _ => {}
        }
    }
    visit(spec, &merged);
}
