/** Why a frame failed to parse. Returned, never thrown, by every parse step. */
export type ParseErrorKind = "truncated" | "malformed" | "unsupported";

/** A typed parse failure: what kind, in which header (`at`), at which byte offset. */
export interface ParseError {
  readonly kind: ParseErrorKind;
  readonly at: string;
  readonly offset: number;
}

/** Builds a ParseError; parse steps return it instead of throwing. */
export function parseError(kind: ParseErrorKind, at: string, offset: number): ParseError {
  return { kind, at, offset };
}

/** True when a parse step's result is a ParseError rather than a view. */
export function isParseError(x: unknown): x is ParseError {
  return typeof x === "object" && x !== null && "kind" in x && "at" in x && "offset" in x &&
    !("buf" in x);
}
