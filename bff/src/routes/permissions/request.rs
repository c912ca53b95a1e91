//! What a permission query may ask: checks that name one verb on one kind of resource, in
//! Kubernetes names, and a bounded number of them and of namespaces.

use std::collections::BTreeSet;

use shared::{AccessCheck, AccessQuery, permissions::MAX_CHECKS};

/// The most namespaces one query may name (the cluster-wide checks count as one more): a view
/// asks about its namespace and cluster-wide, and each namespace not cached costs a review.
pub const MAX_NAMESPACES: usize = 16;

/// Why `query` is refused, for the person who sent it.
pub fn validate(query: &AccessQuery) -> Result<(), String> {
    if query.checks.len() > MAX_CHECKS {
        return Err(format!(
            "At most {MAX_CHECKS} checks fit in one request; this one has {}.",
            query.checks.len()
        ));
    }
    for (index, check) in query.checks.iter().enumerate() {
        check_problem(check).map_or(Ok(()), |problem| {
            Err(format!("Check {} is refused: {problem}.", index + 1))
        })?;
    }
    let namespaces: BTreeSet<Option<&str>> = query
        .checks
        .iter()
        .map(|check| check.namespace.as_deref())
        .collect();
    if namespaces.len() > MAX_NAMESPACES {
        return Err(format!(
            "At most {MAX_NAMESPACES} namespaces (cluster-wide counts as one) fit in one request; \
             this one names {}. Ask about fewer namespaces at a time.",
            namespaces.len()
        ));
    }
    Ok(())
}

fn check_problem(check: &AccessCheck) -> Option<String> {
    let mut fields = vec![
        ("verb", Some(check.verb.as_str())),
        ("group", Some(check.group.as_str())),
        ("resource", Some(check.resource.as_str())),
        ("subresource", check.subresource.as_deref()),
        ("namespace", check.namespace.as_deref()),
    ];
    if let Some((field, _)) = fields
        .iter()
        .find(|(_, value)| value.is_some_and(|v| v.contains('*')))
    {
        return Some(format!(
            "the {field} is a wildcard; ask about one verb on one kind of resource"
        ));
    }
    if check.verb.is_empty() {
        return Some("the verb is empty".into());
    }
    if check.resource.is_empty() {
        return Some("the resource is empty".into());
    }
    if check.subresource.as_deref() == Some("") {
        return Some("the subresource is empty; leave it out instead".into());
    }
    if check.namespace.as_deref() == Some("") {
        return Some("the namespace is empty; leave it out for a cluster-wide check".into());
    }
    // An empty group is the core group.
    if check.group.is_empty() {
        fields.retain(|(field, _)| *field != "group");
    }
    for (field, value) in fields {
        let Some(value) = value else { continue };
        let fits = match field {
            "verb" => is_word(value),
            "namespace" => is_dns_label(value),
            _ => is_dns_subdomain(value),
        };
        if !fits {
            let allowed = match field {
                "verb" => "lowercase letters, digits and '-'",
                "namespace" => {
                    "at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
                }
                _ => "lowercase letters, digits, '-' and '.'",
            };
            return Some(format!(
                "the {field} {value:?} is not a Kubernetes name ({allowed})"
            ));
        }
    }
    None
}

fn is_word(value: &str) -> bool {
    (1..=63).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// RFC 1123 label, as Kubernetes names namespaces.
pub fn is_dns_label(value: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    (1..=63).contains(&value.len())
        && value.bytes().all(|b| alnum(b) || b == b'-')
        && value.bytes().next().is_some_and(alnum)
        && value.bytes().last().is_some_and(alnum)
}

/// RFC 1123 subdomain, as Kubernetes names API groups (and, less strictly, resources).
fn is_dns_subdomain(value: &str) -> bool {
    value.len() <= 253 && value.split('.').all(is_dns_label)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(verb: &str, group: &str, resource: &str) -> AccessCheck {
        AccessCheck::new(verb, group, resource, Some("team-a"))
    }

    fn query(checks: Vec<AccessCheck>) -> AccessQuery {
        AccessQuery { checks }
    }

    #[test]
    fn well_formed_checks_pass() {
        let checks = vec![
            check("delete", "", "configmaps"),
            check("update", "apps", "deployments").with_subresource("scale"),
            AccessCheck::new("list", "", "namespaces", None),
            check("get", "snapshot.storage.k8s.io", "volumesnapshots"),
            check("deletecollection", "", "pods"),
        ];
        assert_eq!(validate(&query(checks)), Ok(()));
        assert_eq!(validate(&query(vec![])), Ok(()));
    }

    #[test]
    fn malformed_checks_are_refused_with_a_reason() {
        let too_many = vec![check("get", "", "pods"); MAX_CHECKS + 1];
        assert!(
            validate(&query(too_many)).is_err_and(|e| e.contains(&format!("At most {MAX_CHECKS}")))
        );
        for (bad, expected) in [
            (check("", "", "pods"), "verb is empty"),
            (check("get", "", ""), "resource is empty"),
            (check("*", "", "pods"), "wildcard"),
            (check("get", "*", "pods"), "wildcard"),
            (check("get", "", "*"), "wildcard"),
            (
                check("update", "apps", "deployments").with_subresource("*"),
                "wildcard",
            ),
            (
                check("get", "", "pods").with_subresource(""),
                "subresource is empty",
            ),
            (
                AccessCheck::new("get", "", "pods", Some("")),
                "namespace is empty",
            ),
            (
                AccessCheck::new("get", "", "pods", Some("Team-A")),
                "namespace",
            ),
            (
                AccessCheck::new("get", "", "pods", Some("team_a")),
                "namespace",
            ),
            (
                AccessCheck::new("get", "", "pods", Some("-team")),
                "namespace",
            ),
            (
                AccessCheck::new("get", "", "pods", Some(&"a".repeat(64))),
                "namespace",
            ),
            (check("GET", "", "pods"), "verb"),
            (check("get", "", "pods/log"), "resource"),
            (check("get", "Apps", "deployments"), "group"),
            (check("get", "apps..io", "deployments"), "group"),
            (check("get", "", "pods\n"), "resource"),
            (check("get", "", "pods?watch=1"), "resource"),
        ] {
            let refused = validate(&query(vec![check("get", "", "pods"), bad.clone()]));
            assert!(
                refused
                    .as_ref()
                    .is_err_and(|e| e.starts_with("Check 2 is refused") && e.contains(expected)),
                "{bad:?}: {refused:?}"
            );
        }
    }

    #[test]
    fn one_query_names_a_bounded_number_of_namespaces() {
        let in_namespaces = |count: usize, cluster_wide: bool| {
            let mut checks: Vec<AccessCheck> = (0..count)
                .map(|i| AccessCheck::new("list", "", "pods", Some(&format!("ns-{i}"))))
                .collect();
            if cluster_wide {
                checks.push(AccessCheck::new("list", "", "namespaces", None));
            }
            // Repeats of a namespace count once.
            checks.extend(checks.clone());
            validate(&query(checks))
        };
        assert_eq!(in_namespaces(MAX_NAMESPACES, false), Ok(()));
        assert_eq!(in_namespaces(MAX_NAMESPACES - 1, true), Ok(()));
        for refused in [
            in_namespaces(MAX_NAMESPACES, true),
            in_namespaces(MAX_NAMESPACES + 1, false),
            in_namespaces(100, false),
        ] {
            assert!(
                refused
                    .as_ref()
                    .is_err_and(|e| e.contains(&format!("At most {MAX_NAMESPACES} namespaces"))),
                "{refused:?}"
            );
        }
    }
}
