//! The stack's Dex users: the demo users (passwords kept across starts) and the users for the
//! tests of hostile claim values (new passwords on every start).

use std::path::Path;

use anyhow::Context;

use crate::{ClaimTestUser, DemoUser, Role, random};

/// (email, role, namespace, groups) of each demo user.
const DEMO_USERS: [(&str, Role, Option<&str>, &str); 4] = [
    ("admin@example.com", Role::Admin, None, "console-admins"),
    ("viewer@example.com", Role::Viewer, None, "console-viewers"),
    (
        "developer@example.com",
        Role::Developer,
        Some("team-a"),
        "team-a-developers",
    ),
    // A viewer in 100 groups (console-viewers and 99 more, see `groups_of`).
    (
        "many-groups@example.com",
        Role::ManyGroups,
        None,
        "console-viewers",
    ),
];

/// How many groups the `ManyGroups` user is in.
pub const MANY_GROUPS: usize = 100;

/// A demo user's groups: one, or for the `ManyGroups` user 100, named like those of a large
/// organisation's directory.
fn groups_of(role: Role, group: &str) -> Vec<String> {
    let mut groups = vec![group.to_string()];
    if role == Role::ManyGroups {
        groups.extend(
            (1..MANY_GROUPS).map(|n| format!("org:platform-engineering:team-{n:03}-members")),
        );
    }
    groups
}

/// The Dex users for the tests of the apiserver-proxy's identity mapping, with a new password on
/// every start (nothing keeps them). The padded `system:masters` would be cluster-admin if it
/// reached the kube-apiserver as sent: HTTP trims the spaces around a header value.
pub fn claim_test_users() -> anyhow::Result<Vec<ClaimTestUser>> {
    Ok(vec![ClaimTestUser {
        email: "padded-groups@example.com".into(),
        password: random::hex_secret(8)?,
        groups: vec![
            " system:masters".into(),
            "system:masters\t".into(),
            "claim-test-users".into(),
        ],
    }])
}

/// The demo users, with passwords made on first start and kept in the state folder (a user added
/// to the stack later gets one on the next start).
pub fn demo_users(state: &Path) -> anyhow::Result<Vec<(DemoUser, Vec<String>)>> {
    let path = state.join("users.json");
    let mut stored: Vec<DemoUser> = match std::fs::read_to_string(&path) {
        Ok(text) => {
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?
        }
        Err(_) => Vec::new(),
    };
    let mut users = Vec::new();
    let mut added = false;
    for (email, role, namespace, group) in DEMO_USERS {
        let user = match stored.iter().find(|u| u.email == email) {
            Some(user) => user.clone(),
            None => {
                let user = DemoUser {
                    email: email.to_string(),
                    password: random::hex_secret(8)?,
                    role,
                    namespace: namespace.map(str::to_string),
                };
                stored.push(user.clone());
                added = true;
                user
            }
        };
        users.push((user, groups_of(role, group)));
    }
    if added {
        std::fs::create_dir_all(state)?;
        std::fs::write(&path, serde_json::to_string_pretty(&stored)?)?;
    }
    Ok(users)
}
