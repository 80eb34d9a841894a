//! What the witness remembers across restarts and crashes, what it refuses
//! to start on, and the race the spec warns about.

use std::fs;
use std::sync::Arc;

use flightrec_core::log::CosignatureSigner;
use flightrec_witness::{Error, SubmitError, TreeHead, WitnessConfig};

use super::support::{TestLog, http, open, start, start_with};

#[tokio::test]
async fn a_restarted_witness_remembers_sizes_and_its_key() {
    let tmp = tempfile::tempdir().unwrap();
    let mut a = TestLog::new("log.example/a", 1);
    let mut b = TestLog::new("log.example/b", 2);
    let witness = start(tmp.path(), &[&a, &b]).await;
    let vkey = witness.witness.verifier();
    a.grow_to(9);
    b.grow_to(4);
    assert_eq!(witness.post(a.request_from(0)).await.status, 200);
    assert_eq!(witness.post(b.request_from(0)).await.status, 200);
    let dir = witness.stop().await;

    let witness = start(&dir, &[&a, &b]).await;
    assert_eq!(witness.witness.verifier(), vkey);
    assert_eq!(
        witness.witness.latest(a.origin()),
        Some(TreeHead {
            size: 9,
            root: a.root()
        })
    );
    let answer = witness.post(a.request_from(0)).await;
    assert_eq!((answer.status, answer.body.as_str()), (409, "9\n"));
    let answer = witness.post(b.request_from(0)).await;
    assert_eq!((answer.status, answer.body.as_str()), (409, "4\n"));
    a.grow_to(12);
    assert_eq!(witness.post(a.request_from(9)).await.status, 200);
    let dir = witness.stop().await;

    // A log dropped from the configuration and added back resumes.
    let witness = start(&dir, &[&b]).await;
    assert_eq!(witness.witness.latest(a.origin()), None);
    assert_eq!(witness.post(a.request_from(12)).await.status, 404);
    let dir = witness.stop().await;
    let witness = start(&dir, &[&a, &b]).await;
    assert_eq!(witness.witness.latest(a.origin()).unwrap().size, 12);
}

#[tokio::test]
async fn a_torn_temporary_file_does_not_corrupt_the_record() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = TestLog::new("log.example/a", 1);
    let witness = start(tmp.path(), &[&log]).await;
    log.grow_to(9);
    assert_eq!(witness.post(log.request_from(0)).await.status, 200);
    let dir = witness.stop().await;

    // A crash mid-write: the temporary files a store and a key write make,
    // cut short, beside the real files.
    let logs = dir.join("logs");
    let state_file = single_file(&logs);
    let torn = logs.join(format!("{state_file}.tmp"));
    fs::write(&torn, "log.example/a\n4").unwrap();
    let torn_key = dir.join("witness-key.tmp");
    fs::write(&torn_key, "PRIVATE+KEY+w").unwrap();

    let witness = start(&dir, &[&log]).await;
    assert_eq!(witness.witness.latest(log.origin()).unwrap().size, 9);
    assert!(!torn.exists() && !torn_key.exists());
    log.grow_to(10);
    assert_eq!(witness.post(log.request_from(9)).await.status, 200);
}

#[tokio::test]
async fn a_failed_store_is_a_500_and_no_cosignature() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = TestLog::new("log.example/a", 1);
    let witness = start(tmp.path(), &[&log]).await;
    log.grow_to(5);
    assert_eq!(witness.post(log.request_from(0)).await.status, 200);
    let cosigned = witness.witness.latest(log.origin());

    // Make the next write fail even for root: a directory where the
    // temporary file must go.
    let name = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
        log.origin().as_bytes(),
    ));
    let blocker = tmp.path().join("logs").join(format!("{name}.tmp"));
    fs::create_dir(&blocker).unwrap();
    log.grow_to(9);
    let answer = witness.post(log.request_from(5)).await;
    assert_eq!(answer.status, 500, "{answer:?}");
    assert!(
        !answer.body.contains('\u{2014}'),
        "no cosignature: {answer:?}"
    );
    assert!(!answer.body.contains("logs/"), "no internals: {answer:?}");
    assert_eq!(witness.witness.latest(log.origin()), cosigned);
    let err = witness
        .client()
        .add_checkpoint(&http(), 5, &log.proof_from(5), &log.checkpoint())
        .await
        .unwrap_err();
    assert!(
        matches!(err, SubmitError::Rejected { status: 500, .. }),
        "{err:?}"
    );

    // Once the fault is gone the same request succeeds, and sticks.
    fs::remove_dir(&blocker).unwrap();
    assert_eq!(witness.post(log.request_from(5)).await.status, 200);
    let dir = witness.stop().await;
    let witness = start(&dir, &[&log]).await;
    assert_eq!(witness.witness.latest(log.origin()).unwrap().size, 9);
}

#[tokio::test]
async fn a_corrupt_record_stops_the_witness_from_starting() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = TestLog::new("log.example/a", 1);
    let witness = start(tmp.path(), &[&log]).await;
    log.grow_to(9);
    assert_eq!(witness.post(log.request_from(0)).await.status, 200);
    let dir = witness.stop().await;
    let path = dir.join("logs").join(single_file(&dir.join("logs")));
    fs::write(&path, "log.example/a\n9\n").unwrap();
    let err = open(WitnessConfig::new(&dir, vec![log.verifier()])).unwrap_err();
    assert!(matches!(err, Error::CorruptState { .. }), "{err}");
    assert!(err.to_string().contains("backup"), "{err}");
}

#[tokio::test]
async fn it_refuses_a_directory_that_is_not_a_witness_s() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("store.sqlite"), "not a witness").unwrap();
    let log = TestLog::new("log.example/a", 1);
    let err = open(WitnessConfig::new(tmp.path(), vec![log.verifier()])).unwrap_err();
    assert!(matches!(err, Error::NotAWitnessDir { .. }), "{err}");
    assert!(err.to_string().contains("store.sqlite"), "{err}");
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
}

#[tokio::test]
async fn the_witness_key() {
    let log = TestLog::new("log.example/a", 1);
    let logs = || vec![log.verifier()];

    // Made at the first start, private, named as configured.
    let tmp = tempfile::tempdir().unwrap();
    let config = WitnessConfig {
        name: Some("witness.example/new".to_owned()),
        ..WitnessConfig::new(tmp.path(), logs())
    };
    let vkey = open(config).unwrap().verifier();
    assert_eq!(vkey.name(), "witness.example/new");
    let key_file = tmp.path().join("witness-key");
    let text = fs::read_to_string(&key_file).unwrap();
    assert_eq!(
        CosignatureSigner::parse_private_key(&text)
            .unwrap()
            .verifier(),
        vkey
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }

    // Read back; a name that does not match is refused.
    assert_eq!(
        open(WitnessConfig::new(tmp.path(), logs()))
            .unwrap()
            .verifier(),
        vkey
    );
    let renamed = WitnessConfig {
        name: Some("witness.example/other".to_owned()),
        ..WitnessConfig::new(tmp.path(), logs())
    };
    let err = open(renamed).unwrap_err();
    assert!(matches!(err, Error::KeyNameMismatch { .. }), "{err}");

    // A given key that is not the key file's is refused.
    let given = CosignatureSigner::from_seed("witness.example/new", [8; 32]).unwrap();
    let config = WitnessConfig {
        key: Some(given),
        ..WitnessConfig::new(tmp.path(), logs())
    };
    let err = open(config).unwrap_err();
    assert!(matches!(err, Error::KeyMismatch { .. }), "{err}");
    assert!(!err.to_string().contains("PRIVATE"), "{err}");

    // A key file others can read is refused, with the fix.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(&key_file, fs::Permissions::from_mode(0o644)).unwrap();
        let err = open(WitnessConfig::new(tmp.path(), logs())).unwrap_err();
        assert!(err.to_string().contains("chmod 600"), "{err}");
        fs::set_permissions(&key_file, fs::Permissions::from_mode(0o600)).unwrap();
    }

    // A given key on a new directory is used, and not written to disk.
    let tmp = tempfile::tempdir().unwrap();
    let given = CosignatureSigner::from_seed("witness.example/env", [8; 32]).unwrap();
    let expected = given.verifier();
    let config = WitnessConfig {
        key: Some(given),
        ..WitnessConfig::new(tmp.path(), logs())
    };
    let witness = open(config).unwrap();
    assert_eq!(witness.verifier(), expected);
    assert!(!tmp.path().join("witness-key").exists());
    assert!(!format!("{witness:?}").contains("PRIVATE"));

    // Two witnesses on one directory: the second is refused.
    let err = open(WitnessConfig::new(tmp.path(), logs())).unwrap_err();
    assert!(matches!(err, Error::Locked { .. }), "{err}");
    drop(witness);

    // One log configured twice is refused.
    let tmp = tempfile::tempdir().unwrap();
    let err = open(WitnessConfig::new(
        tmp.path(),
        vec![log.verifier(), log.verifier()],
    ))
    .unwrap_err();
    assert!(matches!(err, Error::DuplicateLog { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_concurrent_submissions_at_one_old_size_exactly_one_wins() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = TestLog::new("log.example/a", 1);
    let config = WitnessConfig::new(tmp.path(), vec![log.verifier()]);
    let witness = start_with(tmp.path(), open(config).unwrap()).await;
    log.grow_to(5);
    assert_eq!(witness.post(log.request_from(0)).await.status, 200);

    // Eight checkpoints of the same log, sizes 6 to 13, each with a valid
    // proof from 5, all sent at once.
    let client = Arc::new(witness.client());
    let mut tasks = Vec::new();
    for size in 6..=13 {
        log.grow_to(size);
        let (proof, note) = (log.proof_from(5), log.checkpoint());
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let outcome = client.add_checkpoint(&http(), 5, &proof, &note).await;
            (size, outcome)
        }));
    }
    let mut winners = Vec::new();
    let mut conflicts = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            (size, Ok(_)) => winners.push(size),
            (_, Err(SubmitError::Conflict { witness_size })) => conflicts.push(witness_size),
            (size, Err(e)) => panic!("size {size}: {e}"),
        }
    }
    assert_eq!(winners.len(), 1, "winners {winners:?}");
    assert_eq!(conflicts.len(), 7);
    // Every loser was told the winner's size: none saw a rolled-back state.
    assert!(
        conflicts.iter().all(|&s| s == winners[0]),
        "{conflicts:?} vs {winners:?}"
    );
    assert_eq!(
        witness.witness.latest(log.origin()).unwrap().size,
        winners[0]
    );
}

fn single_file(dir: &std::path::Path) -> String {
    let names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    names.into_iter().next().unwrap()
}
