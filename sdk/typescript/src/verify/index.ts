// flightrec's offline verifier: everything needed to check an export, a
// proof file, a checkpoint or a single proof without trusting the server,
// written from the specs (RFC 9162, RFC 8785, C2SP signed-note,
// tlog-checkpoint, tlog-cosignature, tlog-proof) and docs/record-format.md.
export { VerificationError, type VerificationFailure, type VerificationErrorDetails } from "./errors.js";
export { verifyExport, type ExportVerifyOptions, type ExportVerification } from "./export.js";
export { splitLines, type LineSource } from "./lines.js";
export { verifyProofFile, parseProofFile, type ProofFile, type ProofVerification } from "./proof-file.js";
export {
  verifyCheckpoint,
  parseCheckpoint,
  parseTrustFile,
  type Checkpoint,
  type VerifiedCheckpoint,
  type TrustPolicy,
} from "./checkpoint.js";
export {
  verifyInclusion,
  verifyConsistency,
  verifyNote,
  type HashInput,
  type InclusionProof,
  type ConsistencyProof,
  type VerifiedNote,
} from "./proofs.js";
export {
  parseVerifierKey,
  formatVerifierKey,
  keyIdOf,
  parseSignedNote,
  ED25519,
  COSIGNATURE_V1,
  type VerifierKey,
  type SignedNote,
  type NoteSignature,
} from "./note.js";
export { checkRecord, checkHeader, recordLeafHash, leafInput, bodyHash, type RecordHeader, type RecordLine, type CheckedRecord } from "./record.js";
export { canonicalize, CanonicalizationError, wellFormedByRegex } from "./jcs.js";
export { parseStrict, repeatedKey, RepeatedKeyError } from "./strict-json.js";
export { leafHash, nodeHash, rootFromLeaves, TreeBuilder, EMPTY_ROOT } from "./merkle.js";
export { toHex, fromHex, toBase64, fromBase64 } from "./bytes.js";
