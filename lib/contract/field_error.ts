// The one typed user error: which field of the input (config, API body, CLI flag) is wrong and
// why, so every layer can say it and the admin API can answer {error, field} without parsing
// text. It imports nothing, so every layer may use it.

/** A user-caused error about one field: `field` is its path, `reason` what is wrong and the fix. */
export class InvalidField extends RangeError {
  constructor(readonly field: string, readonly reason: string) {
    super(`${field}: ${reason}`);
  }
}
