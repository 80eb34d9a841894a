//! `docs/openapi.json` describes every route the router serves, with its
//! methods, and nothing else.
//!
//! axum cannot list a router's routes, so they are read from the source:
//! every `.route("PATH", get(…).post(…))` under `src/`. All routes are
//! declared that way, with literal paths; a route declared otherwise
//! would escape this check, so don't.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Path → methods, of every `.route(…)` in the Rust files under `dir`.
fn served_routes(dir: &Path, routes: &mut BTreeMap<String, BTreeSet<String>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            served_routes(&path, routes);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let source = std::fs::read_to_string(&path).unwrap();
            for (route, methods) in routes_in(&source) {
                routes.entry(route).or_default().extend(methods);
            }
        }
    }
}

/// The `.route("PATH", METHOD(…).METHOD(…))` calls of one file.
fn routes_in(source: &str) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find(".route(") {
        rest = &rest[at + ".route(".len()..];
        let Some(open) = rest.find('"') else { break };
        let Some(len) = rest[open + 1..].find('"') else {
            break;
        };
        let path = rest[open + 1..open + 1 + len].to_owned();
        // The call's arguments run to its closing parenthesis.
        let mut depth = 1;
        let mut end = 0;
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                end = i;
                break;
            }
        }
        let args = &rest[open + 1 + len..end];
        let methods = METHODS
            .iter()
            .filter(|m| {
                args.match_indices(&format!("{m}(")).any(|(i, _)| {
                    // `get(` but not `forget(`: a method call starts the
                    // argument or follows a dot.
                    let before = args[..i].trim_end().chars().last();
                    matches!(before, None | Some(',' | '.'))
                })
            })
            .map(|m| m.to_string())
            .collect();
        found.push((path, methods));
        rest = &rest[end..];
    }
    found
}

/// `/v1/runs/{id}` and `/v1/runs/{run}` are one route.
fn shape(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "{}" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn the_description_and_the_router_name_the_same_routes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut served = BTreeMap::new();
    served_routes(&root.join("src"), &mut served);
    assert!(
        served.len() > 50,
        "the scan found too few routes: {served:?}"
    );

    let spec: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("../../docs/openapi.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    let mut described: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        let methods = item
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| METHODS.contains(&k.as_str()))
            .cloned();
        described.entry(path.clone()).or_default().extend(methods);
    }

    // A served `{*rest}` route stands for the described paths under it,
    // which spell out what it takes (the tlog-tiles paths).
    let mut problems = Vec::new();
    let mut covered: BTreeSet<&String> = BTreeSet::new();
    for (route, methods) in &served {
        let matching: Vec<&String> = match route.split_once("{*") {
            Some((prefix, _)) => described
                .keys()
                .filter(|p| p.starts_with(prefix) && !served.contains_key(*p))
                .filter(|p| {
                    // Not one a literal route serves already.
                    !served
                        .keys()
                        .any(|r| !r.contains("{*") && shape(r) == shape(p))
                })
                .collect(),
            None => described
                .keys()
                .filter(|p| shape(p) == shape(route))
                .collect(),
        };
        if matching.is_empty() {
            problems.push(format!("served but not described: {route} {methods:?}"));
        }
        for path in matching {
            covered.insert(path);
            if &described[path] != methods {
                problems.push(format!(
                    "{path}: served with {methods:?}, described with {:?}",
                    described[path]
                ));
            }
        }
    }
    for path in described.keys() {
        if !covered.contains(path) {
            problems.push(format!("described but not served: {path}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_route_scan_reads_chained_and_multiline_declarations() {
    let source = r#"
        Router::new()
            .route("/a/{id}", get(show).delete(remove))
            .route(
                "/b",
                post(super::x::create).get(list),
            )
            .route("/c", get(|| async { forget(1) }))
    "#;
    let found = routes_in(source);
    assert_eq!(
        found,
        [
            (
                "/a/{id}".to_owned(),
                vec!["get".to_owned(), "delete".to_owned()]
            ),
            ("/b".to_owned(), vec!["get".to_owned(), "post".to_owned()]),
            ("/c".to_owned(), vec!["get".to_owned()]),
        ]
    );
}
