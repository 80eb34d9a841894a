//! The labelled personal-data corpus (`corpus.txt`), as the compliance
//! tests read it.

use std::collections::BTreeSet;

const CORPUS: &str = include_str!("corpus.txt");

/// One line of the corpus: its text without the marks, and the values
/// marked in it as (start, end, detector).
pub struct Case {
    pub text: String,
    pub values: BTreeSet<(usize, usize, String)>,
}

pub fn cases() -> Vec<Case> {
    CORPUS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let mut text = String::new();
            let mut values = BTreeSet::new();
            let mut rest = line;
            while let Some(open) = rest.find('⟦') {
                text.push_str(&rest[..open]);
                let marked = &rest[open + '⟦'.len_utf8()..];
                let close = marked.find('⟧').expect("a closing ⟧");
                let (detector, value) = marked[..close].split_once(':').expect("⟦detector:value⟧");
                values.insert((text.len(), text.len() + value.len(), detector.to_owned()));
                text.push_str(value);
                rest = &marked[close + '⟧'.len_utf8()..];
            }
            text.push_str(rest);
            Case { text, values }
        })
        .collect()
}
