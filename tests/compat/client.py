"""Records an agent's work in flightrec through the AgentAudit Python client,
as a user of that service would after changing only its base URL and key
(AGENTAUDIT_BASE_URL, AGENTAUDIT_API_KEY). Prints what it did as JSON for
the Rust test, which checks it through flightrec's own /v1 API."""

import json
import os
import sys
import uuid

from agentaudit import AgentAudit, ValidationError

CARD = "4111 1111 1111 1111"


def check(ok, what):
    if not ok:
        sys.exit(f"client.py: {what}")


def main():
    audit = AgentAudit(
        api_key=os.environ["AGENTAUDIT_API_KEY"],
        base_url=os.environ["AGENTAUDIT_BASE_URL"],
        max_retries=0,
    )
    check(audit.health_check().get("status") == "ok", "health check")

    agent = audit.register_agent(
        name=f"support-bot-{uuid.uuid4().hex[:8]}",
        agent_type="langchain",
        description="answers support tickets",
        config={"model": "gpt-4o"},
    )
    check(agent["type"] == "langchain" and agent["config"] == {"model": "gpt-4o"}, f"agent {agent}")
    audit.agent_id = agent["id"]

    # No client method installs a pack: the same session (and key header) does.
    pack = audit.session.post(
        f"{audit.base_url}/compliance-rules/packs", json={"packId": "finance"}, timeout=10
    )
    check(pack.status_code in (200, 201), f"pack install answered {pack.status_code}: {pack.text}")

    policy = audit.clone_pack(name=f"PCI for {agent['name']}", pack_id="finance")
    check(policy.is_active and policy.source_pack_id == "finance", f"policy {policy}")
    assigned = audit.assign_policy(policy.id, agent["id"])
    check(assigned.agent_id == agent["id"] and assigned.policy_id == policy.id, f"{assigned}")
    check(any(p.id == policy.id for p in audit.list_policies()), "the policy is listed")
    check(audit.get_policy(policy.id).agents == [{"id": agent["id"]}], "the policy holds the agent")

    trace = f"trace-{uuid.uuid4().hex}"
    carded = audit.log(
        action="user_input",
        prompt=f"please charge my card {CARD} for the upgrade",
        trace_id=trace,
        metadata={"channel": "chat"},
    )
    check(CARD not in (carded.prompt or ""), f"the card came back: {carded.prompt}")
    check(any("CRITICAL" in f for f in carded.compliance_flags), f"flags {carded.compliance_flags}")

    verdict = audit.guardrail(action="llm_call", prompt="what plans are there?", trace_id=trace)
    check(verdict.allowed and verdict.action == "allow" and not verdict.violations, f"{verdict}")

    batch = audit.log_batch([
        {"action": "start", "traceId": trace, "spanId": "span-agent", "prompt": "upgrade plan"},
        {"action": "tool_call", "traceId": trace, "spanId": "span-tool",
         "parentSpanId": "span-agent", "prompt": {"plan": "pro"}, "metadata": {"tool": "billing"}},
        {"action": "tool_result", "traceId": trace, "spanId": "span-tool",
         "parentSpanId": "span-agent", "response": {"charged": True}},
        {"action": "complete", "traceId": trace, "spanId": "span-agent", "response": "upgraded"},
    ])
    check([b.action for b in batch] == ["start", "tool_call", "tool_result", "complete"],
          f"batch {batch}")
    check(all(b.agent_id == agent["id"] for b in batch), "the client's agent on every log")

    mine = audit.query_logs(agent_id=agent["id"], limit=2, page=1)
    check(len(mine["data"]) == 2 and mine["pagination"]["total"] == 6, f"query {mine}")
    page3 = audit.query_logs(agent_id=agent["id"], limit=2, page=3)
    check(len(page3["data"]) == 2 and not page3["pagination"]["hasMore"], f"page 3 {page3}")
    calls = audit.query_logs(action="tool_call", agent_id=agent["id"])
    check([l["id"] for l in calls["data"]] == [batch[1].id], f"by action {calls}")

    alerts = [a for a in audit.get_alerts(is_resolved=False) if a["auditLogId"] == carded.id]
    # One from the tenant's installed pack, one from the agent's policy.
    check(sorted(str(a["policyId"]) for a in alerts) == sorted(["None", policy.id]), f"{alerts}")
    check(all(a["severity"] == "critical" for a in alerts), f"alerts {alerts}")
    check(CARD not in json.dumps(alerts), "an alert holds the card")
    resolved = audit.resolve_alert(alerts[0]["id"])
    check(resolved["isResolved"], f"resolved {resolved}")

    removed = audit.remove_policy(policy.id, agent["id"])
    check(removed["removed"], f"removed {removed}")
    check(audit.get_policy(policy.id).agents == [], "the policy no longer holds the agent")

    try:
        audit.clone_pack(name="nope", pack_id="no-such-pack")
        check(False, "an unknown pack was cloned")
    except ValidationError:
        pass

    print(json.dumps({
        "trace_id": trace,
        "agent_id": agent["id"],
        "policy_id": policy.id,
        "carded_id": carded.id,
        "batch_ids": [b.id for b in batch],
        "alert_id": alerts[0]["id"],
    }))


if __name__ == "__main__":
    main()
