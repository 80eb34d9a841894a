// Checking a record's place in the log in the browser, with WebCrypto and
// nothing from the server taken on trust: JCS (RFC 8785), the RFC 9162
// leaf and inclusion proof, the C2SP checkpoint and its signed note.

const utf8 = new TextEncoder();

/// RFC 8785: keys sorted by UTF-16 code units, no whitespace, numbers and
/// strings as ECMAScript serializes them — which JSON.stringify does.
export function jcs(value) {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(jcs).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${jcs(value[k])}`).join(',')}}`;
}

export const hex = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
export const fromHex = (s) => new Uint8Array(s.match(/../g).map((b) => parseInt(b, 16)));
export const fromBase64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

export async function sha256(...parts) {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', all));
}

export const leafHash = (leafInput) => sha256(Uint8Array.of(0), utf8.encode(leafInput));
const nodeHash = (left, right) => sha256(Uint8Array.of(1), left, right);

/// RFC 9162 §2.1.3.2: the root that `hashes` lead to from the leaf at
/// `index` of a tree of `size` leaves, or an error when the path cannot
/// belong to such a tree.
export async function rootFromInclusion(leaf, index, size, hashes) {
  if (index >= size) throw new Error(`leaf ${index} is outside a tree of ${size}`);
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of hashes) {
    if (sn === 0) throw new Error('the proof is longer than the tree is deep');
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new Error('the proof is shorter than the tree is deep');
  return r;
}

/// A C2SP signed note: its text (what is signed) and signature lines.
export function parseNote(note) {
  const split = note.indexOf('\n\n');
  if (split < 0) throw new Error('the checkpoint is not a signed note');
  const text = note.slice(0, split + 1);
  const signatures = note.slice(split + 2).split('\n').filter(Boolean).map((line) => {
    const m = line.match(/^\u2014 (\S+) (\S+)$/);
    if (!m) throw new Error(`not a signature line: ${line}`);
    const raw = fromBase64(m[2]);
    return { name: m[1], keyId: raw.slice(0, 4), signature: raw.slice(4) };
  });
  const [origin, size, root] = text.split('\n');
  return { text, origin, size: Number(size), root: fromBase64(root), signatures };
}

/// A C2SP verifier key: `<name>+<key id hex>+<base64(0x01 ‖ key)>`.
export function parseVerifierKey(vkey) {
  // Split at the first two '+' only: base64 has '+' of its own.
  const m = vkey.trim().match(/^([^+]+)\+([0-9a-f]{8})\+(.+)$/);
  if (!m) throw new Error('the public key is not a verifier key (name+id+key)');
  const [, name, id, key] = m;
  const raw = fromBase64(key);
  if (raw[0] !== 1 || raw.length !== 33) throw new Error('only Ed25519 verifier keys are understood');
  return { name, keyId: fromHex(id), key: raw.slice(1) };
}

/// Whether `note` carries a valid signature by `vkey`; throws when this
/// browser cannot check Ed25519.
export async function verifyNote(note, vkey) {
  const signature = note.signatures.find((s) => s.name === vkey.name && hex(s.keyId) === hex(vkey.keyId));
  if (!signature) return false;
  const key = await crypto.subtle.importKey('raw', vkey.key, { name: 'Ed25519' }, false, ['verify']);
  return crypto.subtle.verify({ name: 'Ed25519' }, key, signature.signature, utf8.encode(note.text));
}

export { utf8 };
