//! The contract. Paths and schemas are collected from the routes as they are mounted (utoipa-actix-web),
//! so no route exists outside the spec; this module adds what every operation shares: the security scheme,
//! the problem responses, and the route table that answers 405 for a known path with the wrong method.

use actix_web::dev::ResourceDef;
use actix_web::http::Method;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, Response};
use utoipa::{Modify, OpenApi, ToResponse};

use crate::http::error::{FieldError, Problem, ProblemType};

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
problem_response!(
    Forbidden,
    "A known caller acting outside their role, or a staff member the municipality registered as departed \
(from that date their tokens reach nothing)"
);
problem_response!(NotFound, "No such resource, or one the caller may not see");
problem_response!(
    Conflict,
    "The request conflicts with the current state (the detail names the rule), or a concurrent change (a \
deadlock, a serialization failure) made PostgreSQL roll it back: then nothing was written, `Retry-After` is set \
and sending the same request again is safe"
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
    NotAcceptable,
    "`Accept` names no media type this operation gives (the detail lists those it does)"
);
problem_response!(
    Validation,
    "Validation failed; `errors` names each field and what is wrong"
);
problem_response!(PreconditionRequired, "If-Match is required for this change");
problem_response!(
    RequestTimeout,
    "The body stopped arriving: no bytes for 5 s, or not complete within 60 s; the connection is closed"
);
problem_response!(Internal, "An unexpected error; logged with the request id");
problem_response!(
    TooManyRequests,
    "Over a rate limit: the caller's reads or writes, or the client address's requests without a token \
(RATE_LIMIT_*); `Retry-After` says when to try again"
);
problem_response!(
    Unavailable,
    "The database is unreachable, or did not get to the request in time (a lock held too long, a statement over \
its time limit, no free connection within 3 s); nothing was written. `Retry-After` says when to try again"
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
        schemas(Problem, ProblemType, FieldError),
        responses(MalformedRequest, Unauthorized, Forbidden, NotFound, Conflict, PreconditionFailed,
            RequestTimeout, PayloadTooLarge, UnsupportedMediaType, NotAcceptable, Validation, PreconditionRequired, Internal,
            Unavailable, TooManyRequests)
    ),
    modifiers(&Security),
    tags(
        (name = "cases", description = "Cases: open, list, read, change, close"),
        (name = "participants", description = "Professionals, guardians, the subject youth and others in a case"),
        (name = "consents", description = "Consents to share with services, and what they cover today"),
        (name = "measures", description = "Measures (tiltak) and their evaluations"),
        (name = "plans", description = "Plans beside the log: individual plan (ip), individual education plan (iop), individual development plan (iup) and a school's activity plan, with their ansvarsgruppe"),
        (name = "meetings", description = "Meetings with the family: invitations and answers, changes, minutes into the log, a person's coming meetings and calendar feed"),
        (name = "levels", description = "Level changes of a case"),
        (name = "entries", description = "The log: append-only entries"),
        (name = "integration", description = "The change feed, export and import, for record systems and scripts"),
        (name = "handovers", description = "The stafettholder role passing to another professional"),
        (name = "timeline", description = "Everything that happened in a case"),
        (name = "access log", description = "Who read or changed what in a case"),
        (name = "inquiries", description = "A family asks a service for help: the inquiry, the service's inbox, answers, a case from it"),
        (name = "consultations", description = "Anonymous consultation between services: a question about a worry, no case and no person"),
        (name = "configuration", description = "The municipality's settings, services and level definitions"),
        (name = "leaders", description = "Unit leaders: a service's open cases without content, what needs attention, moving the relay at once, staff who leave"),
        (name = "me", description = "The caller"),
        (name = "guide", description = "The action guide (handlingsveileder): the public guide, editing and publishing it, and a case's step"),
        (name = "notifications", description = "Where and how a person hears that something waits for them, and what was sent"),
        (name = "statistics", description = "Figures for the municipality and its leaders, without personal data"),
        (name = "surveys", description = "The municipality's BTI survey (kartlegging) of its employees: questionnaires, anonymous answers, results without small groups"),
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
                        "A JWT (a JWS) with claims sub, name, tenant, roles, services, pid, verified as RFC8725 \
(JSON Web Token Best Current Practices) asks: the algorithm is pinned by the key (HS256 only with the \
development secret, RS256 or ES256 only with the identity provider's keys, chosen by `kid`; `none` and any \
other algorithm are refused), and `iss`, `aud`, `exp` and `sub` are required and checked (30 s of clock \
leeway). Development tokens: `stafettlogg token`.",
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
        for (op, writes) in [
            (item.get.as_mut(), false),
            (item.post.as_mut(), true),
            (item.put.as_mut(), true),
            (item.patch.as_mut(), true),
            (item.delete.as_mut(), true),
        ]
        .into_iter()
        .filter_map(|(op, writes)| op.map(|op| (op, writes)))
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
                // Every transaction of a staff caller checks for a registered departure first.
                add("403", "Forbidden");
            }
            if has_path_params {
                add("404", "NotFound");
            }
            if is_api && writes {
                // Any write can meet a deadlock or a serialization failure.
                add("409", "Conflict");
            }
            if has_body {
                add("408", "RequestTimeout");
                add("413", "PayloadTooLarge");
                add("415", "UnsupportedMediaType");
                add("422", "Validation");
            }
            add("429", "TooManyRequests");
            add("500", "Internal");
            if is_api || path == "/health/ready" {
                add("503", "Unavailable");
            }
        }
    }
}

/// Every POST under `/api/` takes an optional `Idempotency-Key` (see `crate::http::idempotency`): the header, the
/// answers it adds (400 for a bad key, 409 while the first request runs, 422 for a key used for another
/// request), and `Idempotent-Replayed` on the success answers; not the POSTs whose answers are never
/// stored (`crate::http::idempotency::not_stored`).
pub fn add_idempotency_key_header(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::header::HeaderBuilder;
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::Required;

    let key_schema = || {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(crate::http::idempotency::rules::MAX_KEY_LENGTH))
            .pattern(Some("^[!-~]+$"))
            .examples([serde_json::json!("0192f6a4-7c1e-7b3a-9d2e-5b8f1c0a4e77")])
            .build()
    };
    for (path, item) in api.paths.paths.iter_mut() {
        let stored = !crate::http::idempotency::not_stored(path);
        let Some(op) = item
            .post
            .as_mut()
            .filter(|_| path.starts_with("/api/") && stored)
        else {
            continue;
        };
        let parameter = ParameterBuilder::new()
            .name(crate::http::idempotency::rules::FIELD)
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
pub struct RouteTable(Vec<Route>);

/// A path of the spec: the methods it takes, and the query parameters each of them declares.
struct Route {
    def: ResourceDef,
    /// Its `{parameters}`: where two paths match, the router takes the one with fewer.
    params: usize,
    /// Its segments: only a path with as many can match, a comparison far cheaper than a match.
    segments: usize,
    methods: Vec<Method>,
    queries: Vec<Vec<String>>,
}

impl RouteTable {
    pub fn from_spec(api: &utoipa::openapi::OpenApi) -> Self {
        let value = serde_json::to_value(api).expect("spec serializes");
        let mut table = Vec::new();
        if let Some(paths) = value.get("paths").and_then(|p| p.as_object()) {
            for (path, item) in paths {
                let mut route = Route {
                    def: ResourceDef::new(path.as_str()),
                    params: path.matches('{').count(),
                    segments: path.matches('/').count(),
                    methods: vec![],
                    queries: vec![],
                };
                for (method, op) in item.as_object().into_iter().flatten() {
                    let Ok(method) = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
                    else {
                        continue;
                    };
                    let names = op["parameters"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|p| p["in"] == "query")
                        .filter_map(|p| p["name"].as_str().map(str::to_string))
                        .collect();
                    route.methods.push(method);
                    route.queries.push(names);
                }
                table.push(route);
            }
        }
        RouteTable(table)
    }

    /// The methods a path takes, when the path is known at all.
    pub fn allowed(&self, path: &str) -> Option<&[Method]> {
        self.route(path).map(|r| r.methods.as_slice())
    }

    /// The route the router takes for `path` (%-escapes decoded, as the router decodes them).
    fn route(&self, path: &str) -> Option<&Route> {
        let path = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
        let segments = path.matches('/').count();
        self.0
            .iter()
            .filter(|r| r.segments == segments && r.def.is_match(&path))
            .min_by_key(|r| r.params)
    }

    /// The first parameter of `query` the operation does not declare, with those it does.
    pub fn undeclared_query(
        &self,
        path: &str,
        method: &Method,
        query: &str,
    ) -> Option<(String, &[String])> {
        let route = self.route(path)?;
        let declared = &route.queries[route.methods.iter().position(|m| m == method)?];
        form_urlencoded::parse(query.as_bytes())
            .map(|(name, _)| name)
            .find(|name| !declared.iter().any(|d| d == name))
            .map(|name| (name.into_owned(), declared.as_slice()))
    }
}

/// A query parameter the operation does not declare is 400 naming it, on every operation alike: an
/// operation without query parameters ignored any, so a misspelt one (`?limt=10`) was silently without
/// effect there and refused elsewhere.
pub async fn refuse_undeclared_query(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let scoped = req.path().starts_with("/api/") || req.path().starts_with("/public/");
    if scoped && !req.query_string().is_empty() {
        let table = req.app_data::<actix_web::web::Data<RouteTable>>();
        let undeclared = table.and_then(|t| {
            t.undeclared_query(req.path(), req.method(), req.query_string())
                .map(|(name, declared)| undeclared_problem(name, declared))
        });
        if let Some(problem) = undeclared {
            return Ok(req.error_response(problem));
        }
    }
    next.call(req)
        .await
        .map(actix_web::dev::ServiceResponse::map_into_boxed_body)
}

fn undeclared_problem(name: String, declared: &[String]) -> crate::http::error::AppError {
    let takes = if declared.is_empty() {
        "it takes none".to_string()
    } else {
        format!("it takes {}", declared.join(", "))
    };
    let name = name.replace('\0', "%00");
    let message = format!("is not a query parameter of this operation ({takes})");
    let mut e =
        crate::http::error::AppError::malformed(format!("query parameter {name}: {message}"));
    e.errors = vec![crate::http::error::FieldError {
        field: name,
        message,
    }];
    e
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

/// States in the spec what the server enforces beyond the types, so that a request the schema allows is
/// not refused for a reason the schema could have said: `If-Match` values, the opaque `cursor`, and the
/// range of every date and time a client sends ([`crate::dates`]).
pub fn document_limits(spec: &mut serde_json::Value) {
    document_parameters(spec);
    document_retry_after(spec);
    document_rate_limit_headers(spec);
    document_format_lengths(spec);
    document_text_lengths(spec);
    document_sent_dates(spec);
    document_doc_ids(spec);
    document_import_body(spec);
    document_integer_ranges(spec);
    refer_to_page_items(spec);
    remove_unused_components(spec);
}

/// A page's items name their component (`Page_AccessEvent` lists `AccessEvent`s) instead of a copy of it,
/// so the component is what a generated client uses for one item.
fn refer_to_page_items(spec: &mut serde_json::Value) {
    use serde_json::json;
    let Some(schemas) = spec["components"]["schemas"].as_object_mut() else {
        return;
    };
    let pages: Vec<(String, String)> = schemas
        .keys()
        .filter_map(|k| Some((k.clone(), k.strip_prefix("Page_")?.to_string())))
        .filter(|(_, item)| schemas.contains_key(item))
        .collect();
    for (page, item) in pages {
        if let Some(items) = schemas[&page]["properties"]["items"].as_object_mut() {
            items.insert(
                "items".into(),
                json!({"$ref": format!("#/components/schemas/{item}")}),
            );
        }
    }
}

/// Components nothing refers to (the variants of a tagged union, which the union carries inline with
/// their tag) are left out: they would only suggest a shape no operation takes.
fn remove_unused_components(spec: &mut serde_json::Value) {
    use serde_json::Value;
    fn refs(v: &Value, out: &mut std::collections::HashSet<String>) {
        match v {
            Value::Object(map) => {
                if let Some(r) = map.get("$ref").and_then(Value::as_str) {
                    if let Some(name) = r.strip_prefix("#/components/schemas/") {
                        out.insert(name.to_string());
                    }
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    loop {
        let mut used = std::collections::HashSet::new();
        refs(spec, &mut used);
        let Some(schemas) = spec["components"]["schemas"].as_object_mut() else {
            return;
        };
        let unused: Vec<String> = schemas
            .keys()
            .filter(|k| !used.contains(*k))
            .cloned()
            .collect();
        if unused.is_empty() {
            return;
        }
        for name in unused {
            schemas.remove(&name);
        }
    }
}

/// The case document's own ids (`DocId`, a `String` alias that utoipa names `String`): 1-100 characters,
/// as the import checks them.
fn document_doc_ids(spec: &mut serde_json::Value) {
    use serde_json::{json, Value};
    let Some(schemas) = spec["components"]["schemas"].as_object_mut() else {
        return;
    };
    if schemas.remove("String").is_none() {
        return;
    }
    schemas.insert(
        "DocId".into(),
        json!({"type": "string", "minLength": 1, "maxLength": 100,
            "description": "An id inside a case document: the exporting system's, only linking the \
                document's records to each other; the service gives every record an id of its own."}),
    );
    fn visit(v: &mut Value) {
        match v {
            Value::Object(map) => {
                if map.get("$ref").and_then(Value::as_str) == Some("#/components/schemas/String") {
                    map.insert("$ref".into(), "#/components/schemas/DocId".into());
                }
                map.values_mut().for_each(visit);
            }
            Value::Array(items) => items.iter_mut().for_each(visit),
            _ => {}
        }
    }
    visit(spec);
}

/// The import's body is bounded by `IMPORT_BODY_LIMIT_BYTES`; the spec states the default.
fn document_import_body(spec: &mut serde_json::Value) {
    let schema = &mut spec["paths"]["/api/v1/imports"]["post"]["requestBody"]["content"]
        ["application/x-ndjson"]["schema"];
    if let Some(map) = schema.as_object_mut() {
        map.insert(
            "maxLength".into(),
            crate::config::DEFAULT_IMPORT_BODY_LIMIT.into(),
        );
        map.insert(
            "description".into(),
            "At most IMPORT_BODY_LIMIT_BYTES bytes (the bound here is the default, 8 MiB; a letter \
             beyond ASCII takes two to four); a larger body is 413."
                .into(),
        );
    }
}

/// Whether a schema's `type` (one name, or a list such as `["string", "null"]`) includes `name`.
fn is_of_type(t: Option<&serde_json::Value>, name: &str) -> bool {
    match t {
        Some(serde_json::Value::String(t)) => t == name,
        Some(serde_json::Value::Array(ts)) => ts.iter().any(|t| t == name),
        _ => false,
    }
}

/// An integer the schema leaves open on a side gets its type's limit there: what the server parses and
/// answers never exceeds it, and a client learns the width to use.
fn document_integer_ranges(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            let is_integer = is_of_type(map.get("type"), "integer");
            let range = match map.get("format").and_then(Value::as_str) {
                Some("int32") => Some((i64::from(i32::MIN), i64::from(i32::MAX))),
                Some("int64") => Some((i64::MIN, i64::MAX)),
                _ => None,
            };
            if let (true, Some((low, high))) = (is_integer, range) {
                map.entry("minimum").or_insert(Value::from(low));
                map.entry("maximum").or_insert(Value::from(high));
            }
            map.values_mut().for_each(document_integer_ranges);
        }
        Value::Array(items) => items.iter_mut().for_each(document_integer_ranges),
        _ => {}
    }
}

/// Every operation of the spec (each method's object under each path).
fn operations_mut(spec: &mut serde_json::Value) -> impl Iterator<Item = &mut serde_json::Value> {
    spec.get_mut("paths")
        .and_then(serde_json::Value::as_object_mut)
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(serde_json::Value::as_object_mut)
        .flat_map(|item| item.values_mut())
}

fn document_parameters(spec: &mut serde_json::Value) {
    use serde_json::Value;
    for op in operations_mut(spec) {
        if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
            params.iter_mut().for_each(document_parameter);
        }
    }
}

/// A parameter's schema and description say what the server checks beyond its type.
fn document_parameter(p: &mut serde_json::Value) {
    use serde_json::{json, Value};
    let required = p["required"] == Value::Bool(true);
    match (p["in"].as_str(), p["name"].as_str()) {
        (Some("header"), Some("If-Match")) if required => {
            p["schema"] =
                json!({"type": "string", "pattern": "^\"[0-9]+\"$", "examples": ["\"3\""]});
            p["description"] = Value::String(
                "The `ETag` of your last read: the version in double quotes, e.g. `\"3\"`. Required: \
without it, or with `*` (which names no version and would allow a blind overwrite), the answer is 428. Another \
version, a weak tag (`W/\"3\"`) or another entity tag is 412 (read again); an empty, unquoted or otherwise \
malformed value is 400 naming `If-Match`."
                    .into(),
            );
        }
        (Some("header"), Some("If-Match")) => {
            p["schema"] =
                json!({"type": "string", "pattern": "^(\"[0-9]+\"|\\*)$", "examples": ["\"3\""]});
            p["description"] = Value::String(
                "The `ETag` of your last read (`\"3\"`); checked when sent: another version, a weak tag \
or another entity tag is 412. `*` is the same as not sending it. An empty, unquoted or otherwise malformed value \
is 400 naming `If-Match`."
                    .into(),
            );
        }
        (Some("query"), Some("cursor")) => {
            p["schema"] = json!({
                "type": "string",
                "minLength": 1,
                "maxLength": crate::http::pagination::MAX_CURSOR_LENGTH,
                "pattern": crate::http::pagination::CURSOR_PATTERN,
            });
            p["description"] = Value::String(
                "Opaque: the `next_cursor` of the previous page, passed unchanged. The pattern only says \
which characters a cursor has; a value this service did not issue is 400 naming `cursor`."
                    .into(),
            );
        }
        _ => {
            if let Some(schema) = p.get_mut("schema") {
                if is_date(schema) {
                    let text = with_range(p.get("description"));
                    p["description"] = text;
                }
            }
        }
    }
}

/// The responses that may come with `Retry-After` say so, and when.
fn document_retry_after(spec: &mut serde_json::Value) {
    use serde_json::json;
    let retry_after = |when: &str| {
        json!({"Retry-After": {
            "description": format!("Seconds to wait before sending the request again; {when}"),
            "schema": {"type": "integer", "format": "int32", "minimum": 0, "maximum": 3600}
        }})
    };
    if let Some(responses) = spec["components"]["responses"].as_object_mut() {
        for (name, when) in [
            ("Unavailable", "always sent"),
            ("TooManyRequests", "always sent"),
            (
                "Conflict",
                "sent when a concurrent change rolled the request back",
            ),
        ] {
            if let Some(response) = responses.get_mut(name) {
                response["headers"] = retry_after(when);
            }
        }
    }
}

/// The longest text of a format: a UUID is 36 characters, a date 10, an RFC 3339 time at most 35 (with
/// nanoseconds and an offset). Stated on every such string, sent or answered, so a client or a form
/// knows the bound without knowing the format (OWASP API4).
pub const FORMAT_LENGTHS: [(&str, u64); 3] = [("uuid", 36), ("date", 10), ("date-time", 35)];

fn document_format_lengths(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            let is_string = is_of_type(map.get("type"), "string");
            let length = map
                .get("format")
                .and_then(Value::as_str)
                .and_then(|f| FORMAT_LENGTHS.iter().find(|(name, _)| *name == f))
                .map(|(_, n)| *n);
            if let (true, Some(n)) = (is_string, length) {
                map.entry("maxLength").or_insert(Value::from(n));
            }
            map.values_mut().for_each(document_format_lengths);
        }
        Value::Array(items) => items.iter_mut().for_each(document_format_lengths),
        _ => {}
    }
}

/// The longest value of the headers and parameters whose schema is a bare string: what the service
/// writes (an `ETag` is a quoted version, or the public guide's quoted 24-digit content hash; a `Link` two
/// page addresses) or accepts (an `If-Match` names one version; a service code, a user id, an external
/// reference `SYSTEM:ID` as the records that carry them).
const TEXT_LENGTHS: [(&str, u64); 11] = [
    ("ETag", 26),
    ("If-Match", 12),
    ("If-None-Match", 1024),
    ("Location", 2048),
    ("Link", 4096),
    ("Cache-Control", 100),
    ("code", 64),
    ("user_id", 200),
    ("number", 4),
    ("ref", 301),
    // A calendar feed's file: 43 characters of secret and `.ics`.
    ("file", 47),
];

fn document_text_lengths(spec: &mut serde_json::Value) {
    use serde_json::Value;
    let bound = |name: &str, schema: &mut Value| {
        let is_string = is_of_type(schema.get("type"), "string");
        let length = TEXT_LENGTHS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, l)| *l);
        if let (true, Some(l), Some(map)) = (is_string, length, schema.as_object_mut()) {
            map.entry("maxLength").or_insert(Value::from(l));
        }
    };
    for op in operations_mut(spec) {
        for p in op
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if let Some(name) = p["name"].as_str().map(str::to_string) {
                bound(&name, &mut p["schema"]);
            }
        }
        for r in op
            .get_mut("responses")
            .and_then(Value::as_object_mut)
            .into_iter()
            .flat_map(|r| r.values_mut())
        {
            for (name, h) in r
                .get_mut("headers")
                .and_then(Value::as_object_mut)
                .into_iter()
                .flatten()
            {
                bound(name, &mut h["schema"]);
            }
        }
    }
}

/// `RateLimit-Policy` and `RateLimit` (`crate::http::rate_limit`) on every success and client-error
/// answer, the shared problem responses included.
fn document_rate_limit_headers(spec: &mut serde_json::Value) {
    use serde_json::{json, Value};
    let headers = json!({
        "RateLimit-Policy": {
            "description": "The budget that counted the request (IETF httpapi draft): its name (`reads`, \
    `writes` or `public`), `q` requests a `w`-second window, and the burst; sent when a budget counted the request",
            "schema": {"type": "string", "maxLength": 100, "examples": ["\"reads\";q=600;w=60;burst=120"]}
        },
        "RateLimit": {
            "description": "Where the request leaves its budget: `r` requests remaining now and `t` seconds \
    until the budget is whole again; sent when a budget counted the request",
            "schema": {"type": "string", "maxLength": 100, "examples": ["\"reads\";r=119;t=1"]}
        }
    });
    let add = |response: &mut Value| {
        if response.get("$ref").is_some() {
            return;
        }
        let map = response
            .as_object_mut()
            .map(|r| r.entry("headers").or_insert_with(|| json!({})));
        if let Some(Value::Object(map)) = map {
            for (name, header) in headers.as_object().into_iter().flatten() {
                map.entry(name.clone()).or_insert_with(|| header.clone());
            }
        }
    };
    let counted = |code: &str| code.starts_with('2') || code.starts_with('4');
    if let Some(responses) = spec["components"]["responses"].as_object_mut() {
        for response in responses.values_mut() {
            add(response);
        }
    }
    for op in operations_mut(spec) {
        if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
            for (_, response) in responses.iter_mut().filter(|(code, _)| counted(code)) {
                add(response);
            }
        }
    }
}

/// The range of every date a client sends, in the schemas it sends.
fn document_sent_dates(spec: &mut serde_json::Value) {
    // The schemas a client sends: those request bodies refer to, and the case document an import takes
    // (one per NDJSON line, so the body itself is a string).
    let mut pending: Vec<String> = vec!["CaseDocument".into()];
    if let Some(paths) = spec.get("paths") {
        collect_refs(paths, &mut pending, true);
    }
    let mut seen = std::collections::BTreeSet::new();
    while let Some(name) = pending.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(schema) = spec["components"]["schemas"].get(&name) {
            collect_refs(schema, &mut pending, false);
        }
    }
    for name in seen {
        if let Some(schema) = spec["components"]["schemas"].get_mut(&name) {
            document_date_properties(schema);
        }
    }
}

fn is_date(schema: &serde_json::Value) -> bool {
    matches!(
        schema.get("format").and_then(|f| f.as_str()),
        Some("date" | "date-time")
    )
}

fn with_range(description: Option<&serde_json::Value>) -> serde_json::Value {
    let sentence = format!(
        "Accepted {} (UTC); other dates are 422.",
        crate::dates::RANGE
    );
    let text = match description.and_then(|d| d.as_str()) {
        Some(d) if d.contains(&sentence) => d.to_string(),
        Some(d) if !d.trim().is_empty() => format!("{} {sentence}", d.trim_end()),
        _ => sentence,
    };
    serde_json::Value::String(text)
}

/// Names of the component schemas `node` refers to; under `paths`, only those of request bodies.
fn collect_refs(node: &serde_json::Value, out: &mut Vec<String>, only_request_bodies: bool) {
    use serde_json::Value;
    match node {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
            {
                out.push(name.to_string());
            }
            for (key, value) in map {
                if only_request_bodies && key == "responses" {
                    continue;
                }
                let only = only_request_bodies && key != "requestBody";
                collect_refs(value, out, only);
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|v| collect_refs(v, out, only_request_bodies)),
        _ => {}
    }
}

fn document_date_properties(schema: &mut serde_json::Value) {
    use serde_json::Value;
    match schema {
        Value::Object(map) => {
            if let Some(Value::Object(properties)) = map.get_mut("properties") {
                for property in properties.values_mut() {
                    if is_date(property) {
                        let text = with_range(property.get("description"));
                        property["description"] = text;
                    }
                }
            }
            for (key, value) in map.iter_mut() {
                if key != "properties" {
                    document_date_properties(value);
                }
            }
            if let Some(Value::Object(properties)) = map.get_mut("properties") {
                properties.values_mut().for_each(document_date_properties);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(document_date_properties),
        _ => {}
    }
}
