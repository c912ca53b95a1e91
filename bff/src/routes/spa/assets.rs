//! The app's files, as built: each text file also brotli'd (`<file>.br`) and gzipped
//! (`<file>.gz`) beside it at build time (`cargo xtask build`), so that nothing is compressed
//! per request.
//!
//! tower-http's `ServeDir` picks the variant: the `Accept-Encoding` entry with the highest
//! q-value whose file exists, brotli on a tie, never one at `q=0`, the file itself when none
//! fits; it sends its `Content-Encoding`, `Content-Type` (by the file's own name) and
//! `Content-Length`, answers HEAD and ranges (of the encoded bytes, the representation sent).
//! What it leaves out is added here: `Vary: Accept-Encoding`, so that a cache keeps one copy per
//! encoding, and the cache lifetime.

use axum::{
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::error::AppError;

/// A content-hashed name changes with its content: it can be cached for a year, never revalidated.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Anything else may change under the same name: cached, but revalidated on every use.
const REVALIDATE: &str = "no-cache";

/// The suffixes of the precompressed variants: served only as an encoding of their file, never
/// by their own name (they would go out without a `Content-Encoding`).
const VARIANT_SUFFIXES: [&str; 2] = [".br", ".gz"];

pub async fn asset_headers(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if VARIANT_SUFFIXES.iter().any(|suffix| path.ends_with(suffix)) {
        return AppError::NotFound.into_response();
    }
    let hashed = is_content_hashed(path);
    let mut response = next.run(request).await;
    let status = response.status();
    let headers = response.headers_mut();
    // The index page (the fallback for deep links) sets its own.
    if !headers.contains_key(header::CACHE_CONTROL) {
        let served = status.is_success() || status == StatusCode::NOT_MODIFIED;
        let lifetime = if hashed && served {
            IMMUTABLE
        } else {
            REVALIDATE
        };
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(lifetime));
    }
    if status.is_success() || status == StatusCode::NOT_MODIFIED {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

/// Whether the file name carries trunk's content hash: `<name>-<hex digits>` then `.` or `_`
/// (`frontend-dd8a58033a445cd5_bg.wasm`, `main-b41a2d8ad0287055.css`). trunk writes its 64-bit
/// hash without leading zeros, so a name may have fewer than 16 digits; 12 or more are taken as a
/// hash (fewer happen once in 65,536 builds, and are then only revalidated).
pub fn is_content_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    name.match_indices('-').any(|(at, _)| {
        let after = &name.as_bytes()[at + 1..];
        let digits = after
            .iter()
            .take_while(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
            .count();
        (12..=16).contains(&digits) && matches!(after.get(digits), Some(b'.' | b'_'))
    })
}

#[cfg(test)]
mod tests {
    use super::is_content_hashed;

    #[test]
    fn only_trunks_hashed_names_count_as_hashed() {
        for hashed in [
            "/frontend-dd8a58033a445cd5_bg.wasm",
            "/frontend-dd8a58033a445cd5.js",
            "/main-b41a2d8ad0287055.css",
            "/some-name-0123456789abcdef.js",
            "/main-b41a2d8ad028705.css",
        ] {
            assert!(is_content_hashed(hashed), "{hashed}");
        }
        for unhashed in [
            "/index.html",
            "/xterm/xterm.js",
            "/frontend-dd8a58033a4.js",
            "/frontend-dd8a58033a445cd51.js",
            "/frontend-DD8A58033A445CD5.js",
            "/frontend-dd8a58033a445cd5",
            "/frontend-dd8a58033a445cd5x.js",
            "/dd8a58033a445cd5.js",
            "/frontend-dd8a58033a445cd5.js/",
        ] {
            assert!(!is_content_hashed(unhashed), "{unhashed}");
        }
    }
}
