// The gateway's HTTP API. The session is an HttpOnly cookie, so fetch and EventSource
// carry it without this code ever seeing the token after login.

/** An HTTP error with the server's `detail`, ready to show to the user. */
export class ApiError extends Error {
  constructor(status, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
  }
}

const unauthorizedHandlers = [];

/** Runs `handler` whenever the server says the session is gone (401). */
export function onUnauthorized(handler) {
  unauthorizedHandlers.push(handler);
}

// FastAPI answers validation errors with a list of {loc, msg}; others with a string.
function describeDetail(detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map((item) => {
      const field = Array.isArray(item.loc) ? item.loc[item.loc.length - 1] : "";
      return field ? `${field}: ${item.msg}` : String(item.msg);
    }).join("; ");
  }
  return detail === undefined ? "" : JSON.stringify(detail);
}

async function request(method, path, body) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 401 && path !== "/api/session") {
    unauthorizedHandlers.forEach((handler) => handler());
  }
  if (!response.ok) {
    const payload = await response.json().catch(() => ({}));
    throw new ApiError(response.status, describeDetail(payload.detail));
  }
  const isJson = (response.headers.get("Content-Type") || "").includes("json");
  return response.status === 204 || !isJson ? null : response.json();
}

const trajectoryPath = (id) => `/api/trajectories/${encodeURIComponent(id)}`;

export const api = {
  login: (token) => request("POST", "/api/session", { token }),
  logout: () => request("DELETE", "/api/session"),
  me: () => request("GET", "/api/me"),
  trajectories: () => request("GET", "/api/trajectories"),
  trajectory: (id) => request("GET", trajectoryPath(id)),
  verdicts: (id, ruleset) => request("GET",
    `${trajectoryPath(id)}/verdicts${ruleset ? `?ruleset=${encodeURIComponent(ruleset)}` : ""}`),
  label: (id, label) => request("POST", `${trajectoryPath(id)}/labels`, label),
  guide: (id, guidance) => request("POST", `${trajectoryPath(id)}/guidance`, guidance),
  attention: (id, seconds) => request("POST", `${trajectoryPath(id)}/attention`, { seconds }),
};
