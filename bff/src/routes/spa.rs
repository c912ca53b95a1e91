//! Serves the built app: its files from the dist folder, compressed as the browser accepts and
//! cached by name (`assets.rs`), and the index page for every extension-less path so that deep
//! links such as `/namespaces/team-a` reach the app's router.

mod assets;

use std::{path::Path, sync::Arc};

use anyhow::Context;
use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use base64::Engine;
use sha2::{Digest, Sha256};
use tower_http::services::ServeDir;

use crate::{AppState, error::AppError};

pub struct Spa {
    index_html: Bytes,
    /// The index page's validator, so that its revalidation (`no-cache`) costs a 304 only.
    index_etag: HeaderValue,
    csp: HeaderValue,
    dist_dir: std::path::PathBuf,
}

impl Spa {
    pub fn load(dist_dir: &Path) -> anyhow::Result<Self> {
        let index_path = dist_dir.join("index.html");
        let index = std::fs::read_to_string(&index_path).with_context(|| {
            format!(
                "reading {} (build the app first: cargo xtask build)",
                index_path.display()
            )
        })?;
        Self::from_index(dist_dir, index)
    }

    pub fn from_index(dist_dir: &Path, index: String) -> anyhow::Result<Self> {
        let csp = HeaderValue::from_str(&content_security_policy(&index))
            .context("content security policy")?;
        let digest = Sha256::digest(index.as_bytes());
        let index_etag = HeaderValue::from_str(&format!(
            "\"{}\"",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
        ))
        .context("index page ETag")?;
        Ok(Spa {
            index_html: Bytes::from(index),
            index_etag,
            csp,
            dist_dir: dist_dir.to_path_buf(),
        })
    }

    pub fn content_security_policy(&self) -> HeaderValue {
        self.csp.clone()
    }
}

pub fn router(spa: Arc<Spa>) -> Router<AppState> {
    let assets = ServeDir::new(&spa.dist_dir)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(false)
        .call_fallback_on_method_not_allowed(true)
        .fallback(axum::routing::any(index_page).with_state(spa));
    Router::new()
        .fallback_service(assets)
        .layer(axum::middleware::from_fn(assets::asset_headers))
}

async fn index_page(
    State(spa): State<Arc<Spa>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let last_segment = uri.path().rsplit('/').next().unwrap_or_default();
    if (method != Method::GET && method != Method::HEAD) || last_segment.contains('.') {
        return AppError::NotFound.into_response();
    }
    let validators = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        ),
        // The page names the current asset hashes, so it must be revalidated every time.
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::ETAG, spa.index_etag.clone()),
    ];
    let unchanged = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/").as_bytes() == spa.index_etag.as_bytes()
        });
    if unchanged {
        return (StatusCode::NOT_MODIFIED, validators).into_response();
    }
    (StatusCode::OK, validators, spa.index_html.clone()).into_response()
}

/// The policy the app works under: no inline script but the index page's own (trunk's loader and
/// the Trusted Types policy), allowed by their hashes; `'wasm-unsafe-eval'` lets the page compile
/// its WebAssembly. Trusted Types are required for every script sink, and the only policy that
/// may be made is the index page's `default` one (see frontend/index.html for why it is needed).
pub fn content_security_policy(index_html: &str) -> String {
    let hashes: String = inline_scripts(index_html)
        .map(|script| {
            let digest = Sha256::digest(script.as_bytes());
            format!(
                " 'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        })
        .collect();
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self'; \
         img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'; \
         require-trusted-types-for 'script'; trusted-types default"
    )
}

/// The bodies of `<script>` elements that have no `src`.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    let mut rest = html;
    std::iter::from_fn(move || {
        loop {
            let start = rest.find("<script")?;
            let after_tag_name = &rest[start + "<script".len()..];
            let open_end = after_tag_name.find('>')?;
            let attributes = &after_tag_name[..open_end];
            let body_and_rest = &after_tag_name[open_end + 1..];
            let close = body_and_rest.find("</script>")?;
            let body = &body_and_rest[..close];
            rest = &body_and_rest[close + "</script>".len()..];
            if !attributes.contains("src=") {
                return Some(body);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_only_inline_scripts() {
        let html =
            r#"<head><script src="/a.js"></script><script type="module">init()</script></head>"#;
        let scripts: Vec<_> = inline_scripts(html).collect();
        assert_eq!(scripts, vec!["init()"]);
        let csp = content_security_policy(html);
        // echo -n 'init()' | openssl dgst -sha256 -binary | base64
        let expected = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"init()"));
        assert!(csp.contains(&format!("'sha256-{expected}'")), "{csp}");
        assert!(!csp.contains("unsafe-inline"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(csp.contains("require-trusted-types-for 'script'"), "{csp}");
        // Only the index page's policy: no other name, no second "default", no 'allow-duplicates'.
        assert!(csp.ends_with("; trusted-types default"), "{csp}");
    }
}
