// "Verify inclusion": fetches a record with its proof and checkpoint, then
// checks every link in the browser, showing each step as it goes.

import { api, enc } from './api.js';
import { h, replace } from './dom.js';
import * as proof from './proof.js';

const form = document.getElementById('verify');
const verdict = document.getElementById('verdict');
const list = document.getElementById('steps');

function step(ok, title, detail) {
  list.append(h('li', { class: ok ? 'pass' : 'nopass' }, h('strong', {}, title), ' ', detail ?? ''));
  if (!ok) throw new Error(title);
}

const code = (text) => h('code', {}, text);

async function verify(id) {
  replace(list);
  verdict.className = '';
  verdict.textContent = 'Checking…';
  const record = await api('GET', `/v1/events/${enc(id)}?proof=true`);
  const { header, body, salt, leaf_hash: serverLeaf, proof: path, checkpoint } = record;
  step(true, `Fetched record seq ${header.seq}`, ['with a proof against the checkpoint of ', path.tree_size, ' records.']);

  const leaf = await proof.leafHash(proof.jcs(header));
  step(proof.hex(leaf) === serverLeaf, 'Leaf hash recomputed', ['SHA-256(0x00 ‖ JCS(header)) = ', code(proof.hex(leaf))]);

  if (body === null) {
    step(true, 'Body erased', 'its header, and so its place in the log, still stand.');
  } else {
    const bodyHash = await proof.sha256(proof.fromHex(salt), proof.utf8.encode(body));
    step(proof.hex(bodyHash) === header.body_hash, 'Body hash matches the header', ['SHA-256(salt ‖ JCS(body)) = ', code(proof.hex(bodyHash))]);
  }

  const hashes = path.hashes.map(proof.fromHex);
  const root = await proof.rootFromInclusion(leaf, path.leaf_index, path.tree_size, hashes);
  step(true, `Inclusion proof walked (${hashes.length} hashes)`, ['root = ', code(proof.hex(root))]);

  const note = proof.parseNote(checkpoint);
  step(note.size === path.tree_size, 'Checkpoint covers the proof', ['tree size ', note.size, ', origin ', code(note.origin)]);
  step(proof.hex(note.root) === proof.hex(root), 'Root matches the signed checkpoint', ['checkpoint root = ', code(proof.hex(note.root))]);

  const vkey = proof.parseVerifierKey(document.getElementById('public-key').textContent);
  let signed;
  try {
    signed = await proof.verifyNote(note, vkey);
  } catch (e) {
    step(false, 'Signature not checked', `this browser cannot verify Ed25519 (${e.message}).`);
  }
  step(signed, 'Checkpoint signature valid', ['Ed25519, key ', code(`${vkey.name}+${proof.hex(vkey.keyId)}`)]);
  return { seq: header.seq, size: note.size };
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const id = form.elements.event.value.trim();
  history.replaceState(null, '', `/integrity?event=${enc(id)}`);
  try {
    const { seq, size } = await verify(id);
    verdict.className = 'pass';
    verdict.textContent = `Verified: record ${seq} is in the signed log of ${size} records.`;
  } catch (e) {
    verdict.className = 'nopass';
    verdict.textContent = `Not verified: ${e.message}`;
  }
});

if (form.elements.event.value) form.requestSubmit();
