//! Mutants of one good add-checkpoint body, each named after its mutation:
//! every one must be a 400 that leaves the witness's record alone, and the
//! good body must still be cosigned after them all.

use flightrec_core::log::Hash;

use super::support::{TestLog, start};

/// Named mutants of `good`, a request from a non-zero old size with a
/// non-empty proof and one signature line.
fn mutants(good: &str) -> Vec<(String, Vec<u8>)> {
    let (head, note) = good.split_once("\n\n").unwrap();
    let (old_line, proof) = head.split_once('\n').unwrap();
    let proof: Vec<&str> = proof.split('\n').collect();
    let first = proof[0];
    let rest_of_body = &good[old_line.len()..];
    let with_first_proof = |line: &str| good.replacen(first, line, 1).into_bytes();
    let with_old = |line: &str| format!("{line}{rest_of_body}").into_bytes();

    let mut out: Vec<(String, Vec<u8>)> = vec![
        ("empty body".into(), Vec::new()),
        (
            "only the old line".into(),
            format!("{old_line}\n").into_bytes(),
        ),
        (
            "no old line".into(),
            good.as_bytes()[old_line.len() + 1..].to_vec(),
        ),
        (
            "old with a leading zero".into(),
            with_old(&old_line.replace("old ", "old 0")),
        ),
        (
            "old with a plus sign".into(),
            with_old(&old_line.replace("old ", "old +")),
        ),
        (
            "old with two spaces".into(),
            with_old(&old_line.replace("old ", "old  ")),
        ),
        (
            "old with a trailing space".into(),
            with_old(&format!("{old_line} ")),
        ),
        (
            "old in capitals".into(),
            with_old(&old_line.replace("old", "OLD")),
        ),
        ("old negative".into(), with_old("old -1")),
        ("old in hex".into(), with_old("old 0x5")),
        (
            "old above 2^64".into(),
            with_old("old 18446744073709551616"),
        ),
        ("old with no number".into(), with_old("old ")),
        (
            "old line with a tab".into(),
            with_old(&old_line.replace(' ', "\t")),
        ),
        (
            "proof line not base64".into(),
            with_first_proof(&first.replacen(&first[..1], "!", 1)),
        ),
        (
            "proof line unpadded".into(),
            with_first_proof(first.trim_end_matches('=')),
        ),
        (
            "proof line with a trailing space".into(),
            with_first_proof(&format!("{first} ")),
        ),
        (
            "proof line in hex".into(),
            with_first_proof(&Hash([5; 32]).to_hex()),
        ),
        (
            "proof hash of 31 bytes".into(),
            with_first_proof(&base64_of(&[5; 31])),
        ),
        (
            "proof hash of 33 bytes".into(),
            with_first_proof(&base64_of(&[5; 33])),
        ),
        (
            "proof line doubled into one".into(),
            with_first_proof(&format!("{first}{first}")),
        ),
        (
            "64 proof lines".into(),
            format!("{old_line}\n{}\n{note}", format!("{first}\n").repeat(64)).into_bytes(),
        ),
        (
            "missing empty line".into(),
            format!("{head}\n{note}").into_bytes(),
        ),
        (
            "two empty lines".into(),
            format!("{head}\n\n\n{note}").into_bytes(),
        ),
        (
            "CRLF line endings".into(),
            good.replace('\n', "\r\n").into_bytes(),
        ),
        (
            "CR after the old line".into(),
            good.replacen('\n', "\r\n", 1).into_bytes(),
        ),
        (
            "trailing garbage".into(),
            format!("{good}garbage").into_bytes(),
        ),
        (
            "trailing garbage line".into(),
            format!("{good}garbage\n").into_bytes(),
        ),
        (
            "trailing empty line".into(),
            format!("{good}\n").into_bytes(),
        ),
        ("trailing NUL".into(), format!("{good}\0").into_bytes()),
        (
            "checkpoint without its empty line".into(),
            good.replacen("\n\n\u{2014}", "\n\u{2014}", 1).into_bytes(),
        ),
        (
            "signature line with a hyphen".into(),
            good.replace("\u{2014} ", "- ").into_bytes(),
        ),
        (
            "no signature lines".into(),
            good.as_bytes()[..good.rfind("\u{2014}").unwrap()].to_vec(),
        ),
        (
            "checkpoint size with a leading zero".into(),
            good.replacen("\n9\n", "\n09\n", 1).into_bytes(),
        ),
        ("checkpoint without a root line".into(), {
            let (text, sigs) = note.rsplit_once("\n\n").unwrap();
            let (no_root, _) = text.rsplit_once('\n').unwrap();
            format!("{head}\n\n{no_root}\n\n{sigs}").into_bytes()
        }),
        ("not UTF-8".into(), {
            let mut bytes = good.as_bytes().to_vec();
            let at = good.find("log.example").unwrap();
            bytes[at] = 0xff;
            bytes
        }),
    ];
    // Every proper prefix: a body cut short anywhere, even inside the
    // em dash of a signature line.
    for cut in 0..good.len() {
        out.push((
            format!("truncated to {cut} bytes"),
            good.as_bytes()[..cut].to_vec(),
        ));
    }
    out
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn every_mutant_of_a_good_body_is_400() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = TestLog::new("log.example/a", 1);
    let witness = start(tmp.path(), &[&log]).await;
    log.grow_to(5);
    assert_eq!(witness.post(log.request_from(0)).await.status, 200);
    let before = witness.witness.latest(log.origin());
    log.grow_to(9);
    let good = log.request_from(5);
    assert!(
        log.proof_from(5).len() >= 2,
        "the good body has proof lines"
    );

    let mutants = mutants(&good);
    assert!(mutants.len() > 100);
    for (name, body) in mutants {
        assert_ne!(body, good.as_bytes(), "{name} is not a mutant");
        let answer = witness.post(body).await;
        assert_eq!(answer.status, 400, "{name}: {answer:?}");
        assert!(answer.content_type.starts_with("text/plain"), "{name}");
        assert_eq!(witness.witness.latest(log.origin()), before, "{name}");
    }
    // The unmutated body is fine: the mutants were near misses.
    let answer = witness.post(good).await;
    assert_eq!(answer.status, 200, "{answer:?}");
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_refused_unread() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = TestLog::new("log.example/a", 1);
    let witness = start(tmp.path(), &[&log]).await;
    log.grow_to(3);
    let huge = format!("{}{}", log.request_from(0), "x".repeat(1 << 20));
    let answer = witness.post(huge).await;
    assert_eq!(answer.status, 413, "{answer:?}");
    assert_eq!(witness.witness.latest(log.origin()), None);
}
