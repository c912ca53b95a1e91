//! The app as the BFF serves it: brotli or gzip made at build time, chosen by `Accept-Encoding`,
//! with `Vary`; content-hashed files cached for a year, the index page revalidated; and in
//! Chromium, a first visit within issue 12's budget and a second one from the cache.

use std::io::Read;

use e2e::{
    TestStack,
    first_load::{FIRST_VISIT_BUDGET, Visits, measure, total},
};
use reqwest::{Method, StatusCode, header};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The app's files the index page names (`href="/…"`, `src="/…"`): wasm, JS and CSS.
fn app_files(index: &str) -> Vec<String> {
    let mut files: Vec<String> = index
        .split(['"', '\''])
        .filter(|part| part.starts_with('/') && !part.starts_with("//"))
        .filter(|part| {
            [".wasm", ".js", ".css"]
                .iter()
                .any(|ext| part.ends_with(ext))
        })
        .map(str::to_string)
        .collect();
    files.sort();
    files.dedup();
    files
}

fn decode(encoding: &str, body: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut decoded = Vec::new();
    match encoding {
        "br" => brotli::Decompressor::new(body, 4096).read_to_end(&mut decoded)?,
        "gzip" => flate2::read::GzDecoder::new(body).read_to_end(&mut decoded)?,
        other => anyhow::bail!("unexpected encoding {other}"),
    };
    Ok(decoded)
}

fn header_of(response: &reqwest::Response, name: header::HeaderName) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

#[tokio::test]
async fn app_files_are_sent_as_the_browser_accepts_and_cached_by_name() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let console = &stack.description().console_url;
    // reqwest here decodes nothing and sends no Accept-Encoding of its own.
    let http = stack.http()?;

    let index = http.get(format!("{console}/")).send().await?;
    assert_eq!(index.status(), StatusCode::OK);
    assert_eq!(
        header_of(&index, header::CACHE_CONTROL).as_deref(),
        Some("no-cache")
    );
    let files = app_files(&index.text().await?);
    for ext in [".wasm", ".js", ".css"] {
        assert!(
            files.iter().any(|f| f.ends_with(ext)),
            "no {ext} in {files:?}"
        );
    }

    for file in &files {
        let url = format!("{console}{file}");
        let content_type = match file.rsplit('.').next() {
            Some("wasm") => "application/wasm",
            Some("js") => "text/javascript",
            _ => "text/css",
        };
        let identity = http.get(&url).send().await?;
        assert_eq!(identity.status(), StatusCode::OK, "{file}");
        assert_eq!(
            header_of(&identity, header::CONTENT_ENCODING),
            None,
            "{file}"
        );
        let raw = identity.bytes().await?;

        for (accept, expected) in [
            (Some("gzip, deflate, br, zstd"), Some("br")),
            (Some("gzip"), Some("gzip")),
            (Some("br;q=0, gzip;q=0.5"), Some("gzip")),
            (Some("gzip;q=1, br;q=0.8"), Some("gzip")),
            (Some("identity"), None),
            (None, None),
        ] {
            let mut request = http.get(&url);
            if let Some(accept) = accept {
                request = request.header(header::ACCEPT_ENCODING, accept);
            }
            let response = request.send().await?;
            let context = format!("{file} with Accept-Encoding {accept:?}");
            assert_eq!(response.status(), StatusCode::OK, "{context}");
            assert_eq!(
                header_of(&response, header::CONTENT_ENCODING).as_deref(),
                expected,
                "{context}"
            );
            assert_eq!(
                header_of(&response, header::VARY).as_deref(),
                Some("accept-encoding"),
                "{context}"
            );
            // The terminal's xterm.js files (named in the Trusted Types policy, loaded when a
            // terminal first opens) have their pinned version's names, not content hashes:
            // revalidated, like the index.
            let lifetime = if file.starts_with("/xterm/") {
                "no-cache"
            } else {
                IMMUTABLE
            };
            assert_eq!(
                header_of(&response, header::CACHE_CONTROL).as_deref(),
                Some(lifetime),
                "{context}"
            );
            assert_eq!(
                header_of(&response, header::CONTENT_TYPE).as_deref(),
                Some(content_type),
                "{context}"
            );
            // The security headers stay on every answer.
            assert!(
                header_of(&response, header::CONTENT_SECURITY_POLICY)
                    .is_some_and(|csp| csp.contains("require-trusted-types-for 'script'")),
                "{context}"
            );
            assert_eq!(
                header_of(&response, header::X_CONTENT_TYPE_OPTIONS).as_deref(),
                Some("nosniff"),
                "{context}"
            );
            let length: usize = header_of(&response, header::CONTENT_LENGTH)
                .unwrap_or_default()
                .parse()?;
            let body = response.bytes().await?;
            assert_eq!(length, body.len(), "{context}");
            match expected {
                Some(encoding) => {
                    assert!(body.len() < raw.len(), "{context}: not smaller");
                    assert_eq!(decode(encoding, &body)?, raw, "{context}");
                }
                None => assert_eq!(body, raw, "{context}"),
            }
        }

        // HEAD names the length of what GET would send in that encoding.
        let head = http
            .request(Method::HEAD, &url)
            .header(header::ACCEPT_ENCODING, "br")
            .send()
            .await?;
        let brotli_length = http
            .get(&url)
            .header(header::ACCEPT_ENCODING, "br")
            .send()
            .await?
            .bytes()
            .await?
            .len();
        assert_eq!(
            header_of(&head, header::CONTENT_LENGTH),
            Some(brotli_length.to_string()),
            "{file}"
        );
        assert_eq!(
            header_of(&head, header::CONTENT_ENCODING).as_deref(),
            Some("br")
        );
    }
    Ok(())
}

/// Both visits, measured once for the tests below (on a stack of their own when run alone).
async fn visits() -> anyhow::Result<&'static Visits> {
    static VISITS: tokio::sync::OnceCell<Visits> = tokio::sync::OnceCell::const_new();
    VISITS
        .get_or_try_init(|| async {
            let stack = TestStack::get().await?;
            let visits = measure(stack.description()).await?;
            eprintln!("first visit: {:?}", visits.first);
            eprintln!("second visit: {:?}", visits.second);
            Ok(visits)
        })
        .await
}

#[tokio::test]
async fn a_first_visit_fetches_compressed_files_and_a_second_takes_them_from_the_cache()
-> anyhow::Result<()> {
    let visits = visits().await?;
    for ext in [".wasm", ".js", ".css"] {
        // Fetched over the network (not from some cache), compressed. A file may have a second
        // entry, its preload taken up by the module loader, with nothing transferred.
        assert!(
            visits.first.iter().any(|file| file.path.ends_with(ext)
                && file.transfer > file.encoded
                && file.encoded < file.decoded),
            "no {ext} fetched compressed: {:?}",
            visits.first
        );
    }
    assert!(!visits.second.is_empty());
    for file in &visits.second {
        assert_eq!(file.transfer, 0, "not from the cache: {file:?}");
    }
    Ok(())
}

/// Over HTTP/2: the console keeps a watch open per thing it shows, and a browser holds at most
/// six HTTP/1.1 connections to an origin, so over HTTP/1.1 six watches queued every other request.
#[tokio::test]
async fn the_app_comes_over_http2() -> anyhow::Result<()> {
    let first = &visits().await?.first;
    let fetched: Vec<_> = first.iter().filter(|file| file.transfer > 0).collect();
    assert!(!fetched.is_empty(), "{first:?}");
    for file in fetched {
        assert_eq!(file.protocol, "h2", "{file:?}");
    }
    Ok(())
}

/// Issue 12's budget: what the overview needs, the other pages loading when first opened.
#[tokio::test]
async fn a_first_visit_stays_within_its_budget() -> anyhow::Result<()> {
    let first = total(&visits().await?.first, |f| f.transfer);
    assert!(
        first <= FIRST_VISIT_BUDGET,
        "the first visit transferred {first} B of wasm + JS + CSS, over its budget of {FIRST_VISIT_BUDGET} B"
    );
    Ok(())
}
