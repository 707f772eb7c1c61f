// One timeline entry per event. Pure rendering: data in, elements out; everything
// from the log goes through el()/text nodes. Elements marked "searchable" hold only
// text, so search can highlight inside them.
import { el } from "./dom.js";
import {
  argumentsOf, bodyOf, endReason, formatScore, formatTime, guidanceKind, kindOf, parseJson, stepOf,
} from "./events.js";

const text = (tag, cls, value) => el(tag, { class: `${cls} searchable` }, value);

function head(...children) {
  return el("div", { class: "entry-head" }, ...children);
}

function time(event) {
  return el("time", { class: "muted", datetime: event.occurred_at || "" }, formatTime(event.occurred_at));
}

/** A button that scrolls the timeline to a step. */
export function stepLink(step, ctx) {
  return el("button", { type: "button", class: "link-button", onclick: () => ctx.jumpToStep(step) },
    `step ${step}`);
}

function prettyValue(value) {
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

function renderArguments(body) {
  const raw = body.tool_call?.arguments_json;
  const args = argumentsOf(body);
  const entries = Object.entries(args);
  if (raw && parseJson(raw) === undefined) return text("pre", "args-raw", raw);
  if (entries.length === 0) return el("p", { class: "muted args-none" }, "no arguments");
  const list = el("dl", { class: "args" });
  for (const [key, value] of entries) {
    list.append(el("dt", {}, key), el("dd", {}, text("pre", "arg-value", prettyValue(value))));
  }
  return list;
}

function renderFlagBox(step, ctx) {
  if (!ctx.canFlag) return null;
  const box = el("input", { type: "checkbox", class: "flag-step", "aria-label": `Flag step ${step} as wrong` });
  box.checked = ctx.isFlagged(step);
  box.addEventListener("change", () => ctx.onFlag(step, box.checked));
  return el("label", { class: "flag", title: "Flag this step as wrong in your next guidance" }, box, "wrong");
}

export function renderAction(event, ctx) {
  const body = bodyOf(event);
  const step = stepOf(body);
  const tool = body.tool_call?.name;
  const outcome = body.parse_error
    ? el("div", { class: "parse-error" }, el("strong", {}, `Unparseable action (${body.parse_error.kind || "error"}): `),
      text("span", "parse-message", body.parse_error.message || ""))
    : renderArguments(body);
  return el("li", { class: "entry step", id: `step-${step}`, dataset: { step, eventId: event.event_id } },
    head(
      el("span", { class: "step-no" }, `#${step}`),
      text("span", "tool", tool || "null action"),
      time(event),
      el("span", { class: "badges" }),
      el("span", { class: "spacer" }),
      renderFlagBox(step, ctx),
    ),
    body.assistant_text ? text("p", "assistant", body.assistant_text) : null,
    outcome,
    el("div", { class: "delivered-slot" }),
    el("div", { class: "observation-slot" }),
  );
}

// Fields every observation has; the rest (score, exit_code, ...) are shown as extras.
const OBSERVATION_BASICS = new Set(["success", "message", "error_message", "output"]);

export function renderObservation(event) {
  const body = bodyOf(event);
  const details = parseJson(body.observation_json) || {};
  const output = details.output === undefined ? "" : prettyValue(details.output);
  const extras = Object.entries(details).filter(([key]) => !OBSERVATION_BASICS.has(key));
  const remaining = body.remaining
    ? `left: ${body.remaining.steps ?? 0} steps, ${body.remaining.evals ?? 0} evals` : "";
  return el("div", { class: `observation ${body.success ? "ok" : "fail"}`, dataset: { eventId: event.event_id } },
    el("div", { class: "obs-head" },
      el("span", { class: "obs-mark", "aria-label": body.success ? "succeeded" : "failed" },
        body.success ? "✓" : "✗"),
      text("span", "obs-message", body.message || (body.success ? "ok" : "failed")),
      el("span", { class: "spacer" }),
      el("span", { class: "muted" }, body.duration_ms ? `${body.duration_ms} ms` : "", remaining ? ` · ${remaining}` : ""),
    ),
    body.error_message ? text("p", "obs-error", body.error_message) : null,
    output ? text("pre", "output", output) : null,
    extras.length ? text("p", "obs-extra muted", extras.map(([k, v]) => `${k}=${prettyValue(v)}`).join("  ")) : null,
    body.truncated ? el("p", { class: "muted" }, "Output truncated; the full output is in the blob store.") : null,
  );
}

export function renderGuidance(event, ctx) {
  const body = bodyOf(event);
  const kind = guidanceKind(body.kind);
  const flagged = body.flagged_step_indices || [];
  return el("li", { class: `entry guidance kind-${kind}`, dataset: { eventId: event.event_id } },
    head(
      el("span", { class: "tag" }, "guidance"),
      el("span", { class: "kind" }, kind),
      el("span", { class: "annotator" }, body.annotator || "unknown"),
      body.channel ? el("span", { class: "muted" }, `via ${body.channel}`) : null,
      time(event),
    ),
    body.text ? text("p", "guidance-text", body.text) : null,
    flagged.length
      ? el("p", { class: "guidance-flags" }, "Flags as wrong: ", ...flagged.flatMap((s, i) => [i ? ", " : "", stepLink(s, ctx)]))
      : null,
    el("p", { class: "delivery pending" }, "Queued: enters the agent's context at the next step."),
  );
}

export function renderSummary(event) {
  const body = bodyOf(event);
  const first = body.first_step_index || 0;
  const last = body.last_step_index || 0;
  return el("li", { class: "entry summary", dataset: { eventId: event.event_id } },
    el("details", {},
      el("summary", {}, el("span", { class: "tag" }, "summary"),
        ` Context summarized: steps ${first}–${last}`, body.action_count ? ` (${body.action_count} actions)` : ""),
      text("pre", "summary-text", body.summary || ""),
    ),
  );
}

export function renderStarted(event) {
  const body = bodyOf(event);
  const budgets = body.budgets || {};
  return el("li", { class: "entry started", dataset: { eventId: event.event_id } },
    head(el("span", { class: "tag" }, "task"), text("strong", "task-title", body.task_title || body.task_id || ""),
      el("span", { class: "muted" }, body.task_id || ""), time(event)),
    el("details", {}, el("summary", {}, "Task description"),
      text("pre", "task-description", body.task_description || "")),
    el("p", { class: "muted" },
      `Budgets: ${budgets.max_steps ?? "–"} steps, ${budgets.max_seconds ?? "–"} s, ${budgets.max_evals ?? "–"} evals`),
  );
}

export function renderEnded(event) {
  const body = bodyOf(event);
  return el("li", { class: "entry ended", dataset: { eventId: event.event_id } },
    head(el("span", { class: "tag" }, "ended"), el("strong", {}, endReason(body.reason)),
      el("span", {}, `final score ${formatScore(body.final_score)}`), time(event)),
    body.detail ? text("p", "ended-detail", body.detail) : null,
  );
}

/** Events the timeline has no special view for (judgements, cancellations, ...). */
export function renderOther(event) {
  const kind = kindOf(event);
  return el("li", { class: "entry other", dataset: { eventId: event.event_id } },
    head(el("span", { class: "tag" }, kind.replace(/_/g, " ")), time(event)),
    text("pre", "other-body", JSON.stringify(bodyOf(event), null, 2)),
  );
}
