// Validation results for control-plane input: every error names the field it is about, in the
// form people see (`rules[2].ports: "70000" is not a port (expected 0-65535)`).

import { InvalidField } from "../contract/field_error.ts";

/** One problem with one field of control-plane input. */
export interface FieldError {
  /** Path of the field, e.g. `rules[2].ports`. */
  readonly field: string;
  /** What is wrong and what would be right. */
  readonly message: string;
}

/** Either the validated value or the list of problems. */
export type Validated<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

/** Formats errors one per line as `field: message`. */
export function formatErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => `${e.field}: ${e.message}`).join("\n");
}

/** Returns the value or throws an InvalidField naming the first field and listing every problem. */
export function orThrow<T>(v: Validated<T>): T {
  if (v.ok) return v.value;
  const [first, ...rest] = v.errors;
  throw new InvalidField(
    first.field,
    [first.message, formatErrors(rest)].filter(Boolean).join("\n"),
  );
}

/** JSON-ish text of an input value for messages. */
export function show(v: unknown): string {
  return typeof v === "string" ? `"${v}"` : JSON.stringify(v) ?? String(v);
}
