//! The keys a verifier trusts, from a trust file (`flightrec log trust`
//! writes one) and `--key` flags; never from the server being checked, and
//! never from private key material.
//!
//! A trust file holds one verifier key per line
//! (`<origin>/<tenant>+<key id>+<base64 key>`); blank lines and lines
//! starting with `#` are ignored. A tenant's log may have several keys (a
//! rotated key stays trusted for the checkpoints it signed).

use anyhow::{Context, bail};
use flightrec_core::log::{
    Checkpoint, CosignatureVerifier, Verifier, open_checkpoint, require_cosignatures,
};
use std::path::Path;

#[derive(Debug, Clone, Default)]
pub struct Trust {
    keys: Vec<Verifier>,
    /// Witnesses whose cosignatures checkpoints must carry, and how many.
    pub witnesses: Vec<CosignatureVerifier>,
    pub threshold: usize,
}

impl Trust {
    /// [`Trust::load`] with the witnesses a checkpoint must be cosigned by
    /// (`--witness`, inline or files), `threshold` of them (default all).
    pub fn load_with_witnesses(
        trust_file: Option<&Path>,
        keys: &[String],
        witnesses: &crate::cli::WitnessArgs,
    ) -> anyhow::Result<Trust> {
        let mut trust = Trust::load(trust_file, keys)?;
        for w in &witnesses.witness {
            let text = if Path::new(w).is_file() {
                std::fs::read_to_string(w).with_context(|| format!("could not read {w}"))?
            } else {
                w.clone()
            };
            for line in text.lines().map(str::trim) {
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                trust
                    .witnesses
                    .push(CosignatureVerifier::parse(line).with_context(|| {
                        format!(
                            "--witness {line:?} is not a witness key (<name>+<key id>+<base64 key>)"
                        )
                    })?);
            }
        }
        trust.threshold = witnesses.witness_threshold.unwrap_or(trust.witnesses.len());
        if trust.threshold > trust.witnesses.len() {
            bail!(
                "--witness-threshold {} is more than the {} witness key(s) given",
                trust.threshold,
                trust.witnesses.len()
            );
        }
        Ok(trust)
    }

    /// Opens a signed checkpoint with the trusted keys of the log it names,
    /// and holds it to the witnesses' threshold.
    pub fn open_checkpoint(&self, note: &str) -> anyhow::Result<Checkpoint> {
        let origin = note.lines().next().unwrap_or_default();
        let keys = self.for_origin(origin);
        if keys.is_empty() {
            bail!("no trusted key is for the log {origin:?}; add it with --trust or --key");
        }
        let checkpoint = open_checkpoint(note, origin, &keys)
            .context("the checkpoint is not validly signed by a trusted key")?;
        require_cosignatures(note, &self.witnesses, self.threshold)
            .context("the checkpoint is not cosigned as required")?;
        Ok(checkpoint)
    }

    /// Trust in exactly `keys`: for an operator's command that derived them
    /// from the log key it holds (migrate, checking its own copy).
    pub fn of_keys(keys: Vec<Verifier>) -> Trust {
        Trust {
            keys,
            ..Trust::default()
        }
    }

    /// The keys of `--trust FILE` and every `--key` (inline or a file);
    /// refuses to go on with none, saying how to get them.
    pub fn load(trust_file: Option<&Path>, keys: &[String]) -> anyhow::Result<Trust> {
        let mut trust = Trust::default();
        if let Some(path) = trust_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("could not read the trust file {}", path.display()))?;
            trust
                .add_lines(&text)
                .with_context(|| format!("in the trust file {}", path.display()))?;
        }
        for key in keys {
            let text = if Path::new(key).is_file() {
                std::fs::read_to_string(key).with_context(|| format!("could not read {key}"))?
            } else {
                key.clone()
            };
            trust.add_lines(&text).context("--key")?;
        }
        if trust.keys.is_empty() {
            bail!(
                "no verifier keys: verifying never trusts the server it checks, nor reads a private key. \
                 Get the logs' keys once from a source you trust (`flightrec log trust > trust.txt` \
                 against the server, or from its operator) and pass `--trust trust.txt`, or give \
                 `--key <origin>/<tenant>+<id>+<key>` per tenant"
            );
        }
        Ok(trust)
    }

    fn add_lines(&mut self, text: &str) -> anyhow::Result<()> {
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let key = Verifier::parse(line).with_context(|| {
                format!(
                    "line {}: not a verifier key (<origin>/<tenant>+<key id>+<base64 key>)",
                    i + 1
                )
            })?;
            self.keys.push(key);
        }
        Ok(())
    }

    /// The origin of `tenant`'s log and the keys trusted to sign it, if
    /// any key names that tenant.
    pub fn for_tenant(&self, tenant: &str) -> Option<(String, Vec<Verifier>)> {
        let keys: Vec<Verifier> = self
            .keys
            .iter()
            .filter(|k| k.name().rsplit_once('/').is_some_and(|(_, t)| t == tenant))
            .cloned()
            .collect();
        let origin = keys.first()?.name().to_owned();
        let keys = keys.into_iter().filter(|k| k.name() == origin).collect();
        Some((origin, keys))
    }

    /// The keys trusted for the log named `origin`.
    pub fn for_origin(&self, origin: &str) -> Vec<Verifier> {
        self.keys
            .iter()
            .filter(|k| k.name() == origin)
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flightrec_core::log::Signer;

    fn vkey(name: &str, seed: u8) -> String {
        Signer::from_seed(name, [seed; 32])
            .unwrap()
            .verifier()
            .to_key_string()
    }

    #[test]
    fn keys_are_found_by_tenant_and_origin() {
        let text = format!(
            "# comment\n\n{}\n{}\n{}\n",
            vkey("ex.org/a", 1),
            vkey("ex.org/a", 2),
            vkey("ex.org/b", 3)
        );
        let mut trust = Trust::default();
        trust.add_lines(&text).unwrap();
        let (origin, keys) = trust.for_tenant("a").unwrap();
        assert_eq!((origin.as_str(), keys.len()), ("ex.org/a", 2));
        assert_eq!(trust.for_tenant("b").unwrap().1.len(), 1);
        assert!(trust.for_tenant("c").is_none());
        assert_eq!(trust.for_origin("ex.org/b").len(), 1);
    }

    #[test]
    fn no_keys_is_refused_with_what_to_do() {
        let err = Trust::load(None, &[]).unwrap_err().to_string();
        assert!(err.contains("flightrec log trust"), "{err}");
    }

    #[test]
    fn a_private_key_is_not_a_verifier_key() {
        let private = Signer::from_seed("ex.org/a", [1; 32])
            .unwrap()
            .to_private_key_string();
        let mut trust = Trust::default();
        let err = trust.add_lines(&private).unwrap_err();
        assert!(format!("{err:#}").contains("line 1"), "{err:#}");
    }
}
