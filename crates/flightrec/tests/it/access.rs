//! Tenants, people and keys through the real server: sign-in, sessions,
//! scopes and roles on every route, isolation between tenants, rate limits,
//! and the admin trail.

use crate::support::{
    API_KEY, Backend, Cred, OWNER_EMAIL, OWNER_PASSWORD, Server, StoreGuard, cli_with_key,
};
use serde_json::{Value, json};
use std::time::Duration;

fn start(env: &[(&str, &str)]) -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with_env(&dir.path().join("data"), &[], env);
    (dir, server)
}

fn start_on(backend: Backend) -> (StoreGuard, Server) {
    Server::start_on(backend, &[], &[])
}

fn admin() -> Cred {
    Cred::Key(API_KEY.into())
}

async fn create_key(s: &Server, by: &Cred, name: &str, scopes: &[&str]) -> (String, String) {
    let (status, key, _) = s
        .call(
            "POST",
            "/v1/auth/api-keys",
            by,
            Some(&json!({"name": name, "scopes": scopes})),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    (
        key["id"].as_str().unwrap().to_owned(),
        key["key"].as_str().unwrap().to_owned(),
    )
}

/// Invites a person with a chosen password and signs them in.
async fn person(s: &Server, email: &str, role: &str) -> (String, Cred) {
    let password = "a long enough password";
    let (status, user, _) = s
        .call(
            "POST",
            "/v1/users",
            &admin(),
            Some(&json!({"email": email, "role": role, "password": password})),
        )
        .await;
    assert_eq!(status, 201, "{user}");
    assert!(
        user.get("password").is_none(),
        "a chosen password is not echoed"
    );
    let (status, login, _) = s.login(email, password).await;
    assert_eq!(status, 200, "{login}");
    (
        user["id"].as_str().unwrap().to_owned(),
        Cred::Token(login["accessToken"].as_str().unwrap().to_owned()),
    )
}

fn assert_error(status: u16, body: &Value, want: u16) {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["status"], want, "{body}");
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{body}"
    );
}

async fn sign_in_sessions_cookies_and_csrf(backend: Backend) {
    let (_d, s) = start_on(backend);

    for (email, password) in [
        (OWNER_EMAIL, "wrong password"),
        ("nobody@test.invalid", OWNER_PASSWORD),
    ] {
        let (status, body, _) = s.login(email, password).await;
        assert_error(status, &body, 401);
        assert_eq!(
            body["error"], "wrong email or password",
            "no hint which was wrong"
        );
    }
    let (status, body, _) = s
        .call(
            "POST",
            "/v1/auth/login",
            &Cred::None,
            Some(&json!({"email": OWNER_EMAIL})),
        )
        .await;
    assert_error(status, &body, 400);
    assert!(
        body["error"].as_str().unwrap().contains("password"),
        "{body}"
    );

    // Email is matched without regard to case or surrounding spaces.
    let (status, login, headers) = s.login(" Owner@Test.Invalid ", OWNER_PASSWORD).await;
    assert_eq!(status, 200, "{login}");
    assert_eq!(login["organization"]["id"], "default");
    assert_eq!(login["user"]["role"], "owner");
    assert_eq!(login["tokenType"], "Bearer");
    let token = login["accessToken"].as_str().unwrap().to_owned();
    let csrf = login["csrfToken"].as_str().unwrap().to_owned();
    let cookies: Vec<&str> = headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("fr_session="))
        .unwrap();
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict"),
        "{session}"
    );
    assert!(session.contains(&token));
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("fr_csrf=") && !c.contains("HttpOnly"))
    );

    // The token as a Bearer credential.
    let bearer = Cred::Token(token.clone());
    let (status, me, _) = s.call("GET", "/v1/auth/me", &bearer, None).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["credential"]["email"], OWNER_EMAIL);
    assert_eq!(
        me["permissions"],
        json!(["ingest", "read", "export", "manage"])
    );

    // The cookie: reads need nothing more; changes need the CSRF token.
    let no_csrf = Cred::Cookie {
        token: token.clone(),
        csrf: None,
    };
    let (status, _, _) = s.call("GET", "/v1/events", &no_csrf, None).await;
    assert_eq!(status, 200);
    let body = json!({"name": "from-the-dashboard", "scopes": ["read"]});
    let (status, err, _) = s
        .call("POST", "/v1/auth/api-keys", &no_csrf, Some(&body))
        .await;
    assert_error(status, &err, 403);
    assert!(err["error"].as_str().unwrap().contains("CSRF"), "{err}");
    let wrong_csrf = Cred::Cookie {
        token: token.clone(),
        csrf: Some("bm90IGl0".into()),
    };
    let (status, _, _) = s
        .call("POST", "/v1/auth/api-keys", &wrong_csrf, Some(&body))
        .await;
    assert_eq!(status, 403);
    let with_csrf = Cred::Cookie {
        token: token.clone(),
        csrf: Some(csrf),
    };
    let (status, key, _) = s
        .call("POST", "/v1/auth/api-keys", &with_csrf, Some(&body))
        .await;
    assert_eq!(status, 201, "{key}");

    // Forged and altered tokens.
    let mut altered = token.clone().into_bytes();
    let last = altered.len() - 3;
    altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
    for bad in [
        String::from_utf8(altered).unwrap(),
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.".to_owned(),
        "not-a-token".to_owned(),
    ] {
        let (status, body, headers) = s.call("GET", "/v1/events", &Cred::Token(bad), None).await;
        assert_error(status, &body, 401);
        assert!(headers.contains_key("www-authenticate"));
    }

    let (status, _, headers) = s.call("POST", "/v1/auth/logout", &Cred::None, None).await;
    assert_eq!(status, 204);
    assert!(
        headers.get_all("set-cookie").iter().any(|c| c
            .to_str()
            .unwrap()
            .starts_with("fr_session=;")
            && c.to_str().unwrap().contains("Max-Age=0"))
    );
}

#[tokio::test]
async fn sessions_expire() {
    // Token times are whole seconds: a 1 s session signed late in a second
    // can be over before its first use, so give it 2 s.
    let (_d, s) = start(&[("FLIGHTREC_SESSION_TTL", "2s")]);
    let (_, login, _) = s.login(OWNER_EMAIL, OWNER_PASSWORD).await;
    let token = Cred::Token(login["accessToken"].as_str().unwrap().to_owned());
    let (status, _, _) = s.call("GET", "/v1/events", &token, None).await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let (status, body, _) = s.call("GET", "/v1/events", &token, None).await;
    assert_error(status, &body, 401);
    assert!(
        body["error"].as_str().unwrap().contains("expired"),
        "{body}"
    );
}

#[tokio::test]
async fn a_burst_of_failed_sign_ins_is_recorded_then_paused() {
    let (_d, s) = start(&[]);
    for _ in 0..10 {
        let (status, _, _) = s.login(OWNER_EMAIL, "guess").await;
        assert_eq!(status, 401);
    }
    let (status, body, headers) = s.login(OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_error(status, &body, 429);
    assert!(headers.get("retry-after").is_some());
    let (_, audit, _) = s
        .call(
            "GET",
            "/v1/admin/audit?action=user.login_failures",
            &admin(),
            None,
        )
        .await;
    assert_eq!(audit["total"], 1, "recorded once per window: {audit}");
    assert_eq!(audit["warn"], 1);
    let event = &audit["events"][0];
    assert_eq!(event["actor"]["type"], "system");
    assert_eq!(event["metadata"]["after"]["email"], OWNER_EMAIL);
    assert_eq!(event["metadata"]["after"]["failures"], 5);
}

async fn keys_scopes_binding_and_revocation(backend: Backend) {
    let (_d, s) = start_on(backend);
    let (ingest_id, ingest) = create_key(&s, &admin(), "ingest-only", &["ingest"]).await;
    let (_, read) = create_key(&s, &admin(), "read-only", &["read"]).await;
    let ingest = Cred::Key(ingest);
    let read = Cred::Key(read);

    let event = json!({"type": "thinking", "content": "hello"});
    let (status, _, _) = s.call("POST", "/v1/events", &ingest, Some(&event)).await;
    assert_eq!(status, 201);
    let (status, body, _) = s.call("GET", "/v1/events", &ingest, None).await;
    assert_error(status, &body, 403);
    let (status, body, _) = s.call("POST", "/v1/events", &read, Some(&event)).await;
    assert_error(status, &body, 403);
    let (status, _, _) = s.call("GET", "/v1/events", &read, None).await;
    assert_eq!(status, 200);

    // Listing shows prefixes, never secrets. `last_used_at` is written
    // beside the request, not before its answer: wait for it.
    let Cred::Key(secret) = &ingest else {
        unreachable!()
    };
    let mut listed = Value::Null;
    for _ in 0..100 {
        let (status, list, _) = s.call("GET", "/v1/auth/api-keys", &admin(), None).await;
        assert_eq!(status, 200);
        let text = list.to_string();
        assert!(!text.contains(secret.as_str()), "{text}");
        listed = list["api_keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["id"] == ingest_id.as_str())
            .unwrap()
            .clone();
        if listed["last_used_at"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(listed["prefix"], secret[..8]);
    assert_eq!(listed["scopes"], json!(["ingest"]));
    assert!(listed["last_used_at"].is_string(), "{listed}");

    // Revocation is immediate.
    let (status, revoked, _) = s
        .call(
            "DELETE",
            &format!("/v1/auth/api-keys/{ingest_id}"),
            &admin(),
            None,
        )
        .await;
    assert_eq!(status, 200, "{revoked}");
    assert!(revoked["revoked_at"].is_string());
    let (status, body, _) = s.call("POST", "/v1/events", &ingest, Some(&event)).await;
    assert_error(status, &body, 401);
    assert!(body["error"].as_str().unwrap().contains("revoked"));
    let (status, body, _) = s
        .call("DELETE", "/v1/auth/api-keys/no-such-key", &admin(), None)
        .await;
    assert_error(status, &body, 404);

    // A key bound to an agent speaks only for it.
    let (status, bound, _) = s
        .call(
            "POST",
            "/v1/auth/api-keys",
            &admin(),
            Some(&json!({"name": "support-bot", "scopes": ["ingest", "read"], "agent_id": "support-bot"})),
        )
        .await;
    assert_eq!(status, 201, "{bound}");
    let bound = Cred::Key(bound["key"].as_str().unwrap().to_owned());
    let (status, receipt, _) = s
        .call(
            "POST",
            "/v1/events",
            &bound,
            Some(&json!({"id": "b1", "type": "thinking"})),
        )
        .await;
    assert_eq!(status, 201, "{receipt}");
    let (_, stored, _) = s.call("GET", "/v1/events/b1", &bound, None).await;
    assert_eq!(stored["agent_id"], "support-bot");
    let (status, body, _) = s
        .call(
            "POST",
            "/v1/events/batch",
            &bound,
            Some(&json!([{"type": "a"}, {"type": "b", "agentId": "someone-else"}])),
        )
        .await;
    assert_error(status, &body, 403);
    assert!(
        body["error"].as_str().unwrap().contains("event 1"),
        "{body}"
    );
    // The refused agent_id is unmasked input: the error never echoes it
    // (regression: a token sent as agent_id came back in the 403).
    let secret = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
    let (status, body, _) = s
        .call(
            "POST",
            "/v1/events",
            &bound,
            Some(&json!({"type": "a", "agent_id": secret})),
        )
        .await;
    assert_error(status, &body, 403);
    assert!(!body.to_string().contains("ghp_"), "{body}");

    // The same from the command line.
    let (ok, out, err) = cli_with_key(
        &s,
        API_KEY,
        &[
            "keys",
            "create",
            "--name",
            "from-cli",
            "--scopes",
            "ingest,read",
            "--agent-id",
            "cli-bot",
        ],
    );
    assert!(ok, "{err}");
    let secret = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("key:"))
        .unwrap()
        .trim()
        .to_owned();
    assert!(secret.starts_with("fr_"), "{out}");
    let (ok, out, err) = cli_with_key(&s, API_KEY, &["keys", "list"]);
    assert!(ok, "{err}");
    let line = out.lines().find(|l| l.contains("from-cli")).unwrap();
    assert!(
        line.contains("ingest,read") && line.contains("cli-bot") && line.contains("active"),
        "{out}"
    );
    assert!(!out.contains(&secret));
    let id = line.split_whitespace().next().unwrap();
    let (ok, out, err) = cli_with_key(&s, API_KEY, &["keys", "revoke", id]);
    assert!(ok, "{err}");
    assert!(out.contains("Revoked"), "{out}");
    let (ok, _, err) = cli_with_key(&s, &secret, &["events", "search"]);
    assert!(!ok);
    assert!(err.contains("revoked"), "{err}");

    // Bad requests say what is wrong.
    for (body, says) in [
        (json!({"name": "x", "scopes": ["root"]}), "root"),
        (json!({"name": "x", "scopes": []}), "scopes"),
        (json!({"name": "", "scopes": ["read"]}), "name"),
        (json!({"scopes": ["read"]}), "name"),
        (
            json!({"name": "x", "scopes": ["read"], "colour": "red"}),
            "colour",
        ),
    ] {
        let (status, err, _) = s
            .call("POST", "/v1/auth/api-keys", &admin(), Some(&body))
            .await;
        assert_error(status, &err, 400);
        assert!(err["error"].as_str().unwrap().contains(says), "{err}");
    }
}

/// Every route, with a request that a caller allowed to make it gets past
/// authorisation with (a 2xx, 400 or 404), and the permission it needs.
fn routes() -> Vec<(&'static str, &'static str, Option<Value>, &'static str)> {
    let nothing = Some(json!({}));
    vec![
        ("POST", "/v1/events", nothing.clone(), "ingest"),
        ("POST", "/v1/events/batch", Some(json!([])), "ingest"),
        ("GET", "/v1/events", None, "read"),
        ("GET", "/v1/events/nope", None, "read"),
        ("GET", "/v1/events/export", None, "export"),
        ("GET", "/v1/runs", None, "read"),
        ("GET", "/v1/runs/nope", None, "read"),
        ("GET", "/v1/runs/nope/state", None, "read"),
        ("GET", "/v1/runs/nope/tree", None, "read"),
        ("GET", "/v1/runs/nope/replay", None, "read"),
        ("GET", "/v1/runs/nope/export", None, "export"),
        ("GET", "/v1/events/nope/parents", None, "read"),
        ("GET", "/v1/log/checkpoint", None, "read"),
        ("GET", "/v1/log/public-key", None, "read"),
        (
            "GET",
            "/v1/log/proof/inclusion?seq=0&tree_size=1",
            None,
            "read",
        ),
        ("GET", "/v1/log/proof/consistency?from=1&to=1", None, "read"),
        ("GET", "/v1/log/tile/0/000.p/1", None, "read"),
        ("GET", "/v1/users", None, "read"),
        ("POST", "/v1/users", nothing.clone(), "manage"),
        ("PATCH", "/v1/users/nope", nothing.clone(), "manage"),
        ("DELETE", "/v1/users/nope", None, "manage"),
        ("GET", "/v1/auth/api-keys", None, "manage"),
        ("POST", "/v1/auth/api-keys", nothing.clone(), "manage"),
        ("DELETE", "/v1/auth/api-keys/nope", None, "manage"),
        ("GET", "/v1/settings", None, "read"),
        (
            "PATCH",
            "/v1/settings",
            Some(json!({"session_minutes": 1})),
            "manage",
        ),
        ("GET", "/v1/agents", None, "read"),
        ("GET", "/v1/agents/nope", None, "read"),
        ("POST", "/v1/agents", nothing.clone(), "manage"),
        ("GET", "/v1/compliance-rules", None, "read"),
        ("GET", "/v1/compliance-rules/packs", None, "read"),
        ("POST", "/v1/compliance-rules", nothing.clone(), "manage"),
        (
            "POST",
            "/v1/compliance-rules/packs",
            nothing.clone(),
            "manage",
        ),
        (
            "PUT",
            "/v1/compliance-rules/nope",
            nothing.clone(),
            "manage",
        ),
        ("DELETE", "/v1/compliance-rules/nope", None, "manage"),
        ("GET", "/v1/policies", None, "read"),
        ("POST", "/v1/policies", nothing.clone(), "manage"),
        ("POST", "/v1/policies/clone-pack", nothing.clone(), "manage"),
        ("PUT", "/v1/policies/nope", nothing.clone(), "manage"),
        ("DELETE", "/v1/policies/nope", None, "manage"),
        (
            "POST",
            "/v1/policies/nope/agents",
            nothing.clone(),
            "manage",
        ),
        ("GET", "/v1/alerts", None, "read"),
        ("GET", "/v1/alerts/nope", None, "read"),
        ("POST", "/v1/alerts/nope/resolve", None, "manage"),
        ("GET", "/v1/webhooks", None, "manage"),
        ("POST", "/v1/webhooks", nothing.clone(), "manage"),
        ("GET", "/v1/webhooks/nope/deliveries", None, "manage"),
        ("DELETE", "/v1/webhooks/nope", None, "manage"),
        ("GET", "/v1/admin/audit", None, "read"),
        ("POST", "/v1/admin/tenants", nothing, "operate"),
    ]
}

#[tokio::test]
async fn every_route_refuses_every_scope_and_role_that_must_not_pass() {
    let (_d, s) = start(&[]);
    let mut callers: Vec<(&str, Cred, &[&str])> = Vec::new();
    for (name, scopes) in [
        ("ingest key", &["ingest"][..]),
        ("read key", &["read"][..]),
        ("admin key", &["admin"][..]),
    ] {
        let (_, key) = create_key(&s, &admin(), name, scopes).await;
        let grants: &[&str] = match name {
            "ingest key" => &["ingest"],
            "read key" => &["read", "export"],
            _ => &["ingest", "read", "export", "manage", "operate"],
        };
        callers.push((name, Cred::Key(key), grants));
    }
    for (role, grants) in [
        ("member", &["ingest", "read"][..]),
        ("auditor", &["read", "export"][..]),
        ("admin", &["ingest", "read", "export", "manage"][..]),
    ] {
        let (_, cred) = person(&s, &format!("{role}@test.invalid"), role).await;
        callers.push((role, cred, grants));
    }
    let (_, login, _) = s.login(OWNER_EMAIL, OWNER_PASSWORD).await;
    let owner = Cred::Token(login["accessToken"].as_str().unwrap().to_owned());
    callers.push((
        "owner",
        owner,
        &["ingest", "read", "export", "manage", "operate"],
    ));

    for (method, path, body, needs) in routes() {
        let (status, answer, _) = s.call(method, path, &Cred::None, body.as_ref()).await;
        assert_eq!(status, 401, "{method} {path} without credentials: {answer}");
        for (who, cred, grants) in &callers {
            let (status, answer, _) = s.call(method, path, cred, body.as_ref()).await;
            if grants.contains(&needs) {
                assert!(
                    [200, 201, 204, 400, 404].contains(&status),
                    "{who} may {needs}, so {method} {path} must pass authorisation: {status} {answer}"
                );
            } else {
                assert_eq!(
                    status, 403,
                    "{who} must not {needs}: {method} {path}: {answer}"
                );
                assert_eq!(answer["code"], "forbidden");
            }
        }
    }
}

async fn people_and_the_owner_rules(backend: Backend) {
    let (_d, s) = start_on(backend);
    let (admin_id, admin_person) = person(&s, "ada@test.invalid", "admin").await;
    let (member_id, _) = person(&s, "mo@test.invalid", "member").await;

    // A generated password is shown once and works.
    let (status, invited, _) = s
        .call(
            "POST",
            "/v1/users",
            &admin_person,
            Some(&json!({"email": "Aud@Test.Invalid", "role": "auditor"})),
        )
        .await;
    assert_eq!(status, 201, "{invited}");
    assert_eq!(invited["email"], "aud@test.invalid");
    let generated = invited["password"].as_str().unwrap();
    let (status, _, _) = s.login("aud@test.invalid", generated).await;
    assert_eq!(status, 200);

    for (body, status_wanted) in [
        (json!({"email": "x@test.invalid", "role": "owner"}), 403),
        (json!({"email": "not an email", "role": "member"}), 400),
        (json!({"email": "y@test.invalid", "role": "king"}), 400),
        (
            json!({"email": "z@test.invalid", "role": "member", "password": "short"}),
            400,
        ),
        (json!({"email": "mo@test.invalid", "role": "member"}), 409),
    ] {
        let (status, err, _) = s
            .call("POST", "/v1/users", &admin_person, Some(&body))
            .await;
        assert_error(status, &err, status_wanted);
    }

    // An admin cannot touch owners; an owner can, but the last owner stays.
    let (_, users, _) = s.call("GET", "/v1/users", &admin(), None).await;
    let owner_id = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["role"] == "owner")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _, _) = s
        .call(
            "PATCH",
            &format!("/v1/users/{owner_id}"),
            &admin_person,
            Some(&json!({"role": "member"})),
        )
        .await;
    assert_eq!(status, 403);
    let (_, login, _) = s.login(OWNER_EMAIL, OWNER_PASSWORD).await;
    let owner = Cred::Token(login["accessToken"].as_str().unwrap().to_owned());
    let (status, err, _) = s
        .call("DELETE", &format!("/v1/users/{owner_id}"), &owner, None)
        .await;
    assert_error(status, &err, 409);
    assert_eq!(err["code"], "last_owner");

    // Role changes take effect at once, even on a session already open.
    let (status, changed, _) = s
        .call(
            "PATCH",
            &format!("/v1/users/{admin_id}"),
            &owner,
            Some(&json!({"role": "auditor"})),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    let (status, _, _) = s
        .call(
            "POST",
            "/v1/users",
            &admin_person,
            Some(&json!({"email": "q@test.invalid", "role": "member"})),
        )
        .await;
    assert_eq!(status, 403, "no longer an admin");

    // Removal ends their sessions.
    let (status, _, _) = s
        .call("DELETE", &format!("/v1/users/{admin_id}"), &owner, None)
        .await;
    assert_eq!(status, 204);
    let (status, body, _) = s.call("GET", "/v1/events", &admin_person, None).await;
    assert_error(status, &body, 401);
    let (status, _, _) = s
        .call("DELETE", &format!("/v1/users/{member_id}"), &owner, None)
        .await;
    assert_eq!(status, 204);
}

async fn tenants_are_isolated(backend: Backend) {
    let (_d, s) = start_on(backend);
    let (ok, out, err) = cli_with_key(&s, API_KEY, &["tenants", "create", "Acme Corp", "--json"]);
    assert!(ok, "{err}");
    let created: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(created["tenant"]["id"], "acme-corp");
    assert_eq!(created["owner"]["email"], "owner@acme-corp");
    let b_key = created["api_key"]["key"].as_str().unwrap().to_owned();
    let b = Cred::Key(b_key.clone());
    let (status, login, _) = s
        .login(
            "owner@acme-corp",
            created["owner"]["password"].as_str().unwrap(),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(login["organization"]["name"], "Acme Corp");

    let (status, _, _) = s
        .call("POST", "/v1/events", &b, Some(&json!({"id": "b-secret", "type": "thinking", "run_id": "b-run", "content": "acme only"})))
        .await;
    assert_eq!(status, 201);
    let (b_key_id, _) = create_key(&s, &b, "b-extra", &["read"]).await;
    let (status, b_user, _) = s
        .call(
            "POST",
            "/v1/users",
            &b,
            Some(&json!({"email": "bea@acme.test", "role": "member"})),
        )
        .await;
    assert_eq!(status, 201);
    let b_user_id = b_user["id"].as_str().unwrap();

    // Tenant A (default) sees none of it, and cannot touch any of it.
    let a = admin();
    for (method, path, body) in [
        ("GET", "/v1/events/b-secret".to_owned(), None),
        ("GET", "/v1/events/b-secret?proof=true".to_owned(), None),
        ("GET", "/v1/runs/b-run".to_owned(), None),
        ("DELETE", format!("/v1/auth/api-keys/{b_key_id}"), None),
        (
            "PATCH",
            format!("/v1/users/{b_user_id}"),
            Some(json!({"role": "admin"})),
        ),
        ("DELETE", format!("/v1/users/{b_user_id}"), None),
    ] {
        let (status, body, _) = s.call(method, &path, &a, body.as_ref()).await;
        assert_error(status, &body, 404);
        assert!(!body.to_string().contains("acme"), "no hint: {body}");
    }
    for path in [
        "/v1/events?run_id=b-run",
        "/v1/events?q=acme",
        "/v1/admin/audit?q=acme",
        "/v1/admin/audit?resource_id=b-secret",
    ] {
        let (_, page, _) = s.call("GET", path, &a, None).await;
        assert!(
            page["events"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["id"] != "b-secret"),
            "{path}: {page}"
        );
    }
    let (_, users, _) = s.call("GET", "/v1/users", &a, None).await;
    assert!(!users.to_string().contains("acme"), "{users}");
    let (_, keys, _) = s.call("GET", "/v1/auth/api-keys", &a, None).await;
    assert!(!keys.to_string().contains(&b_key_id), "{keys}");

    // Tenant B has its own log, key name and checkpoint.
    let (_, key_b, _) = s.call("GET", "/v1/auth/me", &b, None).await;
    assert_eq!(key_b["organization"]["id"], "acme-corp");
    let r = s
        .http
        .get(s.url("/v1/log/public-key"))
        .bearer_auth(&b_key)
        .send()
        .await
        .unwrap();
    assert!(
        r.text()
            .await
            .unwrap()
            .starts_with("flightrec.local/acme-corp+")
    );
    let (_, audit_b, _) = s
        .call("GET", "/v1/admin/audit?action=tenant.created", &b, None)
        .await;
    assert_eq!(audit_b["total"], 1);
    assert_eq!(
        audit_b["events"][0]["actor"]["type"], "system",
        "created by the operator's key"
    );

    // Only the server's operators create tenants; names are unique.
    let (status, body, _) = s
        .call(
            "POST",
            "/v1/admin/tenants",
            &b,
            Some(&json!({"name": "Evil"})),
        )
        .await;
    assert_error(status, &body, 403);
    let (status, body, _) = s
        .call(
            "POST",
            "/v1/admin/tenants",
            &a,
            Some(&json!({"name": "ACME corp"})),
        )
        .await;
    assert_error(status, &body, 409);
    let (status, body, _) = s
        .call(
            "POST",
            "/v1/admin/tenants",
            &a,
            Some(&json!({"name": "!!!"})),
        )
        .await;
    assert_error(status, &body, 400);
}

#[tokio::test]
async fn rate_limits_per_key_and_per_tenant() {
    let (_d, s) = start(&[
        ("FLIGHTREC_RATE_LIMIT_PER_KEY_RPS", "5"),
        ("FLIGHTREC_RATE_LIMIT_PER_TENANT_RPS", "8"),
    ]);
    let (status, created, _) = s
        .call(
            "POST",
            "/v1/admin/tenants",
            &admin(),
            Some(&json!({"name": "quiet"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let quiet = Cred::Key(created["api_key"]["key"].as_str().unwrap().to_owned());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (_, second) = create_key(&s, &admin(), "second", &["read"]).await;
    let second = Cred::Key(second);
    tokio::time::sleep(Duration::from_millis(1100)).await;

    // A burst past the key's limit. Buckets refill while the test runs, so
    // the bounds allow for the time it took.
    let started = std::time::Instant::now();
    let allowance = |rate: f64| rate + (rate * started.elapsed().as_secs_f64()).ceil();
    let (mut ok_a, mut retry_after) = (0, None);
    for _ in 0..30 {
        let (status, body, headers) = s.call("GET", "/v1/events", &admin(), None).await;
        match status {
            200 => ok_a += 1,
            429 => {
                assert_error(status, &body, 429);
                retry_after = headers
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().to_owned());
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert!(
        ok_a >= 5 && f64::from(ok_a) <= allowance(5.0),
        "{ok_a} passed"
    );
    assert_eq!(retry_after.as_deref(), Some("1"));
    // Another key of the same tenant gets only what is left of the
    // tenant's 8 per second...
    let mut ok_b = 0;
    for _ in 0..10 {
        if s.call("GET", "/v1/events", &second, None).await.0 == 200 {
            ok_b += 1;
        }
    }
    assert!(
        f64::from(ok_a + ok_b) <= allowance(8.0),
        "{ok_a} + {ok_b} passed"
    );
    // ...and another tenant is not slowed at all.
    for _ in 0..5 {
        let (status, _, _) = s.call("GET", "/v1/events", &quiet, None).await;
        assert_eq!(status, 200);
    }
    // The limit recovers.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, _, _) = s.call("GET", "/v1/events", &admin(), None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn every_admin_action_is_in_the_audit_trail() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let s = Server::start(&data, &[]);
    let (_, login, _) = s.login(OWNER_EMAIL, OWNER_PASSWORD).await;
    let owner = Cred::Token(login["accessToken"].as_str().unwrap().to_owned());

    let (key_id, key_secret) = create_key(&s, &owner, "ci", &["ingest"]).await;
    s.call(
        "DELETE",
        &format!("/v1/auth/api-keys/{key_id}"),
        &owner,
        None,
    )
    .await;
    let (status, user, _) = s
        .call("POST", "/v1/users", &owner, Some(&json!({"email": "m@test.invalid", "role": "member", "password": "a long enough password"})))
        .await;
    assert_eq!(status, 201);
    let user_id = user["id"].as_str().unwrap();
    s.call(
        "PATCH",
        &format!("/v1/users/{user_id}"),
        &owner,
        Some(&json!({"role": "auditor"})),
    )
    .await;
    s.call("DELETE", &format!("/v1/users/{user_id}"), &owner, None)
        .await;
    let (status, settings, _) = s
        .call(
            "PATCH",
            "/v1/settings",
            &owner,
            Some(&json!({"session_minutes": 30, "display_name": "Default Inc"})),
        )
        .await;
    assert_eq!(status, 200, "{settings}");
    let (status, _, _) = s
        .call(
            "POST",
            "/v1/admin/tenants",
            &owner,
            Some(&json!({"name": "other"})),
        )
        .await;
    assert_eq!(status, 201);

    let human = json!({"type": "human", "email": OWNER_EMAIL});
    for (action, resource, before, after) in [
        (
            "key.created",
            "api_key",
            Value::Null,
            json!({"name": "ci", "scopes": ["ingest"]}),
        ),
        (
            "key.revoked",
            "api_key",
            json!({"revoked_at": null}),
            json!({"name": "ci"}),
        ),
        (
            "user.invited",
            "user",
            Value::Null,
            json!({"email": "m@test.invalid", "role": "member"}),
        ),
        (
            "user.role_changed",
            "user",
            json!({"role": "member"}),
            json!({"role": "auditor"}),
        ),
        (
            "user.removed",
            "user",
            json!({"email": "m@test.invalid"}),
            Value::Null,
        ),
        (
            "settings.updated",
            "settings",
            json!({}),
            json!({"session_minutes": 30}),
        ),
        (
            "tenant.created",
            "tenant",
            Value::Null,
            json!({"id": "other", "name": "other"}),
        ),
    ] {
        let (status, page, _) = s
            .call(
                "GET",
                &format!(
                    "/v1/admin/audit?action={action}&actor={OWNER_EMAIL}&actor_type=human&since=24h"
                ),
                &admin(),
                None,
            )
            .await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["total"], 1, "{action}: {page}");
        let e = &page["events"][0];
        assert_eq!(e["type"], action);
        assert_eq!(
            e["submitted_by"], "flightrec",
            "{action}: flightrec's own record"
        );
        assert_eq!(e["resource"]["type"], resource);
        for (k, v) in human.as_object().unwrap() {
            assert_eq!(&e["actor"][k], v, "{action}");
        }
        for (which, want) in [("before", &before), ("after", &after)] {
            match want {
                Value::Null => assert!(e["metadata"].get(which).is_none(), "{action} {which}: {e}"),
                Value::Object(fields) => {
                    for (k, v) in fields {
                        assert_eq!(&e["metadata"][which][k], v, "{action} {which}.{k}: {e}");
                    }
                }
                _ => unreachable!(),
            }
        }
        assert!(
            !e.to_string().contains(&key_secret),
            "no secret in the trail"
        );
    }
    // Prefixes, paging and the window's totals.
    let (_, keys, _) = s
        .call("GET", "/v1/admin/audit?action=key.*", &admin(), None)
        .await;
    assert_eq!(
        keys["total"], 3,
        "the first start's key, ci, and its revocation: {keys}"
    );
    let (_, page, _) = s
        .call(
            "GET",
            "/v1/admin/audit?action=user.&limit=1&offset=1",
            &admin(),
            None,
        )
        .await;
    assert_eq!(page["events"].as_array().unwrap().len(), 1);
    assert_eq!(
        page["total"], 4,
        "owner invited at first start, then invited, changed, removed"
    );
    assert_eq!(page["next_offset"], 2);
    for bad in [
        "since=yesterday",
        "offset=-1",
        "limit=5000",
        "action=x&type=y",
        "colour=red",
    ] {
        let (status, body, _) = s
            .call("GET", &format!("/v1/admin/audit?{bad}"), &admin(), None)
            .await;
        assert_error(status, &body, 400);
    }

    // They are ordinary records: hashed, in the tree, verifiable.
    let trust = crate::support::save_trust_file(&s, &data.with_file_name("trust.txt"));
    drop(s);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_flightrec"))
        .args(["verify", "--data-dir", data.to_str().unwrap(), "--trust"])
        .arg(&trust)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // And no secret reached the store's files.
    for file in std::fs::read_dir(&data).unwrap() {
        let path = file.unwrap().path();
        if !path
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("flightrec.db")
        {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        for secret in [
            key_secret.as_str(),
            API_KEY,
            OWNER_PASSWORD,
            "a long enough password",
        ] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "a secret is in {}",
                path.display()
            );
        }
    }
}

on_both_backends!(
    sign_in_sessions_cookies_and_csrf,
    keys_scopes_binding_and_revocation,
    people_and_the_owner_rules,
    tenants_are_isolated,
);
