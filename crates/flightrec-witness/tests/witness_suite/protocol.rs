//! Each answer of c2sp.org/tlog-witness "add-checkpoint", over real HTTP,
//! and the witness's record after each refusal.

use flightrec_core::log::{
    Checkpoint, CosignatureSigner, Hash, Signer, open, sign_checkpoint, verify_cosignatures,
};
use flightrec_witness::{SubmitError, TreeHead};

use super::support::{NOW, TestLog, http, start};

fn head(log: &TestLog) -> Option<TreeHead> {
    Some(TreeHead {
        size: log.size(),
        root: log.root(),
    })
}

#[tokio::test]
async fn first_submission_at_old_zero_then_growth_are_cosigned() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = TestLog::new("log.example/a", 1);
    let witness = start(tmp.path(), &[&log]).await;
    let client = witness.client();
    let vkey = witness.witness.verifier();

    // Sizes that cross a tile boundary (256) and land on powers of two.
    let mut old = 0;
    for size in [5, 9, 16, 300, 512, 513] {
        log.grow_to(size);
        let note = log.checkpoint();
        let lines = client
            .add_checkpoint(&http(), old, &log.proof_from(old), &note)
            .await
            .unwrap_or_else(|e| panic!("{old} -> {size}: {e}"));
        let cosigned = format!("{note}{lines}");
        let found = verify_cosignatures(&cosigned, std::slice::from_ref(&vkey)).unwrap();
        assert_eq!(found.len(), 1, "{old} -> {size}");
        assert_eq!(found[0].name, "witness.example/w1");
        assert_eq!(found[0].timestamp, NOW as u64);
        // The log's own key still opens the cosigned note.
        open(&cosigned, &[log.verifier()]).unwrap();
        assert_eq!(witness.witness.latest(log.origin()), head(&log));
        old = size;
    }
}

#[tokio::test]
async fn the_same_checkpoint_again_is_cosigned_again() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = TestLog::new("log.example/a", 1);
    let witness = start(tmp.path(), &[&log]).await;
    log.grow_to(9);
    let answer = witness.post(log.request_from(0)).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    for _ in 0..2 {
        let answer = witness.post(log.request_from(9)).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        assert_eq!(answer.content_type, "text/plain; charset=utf-8");
        assert!(
            answer.body.starts_with("\u{2014} witness.example/w1 "),
            "{answer:?}"
        );
        assert!(answer.body.ends_with('\n'), "{answer:?}");
        assert_eq!(witness.witness.latest(log.origin()), head(&log));
    }
    // Once a tree is cosigned, old 0 is stale.
    let answer = witness.post(log.request_from(0)).await;
    assert_eq!(answer.status, 409, "{answer:?}");
}

#[tokio::test]
async fn a_stale_old_size_is_409_with_the_witness_size() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = TestLog::new("log.example/a", 1);
    let witness = start(tmp.path(), &[&log]).await;
    let client = witness.client();
    log.grow_to(9);
    client
        .add_checkpoint(&http(), 0, &[], &log.checkpoint())
        .await
        .unwrap();
    log.grow_to(20);

    for stale in [0, 5, 8, 10, 20] {
        let answer = witness.post(log.request_from(stale)).await;
        assert_eq!(answer.status, 409, "old {stale}: {answer:?}");
        assert_eq!(answer.content_type, "text/x.tlog.size");
        assert_eq!(answer.body, "9\n");
        let err = client
            .add_checkpoint(&http(), stale, &log.proof_from(stale), &log.checkpoint())
            .await
            .unwrap_err();
        assert!(
            matches!(err, SubmitError::Conflict { witness_size: 9 }),
            "old {stale}: {err:?}"
        );
    }
    assert_eq!(witness.witness.latest(log.origin()).unwrap().size, 9);

    // What a log does on a conflict: resubmit from the witness's size.
    let SubmitError::Conflict { witness_size } = client
        .add_checkpoint(&http(), 0, &[], &log.checkpoint())
        .await
        .unwrap_err()
    else {
        panic!("not a conflict");
    };
    client
        .add_checkpoint(
            &http(),
            witness_size,
            &log.proof_from(witness_size),
            &log.checkpoint(),
        )
        .await
        .unwrap();
    assert_eq!(witness.witness.latest(log.origin()), head(&log));
}

#[tokio::test]
async fn a_forked_log_is_refused_and_the_record_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = TestLog::new("log.example/a", 1);
    let witness = start(tmp.path(), &[&log]).await;
    let client = witness.client();
    // A split view: both branches share the first 5 leaves.
    log.grow_to(5);
    let mut fork = log.fork("evil");
    log.grow_to(9);
    client
        .add_checkpoint(&http(), 0, &[], &log.checkpoint())
        .await
        .unwrap();
    let cosigned = head(&log);

    // Larger trees that do not extend the cosigned one: no proof from 9
    // leads to their roots.
    fork.grow_to(14);
    log.grow_to(14);
    let mut rewritten = TestLog::new("log.example/a", 1).fork("rewritten");
    rewritten.grow_to(14);
    for (name, body) in [
        ("the fork, with its own proof from 9", fork.request_from(9)),
        (
            "history rewritten from the start",
            rewritten.request_from(9),
        ),
        (
            "the honest proof, the fork's checkpoint",
            format_request(9, &log.proof_from(9), &fork.checkpoint()),
        ),
        (
            "a proof hash flipped",
            format_request(9, &flip_first(log.proof_from(9)), &log.checkpoint()),
        ),
        (
            "a proof hash too many",
            format_request(9, &with_extra(log.proof_from(9)), &log.checkpoint()),
        ),
        (
            "a proof hash too few",
            format_request(9, &log.proof_from(9)[1..], &log.checkpoint()),
        ),
        ("no proof", format_request(9, &[], &log.checkpoint())),
    ] {
        let answer = witness.post(body).await;
        assert_eq!(answer.status, 422, "{name}: {answer:?}");
        assert_eq!(witness.witness.latest(log.origin()), cosigned, "{name}");
    }

    // The same size as cosigned, another root: the spec's 409, not a 422.
    let mut same_size_fork = TestLog::new("log.example/a", 1);
    same_size_fork.grow_to(5);
    let mut same_size_fork = same_size_fork.fork("other");
    same_size_fork.grow_to(9);
    let answer = witness.post(same_size_fork.request_from(9)).await;
    assert_eq!(answer.status, 409, "{answer:?}");
    assert_eq!(answer.content_type, "text/x.tlog.size");
    assert_eq!(answer.body, "9\n");
    // The client does not mistake it for a stale size to retry from.
    let err = client
        .add_checkpoint(&http(), 9, &[], &same_size_fork.checkpoint())
        .await
        .unwrap_err();
    let SubmitError::Rejected {
        status: 409,
        message,
    } = &err
    else {
        panic!("{err:?}");
    };
    assert!(message.contains("two different trees"), "{message}");
    assert_eq!(witness.witness.latest(log.origin()), cosigned);

    // The same size and root, with a proof that should be empty.
    let mut at_nine = TestLog::new("log.example/a", 1);
    at_nine.grow_to(9);
    let answer = witness
        .post(format_request(9, &[Hash([1; 32])], &at_nine.checkpoint()))
        .await;
    assert_eq!(answer.status, 422, "{answer:?}");

    // And the honest log still grows from where the witness is.
    client
        .add_checkpoint(&http(), 9, &log.proof_from(9), &log.checkpoint())
        .await
        .unwrap();
    assert_eq!(witness.witness.latest(log.origin()), head(&log));
}

#[tokio::test]
async fn a_checkpoint_not_signed_by_the_log_is_403() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = TestLog::new("log.example/a", 1);
    let witness = start(tmp.path(), &[&log]).await;
    log.grow_to(9);
    let checkpoint = Checkpoint::new(log.origin(), log.size(), log.root()).unwrap();
    let impostor = Signer::from_seed(log.origin(), [66; 32]).unwrap();
    let other_name = Signer::from_seed("someone.example", [1; 32]).unwrap();
    let good = log.checkpoint();
    let tampered = {
        // Flip one bit of the signature, keeping valid base64.
        let (text, line) = good.rsplit_once("\n\n").unwrap();
        let (prefix, sig) = line.trim_end().rsplit_once(' ').unwrap();
        let mut bytes: Vec<u8> = sig.bytes().collect();
        let i = bytes.len() - 10;
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        format!("{text}\n\n{prefix} {}\n", String::from_utf8(bytes).unwrap())
    };
    let witness_signed = {
        let w = CosignatureSigner::from_seed(log.origin(), [1; 32]).unwrap();
        let text = checkpoint.to_text();
        format!(
            "{text}\n{}",
            flightrec_core::log::cosign(&text, &w, 1).unwrap()
        )
    };
    for (name, note) in [
        (
            "another key under the log's name",
            sign_checkpoint(&checkpoint, &impostor).unwrap(),
        ),
        (
            "another key and name",
            sign_checkpoint(&checkpoint, &other_name).unwrap(),
        ),
        ("a signature bit flipped", tampered),
        ("a cosignature instead of a signature", witness_signed),
    ] {
        let answer = witness.post(format_request(0, &[], &note)).await;
        assert_eq!(answer.status, 403, "{name}: {answer:?}");
        assert_eq!(witness.witness.latest(log.origin()), None, "{name}");
    }
    // The log's signature next to a stranger's is fine: unknown keys are ignored.
    let both = format!(
        "{good}{}",
        sign_checkpoint(&checkpoint, &other_name)
            .unwrap()
            .rsplit_once("\n\n")
            .unwrap()
            .1
    );
    let answer = witness.post(format_request(0, &[], &both)).await;
    assert_eq!(answer.status, 200, "{answer:?}");
}

#[tokio::test]
async fn an_unknown_origin_is_404() {
    let tmp = tempfile::tempdir().unwrap();
    let followed = TestLog::new("log.example/a", 1);
    let mut stranger = TestLog::new("log.example/b", 2);
    let witness = start(tmp.path(), &[&followed]).await;
    stranger.grow_to(3);
    let answer = witness.post(stranger.request_from(0)).await;
    assert_eq!(answer.status, 404, "{answer:?}");
    assert!(answer.body.contains("log.example/b"), "{answer:?}");
    let err = witness
        .client()
        .add_checkpoint(&http(), 0, &[], &stranger.checkpoint())
        .await
        .unwrap_err();
    assert!(
        matches!(err, SubmitError::Rejected { status: 404, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_old_size_above_the_checkpoint_is_400() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = TestLog::new("log.example/a", 1);
    let witness = start(tmp.path(), &[&log]).await;
    log.grow_to(9);
    let answer = witness
        .post(format_request(10, &[], &log.checkpoint()))
        .await;
    assert_eq!(answer.status, 400, "{answer:?}");
    assert!(answer.body.contains("larger"), "{answer:?}");
    assert_eq!(witness.witness.latest(log.origin()), None);
}

#[tokio::test]
async fn empty_trees() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = TestLog::new("log.example/a", 1);
    let witness = start(tmp.path(), &[&log]).await;
    // An empty tree whose root is not the empty tree's hash.
    let signer = Signer::from_seed("log.example/a", [1; 32]).unwrap();
    let bogus = Checkpoint::new("log.example/a", 0, Hash([1; 32])).unwrap();
    let answer = witness
        .post(format_request(
            0,
            &[],
            &sign_checkpoint(&bogus, &signer).unwrap(),
        ))
        .await;
    assert_eq!(answer.status, 422, "{answer:?}");
    // The real empty tree, then growth from it.
    let answer = witness.post(log.request_from(0)).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(witness.witness.latest(log.origin()), head(&log));
    log.grow_to(3);
    let answer = witness.post(log.request_from(0)).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    // A proof from size 0 must be empty.
    log.grow_to(4);
    let answer = witness
        .post(format_request(3, &[Hash([2; 32])], &log.checkpoint()))
        .await;
    assert_eq!(answer.status, 422, "{answer:?}");
}

#[tokio::test]
async fn the_root_page_names_the_key_and_the_logs() {
    let tmp = tempfile::tempdir().unwrap();
    let mut a = TestLog::new("log.example/a", 1);
    let b = TestLog::new("log.example/b", 2);
    let witness = start(tmp.path(), &[&a, &b]).await;
    a.grow_to(7);
    assert_eq!(witness.post(a.request_from(0)).await.status, 200);
    let page = http()
        .get(&witness.url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&witness.witness.verifier().to_key_string()),
        "{page}"
    );
    assert!(
        page.contains(&format!("log {} cosigned size 7", a.verifier())),
        "{page}"
    );
    assert!(
        page.contains(&format!("log {} cosigned size none yet", b.verifier())),
        "{page}"
    );
    // add-checkpoint is POST only.
    let get = http()
        .get(format!("{}/add-checkpoint", witness.url))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status().as_u16(), 405);
}

fn format_request(old_size: u64, proof: &[Hash], note: &str) -> String {
    flightrec_witness::add_checkpoint::AddCheckpointRequest::encode(old_size, proof, note)
}

fn flip_first(mut proof: Vec<Hash>) -> Vec<Hash> {
    proof[0].0[0] ^= 1;
    proof
}

fn with_extra(mut proof: Vec<Hash>) -> Vec<Hash> {
    proof.push(Hash([9; 32]));
    proof
}
