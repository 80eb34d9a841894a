// RFC 9162 §2.1 Merkle tree hashing and proof verification, written from the
// RFC. Sizes and indexes are JavaScript numbers: exact up to 2^53, far past
// any log; arithmetic uses division, not 32-bit bit operators.
import { bytesEqual, concatBytes } from "./bytes.js";
import { sha256, sha256Parts } from "./hash.js";

const LEAF_PREFIX = new Uint8Array([0]);
const NODE_PREFIX = new Uint8Array([1]);

/** The root of the empty tree: SHA-256 of nothing (§2.1.1). */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0));

/** SHA-256(0x00 ‖ leaf input) (§2.1.1). */
export function leafHash(leafInput: Uint8Array): Uint8Array {
  return sha256Parts(LEAF_PREFIX, leafInput);
}

/** SHA-256(0x01 ‖ left ‖ right) (§2.1.1). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(concatBytes(NODE_PREFIX, left, right));
}

function isSize(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function isOdd(n: number): boolean {
  return n % 2 === 1;
}

function half(n: number): number {
  return Math.floor(n / 2);
}

/**
 * Builds a tree's root from its leaf hashes as they stream in, holding only
 * the O(log n) roots of its complete subtrees (the "compact range").
 */
export class TreeBuilder {
  // Complete subtrees, largest (leftmost) first: their sizes are the set
  // bits of `size`, from the highest down.
  private readonly subtrees: { hash: Uint8Array; size: number }[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  append(leaf: Uint8Array): void {
    let hash = leaf;
    let size = 1;
    for (;;) {
      const top = this.subtrees[this.subtrees.length - 1];
      if (top === undefined || top.size !== size) break;
      this.subtrees.pop();
      hash = nodeHash(top.hash, hash);
      size *= 2;
    }
    this.subtrees.push({ hash, size });
    this.count++;
  }

  /** MTH of the leaves so far (§2.1.1): the subtrees folded from the right. */
  root(): Uint8Array {
    if (this.subtrees.length === 0) return EMPTY_ROOT;
    let hash = this.subtrees[this.subtrees.length - 1]!.hash;
    for (let i = this.subtrees.length - 2; i >= 0; i--) hash = nodeHash(this.subtrees[i]!.hash, hash);
    return hash;
  }
}

/** MTH(D[n]) of a list of leaf hashes. */
export function rootFromLeaves(leaves: Iterable<Uint8Array>): Uint8Array {
  const builder = new TreeBuilder();
  for (const leaf of leaves) builder.append(leaf);
  return builder.root();
}

/** Why an inclusion or consistency proof failed; `undefined` from a check means it passed. */
export type ProofProblem = string;

/**
 * The root an inclusion proof leads to (§2.1.3.2), or the reason it is not a
 * well-formed proof for that index and size.
 */
export function rootFromInclusionProof(
  leafIndex: number,
  treeSize: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
): { root: Uint8Array } | { problem: ProofProblem } {
  if (!isSize(leafIndex) || !isSize(treeSize)) return { problem: "the index and tree size must be whole numbers" };
  if (leafIndex >= treeSize) return { problem: `leaf index ${leafIndex} is not below tree size ${treeSize}` };
  if (leaf.length !== 32) return { problem: "the leaf hash is not 32 bytes" };
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leaf;
  for (const [i, p] of proof.entries()) {
    if (p.length !== 32) return { problem: `proof hash ${i} is not 32 bytes` };
    if (sn === 0) return { problem: `the proof has ${proof.length} hashes, more than a tree of size ${treeSize} needs` };
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) return { problem: `the proof has ${proof.length} hashes, fewer than a tree of size ${treeSize} needs` };
  return { root: r };
}

/** Checks an inclusion proof against a root: `undefined` if it holds, else why not. */
export function checkInclusion(
  leafIndex: number,
  treeSize: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): ProofProblem | undefined {
  const result = rootFromInclusionProof(leafIndex, treeSize, leaf, proof);
  if ("problem" in result) return result.problem;
  if (!bytesEqual(result.root, root)) return "the proof leads to a different root";
  return undefined;
}

/**
 * Checks a consistency proof between two tree heads (§2.1.4.2): `undefined`
 * if the tree of size `second` extends the tree of size `first`, else why not.
 */
export function checkConsistency(
  first: number,
  second: number,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  proof: readonly Uint8Array[],
): ProofProblem | undefined {
  if (!isSize(first) || !isSize(second)) return "the tree sizes must be whole numbers";
  if (first > second) return `the old size ${first} is larger than the new size ${second}`;
  if (firstRoot.length !== 32 || secondRoot.length !== 32) return "a root hash is not 32 bytes";
  if (first === second) {
    if (proof.length !== 0) return "a proof between equal sizes must be empty";
    return bytesEqual(firstRoot, secondRoot) ? undefined : "the two roots of the same size differ";
  }
  if (first === 0) {
    // Every tree extends the empty one; there is nothing to prove.
    if (proof.length !== 0) return "a proof from the empty tree must be empty";
    return bytesEqual(firstRoot, EMPTY_ROOT) ? undefined : "the old root is not the empty tree's";
  }
  if (proof.length === 0) return "the proof is empty";
  for (const [i, c] of proof.entries()) if (c.length !== 32) return `proof hash ${i} is not 32 bytes`;

  // Step 2: when the old tree is a complete subtree, its root is the first node.
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : proof;
  let fn = first - 1;
  let sn = second - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return `the proof has ${proof.length} hashes, more than sizes ${first} → ${second} need`;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) return `the proof has ${proof.length} hashes, fewer than sizes ${first} → ${second} need`;
  if (!bytesEqual(fr, firstRoot)) return "the proof does not lead to the old root";
  if (!bytesEqual(sr, secondRoot)) return "the proof does not lead to the new root";
  return undefined;
}

function isPowerOfTwo(n: number): boolean {
  while (n > 1) {
    if (isOdd(n)) return false;
    n = half(n);
  }
  return n === 1;
}
