// The one error the verifier throws: what failed (`code`), where (`line`,
// `seq`), and a message a person can act on.

export type VerificationFailure =
  /** The input is not in the expected format (bad JSON, a missing field, bad base64…). */
  | "malformed"
  /** A verifier key, a trust file or the options are unusable. */
  | "key"
  /** A header's members do not match its record format version. */
  | "header"
  /** salt ‖ JCS(body) does not hash to the header's `body_hash`. */
  | "body_hash"
  /** A body is erased without a `log.erased` record of flightrec's own covering it. */
  | "erasure"
  /** Records are missing, repeated or out of order. */
  | "sequence"
  /** An inclusion proof does not lead to the checkpoint's root. */
  | "inclusion"
  /** A consistency proof does not show one tree extends the other. */
  | "consistency"
  /** The records rebuild a different root, or a different number of them, than the checkpoint. */
  | "root"
  /** The checkpoint text is malformed, or names another log. */
  | "checkpoint"
  /** The log's signature is missing or does not verify. */
  | "signature"
  /** A witness's cosignature is missing or does not verify. */
  | "cosignature";

export interface VerificationErrorDetails {
  /** 1-based line of the export or proof file the failure is in. */
  line?: number;
  /** The record's position in its log. */
  seq?: number;
}

export class VerificationError extends Error {
  override name = "VerificationError";
  readonly code: VerificationFailure;
  readonly line: number | undefined;
  readonly seq: number | undefined;

  constructor(code: VerificationFailure, message: string, details: VerificationErrorDetails = {}) {
    super(withPlace(message, details));
    this.code = code;
    this.line = details.line;
    this.seq = details.seq;
  }
}

function withPlace(message: string, { line, seq }: VerificationErrorDetails): string {
  const place = [line === undefined ? "" : `line ${line}`, seq === undefined ? "" : `seq ${seq}`]
    .filter(Boolean)
    .join(", ");
  return place ? `${place}: ${message}` : message;
}
