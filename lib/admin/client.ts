// A small admin API client for the CLI: base URL + optional bearer token, errors as messages.

/** A failed API call, with the server's `field: error` when it sent one. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Talks to one xdeno service. */
export class AdminClient {
  constructor(readonly baseUrl: string, private readonly token: string | null) {}

  /** GETs `path` and resolves with the streaming body (capture); rejects with ApiError. */
  async stream(path: string): Promise<ReadableStream<Uint8Array>> {
    const headers: Record<string, string> = this.token !== null
      ? { authorization: `Bearer ${this.token}` }
      : {};
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), { headers });
    } catch (e) {
      throw new ApiError(0, `cannot reach ${this.baseUrl}: ${(e as Error).message}`);
    }
    if (!res.ok || !res.body) {
      const text = await res.text();
      let msg = text;
      try {
        const d = JSON.parse(text);
        msg = d.field ? `${d.field}: ${d.error}` : d.error;
      } catch { /* plain text */ }
      throw new ApiError(res.status, `${res.status}: ${msg}`);
    }
    return res.body;
  }

  /** Sends a request; resolves with the parsed JSON body or rejects with ApiError. */
  async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = {};
    if (this.token !== null) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiError(0, `cannot reach ${this.baseUrl}: ${(e as Error).message}`);
    }
    const text = await res.text();
    let data: unknown = text;
    try {
      data = text ? JSON.parse(text) : null;
    } catch { /* non-JSON body (metrics) stays text */ }
    if (!res.ok) {
      const d = data as { error?: string; field?: string } | null;
      const msg = d && typeof d === "object" && d.error
        ? (d.field ? `${d.field}: ${d.error}` : d.error)
        : text;
      throw new ApiError(res.status, `${res.status}: ${msg}`);
    }
    return data;
  }
}
