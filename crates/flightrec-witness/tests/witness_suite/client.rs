//! The client against witnesses that answer badly: a hostile server that
//! returns whatever the test says, and a witness that is not there.

use axum::Router;
use axum::http::{StatusCode, header};
use axum::routing::post;
use flightrec_core::log::{Checkpoint, CosignatureSigner, cosign};
use flightrec_witness::{SubmitError, WitnessClient};
use tokio::net::TcpListener;

use super::support::{TestLog, http};

/// Serves one fixed answer to every add-checkpoint, and returns its URL.
async fn answering(status: u16, content_type: &'static str, body: String) -> String {
    let app = Router::new().route(
        "/add-checkpoint",
        post(move || async move {
            (
                StatusCode::from_u16(status).unwrap(),
                [(header::CONTENT_TYPE, content_type)],
                body,
            )
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn witness_key() -> CosignatureSigner {
    CosignatureSigner::from_seed("witness.example/w1", [7; 32]).unwrap()
}

#[tokio::test]
async fn the_client_checks_what_a_witness_answers() {
    let mut log = TestLog::new("log.example/a", 1);
    log.grow_to(9);
    let note = log.checkpoint();
    let text = Checkpoint::new(log.origin(), 9, log.root())
        .unwrap()
        .to_text();
    let key = witness_key();
    let good_line = cosign(&text, &key, 1_700_000_000).unwrap();
    let stranger = CosignatureSigner::from_seed("witness.example/w2", [8; 32]).unwrap();
    let stranger_line = cosign(&text, &stranger, 1_700_000_000).unwrap();
    let other_tree = Checkpoint::new(log.origin(), 8, log.root())
        .unwrap()
        .to_text();
    let wrong_tree_line = cosign(&other_tree, &key, 1_700_000_000).unwrap();
    let impostor = CosignatureSigner::from_seed("witness.example/w1", [9; 32]).unwrap();
    let impostor_line = cosign(&text, &impostor, 1_700_000_000).unwrap();

    // Good answers: the witness's lines are returned, strangers' dropped.
    for (name, body, expected) in [
        ("one cosignature", good_line.clone(), good_line.clone()),
        (
            "with a stranger's line",
            format!("{stranger_line}{good_line}"),
            good_line.clone(),
        ),
    ] {
        let url = answering(200, "text/plain", body).await;
        let client = WitnessClient::new(&url, key.verifier()).unwrap();
        let lines = client
            .add_checkpoint(&http(), 0, &[], &note)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(lines, expected, "{name}");
    }

    // Garbage with a 200 is an error, never a cosignature.
    for (name, body) in [
        ("empty", String::new()),
        ("plain text", "cosigned!\n".to_owned()),
        ("no final newline", good_line.trim_end().to_owned()),
        ("a stranger only", stranger_line.clone()),
        ("the cosignature of another tree", wrong_tree_line),
        ("the witness's name, another key", impostor_line),
        ("a good line then garbage", format!("{good_line}garbage\n")),
        (
            "base64 garbage",
            "\u{2014} witness.example/w1 AAAA\n".to_owned(),
        ),
    ] {
        let url = answering(200, "text/plain", body).await;
        let client = WitnessClient::new(&url, key.verifier()).unwrap();
        let err = client
            .add_checkpoint(&http(), 0, &[], &note)
            .await
            .unwrap_err();
        assert!(
            matches!(err, SubmitError::InvalidResponse { .. }),
            "{name}: {err:?}"
        );
    }

    // Refusals.
    for (name, status, body, check) in [
        ("409 with a size", 409, "12\n", "conflict 12"),
        ("409 without a newline", 409, "12", "rejected"),
        ("409 with garbage", 409, "nope\n", "rejected"),
        ("500", 500, "boom\n", "rejected"),
        ("403", 403, "not signed\n", "rejected"),
    ] {
        let url = answering(status, "text/x.tlog.size", body.to_owned()).await;
        let client = WitnessClient::new(&url, key.verifier()).unwrap();
        let err = client
            .add_checkpoint(&http(), 0, &[], &note)
            .await
            .unwrap_err();
        match (check, &err) {
            ("conflict 12", SubmitError::Conflict { witness_size: 12 }) => {}
            (
                "rejected",
                SubmitError::Rejected {
                    status: got,
                    message,
                },
            ) => {
                assert_eq!(*got, status, "{name}");
                assert!(message.contains(body.trim()), "{name}: {message}");
            }
            _ => panic!("{name}: {err:?}"),
        }
    }
}

#[tokio::test]
async fn an_absent_witness_is_unreachable() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let mut log = TestLog::new("log.example/a", 1);
    log.grow_to(1);
    let client = WitnessClient::new(&url, witness_key().verifier()).unwrap();
    let err = client
        .add_checkpoint(&http(), 0, &[], &log.checkpoint())
        .await
        .unwrap_err();
    assert!(matches!(err, SubmitError::Unreachable { .. }), "{err:?}");
    assert!(err.to_string().contains(&url), "{err}");
}

#[tokio::test]
async fn the_client_refuses_to_send_what_no_witness_accepts() {
    let mut log = TestLog::new("log.example/a", 1);
    log.grow_to(1);
    let client = WitnessClient::new("http://127.0.0.1:9", witness_key().verifier()).unwrap();
    let proof = vec![log.root(); 64];
    let err = client
        .add_checkpoint(&http(), 0, &proof, &log.checkpoint())
        .await
        .unwrap_err();
    assert!(matches!(err, SubmitError::InvalidRequest { .. }), "{err:?}");
    let err = client
        .add_checkpoint(&http(), 0, &[], "not a note")
        .await
        .unwrap_err();
    assert!(matches!(err, SubmitError::InvalidRequest { .. }), "{err:?}");
}
