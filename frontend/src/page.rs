//! Every page of the app, and the one place that knows their paths:
//! `Page::path` builds them, `Page::parse` reads them, and the router's patterns
//! (`page::patterns`) are made of the same prefixes. The pages read their target with
//! `Page::parse`, not from the patterns' parameters.

use percent_encoding::percent_decode_str;

use crate::{
    kube::{ResourceType, resource_type::encode},
    scope::NamespaceScope,
};

/// The first segment of a kind's routes: in one namespace, in all of them, cluster-wide.
const IN_NAMESPACE: &str = "ns";
const ALL_NAMESPACES: &str = "all";
const CLUSTER: &str = "cluster";
/// The pages that need no session: the end of a login (under the BFF's `/auth`, whose other
/// routes never reach the app), its failure, and the logged-out page.
const AUTH: &str = "auth";
const LOGIN_COMPLETE: &str = "complete";
const LOGIN_FAILED: &str = "error";
const LOGGED_OUT: &str = "logged-out";
/// The last segment of an object's logs page.
const LOGS: &str = "logs";
/// After a pod's path: its terminal (then, optionally, the container's name).
const TERMINAL: &str = "terminal";

/// Where a resource kind lives in the app's routes: "core" stands for the core group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindRoute {
    pub group: String,
    pub version: String,
    pub resource: String,
}

impl KindRoute {
    pub fn of(ty: &ResourceType) -> Self {
        KindRoute {
            group: ty.group_segment().to_string(),
            version: ty.version.clone(),
            resource: ty.resource.clone(),
        }
    }

    /// Pods, the only kind with a terminal.
    pub fn pods() -> Self {
        KindRoute {
            group: "core".into(),
            version: "v1".into(),
            resource: "pods".into(),
        }
    }

    pub fn matches(&self, ty: &ResourceType) -> bool {
        *self == KindRoute::of(ty)
    }

    fn path(&self) -> String {
        let KindRoute {
            group,
            version,
            resource,
        } = self;
        format!("{}/{}/{}", encode(group), encode(version), encode(resource))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    Overview,
    /// A kind's list: in a namespace or in all of them, or (None) cluster-wide.
    List {
        kind: KindRoute,
        namespace: Option<NamespaceScope>,
    },
    /// One object: in its namespace, or (None) cluster-scoped.
    Detail {
        kind: KindRoute,
        namespace: Option<String>,
        name: String,
    },
    /// The logs of a pod, or of all the pods a workload selects (always in a namespace).
    Logs {
        kind: KindRoute,
        namespace: String,
        name: String,
    },
    /// Where the BFF sends the browser after a login, to pick up the session.
    LoginComplete,
    /// Where the BFF sends the browser when a login fails (`?reason=`).
    LoginFailed,
    LoggedOut,
    /// A terminal in a pod's container (None: the pod's default container).
    Terminal {
        namespace: String,
        pod: String,
        container: Option<String>,
    },
}

impl Page {
    /// Does the page at `path` work without a session? Anything under `/auth/` does, so that an
    /// unknown one is a "not found" rather than a login.
    pub fn needs_no_session(path: &str) -> bool {
        path.strip_prefix('/')
            .and_then(|path| path.strip_prefix(AUTH))
            .is_some_and(|rest| rest.starts_with('/'))
            || Page::parse(path) == Some(Page::LoggedOut)
    }

    pub fn list(ty: &ResourceType, namespace: Option<NamespaceScope>) -> Self {
        Page::List {
            kind: KindRoute::of(ty),
            namespace,
        }
    }

    pub fn detail(ty: &ResourceType, namespace: Option<&str>, name: &str) -> Self {
        Page::Detail {
            kind: KindRoute::of(ty),
            namespace: namespace.map(str::to_string),
            name: name.to_string(),
        }
    }

    pub fn logs(ty: &ResourceType, namespace: &str, name: &str) -> Self {
        Page::Logs {
            kind: KindRoute::of(ty),
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }

    pub fn path(&self) -> String {
        let list_path = |kind: &KindRoute, namespace: Option<&NamespaceScope>| match namespace {
            Some(NamespaceScope::One(ns)) => {
                format!("/{IN_NAMESPACE}/{}/{}", encode(ns), kind.path())
            }
            Some(NamespaceScope::All) => format!("/{ALL_NAMESPACES}/{}", kind.path()),
            None => format!("/{CLUSTER}/{}", kind.path()),
        };
        match self {
            Page::Overview => "/".to_string(),
            Page::LoginComplete => format!("/{AUTH}/{LOGIN_COMPLETE}"),
            Page::LoginFailed => format!("/{AUTH}/{LOGIN_FAILED}"),
            Page::LoggedOut => format!("/{LOGGED_OUT}"),
            Page::List { kind, namespace } => list_path(kind, namespace.as_ref()),
            Page::Detail {
                kind,
                namespace,
                name,
            } => {
                let scope = namespace.clone().map(NamespaceScope::One);
                format!("{}/{}", list_path(kind, scope.as_ref()), encode(name))
            }
            Page::Logs {
                kind,
                namespace,
                name,
            } => {
                let scope = NamespaceScope::One(namespace.clone());
                format!("{}/{}/{LOGS}", list_path(kind, Some(&scope)), encode(name))
            }
            Page::Terminal {
                namespace,
                pod,
                container,
            } => {
                let scope = NamespaceScope::One(namespace.clone());
                let pod_path = format!(
                    "{}/{}",
                    list_path(&KindRoute::pods(), Some(&scope)),
                    encode(pod)
                );
                match container {
                    Some(container) => format!("{pod_path}/{TERMINAL}/{}", encode(container)),
                    None => format!("{pod_path}/{TERMINAL}"),
                }
            }
        }
    }

    /// The page a path names (a location's pathname, percent-encoded as `path` writes it).
    /// Names are never empty, so a trailing `/` is ignored.
    pub fn parse(path: &str) -> Option<Page> {
        let path = path.strip_prefix('/')?;
        let path = path.strip_suffix('/').unwrap_or(path);
        if path.is_empty() {
            return Some(Page::Overview);
        }
        let segments = path
            .split('/')
            .map(|segment| {
                let decoded = percent_decode_str(segment).decode_utf8().ok()?;
                (!decoded.is_empty()).then(|| decoded.into_owned())
            })
            .collect::<Option<Vec<String>>>()?;
        let (prefix, rest) = segments.split_first()?;
        match (prefix.as_str(), rest) {
            (AUTH, [page]) if page == LOGIN_COMPLETE => return Some(Page::LoginComplete),
            (AUTH, [page]) if page == LOGIN_FAILED => return Some(Page::LoginFailed),
            (LOGGED_OUT, []) => return Some(Page::LoggedOut),
            _ => {}
        }
        let (namespace, rest) = match prefix.as_str() {
            IN_NAMESPACE => {
                let (ns, rest) = rest.split_first()?;
                (Some(NamespaceScope::One(ns.clone())), rest)
            }
            ALL_NAMESPACES => (Some(NamespaceScope::All), rest),
            CLUSTER => (None, rest),
            _ => return None,
        };
        match rest {
            [group, version, resource] => Some(Page::List {
                kind: KindRoute {
                    group: group.clone(),
                    version: version.clone(),
                    resource: resource.clone(),
                },
                namespace,
            }),
            [group, version, resource, name] => Some(Page::Detail {
                kind: KindRoute {
                    group: group.clone(),
                    version: version.clone(),
                    resource: resource.clone(),
                },
                namespace: match namespace {
                    Some(NamespaceScope::One(ns)) => Some(ns),
                    // No object page across all namespaces: an object is in one.
                    Some(NamespaceScope::All) => return None,
                    None => None,
                },
                name: name.clone(),
            }),
            [group, version, resource, name, page] if page == LOGS => match namespace {
                Some(NamespaceScope::One(namespace)) => Some(Page::Logs {
                    kind: KindRoute {
                        group: group.clone(),
                        version: version.clone(),
                        resource: resource.clone(),
                    },
                    namespace,
                    name: name.clone(),
                }),
                _ => None,
            },
            [group, version, resource, pod, terminal, container @ ..]
                if terminal == TERMINAL && container.len() <= 1 =>
            {
                let is_pods = KindRoute {
                    group: group.clone(),
                    version: version.clone(),
                    resource: resource.clone(),
                } == KindRoute::pods();
                match namespace {
                    Some(NamespaceScope::One(namespace)) if is_pods => Some(Page::Terminal {
                        namespace,
                        pod: pod.clone(),
                        container: container.first().cloned(),
                    }),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The same page in another namespace (or all of them): a namespaced page keeps its kind
    /// and leaves the object; others stay put (None).
    pub fn in_namespace(&self, scope: &NamespaceScope) -> Option<Page> {
        match self {
            Page::List {
                kind,
                namespace: Some(_),
            }
            | Page::Detail {
                kind,
                namespace: Some(_),
                ..
            }
            | Page::Logs { kind, .. } => Some(Page::List {
                kind: kind.clone(),
                namespace: Some(scope.clone()),
            }),
            _ => None,
        }
    }
}

/// The router's patterns for the pages behind the login, one per shape of `Page::path`.
pub mod patterns {
    use leptos_router::{ParamSegment, StaticSegment};

    type Prefix = StaticSegment<&'static str>;
    type Kind = (ParamSegment, ParamSegment, ParamSegment);

    fn kind() -> Kind {
        (
            ParamSegment("group"),
            ParamSegment("version"),
            ParamSegment("resource"),
        )
    }

    pub fn list_in_namespace() -> (Prefix, ParamSegment, Kind) {
        (
            StaticSegment(super::IN_NAMESPACE),
            ParamSegment("namespace"),
            kind(),
        )
    }

    pub fn detail_in_namespace() -> (Prefix, ParamSegment, Kind, ParamSegment) {
        (
            StaticSegment(super::IN_NAMESPACE),
            ParamSegment("namespace"),
            kind(),
            ParamSegment("name"),
        )
    }

    pub fn list_in_all_namespaces() -> (Prefix, Kind) {
        (StaticSegment(super::ALL_NAMESPACES), kind())
    }

    pub fn list_in_cluster() -> (Prefix, Kind) {
        (StaticSegment(super::CLUSTER), kind())
    }

    pub fn logs_in_namespace() -> (Prefix, ParamSegment, Kind, ParamSegment, Prefix) {
        (
            StaticSegment(super::IN_NAMESPACE),
            ParamSegment("namespace"),
            kind(),
            ParamSegment("name"),
            StaticSegment(super::LOGS),
        )
    }

    pub fn detail_in_cluster() -> (Prefix, Kind, ParamSegment) {
        (StaticSegment(super::CLUSTER), kind(), ParamSegment("name"))
    }

    pub fn terminal() -> (Prefix, ParamSegment, Kind, ParamSegment, Prefix) {
        (
            StaticSegment(super::IN_NAMESPACE),
            ParamSegment("namespace"),
            kind(),
            ParamSegment("name"),
            StaticSegment(super::TERMINAL),
        )
    }

    pub fn terminal_in_container() -> (
        Prefix,
        ParamSegment,
        Kind,
        ParamSegment,
        Prefix,
        ParamSegment,
    ) {
        (
            StaticSegment(super::IN_NAMESPACE),
            ParamSegment("namespace"),
            kind(),
            ParamSegment("name"),
            StaticSegment(super::TERMINAL),
            ParamSegment("container"),
        )
    }

    pub fn login_complete() -> (Prefix, Prefix) {
        (
            StaticSegment(super::AUTH),
            StaticSegment(super::LOGIN_COMPLETE),
        )
    }

    pub fn login_failed() -> (Prefix, Prefix) {
        (
            StaticSegment(super::AUTH),
            StaticSegment(super::LOGIN_FAILED),
        )
    }

    pub fn logged_out() -> Prefix {
        StaticSegment(super::LOGGED_OUT)
    }
}

#[cfg(test)]
mod tests;
