// Bearer-token auth: the token file must not be readable by others, and comparison takes the
// same time whatever the first differing byte is.

/** Constant-time equality of two byte strings (time depends only on the lengths). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (i < a.length ? a[i] : 0) ^ b[i];
  return diff === 0;
}

const enc = new TextEncoder();

/** True when the Authorization header carries exactly `token`. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return constantTimeEqual(enc.encode(m ? m[1] : ""), enc.encode(token));
}

/** Reads a token file; refuses one that group/others can read or that is empty. */
export async function readTokenFile(path: string): Promise<string> {
  const st = await Deno.stat(path);
  if (st.mode !== null && (st.mode & 0o077) !== 0) {
    throw new Error(
      `${path}: token file is accessible by group/others (mode ${
        (st.mode & 0o777).toString(8)
      }); chmod 600 it`,
    );
  }
  const token = (await Deno.readTextFile(path)).trim();
  if (token.length < 16) throw new Error(`${path}: token must be at least 16 characters`);
  if (/\s/.test(token)) throw new Error(`${path}: token must not contain whitespace`);
  return token;
}
