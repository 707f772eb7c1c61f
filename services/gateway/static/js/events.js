// Reading Apollo events in their protobuf-JSON form (proto field names). Proto JSON
// omits default values, so a missing step_index is step 0 and a missing bool is false.

const ENVELOPE = new Set([
  "event_id", "trajectory_id", "occurred_at", "source", "causation_id", "schema_version",
]);

/** The event's body key, e.g. "action_proposed". */
export function kindOf(event) {
  return Object.keys(event).find((key) => !ENVELOPE.has(key)) || "unknown";
}

/** The event's body object. */
export function bodyOf(event) {
  return event[kindOf(event)] || {};
}

export const stepOf = (body) => Number(body.step_index || 0);

/** "GUIDANCE_KIND_CORRECTION" or "correction" → "correction". */
export function guidanceKind(kind) {
  return String(kind || "advice").replace(/^GUIDANCE_KIND_/, "").toLowerCase();
}

/** "END_REASON_STEP_BUDGET" → "step budget". */
export function endReason(reason) {
  return String(reason || "unspecified").replace(/^END_REASON_/, "").replace(/_/g, " ")
    .toLowerCase();
}

/** Parses JSON written by the backend; undefined when it is not valid JSON. */
export function parseJson(text) {
  if (typeof text !== "string" || text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The tool arguments of an action as an object (empty when absent or unparseable). */
export function argumentsOf(actionBody) {
  const parsed = parseJson(actionBody?.tool_call?.arguments_json);
  return parsed && typeof parsed === "object" ? parsed : {};
}

export function formatTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleTimeString();
}

/** "3 min ago" style age, for the list. */
export function formatAge(iso) {
  const date = new Date(iso);
  if (!iso || Number.isNaN(date.getTime())) return "";
  const seconds = Math.max(0, (Date.now() - date.getTime()) / 1000);
  if (seconds < 60) return `${Math.round(seconds)} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return date.toLocaleDateString();
}

/** A score or a rate with one decimal; "–" when there is none. */
export function formatTenths(value) {
  return value === null || value === undefined || value === "" ? "–" : Number(value).toFixed(1);
}

/** A status string reduced to a CSS-safe token for its colour. */
export function statusClass(status) {
  return `status-${String(status || "unknown").toLowerCase().replace(/[^a-z0-9-]/g, "-")}`;
}

/**
 * A list row advanced by one live event, so counts move without a refetch. The server
 * stays authoritative for what it derives (needs_attention; the status an end sets, which
 * the stream sends as its own `status` message); views refetch for the rest.
 */
export function advanceSummary(row, event) {
  const body = bodyOf(event);
  const next = { ...row, last_activity_at: event.occurred_at || row.last_activity_at };
  switch (kindOf(event)) {
    case "action_proposed":
      next.steps = Math.max(Number(row.steps || 0), stepOf(body) + 1);
      break;
    case "guidance_submitted":
      next.guidance_count = Number(row.guidance_count || 0) + 1;
      break;
    case "trajectory_ended":
      next.final_score = body.final_score ?? row.final_score;
      break;
    case "trajectory_cancelled":
      next.status = "cancelled";
      break;
    default:
      break;
  }
  return next;
}
