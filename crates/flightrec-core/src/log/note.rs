//! C2SP signed notes with Ed25519 keys (<https://c2sp.org/signed-note>), and
//! the checkpoint sign/open pair built on them.
//!
//! A signed note is the text (ending in a newline), a blank line, then one or
//! more lines `— <key name> <base64(key id ‖ signature)>`. A key is named by
//! its key name plus a 32-bit key id derived from name and public key.
//!
//! Key strings (the same forms Go's `golang.org/x/mod/sumdb/note` uses):
//!
//! ```text
//! verifier: <name>+<hex8 key id>+<base64(0x01 ‖ 32-byte public key)>
//! signer:   PRIVATE+KEY+<name>+<hex8 key id>+<base64(0x01 ‖ 32-byte seed)>
//! ```
//!
//! Not here: key files, key rotation policy or witness cosignatures (see
//! [`super::cosignature`]); only signature type 0x01 (plain Ed25519) is
//! understood, and signatures of any other key are ignored as the spec
//! requires.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use rand::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};

use super::{Checkpoint, LogError};

/// Signature type byte for Ed25519 in key ids and key strings.
const ED25519_TYPE: u8 = 0x01;
/// Notes larger than this are refused unread; a checkpoint is ~150 bytes.
const MAX_NOTE_BYTES: usize = 1_000_000;
/// Most signature lines we read (the spec asks us to accept at least 16).
const MAX_SIGNATURES: usize = 100;
/// The signature line prefix: U+2014 EM DASH and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Whether `name` may name a key: non-empty, with no Unicode space, no `+`
/// and (our addition, as the note format forbids them anyway) no control
/// character.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
}

/// The recommended key id: the first 4 bytes, big-endian, of
/// SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key).
pub fn key_id(name: &str, public_key: &[u8; 32]) -> u32 {
    typed_key_id(name, ED25519_TYPE, public_key)
}

/// The key id of a key of `signature_type`: the first 4 bytes, big-endian,
/// of SHA-256(name ‖ 0x0A ‖ signature type ‖ public key).
pub(crate) fn typed_key_id(name: &str, signature_type: u8, public_key: &[u8; 32]) -> u32 {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update([b'\n', signature_type]);
    hasher.update(public_key);
    let digest = hasher.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// What a named Ed25519 signing key is made of, shared by note signers
/// (type 0x01) and cosigners (type 0x04): the name, the key id of that
/// type, and the key.
pub(crate) struct NamedKey {
    pub name: String,
    pub key_id: u32,
    pub key: SigningKey,
}

impl NamedKey {
    /// The key with this 32-byte Ed25519 seed, named `name`.
    pub fn from_seed(name: &str, seed: [u8; 32], signature_type: u8) -> Result<Self, LogError> {
        if !is_valid_key_name(name) {
            return Err(LogError::InvalidKeyName {
                name: name.to_owned(),
            });
        }
        let key = SigningKey::from_bytes(&seed);
        Ok(NamedKey {
            name: name.to_owned(),
            key_id: typed_key_id(name, signature_type, key.verifying_key().as_bytes()),
            key,
        })
    }

    /// Parses `PRIVATE+KEY+<name>+<hex8>+<base64(type ‖ seed)>` of
    /// `signature_type`, checking that the key id matches name and key;
    /// `what` names the key in errors ("signer", "cosigner").
    pub fn parse_private(text: &str, signature_type: u8, what: &str) -> Result<Self, LogError> {
        // Errors never quote `text`: it is a secret.
        let rest = text
            .trim_end_matches(['\n', '\r'])
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| bad_key(&format!("{what} key does not start with PRIVATE+KEY+")))?;
        let (name, id, key) = split_typed_key_string(rest, signature_type)?;
        let seed: [u8; 32] = key
            .try_into()
            .map_err(|_| bad_key(&format!("{what} key is not a 32-byte Ed25519 seed")))?;
        let named = NamedKey::from_seed(name, seed, signature_type)?;
        if named.key_id != id {
            return Err(bad_key(&format!(
                "{what} key id does not match its name and key"
            )));
        }
        Ok(named)
    }
}

/// `PRIVATE+KEY+<name>+<hex8>+<base64(type ‖ seed)>`, for a key file: the
/// secret.
pub(crate) fn private_key_string(
    name: &str,
    key_id: u32,
    signature_type: u8,
    key: &SigningKey,
) -> String {
    let mut bytes = vec![signature_type];
    bytes.extend_from_slice(key.as_bytes());
    format!("PRIVATE+KEY+{name}+{key_id:08x}+{}", BASE64.encode(bytes))
}

/// An Ed25519 key that signs notes under a key name.
///
/// `Debug` shows the name and key id, never the private key. The only way
/// to get the secret out is [`Signer::to_private_key_string`].
pub struct Signer {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl Signer {
    /// A fresh random key.
    pub fn generate<R: RngCore + CryptoRng>(name: &str, rng: &mut R) -> Result<Signer, LogError> {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        Signer::from_seed(name, seed)
    }

    /// The key with this 32-byte Ed25519 seed (RFC 8032 private key).
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Signer, LogError> {
        NamedKey::from_seed(name, seed, ED25519_TYPE).map(Signer::from)
    }

    /// Parses `PRIVATE+KEY+<name>+<hex8>+<base64(0x01 ‖ seed)>`, checking
    /// that the key id matches the name and key.
    pub fn parse_private_key(text: &str) -> Result<Signer, LogError> {
        NamedKey::parse_private(text, ED25519_TYPE, "signer").map(Signer::from)
    }

    /// The signer key string, for a key file. This is the secret: keep it out
    /// of logs.
    pub fn to_private_key_string(&self) -> String {
        private_key_string(&self.name, self.key_id, ED25519_TYPE, &self.key)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The same key under another name: one server key signs each tenant's
    /// log under that log's own origin.
    pub fn renamed(&self, name: &str) -> Result<Signer, LogError> {
        Signer::from_seed(name, self.key.to_bytes())
    }

    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The matching public key.
    pub fn verifier(&self) -> Verifier {
        Verifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// The signature line for `text`, newline included.
    fn signature_line(&self, text: &str) -> String {
        let mut bytes = self.key_id.to_be_bytes().to_vec();
        bytes.extend_from_slice(&self.key.sign(text.as_bytes()).to_bytes());
        format!("{SIGNATURE_PREFIX}{} {}\n", self.name, BASE64.encode(bytes))
    }
}

impl From<NamedKey> for Signer {
    fn from(k: NamedKey) -> Self {
        Signer {
            name: k.name,
            key_id: k.key_id,
            key: k.key,
        }
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .field("private_key", &"<redacted>")
            .finish()
    }
}

/// An Ed25519 public key under a key name: checks note signatures.
#[derive(Clone, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl Verifier {
    /// The verifier for a raw 32-byte Ed25519 public key.
    pub fn from_public_key(name: &str, public_key: &[u8; 32]) -> Result<Verifier, LogError> {
        if !is_valid_key_name(name) {
            return Err(LogError::InvalidKeyName {
                name: name.to_owned(),
            });
        }
        let key = VerifyingKey::from_bytes(public_key)
            .map_err(|_| bad_key("not a valid Ed25519 public key"))?;
        Ok(Verifier {
            name: name.to_owned(),
            key_id: key_id(name, public_key),
            key,
        })
    }

    /// Parses `<name>+<hex8>+<base64(0x01 ‖ public key)>`, checking that the
    /// key id matches the name and key.
    pub fn parse(text: &str) -> Result<Verifier, LogError> {
        let (name, id, key) = split_key_string(text.trim_end_matches(['\n', '\r']))?;
        let public: [u8; 32] = key
            .try_into()
            .map_err(|_| bad_key("verifier key is not a 32-byte Ed25519 public key"))?;
        let verifier = Verifier::from_public_key(name, &public)?;
        if verifier.key_id != id {
            return Err(bad_key("verifier key id does not match its name and key"));
        }
        Ok(verifier)
    }

    /// The verifier key string.
    pub fn to_key_string(&self) -> String {
        let mut key = vec![ED25519_TYPE];
        key.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.key_id, BASE64.encode(key))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The same key under another name: one server key signs each tenant's
    /// log under that log's own origin.
    pub fn renamed(&self, name: &str) -> Result<Signer, LogError> {
        Signer::from_seed(name, self.key.to_bytes())
    }

    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    fn verify(&self, text: &str, signature: &[u8]) -> bool {
        let Ok(signature) = ed25519_dalek::Signature::from_slice(signature) else {
            return false;
        };
        self.key.verify_strict(text.as_bytes(), &signature).is_ok()
    }
}

impl fmt::Display for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_key_string())
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Verifier({self})")
    }
}

impl FromStr for Verifier {
    type Err = LogError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Verifier::parse(s)
    }
}

/// Splits `<name>+<hex8>+<base64(0x01 ‖ key)>` and returns the name, the key
/// id and the key bytes after the type byte.
fn split_key_string(text: &str) -> Result<(&str, u32, Vec<u8>), LogError> {
    split_typed_key_string(text, ED25519_TYPE)
}

/// Splits `<name>+<hex8>+<base64(signature type ‖ key)>`, refusing any other
/// signature type than `signature_type`, and returns the name, the key id and
/// the key bytes after the type byte.
pub(crate) fn split_typed_key_string(
    text: &str,
    signature_type: u8,
) -> Result<(&str, u32, Vec<u8>), LogError> {
    // Base64 may itself contain '+', so only the first two '+' separate.
    let mut parts = text.splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad_key("key string is not <name>+<key id>+<key>"));
    };
    if !is_valid_key_name(name) {
        return Err(LogError::InvalidKeyName {
            name: name.to_owned(),
        });
    }
    if id.len() != 8 || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(bad_key("key id is not 8 lowercase hex digits"));
    }
    let id = u32::from_str_radix(id, 16).map_err(|_| bad_key("key id is not hex"))?;
    let bytes = BASE64
        .decode(key)
        .map_err(|_| bad_key("key material is not base64"))?;
    match bytes.split_first() {
        Some((&ty, key)) if ty == signature_type => Ok((name, id, key.to_vec())),
        Some((other, _)) => Err(bad_key(&format!(
            "unsupported signature type 0x{other:02x} (expected 0x{signature_type:02x})"
        ))),
        None => Err(bad_key("key material is empty")),
    }
}

fn bad_key(reason: &str) -> LogError {
    LogError::MalformedKey {
        reason: reason.to_owned(),
    }
}

fn bad_note(reason: &str) -> LogError {
    LogError::MalformedNote {
        reason: reason.to_owned(),
    }
}

/// Checks the note text rules: non-empty, ends in a newline, no control
/// characters except newline.
fn check_text(text: &str) -> Result<(), LogError> {
    if !text.ends_with('\n') {
        return Err(bad_note("text does not end with a newline"));
    }
    if text.chars().any(|c| c < ' ' && c != '\n') {
        return Err(bad_note(
            "text contains a control character other than newline",
        ));
    }
    Ok(())
}

/// Signs `note_text` and returns the whole signed note: the text, a blank
/// line and one signature line.
pub fn sign(note_text: &str, signer: &Signer) -> Result<String, LogError> {
    check_text(note_text)?;
    if note_text.len() > MAX_NOTE_BYTES / 2 {
        return Err(bad_note("text is too long"));
    }
    Ok(format!("{note_text}\n{}", signer.signature_line(note_text)))
}

/// Checks a signed note and returns its text.
///
/// The note must be well-formed and carry at least one valid signature by a
/// key in `verifiers` (matched by both name and key id). Signatures by other
/// keys are ignored; a signature by a known key that does not verify rejects
/// the whole note.
pub fn open(signed_note: &str, verifiers: &[Verifier]) -> Result<String, LogError> {
    let (text, signatures) = split_signed_note(signed_note)?;
    let mut verified = false;
    for (name, id, signature) in signatures {
        let known = verifiers.iter().find(|v| v.name == name && v.key_id == id);
        if let Some(verifier) = known {
            if !verifier.verify(&text, signature.as_slice()) {
                return Err(LogError::BadSignature {
                    name: name.to_owned(),
                    key_id: id,
                });
            }
            verified = true;
        }
    }
    if verified {
        Ok(text)
    } else {
        Err(LogError::NoKnownSignature)
    }
}

/// One signature line: key name, key id, and the signature bytes after the
/// key id.
pub(crate) type SignatureLine<'a> = (&'a str, u32, Vec<u8>);

/// Splits a signed note into its text and its signature lines. Checks the
/// form only: no signature is verified and no key is looked up.
pub(crate) fn split_signed_note(
    signed_note: &str,
) -> Result<(String, Vec<SignatureLine<'_>>), LogError> {
    if signed_note.len() > MAX_NOTE_BYTES {
        return Err(bad_note("note is too long"));
    }
    if signed_note.chars().any(|c| c < ' ' && c != '\n') {
        return Err(bad_note(
            "note contains a control character other than newline",
        ));
    }
    // The text ends at the last blank line; signature lines follow it.
    let (before, signatures) = signed_note
        .rsplit_once("\n\n")
        .ok_or_else(|| bad_note("no blank line before the signatures"))?;
    let text = format!("{before}\n");
    let signatures = signatures
        .strip_suffix('\n')
        .ok_or_else(|| bad_note("signature block does not end with a newline"))?;
    if signatures.is_empty() {
        return Err(bad_note("no signature lines"));
    }
    let mut parsed = Vec::new();
    for (count, line) in signatures.split('\n').enumerate() {
        if count == MAX_SIGNATURES {
            return Err(bad_note("too many signatures"));
        }
        parsed.push(parse_signature_line(line)?);
    }
    Ok((text, parsed))
}

/// `— <name> <base64(key id ‖ signature)>` → (name, key id, signature).
fn parse_signature_line(line: &str) -> Result<SignatureLine<'_>, LogError> {
    let rest = line
        .strip_prefix(SIGNATURE_PREFIX)
        .ok_or_else(|| bad_note("signature line does not start with an em dash and a space"))?;
    let (name, encoded) = rest
        .split_once(' ')
        .ok_or_else(|| bad_note("signature line has no space between name and signature"))?;
    if !is_valid_key_name(name) {
        return Err(bad_note("signature line has an invalid key name"));
    }
    let bytes = BASE64
        .decode(encoded)
        .map_err(|_| bad_note("signature is not base64"))?;
    if bytes.len() < 5 {
        return Err(bad_note("signature is shorter than a key id and one byte"));
    }
    let id = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    Ok((name, id, bytes[4..].to_vec()))
}

/// Signs a checkpoint: the C2SP checkpoint text as a signed note. C2SP asks
/// that the signer's key name be the checkpoint's origin.
pub fn sign_checkpoint(checkpoint: &Checkpoint, signer: &Signer) -> Result<String, LogError> {
    sign(&checkpoint.to_text(), signer)
}

/// Opens a signed checkpoint: checks the signature as [`open`] does, parses
/// the text strictly and checks it names the log we expect (`origin`), so a
/// checkpoint from another log signed by a shared key is not taken for ours.
pub fn open_checkpoint(
    signed_note: &str,
    origin: &str,
    verifiers: &[Verifier],
) -> Result<Checkpoint, LogError> {
    let text = open(signed_note, verifiers)?;
    let checkpoint = Checkpoint::parse(&text)?;
    if checkpoint.origin() != origin {
        return Err(LogError::WrongOrigin {
            expected: origin.to_owned(),
            got: checkpoint.origin().to_owned(),
        });
    }
    Ok(checkpoint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_follow_the_spec() {
        for good in ["a", "example.com/log", "PeterNeumann", "ünïcode/名前"] {
            assert!(is_valid_key_name(good), "{good:?}");
        }
        for bad in [
            "",
            "a b",
            "a+b",
            "a\nb",
            "a\u{a0}b",
            "a\u{2003}b",
            "a\tb",
            "a\u{1}b",
        ] {
            assert!(!is_valid_key_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn debug_never_prints_the_private_key() {
        let signer = Signer::from_seed("example.com/log", [7; 32]).unwrap();
        let secret = signer.to_private_key_string();
        let seed_b64 = secret.rsplit('+').next().unwrap().to_owned();
        let debug = format!("{signer:?} {signer:#?}");
        assert!(!debug.contains(&seed_b64));
        assert!(!debug.contains(&hex::encode([7u8; 32])));
        assert!(debug.contains("redacted"));
        // A parse error about a secret does not repeat the secret.
        let broken = secret.replace("PRIVATE+KEY+", "PRIVATE+KEY+x+");
        let err = Signer::parse_private_key(&broken).unwrap_err().to_string();
        assert!(!err.contains(&seed_b64), "{err}");
    }

    #[test]
    fn key_strings_round_trip() {
        let signer = Signer::from_seed("example.com/log", [9; 32]).unwrap();
        let again = Signer::parse_private_key(&signer.to_private_key_string()).unwrap();
        assert_eq!(
            again.to_private_key_string(),
            signer.to_private_key_string()
        );
        let vkey = signer.verifier().to_key_string();
        assert_eq!(Verifier::parse(&vkey).unwrap(), signer.verifier());
        assert_eq!(vkey.parse::<Verifier>().unwrap().to_string(), vkey);
    }
}
