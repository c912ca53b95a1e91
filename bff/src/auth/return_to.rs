use percent_encoding::percent_decode_str;

/// The longest return path accepted. It travels in the sealed login cookie, which has to stay
/// under the browser's 4096-byte limit together with the PKCE verifier, state and nonce.
pub const MAX_LENGTH: usize = 2048;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReturnToError {
    #[error("the return path is longer than {MAX_LENGTH} bytes")]
    TooLong,
}

/// The route a browser asked to come back to, accepted only as a path inside the console: an
/// absolute or protocol-relative URL, a backslash, a dot segment, an encoded slash or backslash, a
/// control character or anything outside printable ASCII (the app sends its route as the browser
/// percent-encodes it) makes it `/`, so that a login can never end on another site. Printable
/// ASCII without quote or backslash also means JSON never escapes it, so its length bounds the
/// cookie's. A path longer than `MAX_LENGTH` is an error of its own, so that it is not silently
/// dropped.
pub fn sanitize(candidate: Option<&str>) -> Result<String, ReturnToError> {
    let Some(path) = candidate else {
        return Ok("/".into());
    };
    if path.len() > MAX_LENGTH {
        return Err(ReturnToError::TooLong);
    }
    Ok(if is_acceptable(path) {
        path.to_string()
    } else {
        "/".into()
    })
}

fn is_acceptable(path: &str) -> bool {
    let path_only = path.split(['?', '#']).next().unwrap_or_default();
    let lower = path_only.to_ascii_lowercase();
    path.starts_with('/')
        && !path.starts_with("//")
        && path
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"\"\\<>`{}|^".contains(&b))
        && !path_only.split('/').any(|segment| {
            let decoded: Vec<u8> = percent_decode_str(segment).collect();
            decoded == b"." || decoded == b".."
        })
        // Empty segments ("/a//b") are harmless on this origin but "//" anywhere hints at a
        // scheme-relative URL once something strips a prefix: refused too.
        && !path_only.contains("//")
        && !lower.contains("%2f")
        && !lower.contains("%5c")
        && !path_only.starts_with("/auth/")
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn keeps_paths_inside_the_console() {
        assert_eq!(
            sanitize(Some("/namespaces/team-a")).as_deref(),
            Ok("/namespaces/team-a")
        );
        assert_eq!(
            sanitize(Some("/namespaces/team-a?tab=yaml#x")).as_deref(),
            Ok("/namespaces/team-a?tab=yaml#x")
        );
        assert_eq!(sanitize(None).as_deref(), Ok("/"));
    }

    #[test]
    fn refuses_everything_else() {
        for hostile in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "\\\\evil.example",
            "javascript:alert(1)",
            "evil.example",
            "/../etc/passwd",
            "/a/%2e%2e/b",
            "/a%2fb",
            "/%2F%2Fevil.example",
            "/%5cevil.example",
            "/a//evil.example",
            "/a\r\nSet-Cookie: x=y",
            "/a b",
            "/\"onload",
            "/é",
            "/auth/callback?code=x",
            "",
        ] {
            assert_eq!(sanitize(Some(hostile)).as_deref(), Ok("/"), "{hostile:?}");
        }
    }

    #[test]
    fn a_path_too_long_is_an_error_not_a_silent_slash() {
        let longest = format!("/{}", "a".repeat(MAX_LENGTH - 1));
        assert_eq!(sanitize(Some(&longest)).as_deref(), Ok(longest.as_str()));
        let longer = format!("/{}", "a".repeat(MAX_LENGTH));
        assert_eq!(sanitize(Some(&longer)), Err(ReturnToError::TooLong));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Whatever arrives, what comes out is a relative path on this origin, bounded.
        #[test]
        fn any_accepted_path_is_a_same_origin_relative_path(candidate in any_candidate()) {
            if let Ok(path) = sanitize(Some(&candidate)) {
                prop_assert!(path.starts_with('/'));
                prop_assert!(!path.starts_with("//"));
                prop_assert!(!path.contains('\\'));
                prop_assert!(!path.chars().any(char::is_control));
                prop_assert!(path.len() <= MAX_LENGTH);
                let path_only = path.split(['?', '#']).next().unwrap_or_default();
                prop_assert!(!path_only.contains("//"));
                prop_assert!(!path_only.to_ascii_lowercase().contains("%2f"));
                // Resolved against the console's origin, it stays there.
                let base = reqwest::Url::parse("https://console.example/").expect("base");
                let resolved = base.join(&path).expect("a relative path resolves");
                prop_assert_eq!(resolved.origin(), base.origin());
            }
        }
    }

    /// Paths built from the pieces that matter (slashes, encodings, schemes, dots, controls),
    /// plus arbitrary text, up to past the length bound.
    pub(crate) fn any_candidate() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("/".to_string()),
            Just("//".to_string()),
            Just("\\".to_string()),
            Just("%2f".to_string()),
            Just("%2F".to_string()),
            Just("%5c".to_string()),
            Just("%2e%2e".to_string()),
            Just("..".to_string()),
            Just("https:".to_string()),
            Just("javascript:".to_string()),
            Just("evil.example".to_string()),
            Just("?".to_string()),
            Just("#".to_string()),
            Just("\r\n".to_string()),
            Just("\t".to_string()),
            "[a-z0-9-]{1,12}",
            ".{0,8}",
        ];
        prop_oneof![
            proptest::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat()),
            "/[a-z]{2040,2060}",
        ]
    }
}
