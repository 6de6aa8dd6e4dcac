//! The served OpenAPI document completed with what every handler shares: the answers of the
//! common layers (extractors, sessions, CSRF, rate limits), the bearer security of the
//! authenticated API, the closed lists of codes from the referentials, and unique operation
//! ids. The handlers' annotations say what is particular to each; this says the rest once, so
//! that the document is a contract a fuzzer can hold the server to (`.ci/contract.py`).

use serde_json::{Map, Value, json};

use crate::domain::Facet;
use crate::domain::search::{MAX_DEPTH, MAX_PER_PAGE, MAX_QUERY_CHARS, MAX_SINCE_DAYS};
use crate::links;

/// The document as served: completed once, and again when the administrations change (their
/// codes are closed lists of the contract).
#[derive(Default)]
pub(crate) struct Document {
    /// The handlers' document as compact JSON (a `Value` of it weighs 2 MB) and the limited
    /// paths.
    made: std::sync::OnceLock<(String, std::collections::HashSet<String>)>,
    served: std::sync::RwLock<(u64, std::sync::Arc<String>)>,
}

impl Document {
    /// Keeps the handlers' document and the paths of the limited operations.
    pub(crate) fn set(&self, doc: String, limited: std::collections::HashSet<String>) {
        let _ = self.made.set((doc, limited));
        self.served.write().unwrap_or_else(|p| p.into_inner()).0 = u64::MAX;
    }

    /// The completed document's text.
    pub(crate) fn text(&self) -> std::sync::Arc<String> {
        let generation = crate::domain::referentials::generation();
        {
            let served = self.served.read().unwrap_or_else(|p| p.into_inner());
            if served.0 == generation {
                return served.1.clone();
            }
        }
        let Some((doc, limited)) = self.made.get() else {
            return Default::default();
        };
        let mut doc: Value = serde_json::from_str(doc).unwrap_or_default();
        complete(&mut doc, limited);
        let text = std::sync::Arc::new(serde_json::to_string_pretty(&doc).unwrap_or_default());
        *self.served.write().unwrap_or_else(|p| p.into_inner()) = (generation, text.clone());
        text
    }
}

const PROBLEM: &str = "application/problem+json";
const HTML: &str = "text/html";

/// What kind of route an operation is, from its path and tag.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// JSON API or feed, anonymous.
    Public,
    /// JSON API behind `Authorization: Bearer`.
    Secured,
    /// A server-rendered page anyone may open.
    Page,
    /// A server-rendered page of an account's space (login page or refusal otherwise).
    PrivatePage,
}

fn kind(path: &str, op: &Value) -> Kind {
    let page = op["tags"]
        .as_array()
        .is_some_and(|t| t.iter().any(|t| t == "portal"));
    if page {
        let private = [
            links::ADMIN,
            links::RECRUITER_OFFERS,
            links::RECRUITER_ACCOUNT,
            "/recruteur/services/",
            links::ACCOUNT,
            links::TERMS_ACCEPT,
        ]
        .iter()
        .any(|p| path.starts_with(p))
            && !path.starts_with(links::SIGNUP);
        return if private {
            Kind::PrivatePage
        } else {
            Kind::Page
        };
    }
    // The handlers behind the bearer-token extractor declare its security themselves.
    let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
    if secured { Kind::Secured } else { Kind::Public }
}

fn answer(status: u16, description: &str, media: &str) -> Value {
    if status == 303 {
        return json!({"description": description});
    }
    let schema = if media == PROBLEM {
        json!({"$ref": "#/components/schemas/Problem"})
    } else {
        json!({"type": "string"})
    };
    json!({"description": description, "content": {media: {"schema": schema}}})
}

fn add(op: &mut Value, status: u16, description: &str, media: &str) {
    if let Some(responses) = op["responses"].as_object_mut() {
        responses
            .entry(status.to_string())
            .or_insert_with(|| answer(status, description, media));
    }
}

fn codes(facet: Facet) -> Vec<Value> {
    facet
        .values()
        .codes()
        .iter()
        .map(|c| Value::from(c.as_str()))
        .collect()
}

/// The schema of a search parameter, or `None` when it is not one. An empty value is the
/// parameter left out (as an HTML form sends an empty field), so each admits `""`.
fn search_parameter(name: &str) -> Option<Value> {
    let facet = Facet::named(name);
    let or_empty = |schema: Value| json!({"anyOf": [schema, {"type": "string", "maxLength": 0}]});
    let with_empty = |facet: Facet| {
        let mut values = codes(facet);
        values.push("".into());
        json!({"type": "string", "enum": values})
    };
    Some(match (name, facet) {
        ("diploma", Some(f)) => with_empty(f),
        (_, Some(f)) => json!({"type": "array", "items": with_empty(f)}),
        ("q", _) => json!({"type": "string", "maxLength": MAX_QUERY_CHARS}),
        ("published_since", _) => json!({"anyOf": [
            {"type": "integer", "minimum": 0, "maximum": MAX_SINCE_DAYS},
            {"type": "string", "format": "date-time"},
            {"type": "string", "maxLength": 0}
        ]}),
        ("sort", _) => json!({"type": "string", "enum": ["date", "relevance", "distance", ""]}),
        ("near", _) => json!({"type": "string", "maxLength": 100}),
        ("km", _) => or_empty(json!({"type": "integer", "minimum": 5, "maximum": 200})),
        ("page", _) => or_empty(json!({"type": "integer", "minimum": 1, "maximum": MAX_DEPTH})),
        ("per_page", _) => {
            or_empty(json!({"type": "integer", "minimum": 0, "maximum": MAX_PER_PAGE}))
        }
        ("facets" | "exact", _) => or_empty(json!({"type": "boolean"})),
        _ => return None,
    })
}

/// Path parameters: numeric ids and offer references, as the router parses them.
fn path_parameter(name: &str) -> Option<Value> {
    Some(match name {
        "id" | "service" => {
            json!({"type": "integer", "format": "int64", "minimum": 0, "maximum": i64::MAX})
        }
        "n" => json!({"type": "integer", "minimum": 0, "maximum": 65535}),
        "reference" => json!({"type": "string", "pattern": "^[AS]-[0-9]{4}-[0-9]{4,}$"}),
        _ => return None,
    })
}

/// The closed lists of the other query parameters (an empty value is the parameter left out).
fn closed_list(path: &str, name: &str) -> Option<Value> {
    let values: &[&str] = match (path, name) {
        ("/api/v1/admin/accounts", "role") => &["recruiter", "admin", ""],
        ("/api/v1/admin/recruiters", "state") => &["pending", "active", "refused", ""],
        ("/api/v1/admin/offers" | "/api/v1/recruiter/offers", "state") => {
            &["draft", "published", "archived", "filled", ""]
        }
        _ => return None,
    };
    Some(json!({"type": "string", "enum": values}))
}

fn refine_parameters(path: &str, op: &mut Value, search: bool, page: bool) {
    let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
        return;
    };
    for p in params {
        let name = p["name"].as_str().unwrap_or_default().to_string();
        let schema = match p["in"].as_str() {
            Some("path") => path_parameter(&name),
            Some("query") if search => search_parameter(&name),
            // A page's select sends "" for "none chosen yet"; the API takes codes only.
            Some("query") if name == "administration" => {
                let mut values = codes(Facet::Administration);
                if page {
                    values.push("".into());
                }
                Some(json!({"type": "string", "enum": values}))
            }
            Some("query") => closed_list(path, &name),
            _ => None,
        };
        let schema = schema.or_else(|| bounded_integer(&p["schema"]));
        if let Some(schema) = schema {
            if schema["type"] == "array" {
                p["style"] = "form".into();
                p["explode"] = true.into();
            }
            p["schema"] = schema;
        }
    }
}

/// An integer parameter with the bounds of its Rust type (the format says which; a `usize`
/// has none and gets those of a `u32`), so that a number too large for it is outside the
/// document as it is outside the server.
fn bounded_integer(schema: &Value) -> Option<Value> {
    let is_integer = schema["type"] == "integer"
        || schema["type"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t == "integer"));
    if !is_integer || schema.get("maximum").is_some() {
        return None;
    }
    let unsigned = schema["minimum"].as_i64() == Some(0);
    let (min, max): (i128, i128) = match (schema["format"].as_str(), unsigned) {
        (Some("int32") | None, true) => (0, u32::MAX.into()),
        (Some("int32"), false) => (i32::MIN.into(), i32::MAX.into()),
        (Some("int64"), true) => (0, u64::MAX.into()),
        (Some("int64"), false) => (i64::MIN.into(), i64::MAX.into()),
        _ => return None,
    };
    let mut bounded = schema.clone();
    bounded["minimum"] = json!(min as i64);
    bounded["maximum"] = if max > i128::from(i64::MAX) {
        json!(max as u64)
    } else {
        json!(max as i64)
    };
    Some(bounded)
}

/// Whether the operation takes the search parameters (its `q`, `contract` and `per_page` are
/// there; a back-office list has `q` and `contract` but takes one value of each).
fn takes_search(op: &Value) -> bool {
    let names: Vec<&str> = op["parameters"]
        .as_array()
        .map(|ps| ps.iter().filter_map(|p| p["name"].as_str()).collect())
        .unwrap_or_default();
    names.contains(&"q") && names.contains(&"contract") && names.contains(&"per_page")
}

/// Completes one operation; `limited` when its route is under the general rate limit.
fn complete_operation(path: &str, method: &str, op: &mut Value, limited: bool) -> Kind {
    let kind = kind(path, op);
    let has_query = op["parameters"]
        .as_array()
        .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
    let has_path = path.contains('{');
    let has_body = op.get("requestBody").is_some();
    let page = matches!(kind, Kind::Page | Kind::PrivatePage);
    refine_parameters(path, op, takes_search(op), page);
    // A redirect has no body to describe.
    if let Some(redirect) = op
        .pointer_mut("/responses/303")
        .and_then(Value::as_object_mut)
    {
        redirect.remove("content");
    }
    match kind {
        Kind::Public | Kind::Secured => {
            if has_query || has_path || has_body {
                add(op, 400, "A parameter or the body is malformed", PROBLEM);
            }
            if has_path {
                add(op, 404, "No such resource", PROBLEM);
            }
            if has_body {
                add(op, 413, "The body is too large", PROBLEM);
                add(op, 415, "The body is not of the documented type", PROBLEM);
                add(op, 422, "A field of the body is invalid", PROBLEM);
            }
            if kind == Kind::Secured {
                add(op, 401, "No valid bearer token", PROBLEM);
                add(op, 403, "The caller's role may not do this", PROBLEM);
            }
            if limited {
                add(op, 429, "Rate limit exceeded", PROBLEM);
            }
        }
        Kind::Page | Kind::PrivatePage => {
            if has_query || has_path || has_body {
                add(op, 400, "A parameter is malformed", HTML);
            }
            if has_path {
                add(op, 404, "No such page", HTML);
            }
            if method == "post" {
                add(
                    op,
                    403,
                    "The form's security token is missing or wrong",
                    HTML,
                );
                add(op, 413, "The form is too large", HTML);
                add(op, 422, "A field of the form is invalid", HTML);
            }
            if kind == Kind::PrivatePage {
                add(op, 303, "Not logged in: to the login page", HTML);
                add(op, 403, "This account may not open this page", HTML);
            }
            if limited {
                add(op, 429, "Rate limit exceeded", HTML);
            }
        }
    }
    kind
}

/// Rust's `str::trim` whitespace: a text that must not be blank holds one other character.
const NOT_BLANK: &str =
    r"[^\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";

/// The rules of the bodies that their Rust types do not carry.
fn refine_schemas(schemas: &mut Map<String, Value>) {
    // A form of one field: `file` (the server refuses any other).
    if let Some(form) = schemas.get_mut("AttachmentForm") {
        form["additionalProperties"] = false.into();
    }
    let mut set = |schema: &str, property: &str, rule: Value| {
        if let Some(p) = schemas
            .get_mut(schema)
            .and_then(|s| s.pointer_mut(&format!("/properties/{property}")))
        {
            *p = rule;
        }
    };
    let not_blank = |max: Option<usize>, nullable: bool| {
        let t = if nullable {
            json!(["string", "null"])
        } else {
            json!("string")
        };
        let mut rule = json!({"type": t, "pattern": NOT_BLANK});
        if let Some(max) = max {
            rule["maxLength"] = max.into();
        }
        rule
    };
    set("ServiceBody", "name", not_blank(Some(200), false));
    set("ServicePatch", "name", not_blank(Some(200), true));
    set("RefuseBody", "reason", not_blank(None, false));
    set("ModerationBody", "reason", not_blank(None, false));
    set("NewSearch", "name", not_blank(Some(100), false));
    set("SearchPatch", "name", not_blank(Some(100), true));
    let frequency = json!({"type": ["string", "null"], "enum": ["immediate", "daily", null]});
    set("NewSearch", "frequency", frequency.clone());
    set("SearchPatch", "frequency", frequency);
    // A saved search's criteria: the search parameters but paging, a value or a list each.
    let mut criteria = Map::new();
    for name in crate::domain::search::PARAMETERS {
        if ["page", "per_page", "facets"].contains(&name) {
            continue;
        }
        if let Some(schema) = search_parameter(name) {
            // A repeatable parameter takes a list, a single one a list of at most one.
            let (one, many) = if schema["type"] == "array" {
                (schema["items"].clone(), schema)
            } else {
                let many = json!({"type": "array", "items": schema, "maxItems": 1});
                (schema, many)
            };
            criteria.insert(
                name.to_string(),
                json!({"anyOf": [one, many, {"type": "null"}]}),
            );
        }
    }
    set(
        "NewSearch",
        "criteria",
        json!({"type": "object", "properties": criteria, "additionalProperties": false}),
    );
    set(
        "ServiceBody",
        "administration",
        json!({"type": "string", "enum": codes(Facet::Administration)}),
    );
    // An offer: the referentials' codes; numbers may come as digits (imports send text).
    for facet in Facet::ALL {
        set(
            "OfferInput",
            facet.name(),
            json!({"type": ["string", "null"], "enum": codes(facet).into_iter().chain([Value::Null]).collect::<Vec<_>>()}),
        );
    }
    let number = json!({"type": ["integer", "string", "null"]});
    for field in [
        "service",
        "duration_months",
        "duration_min_months",
        "duration_max_months",
    ] {
        set("OfferInput", field, number.clone());
    }
    set(
        "OfferInput",
        "languages",
        json!({"anyOf": [{"type": ["string", "null"]}, {"type": "array", "items": {"type": "string"}}]}),
    );
}

/// The links between operations that names alone would get wrong (a fuzzer's stateful phase
/// follows them): a membership added is removed with the service of the request, not with
/// the `id` (the recruiter's) of the answer.
fn add_links(path: &str, method: &str, op: &mut Value) {
    if path == "/api/v1/admin/recruiters/{id}/services" && method == "post" {
        op["responses"]["200"]["links"] = json!({
            "RemoveMembership": {
                "operationId": "remove_member",
                "parameters": {"id": "$request.path.id", "service": "$request.body#/service"}
            }
        });
    }
}

/// Completes the document (see the module documentation); `limited` are the paths under the
/// general rate limit.
pub(crate) fn complete(doc: &mut Value, limited: &std::collections::HashSet<String>) {
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        refine_schemas(schemas);
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                let kind = complete_operation(path, method, op, limited.contains(path));
                add_links(path, method, op);
                // Pages and API operations may share a handler name: ids are made unique.
                let id = op["operationId"].as_str().unwrap_or(method).to_string();
                let id = if matches!(kind, Kind::Page | Kind::PrivatePage) {
                    format!("page_{id}")
                } else {
                    id
                };
                let mut unique = id.clone();
                let mut n = 2;
                while !seen.insert(unique.clone()) {
                    unique = format!("{id}_{n}");
                    n += 1;
                }
                op["operationId"] = unique.into();
            }
        }
    }
    let components = doc
        .as_object_mut()
        .map(|d| d.entry("components").or_insert_with(|| json!({})));
    if let Some(Value::Object(c)) = components {
        let schemes = c
            .entry("securitySchemes")
            .or_insert_with(|| Value::Object(Map::new()));
        schemes["bearer"] = json!({
            "type": "http",
            "scheme": "bearer",
            "description": "The token of `POST /api/v1/auth/login`"
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_get_the_shared_answers_and_unique_ids() {
        let mut doc = json!({"paths": {
            "/api/v1/me/searches/{id}": {
                "delete": {"operationId": "delete_search", "tags": ["candidates"],
                    "security": [{"bearer": []}],
                    "parameters": [{"name": "id", "in": "path", "schema": {"type": "string"}}],
                    "responses": {"204": {"description": "Deleted"}}}
            },
            "/compte/recherches/{id}/supprimer": {
                "post": {"operationId": "delete_search", "tags": ["portal"],
                    "requestBody": {}, "responses": {"303": {"description": "Done"}}}
            },
            "/api/v1/offers": {
                "get": {"operationId": "search", "tags": ["search"],
                    "parameters": [{"name": "q", "in": "query"}, {"name": "contract", "in": "query"},
                        {"name": "per_page", "in": "query"}],
                    "responses": {"200": {"description": "Page"}}}
            }
        }});
        let limited = ["/api/v1/offers".to_string()].into_iter().collect();
        complete(&mut doc, &limited);
        let api = &doc["paths"]["/api/v1/me/searches/{id}"]["delete"];
        for status in ["204", "400", "401", "403", "404"] {
            assert!(api["responses"].get(status).is_some(), "{status}");
        }
        assert!(api["responses"].get("429").is_none());
        assert_eq!(api["security"], json!([{"bearer": []}]));
        assert_eq!(api["parameters"][0]["schema"]["type"], "integer");
        let page = &doc["paths"]["/compte/recherches/{id}/supprimer"]["post"];
        assert_eq!(page["operationId"], "page_delete_search");
        assert!(page["responses"]["403"]["content"].get(HTML).is_some());
        let search = &doc["paths"]["/api/v1/offers"]["get"];
        assert_eq!(
            search["parameters"][1]["schema"]["items"]["enum"][0],
            "apprentissage"
        );
        assert_eq!(
            search["parameters"][2]["schema"]["anyOf"][0]["maximum"],
            100
        );
        assert!(search["responses"].get("429").is_some());
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
    }
}
