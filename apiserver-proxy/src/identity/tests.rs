use serde_json::json;

use super::*;

const ISSUER: &str = "https://dex.example/dex";

fn claims(extra: serde_json::Value) -> IdClaims {
    let mut value = json!({
        "iss": ISSUER, "sub": "CiQwMDAw", "aud": "kube-console", "exp": 1, "iat": 1,
        "email": "viewer@example.com", "email_verified": true, "name": "viewer",
        "groups": ["console-viewers", "system:masters", ""], "preferred_username": "vw",
        "roles": ["ops", "dev"],
    });
    if let (Some(base), Some(extra)) = (value.as_object_mut(), extra.as_object()) {
        base.extend(extra.clone());
    }
    serde_json::from_value(value).expect("claims")
}

fn mapping(
    username_claim: &str,
    username_prefix: &str,
    groups_claim: &str,
    groups_prefix: &str,
) -> ClaimMapping {
    ClaimMapping::new(
        username_claim,
        username_prefix,
        groups_claim,
        groups_prefix,
        ISSUER,
    )
    .expect("mapping")
}

fn defaults() -> ClaimMapping {
    mapping("email", "", "groups", "")
}

fn user_of(identity: &Identity) -> &str {
    identity.user().as_str()
}

fn groups_of(identity: &Identity) -> Vec<&str> {
    identity.groups().iter().map(Name::as_str).collect()
}

#[test]
fn defaults_take_email_and_groups_and_drop_reserved_groups() {
    let identity = defaults().identity(&claims(json!({}))).expect("identity");
    assert_eq!(user_of(&identity), "viewer@example.com");
    assert_eq!(
        groups_of(&identity),
        ["console-viewers"],
        "system: and empty groups are never taken"
    );
}

#[test]
fn other_claims_and_prefixes_as_the_oidc_flags_allow() {
    let identity = mapping("preferred_username", "oidc:", "roles", "oidc:")
        .identity(&claims(json!({})))
        .expect("identity");
    assert_eq!(user_of(&identity), "oidc:vw");
    assert_eq!(groups_of(&identity), ["oidc:ops", "oidc:dev"]);
    // With a prefix, a system: group cannot collide with the reserved ones.
    let prefixed = mapping("email", "", "groups", "oidc:")
        .identity(&claims(json!({})))
        .expect("identity");
    assert_eq!(
        groups_of(&prefixed),
        ["oidc:console-viewers", "oidc:system:masters"]
    );
}

#[test]
fn unverified_emails_missing_claims_and_system_users_are_refused() {
    assert_eq!(
        defaults().identity(&claims(json!({"email_verified": false}))),
        Err(Refused::EmailNotVerified)
    );
    assert_eq!(
        mapping("no_such_claim", "-", "groups", "").identity(&claims(json!({}))),
        Err(Refused::NoUserClaim("no_such_claim".into()))
    );
    let system = claims(json!({"preferred_username": "system:admin"}));
    assert_eq!(
        mapping("preferred_username", "-", "groups", "").identity(&system),
        Err(Refused::User(NameProblem::Reserved))
    );
    assert!(
        mapping("preferred_username", "oidc:", "groups", "")
            .identity(&system)
            .is_ok()
    );
}

#[test]
fn padded_groups_are_dropped_and_the_request_goes_on_without_them() {
    let identity = defaults()
        .identity(&claims(json!({"groups": [
            " system:masters", "system:masters\t", "\u{a0}system:masters", "team ", "team",
            "ops\u{2003}",
        ]})))
        .expect("identity");
    assert_eq!(groups_of(&identity), ["team"]);
}

#[test]
fn a_padded_or_controlled_user_name_refuses_the_request() {
    for (email, problem) in [
        (" admin@example.com", NameProblem::SurroundingWhitespace),
        ("admin@example.com\t", NameProblem::SurroundingWhitespace),
        (
            "admin@example.com\u{3000}",
            NameProblem::SurroundingWhitespace,
        ),
        ("adm\u{7}in@example.com", NameProblem::ControlCharacter),
        (
            "admin@example.com\r\nimpersonate-user: x",
            NameProblem::ControlCharacter,
        ),
        ("adm\u{85}in@example.com", NameProblem::ControlCharacter),
        (
            "admin\u{202e}moc.elpmaxe@x",
            NameProblem::InvisibleCharacter,
        ),
        ("admin@example.com\u{200b}", NameProblem::InvisibleCharacter),
        ("", NameProblem::Empty),
    ] {
        assert_eq!(
            defaults().identity(&claims(json!({"email": email}))),
            Err(Refused::User(problem)),
            "{email:?}"
        );
    }
    // With a prefix the padding would not be trimmed, but is still not what anyone meant.
    assert_eq!(
        mapping("email", "oidc:", "groups", "").identity(&claims(json!({"email": " a@b"}))),
        Err(Refused::User(NameProblem::SurroundingWhitespace))
    );
}

#[test]
fn reserved_names_are_judged_with_the_prefix_added() {
    // A prefix that a claim completes to "system:" is refused at start...
    for prefix in ["s", "sys", "system", "system:", "system:oidc:"] {
        assert!(
            ClaimMapping::new("email", "", "groups", prefix, ISSUER).is_err(),
            "{prefix:?}"
        );
        assert!(
            ClaimMapping::new("sub", prefix, "groups", "", ISSUER).is_err(),
            "{prefix:?}"
        );
    }
    // ...and a name the apiserver would see as system: is refused whatever made it.
    assert_eq!(
        Name::prefixed("sys", "tem:masters"),
        Err(NameProblem::Reserved)
    );
    assert!(Name::prefixed("oidc:", "system:masters").is_ok());
}

#[test]
fn unsafe_prefixes_are_refused_at_start() {
    for prefix in [" oidc:", "oidc: ", "oi\u{0}dc:", "oidc\u{200f}:"] {
        assert!(
            ClaimMapping::new("email", prefix, "groups", "", ISSUER).is_err(),
            "{prefix:?}"
        );
        assert!(
            ClaimMapping::new("email", "", "groups", prefix, ISSUER).is_err(),
            "{prefix:?}"
        );
    }
}

#[test]
fn a_user_name_from_another_claim_than_email_gets_the_issuer_as_prefix() {
    // As the kube-apiserver: `name` or `sub` cannot take the name of an email-named user.
    let as_admin = claims(json!({"name": "admin@example.com"}));
    let by_name = mapping("name", "", "groups", "")
        .identity(&as_admin)
        .expect("identity");
    assert_eq!(
        user_of(&by_name),
        "https://dex.example/dex#admin@example.com"
    );
    let by_sub = mapping("sub", "", "groups", "")
        .identity(&claims(json!({})))
        .expect("identity");
    assert_eq!(user_of(&by_sub), "https://dex.example/dex#CiQwMDAw");
    // "-" asks for no prefix at all; an email needs none.
    let unprefixed = mapping("sub", "-", "groups", "")
        .identity(&claims(json!({})))
        .expect("identity");
    assert_eq!(user_of(&unprefixed), "CiQwMDAw");
    assert_eq!(
        user_of(&defaults().identity(&claims(json!({}))).expect("identity")),
        "viewer@example.com"
    );
}

#[test]
fn groups_that_are_not_strings_give_nothing_and_commas_split_nothing() {
    let roles = mapping("email", "", "roles", "");
    for value in [
        json!(7),
        json!(null),
        json!({"name": "admins"}),
        json!([["admins"]]),
        json!(true),
    ] {
        let identity = roles
            .identity(&claims(json!({"roles": value})))
            .expect("identity");
        assert!(identity.groups().is_empty(), "{value}");
    }
    let identity = roles
        .identity(&claims(json!({"roles": ["ops", 5, null, "dev"]})))
        .expect("identity");
    assert_eq!(groups_of(&identity), ["ops", "dev"]);
    // One group, however many commas: it is one header line (see headers::for_upstream).
    let identity = roles
        .identity(&claims(json!({"roles": ["cn=ops,ou=groups,dc=example"]})))
        .expect("identity");
    assert_eq!(groups_of(&identity), ["cn=ops,ou=groups,dc=example"]);
}

#[test]
fn too_many_groups_refuse_the_request_and_duplicates_are_sent_once() {
    let many: Vec<String> = (0..=MAX_GROUPS).map(|i| format!("g{i}")).collect();
    assert_eq!(
        defaults().identity(&claims(json!({"groups": many}))),
        Err(Refused::TooManyGroups(MAX_GROUPS + 1))
    );
    let enough: Vec<String> = (0..MAX_GROUPS).map(|i| format!("g{i}")).collect();
    assert_eq!(
        defaults()
            .identity(&claims(json!({"groups": enough})))
            .expect("identity")
            .groups()
            .len(),
        MAX_GROUPS
    );
    let twice = defaults()
        .identity(&claims(json!({"groups": ["a", "b", "a"]})))
        .expect("identity");
    assert_eq!(groups_of(&twice), ["a", "b"]);
}

#[test]
fn non_ascii_names_are_sent_as_they_are() {
    let identity = defaults()
        .identity(&claims(
            json!({"email": "jürgen@exämple.com", "groups": ["équipe"]}),
        ))
        .expect("identity");
    assert_eq!(
        identity.user().header().as_bytes(),
        "jürgen@exämple.com".as_bytes()
    );
    assert_eq!(groups_of(&identity), ["équipe"]);
}

#[test]
fn refusals_say_why() {
    assert_eq!(
        Refused::EmailNotVerified.to_string(),
        "the token's email is not verified"
    );
    assert!(
        Refused::User(NameProblem::SurroundingWhitespace)
            .to_string()
            .contains("whitespace")
    );
}
