//! How the app's files are served: the precompressed variant the browser accepts best, `Vary`,
//! and the cache lifetime by name, with the security headers on every answer. Driven with
//! `oneshot`; the variants hold marker bytes (which one was sent is what is checked here; the
//! e2e test `serving.rs` decodes the real ones).

use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
    response::Response,
};

mod support;

use support::{body, dist, send, state};

const HASHED: &str = "/frontend-0123456789abcdef_bg.wasm";
const RAW: &[u8] = b"raw wasm bytes, long enough to be worth compressing";
const BROTLI: &[u8] = b"brotli";
const GZIP: &[u8] = b"gzip bytes";

fn app() -> axum::Router {
    let dir = dist();
    let file = dir.join(HASHED.trim_start_matches('/'));
    std::fs::write(&file, RAW).expect("asset");
    std::fs::write(file.with_extension("wasm.br"), BROTLI).expect("br");
    std::fs::write(file.with_extension("wasm.gz"), GZIP).expect("gz");
    std::fs::create_dir_all(dir.join("vendor")).expect("vendor");
    std::fs::write(dir.join("vendor/lib.js"), "lib()").expect("unhashed");
    bff::app(state(&dir))
}

async fn request(app: &axum::Router, method: Method, path: &str, accept: Option<&str>) -> Response {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(accept) = accept {
        request = request.header(header::ACCEPT_ENCODING, accept);
    }
    send(app.clone(), request.body(Body::empty()).expect("request")).await
}

fn header_of(response: &Response, name: header::HeaderName) -> Option<&str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn the_best_accepted_encoding_is_sent_with_vary_and_its_length() {
    let app = app();
    for (accept, encoding, bytes) in [
        (Some("gzip, deflate, br, zstd"), Some("br"), BROTLI),
        (Some("br"), Some("br"), BROTLI),
        (Some("gzip"), Some("gzip"), GZIP),
        (Some("br;q=0, gzip"), Some("gzip"), GZIP),
        (Some("gzip;q=0.9, br;q=0.5"), Some("gzip"), GZIP),
        (Some("gzip;q=0.5, br;q=0.5"), Some("br"), BROTLI),
        (Some("BR;Q=1"), Some("br"), BROTLI),
        (Some("br;q=0, gzip;q=0"), None, RAW),
        (Some("identity"), None, RAW),
        (Some("deflate"), None, RAW),
        (None, None, RAW),
    ] {
        let response = request(&app, Method::GET, HASHED, accept).await;
        assert_eq!(response.status(), StatusCode::OK, "{accept:?}");
        assert_eq!(
            header_of(&response, header::CONTENT_ENCODING),
            encoding,
            "{accept:?}"
        );
        assert_eq!(
            header_of(&response, header::VARY),
            Some("accept-encoding"),
            "{accept:?}"
        );
        assert_eq!(
            header_of(&response, header::CONTENT_TYPE),
            Some("application/wasm")
        );
        assert_eq!(
            header_of(&response, header::CONTENT_LENGTH),
            Some(bytes.len().to_string().as_str()),
            "{accept:?}"
        );
        assert_eq!(
            header_of(&response, header::CACHE_CONTROL),
            Some("public, max-age=31536000, immutable")
        );
        assert!(
            response
                .headers()
                .contains_key(header::CONTENT_SECURITY_POLICY)
        );
        assert_eq!(body(response).await, bytes, "{accept:?}");
    }
}

#[tokio::test]
async fn head_and_ranges_answer_for_the_encoding_sent() {
    let app = app();
    let head = request(&app, Method::HEAD, HASHED, Some("br")).await;
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(header_of(&head, header::CONTENT_ENCODING), Some("br"));
    assert_eq!(header_of(&head, header::VARY), Some("accept-encoding"));
    assert_eq!(
        header_of(&head, header::CONTENT_LENGTH),
        Some(BROTLI.len().to_string().as_str())
    );
    let last_modified = header_of(&head, header::LAST_MODIFIED)
        .expect("last-modified")
        .to_string();
    assert!(body(head).await.is_empty());

    // A revalidation (a browser told to ignore its cache lifetime) keeps the headers.
    let revalidated = Request::get(HASHED)
        .header(header::ACCEPT_ENCODING, "br")
        .header(header::IF_MODIFIED_SINCE, last_modified)
        .body(Body::empty())
        .expect("request");
    let revalidated = send(app.clone(), revalidated).await;
    assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(
        header_of(&revalidated, header::VARY),
        Some("accept-encoding")
    );
    assert_eq!(
        header_of(&revalidated, header::CACHE_CONTROL),
        Some("public, max-age=31536000, immutable")
    );

    let ranged = Request::get(HASHED)
        .header(header::ACCEPT_ENCODING, "gzip")
        .header(header::RANGE, "bytes=0-3")
        .body(Body::empty())
        .expect("request");
    let ranged = send(app.clone(), ranged).await;
    assert_eq!(ranged.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(header_of(&ranged, header::CONTENT_ENCODING), Some("gzip"));
    assert_eq!(header_of(&ranged, header::VARY), Some("accept-encoding"));
    let total = format!("bytes 0-3/{}", GZIP.len());
    assert_eq!(
        header_of(&ranged, header::CONTENT_RANGE),
        Some(total.as_str())
    );
    assert_eq!(body(ranged).await, &GZIP[..4]);
}

#[tokio::test]
async fn only_hashed_names_are_immutable() {
    let app = app();
    for path in ["/", "/index.html", "/namespaces/team-a", "/vendor/lib.js"] {
        let response = request(&app, Method::GET, path, Some("br, gzip")).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(
            header_of(&response, header::CACHE_CONTROL),
            Some("no-cache"),
            "{path}"
        );
        assert!(
            response
                .headers()
                .contains_key(header::CONTENT_SECURITY_POLICY),
            "{path}"
        );
    }
    // A hashed name that is not there is not cached for a year either.
    let missing = request(&app, Method::GET, "/frontend-fedcba9876543210.js", None).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_ne!(
        header_of(&missing, header::CACHE_CONTROL),
        Some("public, max-age=31536000, immutable")
    );
}

#[tokio::test]
async fn variants_are_not_served_under_their_own_names() {
    let app = app();
    for suffix in [".br", ".gz"] {
        let response = request(&app, Method::GET, &format!("{HASHED}{suffix}"), None).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{suffix}");
        assert!(
            response
                .headers()
                .contains_key(header::CONTENT_SECURITY_POLICY)
        );
    }
}

#[tokio::test]
async fn the_index_page_is_revalidated_by_its_etag() {
    let app = app();
    let first = request(&app, Method::GET, "/namespaces/team-a", None).await;
    let etag = header_of(&first, header::ETAG).expect("etag").to_string();
    for (if_none_match, status) in [
        (etag.clone(), StatusCode::NOT_MODIFIED),
        (format!("W/{etag}"), StatusCode::NOT_MODIFIED),
        (format!("\"other\", {etag}"), StatusCode::NOT_MODIFIED),
        ("\"other\"".to_string(), StatusCode::OK),
    ] {
        let request = Request::get("/")
            .header(header::IF_NONE_MATCH, &if_none_match)
            .body(Body::empty())
            .expect("request");
        let response = send(app.clone(), request).await;
        assert_eq!(response.status(), status, "{if_none_match}");
        assert_eq!(
            header_of(&response, header::CACHE_CONTROL),
            Some("no-cache")
        );
        assert_eq!(header_of(&response, header::ETAG), Some(etag.as_str()));
        assert!(
            response
                .headers()
                .contains_key(header::CONTENT_SECURITY_POLICY)
        );
    }
}
