//! `serve --demo`: a realistic run to look at on first start.
//!
//! A coding agent is asked to fix a failing pagination test: it reads the
//! code, thinks, asks a model, edits the file (one edit fails to apply),
//! runs the tests, hits an error, fixes it and completes. A second, short
//! run is cancelled by its user, and a few admin actions by people sit
//! alongside. Every known event type appears at least once. The ids are
//! fixed, so loading the demo twice records it once.

use chrono::{DateTime, Duration, Utc};
use flightrec_core::event::format_time;
use serde_json::{Value, json};

/// The retention the demo's story sets, and `serve --demo` really sets.
pub const DEMO_RETENTION: &str = "90d";

/// The demo's events, the first one 15 minutes before `now`.
pub fn demo_events(now: DateTime<Utc>) -> Vec<Value> {
    let start = now - Duration::minutes(15);
    let at = |secs: i64| format_time(&(start + Duration::milliseconds(secs * 1000)));
    let run = "demo-run-fix-pagination";
    let agent = "coding-agent";
    let actor = json!({"type": "agent", "id": agent, "name": "Coding agent"});
    let human = json!({"type": "human", "id": "u-ana", "email": "ana@example.com", "name": "Ana"});

    let original = "def page(items, number, size):\n    start = number * size\n    return items[start:start + size + 1]\n";
    let fixed_slice = "def page(items, number, size):\n    start = number * size\n    return items[start:start + size]\n";
    let fixed = "def page(items, number, size):\n    \"\"\"Return page `number` (1-based) of `items`.\"\"\"\n    if number < 1:\n        raise ValueError(\"pages start at 1\")\n    start = (number - 1) * size\n    return items[start:start + size]\n";
    let test_file = "from app.pagination import page\n\ndef test_first_page():\n    assert page(list(range(10)), 1, 3) == [0, 1, 2]\n\ndef test_last_page():\n    assert page(list(range(10)), 4, 3) == [9]\n";

    let mut events = Vec::new();
    let mut push = |id: &str, mut e: Value| {
        e["id"] = json!(format!("demo-{id}"));
        if e.get("run_id").is_none() && e.get("resource").is_none() {
            e["run_id"] = json!(run);
        }
        events.push(e);
    };

    push(
        "01",
        json!({"type": "start", "time": at(0), "agent_id": agent, "actor": actor, "span_id": "s-root",
        "session_id": "demo-session-1", "message": "Run started: fix failing pagination tests",
        "metadata": {"repo": "shop-api", "branch": "fix/pagination"}}),
    );
    push(
        "02",
        json!({"type": "user_input", "time": at(2), "agent_id": agent, "actor": human, "parent_span_id": "s-root",
        "content": "The pagination tests fail since yesterday's refactor. Pages are 1-based. Please fix it."}),
    );
    push(
        "03",
        json!({"type": "thinking", "time": at(4), "agent_id": agent, "actor": actor, "parent_span_id": "s-root",
        "content": "I should look at the failing test and the pagination module first."}),
    );
    push(
        "04",
        json!({"type": "read_file", "time": at(6), "agent_id": agent, "actor": actor, "tool": "fs:read_file",
        "span_id": "s-read-1", "parent_span_id": "s-root", "risk_level": "low", "duration_ms": 3,
        "resource": {"type": "file", "id": "tests/test_pagination.py"}, "run_id": run,
        "input": {"path": "tests/test_pagination.py"}, "output": {"content": test_file}}),
    );
    push(
        "05",
        json!({"type": "read_file", "time": at(7), "agent_id": agent, "actor": actor, "tool": "fs:read_file",
        "span_id": "s-read-2", "parent_span_id": "s-root", "risk_level": "low", "duration_ms": 2,
        "resource": {"type": "file", "id": "app/pagination.py"}, "run_id": run,
        "input": {"path": "app/pagination.py"}, "output": {"content": original}}),
    );
    push(
        "06",
        json!({"type": "tool_call", "time": at(9), "agent_id": agent, "actor": actor, "tool": "bash",
        "verb": "shell:exec", "provider": "sandbox", "span_id": "s-test-1", "parent_span_id": "s-root",
        "risk_level": "medium", "input": {"command": "pytest -q tests/test_pagination.py"}}),
    );
    push(
        "07",
        json!({"type": "tool_result", "time": at(12), "agent_id": agent, "actor": actor, "tool": "bash",
        "span_id": "s-test-1-result", "parent_span_id": "s-test-1", "status": "fail", "duration_ms": 2841,
        "output": {"exit_code": 1, "stdout": "FF\nFAILED tests/test_pagination.py::test_first_page - assert [3, 4, 5, 6] == [0, 1, 2]\nFAILED tests/test_pagination.py::test_last_page\n2 failed in 0.12s"}}),
    );
    push(
        "08",
        json!({"type": "thinking", "time": at(14), "agent_id": agent, "actor": actor, "parent_span_id": "s-root",
        "content": "Two bugs: the slice takes one item too many, and page numbers are treated as 0-based."}),
    );
    push(
        "09",
        json!({"type": "llm_call", "time": at(15), "agent_id": agent, "actor": actor, "verb": "llm:chat",
        "provider": "model-provider", "span_id": "s-llm-1", "parent_span_id": "s-root", "duration_ms": 1930,
        "input": {"model": "large-model", "messages": [{"role": "user", "content": "Suggest a minimal fix for 1-based pagination in page()."}]},
        "output": {"content": "Use start = (number - 1) * size and slice items[start:start + size]; reject number < 1."},
        "metadata": {"tokens_in": 412, "tokens_out": 96}}),
    );
    push(
        "10",
        json!({"type": "guardrail_check", "time": at(17), "agent_id": agent, "actor": actor, "parent_span_id": "s-root",
        "verb": "policy:check", "governance": {"status": "approved", "policy": "repo-write-v3", "reason": "edits inside app/ are allowed"},
        "input": {"action": "edit_file", "path": "app/pagination.py"}}),
    );
    push(
        "11",
        json!({"type": "edit_file", "time": at(18), "agent_id": agent, "actor": actor, "tool": "fs:edit_file",
        "span_id": "s-edit-1", "parent_span_id": "s-root", "risk_level": "medium", "status": "fail",
        "resource": {"type": "file", "id": "app/pagination.py"}, "run_id": run,
        "input": {"path": "app/pagination.py", "old_str": "items[start:start+size+1]", "new_str": "items[start:start + size]"},
        "error": {"message": "old_str not found in app/pagination.py", "code": "no_match"}}),
    );
    push(
        "12",
        json!({"type": "edit_file", "time": at(20), "agent_id": agent, "actor": actor, "tool": "fs:edit_file",
        "span_id": "s-edit-2", "parent_span_id": "s-root", "risk_level": "medium", "duration_ms": 4,
        "resource": {"type": "file", "id": "app/pagination.py"}, "run_id": run,
        "input": {"path": "app/pagination.py", "old_str": "items[start:start + size + 1]", "new_str": "items[start:start + size]"},
        "metadata": {"before": original, "after": fixed_slice}}),
    );
    push(
        "13",
        json!({"type": "file_edit", "time": at(23), "agent_id": agent, "actor": actor, "tool": "fs:apply_diff",
        "span_id": "s-edit-3", "parent_span_id": "s-root", "risk_level": "medium", "duration_ms": 6,
        "resource": {"type": "file", "id": "app/pagination.py"}, "run_id": run,
        "input": {"path": "app/pagination.py", "diff": "--- a/app/pagination.py\n+++ b/app/pagination.py\n@@ -1,3 +1,6 @@\n def page(items, number, size):\n-    start = number * size\n+    \"\"\"Return page `number` (1-based) of `items`.\"\"\"\n+    if number < 1:\n+        raise ValueError(\"pages start at 1\")\n+    start = (number - 1) * size\n     return items[start:start + size]\n"},
        "metadata": {"before": fixed_slice, "after": fixed}}),
    );
    push(
        "14",
        json!({"type": "tool_call", "time": at(25), "agent_id": agent, "actor": actor, "tool": "bash",
        "verb": "shell:exec", "provider": "sandbox", "span_id": "s-test-2", "parent_span_id": "s-root",
        "risk_level": "medium", "input": {"command": "pytest -q"}}),
    );
    push(
        "15",
        json!({"type": "error", "time": at(27), "agent_id": agent, "actor": actor, "parent_span_id": "s-test-2",
        "message": "The test runner crashed while collecting tests",
        "error": {"message": "ModuleNotFoundError: No module named 'app.legacy_pages'", "code": "collect_error"}}),
    );
    push(
        "16",
        json!({"type": "thinking", "time": at(29), "agent_id": agent, "actor": actor, "parent_span_id": "s-root",
        "content": "An obsolete test imports a module removed in the refactor. It duplicates test_pagination.py, so it can go."}),
    );
    push(
        "17",
        json!({"type": "pause", "time": at(31), "agent_id": agent, "actor": actor,
        "message": "Waiting for approval to delete a test file", "governance": {"status": "pending", "policy": "delete-needs-human"}}),
    );
    push(
        "18",
        json!({"type": "user_input", "time": at(75), "agent_id": agent, "actor": human,
        "content": "Approved, delete tests/test_legacy_pages.py."}),
    );
    push(
        "19",
        json!({"type": "resume", "time": at(76), "agent_id": agent, "actor": actor, "message": "Resumed after approval",
        "governance": {"status": "approved", "policy": "delete-needs-human", "reason": "approved by ana@example.com"}}),
    );
    push(
        "20",
        json!({"type": "delete_file", "time": at(77), "agent_id": agent, "actor": actor, "tool": "fs:delete_file",
        "span_id": "s-del-1", "parent_span_id": "s-root", "risk_level": "high", "duration_ms": 1,
        "resource": {"type": "file", "id": "tests/test_legacy_pages.py"}, "run_id": run,
        "input": {"path": "tests/test_legacy_pages.py"}}),
    );
    push(
        "21",
        json!({"type": "write_file", "time": at(80), "agent_id": agent, "actor": actor, "tool": "fs:write_file",
        "span_id": "s-write-1", "parent_span_id": "s-root", "risk_level": "medium", "duration_ms": 2,
        "resource": {"type": "file", "id": "tests/test_pagination_errors.py"}, "run_id": run,
        "input": {"path": "tests/test_pagination_errors.py", "content": "import pytest\nfrom app.pagination import page\n\ndef test_page_zero_is_rejected():\n    with pytest.raises(ValueError):\n        page([1, 2, 3], 0, 2)\n"}}),
    );
    push(
        "22",
        json!({"type": "tool_call", "time": at(82), "agent_id": agent, "actor": actor, "tool": "bash",
        "verb": "shell:exec", "provider": "sandbox", "span_id": "s-test-3", "parent_span_id": "s-root",
        "risk_level": "medium", "input": {"command": "pytest -q"}}),
    );
    push(
        "23",
        json!({"type": "tool_result", "time": at(85), "agent_id": agent, "actor": actor, "tool": "bash",
        "span_id": "s-test-3-result", "parent_span_id": "s-test-3", "duration_ms": 2410,
        "output": {"exit_code": 0, "stdout": "...\n3 passed in 0.09s"}}),
    );
    push(
        "24",
        json!({"type": "tool_call", "time": at(87), "agent_id": agent, "actor": actor, "tool": "git",
        "verb": "git:commit", "provider": "github", "span_id": "s-git-1", "parent_span_id": "s-root",
        "risk_level": "medium", "idempotent": true,
        "input": {"message": "Fix 1-based pagination and remove obsolete test", "files": ["app/pagination.py", "tests/test_pagination_errors.py", "tests/test_legacy_pages.py"]}}),
    );
    push(
        "25",
        json!({"type": "tool_result", "time": at(88), "agent_id": agent, "actor": actor, "tool": "git",
        "span_id": "s-git-1-result", "parent_span_id": "s-git-1", "duration_ms": 310,
        "output": {"commit": "9f2c1e7", "branch": "fix/pagination"}}),
    );
    push(
        "26",
        json!({"type": "tool_call", "time": at(90), "agent_id": agent, "actor": actor, "tool": "github:create_pull_request",
        "verb": "github:create_pull_request", "provider": "github", "span_id": "s-pr-1", "parent_span_id": "s-root",
        "risk_level": "medium", "dry_run": true, "status": "warn",
        "governance": {"status": "dry_run", "policy": "pr-open-v1", "reason": "PRs are opened by humans this week"},
        "input": {"title": "Fix 1-based pagination", "base": "main", "head": "fix/pagination"}}),
    );
    push(
        "27",
        json!({"type": "tool_call", "time": at(91), "agent_id": agent, "actor": actor, "tool": "github:create_pull_request",
        "verb": "github:create_pull_request", "provider": "github", "span_id": "s-pr-2", "parent_span_id": "s-root",
        "risk_level": "medium", "idempotency_hit": true, "status": "warn",
        "message": "Second attempt caught by the idempotency fence",
        "input": {"title": "Fix 1-based pagination", "base": "main", "head": "fix/pagination"}}),
    );
    push(
        "28",
        json!({"type": "llm_call", "time": at(93), "agent_id": agent, "actor": actor, "verb": "llm:chat",
        "provider": "model-provider", "span_id": "s-llm-2", "parent_span_id": "s-root", "duration_ms": 1204,
        "input": {"model": "large-model", "messages": [{"role": "user", "content": "Summarise the change for the PR description."}]},
        "output": {"content": "page() is now 1-based, rejects page 0, and no longer returns one extra item."}}),
    );
    push(
        "29",
        json!({"type": "complete", "time": at(95), "agent_id": agent, "actor": actor, "span_id": "s-complete",
        "parent_span_id": "s-root", "duration_ms": 95000,
        "message": "Fixed pagination: 3 tests pass. Branch fix/pagination is ready for review.",
        "output": {"files_changed": 3, "tests_passed": 3}}),
    );

    // A second run, cancelled by its user.
    let run2 = "demo-run-dependency-upgrade";
    let other = json!({"type": "agent", "id": "deps-bot", "name": "Dependency bot"});
    for (id, secs, e) in [
        (
            "30",
            200,
            json!({"type": "start", "agent_id": "deps-bot", "actor": other, "message": "Upgrade requests to 2.32"}),
        ),
        (
            "31",
            203,
            json!({"type": "read_file", "agent_id": "deps-bot", "actor": other, "tool": "fs:read_file",
            "input": {"path": "requirements.txt"}, "output": "requests==2.28.0\nflask==3.0.0\n"}),
        ),
        (
            "32",
            206,
            json!({"type": "thinking", "agent_id": "deps-bot", "actor": other,
            "content": "2.32 changes certificate handling; this needs the integration suite."}),
        ),
        (
            "33",
            240,
            json!({"type": "cancel", "agent_id": "deps-bot", "actor": human,
            "message": "Cancelled: upgrades are frozen until the release"}),
        ),
    ] {
        let mut e = e;
        e["time"] = json!(at(secs));
        e["run_id"] = json!(run2);
        push(id, e);
    }

    // Administration by people: ordinary records in the same log.
    let admin =
        json!({"type": "human", "id": "u-admin", "email": "admin@example.com", "name": "Admin"});
    for (id, secs, e) in [
        (
            "40",
            300,
            json!({"type": "user.invited", "resource": {"type": "user", "id": "u-ana"},
            "metadata": {"after": {"email": "ana@example.com", "role": "member"}}}),
        ),
        (
            "41",
            310,
            json!({"type": "key.created", "resource": {"type": "api_key", "id": "key-ci-ingest"},
            "metadata": {"after": {"name": "ci-ingest", "scopes": ["ingest"]}}}),
        ),
        (
            "42",
            320,
            json!({"type": "policy.updated", "resource": {"type": "policy", "id": "repo-write-v3"},
            "metadata": {"before": {"version": 2, "allow": ["app/"]}, "after": {"version": 3, "allow": ["app/", "tests/"]}}}),
        ),
        (
            "43",
            330,
            json!({"type": "settings.updated", "resource": {"type": "settings", "id": "retention"},
            "metadata": {"before": {"audit_log_retention": "30d"}, "after": {"audit_log_retention": DEMO_RETENTION}}}),
        ),
        (
            "44",
            340,
            json!({"type": "key.revoked", "status": "warn", "resource": {"type": "api_key", "id": "key-old-laptop"},
            "message": "Key revoked after the laptop was reported lost",
            "metadata": {"before": {"name": "old-laptop", "revoked": false}, "after": {"revoked": true}}}),
        ),
    ] {
        let mut e = e;
        e["time"] = json!(at(secs));
        e["actor"] = admin.clone();
        push(id, e);
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use flightrec_core::event::{KNOWN_TYPES, Limits, parse_event};

    #[test]
    fn every_demo_event_is_valid_and_every_known_type_appears() {
        let now = Utc::now();
        let events = demo_events(now);
        assert!(events.len() >= 38, "about forty events");
        let mut types = Vec::new();
        for e in events {
            let parsed = parse_event(e.clone(), now, &Limits::default(), || unreachable!())
                .unwrap_or_else(|err| panic!("{e}: {err}"));
            assert!(parsed.time <= now);
            types.push(parsed.event_type);
        }
        for t in KNOWN_TYPES {
            assert!(types.iter().any(|x| x == t), "demo lacks {t}");
        }
    }
}
