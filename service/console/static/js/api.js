// Calls to the service's /v1 API. Every failure becomes an ApiError carrying the
// RFC 9457 problem the service sent (title, detail, code, per-field errors,
// rules findings). A 401 asks for an API key and retries with it.

import { askForKey, storedKey } from "./auth.js";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

function url(path) {
  // Relative to the console (/console/), so a path prefix added by a proxy still works.
  return new URL(`../${path.replace(/^\/+/, "")}`, document.baseURI);
}

async function problemOf(response) {
  const type = response.headers.get("content-type") || "";
  if (type.includes("json")) {
    try {
      return await response.json();
    } catch {
      // fall through: a body that claims JSON but is not
    }
  }
  return { title: response.statusText || "Error", status: response.status,
           detail: `The service answered HTTP ${response.status}.` };
}

function reasonFor(problem, hadKey) {
  if (hadKey) return `The key was refused: ${problem.detail || problem.title}. Enter another key.`;
  return "This service asks for an API key for its /v1 routes.";
}

/**
 * Call the API. `body` is a string (sent as JSON as it is) or a value (JSON-encoded).
 * Resolves to the parsed JSON, or to the text when `as` is "text".
 */
export async function api(path, { method = "GET", body, as = "json" } = {}) {
  const headers = { Accept: as === "text" ? "text/html" : "application/json" };
  let payload;
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = typeof body === "string" ? body : JSON.stringify(body);
  }
  for (;;) {
    const key = storedKey();
    const sent = key ? { ...headers, "X-API-Key": key } : headers;
    let response;
    try {
      response = await fetch(url(path), { method, headers: sent, body: payload, credentials: "omit",
                                          cache: "no-store" });
    } catch (error) {
      throw new ApiError(0, { title: "The service did not answer",
                              detail: `Is it running and reachable? (${error.message})` });
    }
    if (response.ok) return as === "text" ? response.text() : response.json();
    const problem = await problemOf(response);
    if (response.status === 401) {
      const entered = await askForKey(reasonFor(problem, Boolean(key)));
      if (entered) continue;
    }
    throw new ApiError(response.status, problem);
  }
}
