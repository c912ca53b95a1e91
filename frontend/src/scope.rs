//! Which namespaces a view looks at: one, or all of them at once.

/// How the switcher's options and the remembered choice spell "all namespaces": no namespace
/// name can contain `*`.
const ALL_VALUE: &str = "*";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamespaceScope {
    All,
    One(String),
}

impl NamespaceScope {
    /// From a switcher option's value or the remembered choice.
    pub fn from_value(value: &str) -> Self {
        if value == ALL_VALUE {
            NamespaceScope::All
        } else {
            NamespaceScope::One(value.to_string())
        }
    }

    /// As a switcher option's value and the remembered choice hold it.
    pub fn value(&self) -> &str {
        match self {
            NamespaceScope::All => ALL_VALUE,
            NamespaceScope::One(namespace) => namespace,
        }
    }

    /// The namespace a request is scoped to: None for all namespaces.
    pub fn namespace(&self) -> Option<&str> {
        match self {
            NamespaceScope::All => None,
            NamespaceScope::One(namespace) => Some(namespace),
        }
    }

    /// How a heading names it.
    pub fn label(&self) -> String {
        match self {
            NamespaceScope::All => "all namespaces".to_string(),
            NamespaceScope::One(namespace) => namespace.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NamespaceScope;

    #[test]
    fn the_value_round_trips() {
        for scope in [NamespaceScope::All, NamespaceScope::One("team-a".into())] {
            assert_eq!(NamespaceScope::from_value(scope.value()), scope);
        }
        assert_eq!(NamespaceScope::All.namespace(), None);
        assert_eq!(NamespaceScope::All.label(), "all namespaces");
    }
}
