//! The handlers: a permission query answered from rules where they decide and from access
//! reviews where they do not; the namespaces the user may switch to.

use std::collections::{BTreeSet, HashMap};

use axum::{
    Json,
    extract::{State, rejection::JsonRejection},
};
use shared::{AccessAnswer, AccessCheck, AccessDecision, AccessQuery, NamespaceChoices};

use super::{
    request::validate,
    reviews::{AsUser, CLUSTER_WIDE, count, rules_of, side_by_side},
    rules::ResourceRule,
};
use server_common::token_cache::TokenHash;

use crate::{AppState, auth::bearer::Authenticated, error::AppError};

pub(super) async fn permissions(
    State(state): State<AppState>,
    user: Authenticated,
    body: Result<Json<AccessQuery>, JsonRejection>,
) -> Result<Json<AccessAnswer>, AppError> {
    let Json(query) = body.map_err(|rejection| {
        AppError::BadRequest(format!(
            "The body is not a permission query: {}",
            rejection.body_text()
        ))
    })?;
    validate(&query).map_err(AppError::BadRequest)?;
    let who = TokenHash::of(&user.token);
    let as_user = AsUser::new(state.upstream.clone(), &user.token);
    let cache = &state.permissions.cache;

    let mut namespaces: BTreeSet<String> = query
        .checks
        .iter()
        .filter_map(|check| check.namespace.clone())
        .collect();
    if query.checks.iter().any(|check| check.namespace.is_none()) {
        namespaces.insert(CLUSTER_WIDE.to_string());
    }
    let (rules, mut requests) = rules_of(cache, &as_user, who, namespaces).await?;

    // What the rules decide; the rest (cluster-wide, or rules not listed in full) is reviewed
    // check by check, each distinct check once.
    let mut decided: HashMap<&AccessCheck, bool> = HashMap::new();
    let mut to_review: Vec<AccessCheck> = Vec::new();
    for check in &query.checks {
        if decided.contains_key(check) || to_review.contains(check) {
            continue;
        }
        let by_rules = rules
            .get(check.namespace.as_deref().unwrap_or(CLUSTER_WIDE))
            .filter(|rules| !rules.incomplete)
            .map(|rules| rules.rules.iter().any(|rule| rule.grants(check)));
        let known = by_rules.or_else(|| cache.access.get(&(who, check.clone())));
        match known {
            Some(allowed) => {
                decided.insert(check, allowed);
            }
            None => to_review.push(check.clone()),
        }
    }
    requests += count(to_review.len());
    let reviewed = side_by_side(to_review.into_iter().map(|check| {
        let (as_user, gate) = (as_user.clone(), cache.reviews.clone());
        async move {
            let _place = gate.enter(who).await?;
            let allowed = as_user.access_review(&check).await?;
            Ok((check, allowed))
        }
    }))
    .await?;
    let reviewed: HashMap<AccessCheck, bool> = reviewed.into_iter().collect();
    for (check, allowed) in &reviewed {
        cache.access.insert((who, check.clone()), *allowed);
    }

    let decisions: Vec<AccessDecision> = query
        .checks
        .iter()
        .map(|check| {
            let allowed = decided
                .get(check)
                .or_else(|| reviewed.get(check))
                .copied()
                .unwrap_or(false);
            AccessDecision {
                allowed,
                reason: if allowed {
                    "Allowed.".into()
                } else {
                    format!("You may not {}.", check.describe())
                },
            }
        })
        .collect();
    // The figures the permission-aware views are judged by; no identity in the line.
    tracing::info!(
        checks = decisions.len(),
        upstream_requests = requests,
        "permission check answered"
    );
    Ok(Json(AccessAnswer {
        decisions,
        upstream_requests: requests,
    }))
}

pub(super) async fn namespaces(
    State(state): State<AppState>,
    user: Authenticated,
) -> Result<Json<NamespaceChoices>, AppError> {
    let as_user = AsUser::new(state.upstream.clone(), &user.token);
    if let Some(namespaces) = as_user.namespace_names().await? {
        return Ok(Json(NamespaceChoices {
            namespaces,
            complete: true,
        }));
    }
    let configured = &state.permissions.namespaces;
    let who = TokenHash::of(&user.token);
    let (rules, _) = rules_of(
        &state.permissions.cache,
        &as_user,
        who,
        configured.iter().cloned(),
    )
    .await?;
    let namespaces: Vec<String> = configured
        .iter()
        .filter(|namespace| {
            rules.get(*namespace).is_some_and(|rules| {
                rules
                    .rules
                    .iter()
                    .any(ResourceRule::grants_something_of_note)
            })
        })
        .cloned()
        .collect();
    Ok(Json(NamespaceChoices {
        namespaces,
        complete: false,
    }))
}
