// Reading an optional environment variable without a permission prompt. It imports nothing, so
// every layer may use it (tuning knobs in lib/link, $NOTIFY_SOCKET in lib/service).

/** The variable's value, or undefined when it is unset or env access to it is not granted. */
export function optionalEnv(name: string): string | undefined {
  try {
    if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
      return undefined;
    }
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}
