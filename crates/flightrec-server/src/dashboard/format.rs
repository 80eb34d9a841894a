//! How records read on a page: times relative to now, who did it, to what.

use chrono::{DateTime, Utc};
use flightrec_core::event::parse_time;
use serde_json::Value;

/// "just now", "5 min ago", "3 h ago", "2 d ago" (or "in …" for a future time).
pub fn relative(time: &str, now: DateTime<Utc>) -> String {
    let Ok(t) = parse_time(time) else {
        return time.to_owned();
    };
    let seconds = (now - t).num_seconds();
    let (n, ago) = (seconds.unsigned_abs(), seconds >= 0);
    let amount = match n {
        0..45 => return "just now".into(),
        45..3600 => format!("{} min", n.div_ceil(60).max(1)),
        3600..86_400 => format!("{} h", n / 3600),
        _ => format!("{} d", n / 86_400),
    };
    if ago {
        format!("{amount} ago")
    } else {
        format!("in {amount}")
    }
}

/// Who acted: the actor's email or name, else the agent, else "system".
pub fn actor(event: &Value) -> String {
    let actor = &event["actor"];
    [
        &actor["email"],
        &actor["name"],
        &actor["id"],
        &event["agent_id"],
    ]
    .into_iter()
    .find_map(Value::as_str)
    .unwrap_or("system")
    .to_owned()
}

/// `type:id-prefix`, or empty when the event names no resource.
pub fn resource(event: &Value) -> String {
    let r = &event["resource"];
    match (r["type"].as_str(), r["id"].as_str()) {
        (Some(t), Some(id)) => format!("{t}:{}", prefix(id, 12)),
        (Some(t), None) => t.to_owned(),
        _ => String::new(),
    }
}

/// At most `n` characters of `s`, with "…" when cut.
pub fn prefix(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// One line saying what an event was about, for timelines.
pub fn summary(event: &Value) -> String {
    let text = ["message", "content"]
        .into_iter()
        .find_map(|k| event[k].as_str())
        .or_else(|| event["input"]["path"].as_str())
        .or_else(|| event["error"]["message"].as_str())
        .or_else(|| ["verb", "tool"].into_iter().find_map(|k| event[k].as_str()))
        .unwrap_or("");
    prefix(text.lines().next().unwrap_or(""), 100)
}

pub fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn relative_times_read_naturally() {
        let now = parse_time("2026-11-23T12:00:00Z").unwrap();
        let at = |t| relative(t, now);
        assert_eq!(at("2026-11-23T11:59:50Z"), "just now");
        assert_eq!(at("2026-11-23T11:55:00Z"), "5 min ago");
        assert_eq!(at("2026-11-23T09:00:00Z"), "3 h ago");
        assert_eq!(at("2026-11-21T12:00:00Z"), "2 d ago");
        assert_eq!(at("2026-11-23T12:10:00Z"), "in 10 min");
    }

    #[test]
    fn actors_and_resources() {
        let human = json!({"actor": {"type": "human", "id": "u1", "email": "a@b.c"}});
        assert_eq!(actor(&human), "a@b.c");
        assert_eq!(actor(&json!({"agent_id": "coder"})), "coder");
        assert_eq!(actor(&json!({})), "system");
        let r = json!({"resource": {"type": "file", "id": "src/very/long/path.rs"}});
        assert_eq!(resource(&r), "file:src/very/lon…");
        assert_eq!(resource(&json!({})), "");
    }
}
