//! Compliance rules at ingest: which rules apply to an event (its tenant's
//! own, plus the policies attached to its agent), screening events with
//! them before they are sealed, and the alerts that come of it.
//!
//! Compiled rule sets are kept per tenant and dropped whenever a rule or
//! policy changes on this node; other nodes pick changes up within
//! [`FRESH_FOR`].

use crate::error::ApiResult;
use crate::state::AppState;
use flightrec_core::compliance::{Origin, Rule, RuleSet};
use flightrec_core::event::Event;
use flightrec_store::{Alert, NewAlert, Policy, StoredRule};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

/// How long a compiled rule set is trusted without looking at the store.
const FRESH_FOR: Duration = Duration::from_secs(5);

/// The rules of one tenant, compiled.
struct TenantRules {
    loaded: Instant,
    /// For events of no agent, or of one with no policy.
    tenant: RuleSet,
    /// The tenant's rules plus the agent's policies, per agent with one.
    by_agent: HashMap<String, RuleSet>,
}

impl TenantRules {
    fn for_agent(&self, agent: Option<&str>) -> &RuleSet {
        agent
            .and_then(|a| self.by_agent.get(a))
            .unwrap_or(&self.tenant)
    }
}

/// The compiled rules of every tenant seen lately.
#[derive(Default)]
pub struct Guardrails {
    cache: RwLock<HashMap<String, Arc<TenantRules>>>,
}

impl Guardrails {
    /// Drops a tenant's compiled rules after a change.
    pub fn forget(&self, tenant: &str) {
        self.cache
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(tenant);
    }

    fn cached(&self, tenant: &str) -> Option<Arc<TenantRules>> {
        let cache = self.cache.read().unwrap_or_else(PoisonError::into_inner);
        cache
            .get(tenant)
            .filter(|r| r.loaded.elapsed() < FRESH_FOR)
            .cloned()
    }
}

async fn tenant_rules(state: &AppState, tenant: &str) -> ApiResult<Arc<TenantRules>> {
    if let Some(rules) = state.guardrails().cached(tenant) {
        return Ok(rules);
    }
    let t = tenant.to_owned();
    let (rules, policies) = state
        .blocking(move |s| Ok((s.rules(&t)?, s.policies(&t)?)))
        .await?;
    let compiled = Arc::new(compile(tenant, rules, policies));
    state
        .guardrails()
        .cache
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(tenant.to_owned(), compiled.clone());
    Ok(compiled)
}

fn compile(tenant: &str, rules: Vec<StoredRule>, policies: Vec<Policy>) -> TenantRules {
    let own: Vec<(Rule, Origin)> = rules
        .into_iter()
        .map(|r| (r.rule, Origin::default()))
        .collect();
    let mut per_agent: HashMap<String, Vec<(Rule, Origin)>> = HashMap::new();
    for p in &policies {
        let origin = Origin {
            policy_id: Some(p.id.clone()),
            policy_version: Some(p.version),
        };
        for agent in &p.agents {
            per_agent
                .entry(agent.clone())
                .or_insert_with(|| own.clone())
                .extend(p.rules.iter().map(|r| (r.clone(), origin.clone())));
        }
    }
    TenantRules {
        loaded: Instant::now(),
        tenant: sound(tenant, own),
        by_agent: per_agent
            .into_iter()
            .map(|(agent, rules)| (agent, sound(tenant, rules)))
            .collect(),
    }
}

/// Compiles what compiles: a stored rule that no longer does (it was
/// checked when saved) is skipped with an error in the server log rather
/// than stopping ingest.
fn sound(tenant: &str, rules: Vec<(Rule, Origin)>) -> RuleSet {
    let (ok, bad): (Vec<_>, Vec<_>) = rules
        .into_iter()
        .partition(|(r, _)| r.problems().is_empty());
    for (rule, _) in bad {
        tracing::error!(tenant, rule = %rule.id, problems = ?rule.problems(), "a stored rule is unsound and was skipped");
    }
    RuleSet::compile(ok).unwrap_or_else(|e| {
        tracing::error!(tenant, error = %e, "the rules do not compile together; none applied");
        RuleSet::default()
    })
}

/// Screens a request's events with the rules that apply to each, redacting
/// in place, and returns the alerts they raised.
pub async fn screen(
    state: &AppState,
    tenant: &str,
    events: &mut [Event],
) -> ApiResult<Vec<NewAlert>> {
    let rules = tenant_rules(state, tenant).await?;
    if rules.tenant.is_empty() && rules.by_agent.is_empty() {
        return Ok(Vec::new());
    }
    let mut alerts = Vec::new();
    for (index, event) in events.iter_mut().enumerate() {
        let set = rules.for_agent(event.body.agent_id.as_deref());
        for finding in set.screen(event) {
            let (rule, origin) = set.rule(finding.rule);
            alerts.push(NewAlert {
                event_index: index,
                alert: Alert {
                    id: uuid::Uuid::now_v7().to_string(),
                    tenant: tenant.to_owned(),
                    rule_id: rule.id.clone(),
                    rule_name: rule.name.clone(),
                    severity: rule.severity.as_str().to_owned(),
                    detector: rule.detector.clone(),
                    event_id: event.id.clone(),
                    seq: 0,
                    run_id: event.run_id.clone(),
                    agent_id: event.body.agent_id.clone(),
                    path: finding.path,
                    excerpt: finding.excerpt,
                    matches: finding.matches as u32,
                    policy_id: origin.policy_id.clone(),
                    policy_version: origin.policy_version,
                    status: "open".into(),
                    created_at: String::new(),
                    resolved_at: None,
                    resolved_by: None,
                },
            });
        }
    }
    Ok(alerts)
}

/// What the API and webhooks show of an alert.
pub fn alert_view(a: &Alert) -> Value {
    json!({
        "id": a.id,
        "rule_id": a.rule_id,
        "rule_name": a.rule_name,
        "severity": a.severity,
        "detector": a.detector,
        "event_id": a.event_id,
        "seq": a.seq,
        "run_id": a.run_id,
        "agent_id": a.agent_id,
        "path": a.path,
        "excerpt": a.excerpt,
        "matches": a.matches,
        "policy_id": a.policy_id,
        "policy_version": a.policy_version,
        "status": a.status,
        "created_at": a.created_at,
        "resolved_at": a.resolved_at,
        "resolved_by": a.resolved_by,
    })
}
