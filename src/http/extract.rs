//! What the API's handlers extract from a request, in one place: who is asking — the client's
//! address, from the connection or, when the connection comes from a trusted reverse proxy
//! (`OFFERWATCH_TRUSTED_PROXIES`), from `X-Forwarded-For` read from the right and skipping the
//! trusted hops, so that a client cannot choose its address; the account behind a bearer token
//! ([`Caller`]) — and a JSON body whose refusals are problem+json ([`JsonBody`]). The pages'
//! visitor (session cookie, CSRF token) is `pages/visitor.rs`.

use std::net::{IpAddr, SocketAddr};

use axum::Json;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use ipnet::IpNet;
use serde::de::DeserializeOwned;

use super::{AppError, AppState, with_auth};
use crate::domain::account::Account;
use crate::error::{FieldError, ValidationErrors};

/// The client's address (unspecified when the server runs without connection information).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientIp(pub IpAddr);

/// The client address of a request that came from `peer`.
pub(crate) fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.into_iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

/// The address of the request's client, as [`client_ip`] finds it.
pub(crate) fn of_request(
    extensions: &axum::http::Extensions,
    headers: &HeaderMap,
    state: &AppState,
) -> IpAddr {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
    client_ip(peer, headers, &state.trusted_proxies)
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(of_request(
            &parts.extensions,
            &parts.headers,
            state,
        )))
    }
}

/// The authenticated caller (`Authorization: Bearer <token>`).
pub struct Caller(pub Account);

fn bearer(parts: &Parts) -> Option<&str> {
    bearer_of(&parts.headers)
}

fn bearer_of(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The bearer token of a request, if any.
pub(crate) fn bearer_token(headers: &axum::http::HeaderMap) -> Option<String> {
    bearer_of(headers).map(str::to_string)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = bearer(parts)
            .ok_or_else(|| {
                AppError::status(
                    StatusCode::UNAUTHORIZED,
                    "Unauthorized",
                    "send Authorization: Bearer <token> (POST /api/v1/auth/login)",
                )
            })?
            .to_string();
        let account = with_auth(state, move |a| a.authenticate(&token)).await?;
        Ok(Caller(account))
    }
}

/// A JSON body whose rejections are problem+json: 400 malformed, 413 too large, 415 not JSON,
/// 422 when it parses but does not fit (unknown field, wrong type).
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        use axum::extract::rejection::JsonRejection as R;
        match Json::<serde_json::Value>::from_request(req, state).await {
            Ok(Json(mut v)) => {
                if !v.is_object() {
                    return Err(AppError::unprocessable(FieldError::new(
                        "body",
                        "a JSON object is expected",
                    )));
                }
                whole_numbers(&mut v);
                // As `Json` words it, with the path of the faulty field.
                serde_path_to_error::deserialize(v)
                    .map(JsonBody)
                    .map_err(|e| {
                        AppError::unprocessable(FieldError::new(
                            "body",
                            format!(
                                "Failed to deserialize the JSON body into the target type: {e}"
                            ),
                        ))
                    })
            }
            Err(R::JsonDataError(e)) => Err(AppError::unprocessable(FieldError::new(
                "body",
                e.body_text(),
            ))),
            Err(R::JsonSyntaxError(e)) => Err(AppError::bad_request(ValidationErrors(vec![
                FieldError::new("body", e.body_text()),
            ]))),
            Err(R::MissingJsonContentType(_)) => Err(AppError::status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type",
                "send application/json",
            )),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(AppError::status(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Payload too large",
                "the body is too large",
            )),
            Err(e) => Err(AppError::status(e.status(), "Bad request", e.body_text())),
        }
    }
}

/// Numbers without a fraction written with one (`3.0`) become integers: JSON Schema counts
/// them as integers, so an integer field takes them.
fn whole_numbers(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0) {
                if (0.0..u64::MAX as f64).contains(&f) {
                    *v = serde_json::Value::from(f as u64);
                } else if (i64::MIN as f64..0.0).contains(&f) {
                    *v = serde_json::Value::from(f as i64);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(whole_numbers),
        serde_json::Value::Object(o) => o.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let trusted = crate::config::networks(
            &crate::config::parse_networks(&["10.0.0.0/8", "192.0.2.7"]).unwrap(),
        );
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // A direct client cannot pretend.
        assert_eq!(
            client_ip(ip("203.0.113.9"), &headers(&["1.2.3.4"]), &trusted),
            ip("203.0.113.9")
        );
        // Behind the proxy: the rightmost untrusted hop, whatever the client put on the left.
        assert_eq!(
            client_ip(
                ip("10.1.2.3"),
                &headers(&["6.6.6.6, 198.51.100.4"]),
                &trusted
            ),
            ip("198.51.100.4")
        );
        assert_eq!(
            client_ip(
                ip("192.0.2.7"),
                &headers(&["6.6.6.6", "198.51.100.4, 10.9.9.9"]),
                &trusted
            ),
            ip("198.51.100.4")
        );
        // No header, or garbage: the proxy itself.
        assert_eq!(
            client_ip(ip("10.1.2.3"), &headers(&[]), &trusted),
            ip("10.1.2.3")
        );
        assert_eq!(
            client_ip(ip("10.1.2.3"), &headers(&["nonsense"]), &trusted),
            ip("10.1.2.3")
        );
        assert!(
            crate::config::parse_networks(&["10.0.0.0/33"])
                .unwrap_err()
                .contains("10.0.0.0/33")
        );
    }

    #[test]
    fn whole_numbers_written_with_a_fraction_are_integers() {
        let mut v = serde_json::json!({"service": 3.0, "list": [1.0, 2.5, -4.0], "big": 3653291047978374.0});
        whole_numbers(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"service": 3, "list": [1, 2.5, -4], "big": 3653291047978374u64})
        );
    }
}

/// A stored record's id in a path (`/admin/services/{id}`…): documented as an `int64` from 0,
/// so a number above 2⁶³ − 1 is refused (400) like any other malformed id, before any rule on
/// who may see the record.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RecordId(pub u64);

impl<'de> serde::Deserialize<'de> for RecordId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let id = u64::deserialize(d)?;
        if i64::try_from(id).is_err() {
            return Err(serde::de::Error::custom(format!(
                "an id is at most {}",
                i64::MAX
            )));
        }
        Ok(RecordId(id))
    }
}
