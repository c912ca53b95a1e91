/// The route a browser asked to come back to, accepted only as a path inside the console: an
/// absolute or protocol-relative URL, a backslash, a dot segment or a control character makes
/// it `/`, so that a login can never end on another site.
pub fn sanitize(candidate: Option<&str>) -> String {
    let Some(path) = candidate else {
        return "/".into();
    };
    let path_only = path.split(['?', '#']).next().unwrap_or_default();
    let acceptable = path.starts_with('/')
        && !path.starts_with("//")
        && path.len() <= 2048
        && !path.contains('\\')
        && !path.chars().any(|c| c.is_control())
        && !path_only.split('/').any(|segment| {
            let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
            decoded == "." || decoded == ".."
        })
        && !path_only.to_ascii_lowercase().contains("%2f")
        && !path_only.to_ascii_lowercase().contains("%5c")
        && !path_only.starts_with("/auth/");
    if acceptable {
        path.to_string()
    } else {
        "/".into()
    }
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn keeps_paths_inside_the_console() {
        assert_eq!(sanitize(Some("/namespaces/team-a")), "/namespaces/team-a");
        assert_eq!(
            sanitize(Some("/namespaces/team-a?tab=yaml#x")),
            "/namespaces/team-a?tab=yaml#x"
        );
        assert_eq!(sanitize(None), "/");
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
            "/a\r\nSet-Cookie: x=y",
            "/auth/callback?code=x",
            "",
        ] {
            assert_eq!(sanitize(Some(hostile)), "/", "{hostile:?}");
        }
    }
}
