// SHA-256 and Ed25519 from the audited noble libraries: synchronous (a
// 100,000-record export needs ~300,000 hashes; WebCrypto's promise per digest
// costs far more than the hash) and the same in Node and in browsers.
import * as ed25519 from "@noble/ed25519";
import { sha256 as nobleSha256, sha512 } from "@noble/hashes/sha2";

// @noble/ed25519 leaves its synchronous SHA-512 for the caller to provide.
// (Its types want an ArrayBuffer-backed result, which noble's SHA-512 returns.)
type Sha512 = NonNullable<typeof ed25519.hashes.sha512>;
ed25519.hashes.sha512 ??= ((message: Uint8Array) => sha512(message)) as Sha512;

export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

/** A SHA-256 over several parts, without concatenating them first. */
export function sha256Parts(...parts: Uint8Array[]): Uint8Array {
  const hash = nobleSha256.create();
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** RFC 8032 Ed25519 verification (strict, not ZIP-215). Never throws for bad input. */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
