//! The vendored front-end files (`static/`: the DSFR's built CSS, fonts, icons and script, and
//! offerwatch's few additions), compiled into the binary and served with long cache headers:
//! the DSFR's folder carries its version, so its files never change under the same URL.

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use include_dir::{Dir, include_dir};

use super::{AppError, AppState};

static ASSETS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/static");

pub(crate) fn router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new().route("/static/{*path}", get(asset))
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "woff2" => "font/woff2",
        "ico" => "image/x-icon",
        "png" => "image/png",
        "md" | "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// One vendored file.
async fn asset(Path(path): Path<String>) -> Response {
    let Some(file) = ASSETS.get_file(&path).filter(|_| !path.ends_with(".sh")) else {
        return AppError::not_found("no such resource").into_response();
    };
    let mut r = file.contents().into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&path)),
    );
    let cache = if path.starts_with("dsfr-") {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=3600"
    };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_the_stylesheets_name_is_vendored() {
        for sheet in ["dsfr-1.15.3/dsfr.min.css", "offerwatch.css"] {
            let css = std::str::from_utf8(ASSETS.get_file(sheet).unwrap().contents()).unwrap();
            let base = if sheet.starts_with("dsfr-") {
                "dsfr-1.15.3/"
            } else {
                ""
            };
            for (i, _) in css.match_indices("url(") {
                let target: String = css[i + 4..]
                    .chars()
                    .take_while(|c| *c != ')')
                    .collect::<String>()
                    .trim_matches(['"', '\''])
                    .to_string();
                if target.starts_with("data:") {
                    continue;
                }
                let target = target.split(['?', '#']).next().unwrap_or("");
                // `src: url(x.woff2) format("woff2"), url(x.woff)`: every browser that reads
                // this stylesheet takes the first; only the woff2 fonts are vendored.
                let found = ASSETS.get_file(format!("{base}{target}")).is_some()
                    || (target.ends_with(".woff")
                        && ASSETS.get_file(format!("{base}{target}2")).is_some());
                assert!(found, "{sheet} names {target}, which is not vendored");
            }
        }
    }
}
