use super::*;

fn kind(group: &str, version: &str, resource: &str) -> KindRoute {
    KindRoute {
        group: group.into(),
        version: version.into(),
        resource: resource.into(),
    }
}

fn every_page() -> Vec<Page> {
    let odd = [
        "web",
        "a/b",
        "../../healthz",
        "a?b#c",
        "100%",
        "%2F",
        "with space",
        "ünïcode",
        "*",
        "+&=;",
    ];
    let mut pages = vec![
        Page::Overview,
        Page::LoginComplete,
        Page::LoginFailed,
        Page::LoggedOut,
    ];
    for name in odd {
        let kinds = [kind("core", "v1", "configmaps"), kind("apps", "v1", name)];
        for kind in kinds {
            pages.push(Page::List {
                kind: kind.clone(),
                namespace: Some(NamespaceScope::One(name.into())),
            });
            pages.push(Page::List {
                kind: kind.clone(),
                namespace: Some(NamespaceScope::All),
            });
            pages.push(Page::List {
                kind: kind.clone(),
                namespace: None,
            });
            pages.push(Page::Detail {
                kind: kind.clone(),
                namespace: Some("team-a".into()),
                name: name.into(),
            });
            pages.push(Page::Detail {
                kind: kind.clone(),
                namespace: None,
                name: name.into(),
            });
            pages.push(Page::Logs {
                kind,
                namespace: name.into(),
                name: name.into(),
            });
        }
        pages.push(Page::Terminal {
            namespace: "team-a".into(),
            pod: name.into(),
            container: None,
        });
        pages.push(Page::Terminal {
            namespace: "team-a".into(),
            pod: "two-containers".into(),
            container: Some(name.into()),
        });
    }
    pages
}

#[test]
fn every_page_parses_back_from_its_path() {
    for page in every_page() {
        let path = page.path();
        assert_eq!(Page::parse(&path), Some(page), "{path}");
    }
}

#[test]
fn the_paths_the_app_has_always_used() {
    let configmaps = kind("core", "v1", "configmaps");
    assert_eq!(Page::Overview.path(), "/");
    assert_eq!(
        Page::List {
            kind: configmaps.clone(),
            namespace: Some(NamespaceScope::One("team-a".into())),
        }
        .path(),
        "/ns/team-a/core/v1/configmaps"
    );
    assert_eq!(
        Page::List {
            kind: kind("apps", "v1", "deployments"),
            namespace: Some(NamespaceScope::All),
        }
        .path(),
        "/all/apps/v1/deployments"
    );
    assert_eq!(
        Page::Detail {
            kind: kind("core", "v1", "namespaces"),
            namespace: None,
            name: "team-a".into(),
        }
        .path(),
        "/cluster/core/v1/namespaces/team-a"
    );
    assert_eq!(
        Page::Detail {
            kind: configmaps,
            namespace: Some("team-a".into()),
            name: "a/b".into(),
        }
        .path(),
        "/ns/team-a/core/v1/configmaps/a%2Fb"
    );
}

#[test]
fn logs_pages_are_an_object_path_and_logs() {
    let page = Page::Logs {
        kind: kind("apps", "v1", "deployments"),
        namespace: "team-a".into(),
        name: "chatty".into(),
    };
    assert_eq!(page.path(), "/ns/team-a/apps/v1/deployments/chatty/logs");
    // A pod named "logs" still has its detail page, and its logs page is one segment further.
    let pods = kind("core", "v1", "pods");
    assert_eq!(
        Page::parse("/ns/team-a/core/v1/pods/logs"),
        Some(Page::Detail {
            kind: pods.clone(),
            namespace: Some("team-a".into()),
            name: "logs".into(),
        })
    );
    assert_eq!(
        Page::parse("/ns/team-a/core/v1/pods/logs/logs"),
        Some(Page::Logs {
            kind: pods,
            namespace: "team-a".into(),
            name: "logs".into(),
        })
    );
    // Logs are always in a namespace: no cluster-wide or all-namespaces form.
    for path in [
        "/cluster/core/v1/nodes/n1/logs",
        "/all/core/v1/pods/web/logs",
        "/ns/team-a/core/v1/pods/web/other",
    ] {
        assert_eq!(Page::parse(path), None, "{path}");
    }
}

#[test]
fn other_paths_are_no_page() {
    for path in [
        "",
        "ns/team-a/core/v1/pods",
        "/ns/team-a/core/v1",
        "/ns/team-a/core/v1/pods/web/extra",
        "/all/apps/v1/deployments/web",
        "/cluster//v1/namespaces",
        "/auth",
        "/auth/complete/more",
        "/logged-out/more",
        "/ns/team-a/core/v1/pods/%FF",
    ] {
        assert_eq!(Page::parse(path), None, "{path}");
    }
    assert_eq!(
        Page::parse("/ns/team-a/core/v1/pods/"),
        Page::parse("/ns/team-a/core/v1/pods")
    );
}

#[test]
fn the_pages_without_a_session() {
    assert_eq!(Page::LoginComplete.path(), "/auth/complete");
    assert_eq!(Page::LoginFailed.path(), "/auth/error");
    assert_eq!(Page::LoggedOut.path(), "/logged-out");
    for path in [
        "/auth/complete",
        "/auth/error",
        "/auth/unknown",
        "/logged-out",
    ] {
        assert!(Page::needs_no_session(path), "{path}");
    }
    for path in [
        "/",
        "/authx/complete",
        "/auth",
        "/ns/team-a/core/v1/pods",
        "/logged-outx",
    ] {
        assert!(!Page::needs_no_session(path), "{path}");
    }
}

#[test]
fn a_terminal_is_a_pods_and_in_one_namespace() {
    assert_eq!(
        Page::Terminal {
            namespace: "team-a".into(),
            pod: "two-containers".into(),
            container: Some("web".into()),
        }
        .path(),
        "/ns/team-a/core/v1/pods/two-containers/terminal/web"
    );
    assert_eq!(
        Page::parse("/ns/team-a/core/v1/pods/chatty-1/terminal"),
        Some(Page::Terminal {
            namespace: "team-a".into(),
            pod: "chatty-1".into(),
            container: None,
        })
    );
    for path in [
        "/ns/team-a/core/v1/configmaps/x/terminal",
        "/ns/team-a/apps/v1/pods/x/terminal",
        "/all/core/v1/pods/x/terminal",
        "/cluster/core/v1/pods/x/terminal",
        "/ns/team-a/core/v1/pods/x/terminal/web/more",
    ] {
        assert_eq!(Page::parse(path), None, "{path}");
    }
}
