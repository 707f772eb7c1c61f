// One timeline entry per event. Pure rendering: data in, elements out; everything
// from the log goes through el()/text nodes. Elements marked "searchable" hold only
// text, so search can highlight inside them.
import { el } from "./dom.js";
import {
  argumentsOf, bodyOf, endReason, formatTenths, formatTime, guidanceKind, kindOf, parseJson, stepOf,
} from "./events.js";

const text = (tag, cls, value) => el(tag, { class: `${cls} searchable` }, value);
const head = (...children) => el("div", { class: "entry-head" }, ...children);
const tag = (label) => el("span", { class: "tag" }, label);
const prettyValue = (value) => (typeof value === "string" ? value : JSON.stringify(value, null, 2));

function time(event) {
  const when = event.occurred_at || "";
  return el("time", { class: "muted", datetime: when }, formatTime(when));
}

/** A button that scrolls the timeline to a step. */
export function stepLink(step, ctx) {
  const jump = () => ctx.jumpToStep(step);
  return el("button", { type: "button", class: "link-button", onclick: jump }, `step ${step}`);
}

function renderArguments(body) {
  const raw = body.tool_call?.arguments_json;
  if (raw && parseJson(raw) === undefined) return text("pre", "args-raw", raw);
  const entries = Object.entries(argumentsOf(body));
  if (entries.length === 0) return el("p", { class: "muted args-none" }, "no arguments");
  const list = el("dl", { class: "args" });
  for (const [key, value] of entries) {
    list.append(el("dt", {}, key), el("dd", {}, text("pre", "arg-value", prettyValue(value))));
  }
  return list;
}

function renderParseError(error) {
  return el("div", { class: "parse-error" },
    el("strong", {}, `Unparseable action (${error.kind || "error"}): `),
    text("span", "parse-message", error.message || ""));
}

function renderFlagBox(step, ctx) {
  if (!ctx.canFlag) return null;
  const box = el("input",
    { type: "checkbox", class: "flag-step", "aria-label": `Flag step ${step} as wrong` });
  box.checked = ctx.isFlagged(step);
  box.addEventListener("change", () => ctx.onFlag(step, box.checked));
  const hint = "Flag this step as wrong in your next guidance";
  return el("label", { class: "flag", title: hint }, box, "wrong");
}

// Keep/mask labels calibrate the judge; they never reach the agent.
function renderLabelButtons(step, ctx) {
  if (!ctx.canFlag) return null;
  const button = (label) => el("button", {
    type: "button", class: `label-button label-${label}`, "aria-pressed": "false",
    title: `Label step ${step} "${label}" for training`, onclick: () => ctx.onLabel(step, label),
  }, label);
  return el("span", { class: "label-buttons", role: "group", "aria-label": `Label step ${step}` },
    button("keep"), button("mask"));
}

export function renderAction(event, ctx) {
  const body = bodyOf(event);
  const step = stepOf(body);
  const dataset = { step, eventId: event.event_id };
  const props = { class: "entry step", id: `step-${step}`, dataset };
  return el("li", props,
    head(
      el("span", { class: "step-no" }, `#${step}`),
      text("span", "tool", body.tool_call?.name || "null action"),
      time(event),
      el("span", { class: "badges" }),
      el("span", { class: "spacer" }),
      renderLabelButtons(step, ctx),
      renderFlagBox(step, ctx),
    ),
    body.assistant_text ? text("p", "assistant", body.assistant_text) : null,
    body.parse_error ? renderParseError(body.parse_error) : renderArguments(body),
    el("div", { class: "verdict-slot" }),
    el("div", { class: "delivered-slot" }),
    el("div", { class: "observation-slot" }),
  );
}

// Fields every observation has; the rest (score, exit_code, ...) are shown as extras.
const OBSERVATION_BASICS = new Set(["success", "message", "error_message", "output"]);

function observationFacts(body) {
  const facts = body.duration_ms ? [`${body.duration_ms} ms`] : [];
  const left = body.remaining;
  if (left) facts.push(`left: ${left.steps ?? 0} steps, ${left.evals ?? 0} evals`);
  return facts.join(" · ");
}

export function renderObservation(event) {
  const body = bodyOf(event);
  const details = parseJson(body.observation_json) || {};
  const output = details.output === undefined ? "" : prettyValue(details.output);
  const extras = Object.entries(details).filter(([key]) => !OBSERVATION_BASICS.has(key))
    .map(([key, value]) => `${key}=${prettyValue(value)}`).join("  ");
  const outcome = body.success ? "ok" : "fail";
  return el("div", { class: `observation ${outcome}`, dataset: { eventId: event.event_id } },
    el("div", { class: "obs-head" },
      el("span", { class: "obs-mark", "aria-label": body.success ? "succeeded" : "failed" },
        body.success ? "✓" : "✗"),
      text("span", "obs-message", body.message || (body.success ? "ok" : "failed")),
      el("span", { class: "spacer" }),
      el("span", { class: "muted" }, observationFacts(body)),
    ),
    body.error_message ? text("p", "obs-error", body.error_message) : null,
    output ? text("pre", "output", output) : null,
    extras ? text("p", "obs-extra muted", extras) : null,
    body.truncated
      ? el("p", { class: "muted" }, "Output truncated; the full output is in the blob store.")
      : null,
  );
}

export function renderGuidance(event, ctx) {
  const body = bodyOf(event);
  const kind = guidanceKind(body.kind);
  const flagged = body.flagged_step_indices || [];
  const flagLinks = flagged.flatMap((step, i) => [i ? ", " : "", stepLink(step, ctx)]);
  return el("li", { class: `entry guidance kind-${kind}`, dataset: { eventId: event.event_id } },
    head(
      tag("guidance"),
      el("span", { class: "kind" }, kind),
      el("span", { class: "annotator" }, body.annotator || "unknown"),
      body.channel ? el("span", { class: "muted" }, `via ${body.channel}`) : null,
      time(event),
    ),
    body.text ? text("p", "guidance-text", body.text) : null,
    flagged.length ? el("p", { class: "guidance-flags" }, "Flags as wrong: ", ...flagLinks) : null,
    el("p", { class: "delivery pending" }, "Queued: enters the agent's context at the next step."),
  );
}

export function renderSummary(event) {
  const body = bodyOf(event);
  const span = `steps ${body.first_step_index || 0}–${body.last_step_index || 0}`;
  const actions = body.action_count ? ` (${body.action_count} actions)` : "";
  return el("li", { class: "entry summary", dataset: { eventId: event.event_id } },
    el("details", {},
      el("summary", {}, tag("summary"), ` Context summarized: ${span}${actions}`),
      text("pre", "summary-text", body.summary || "")),
  );
}

export function renderStarted(event) {
  const body = bodyOf(event);
  const b = body.budgets || {};
  const budgets = `Budgets: ${b.max_steps ?? "–"} steps, ${b.max_seconds ?? "–"} s, `
    + `${b.max_evals ?? "–"} evals`;
  return el("li", { class: "entry started", dataset: { eventId: event.event_id } },
    head(tag("task"), text("strong", "task-title", body.task_title || body.task_id || ""),
      el("span", { class: "muted" }, body.task_id || ""), time(event)),
    el("details", {}, el("summary", {}, "Task description"),
      text("pre", "task-description", body.task_description || "")),
    el("p", { class: "muted" }, budgets),
  );
}

export function renderEnded(event) {
  const body = bodyOf(event);
  return el("li", { class: "entry ended", dataset: { eventId: event.event_id } },
    head(tag("ended"), el("strong", {}, endReason(body.reason)),
      el("span", {}, `final score ${formatTenths(body.final_score)}`), time(event)),
    body.detail ? text("p", "ended-detail", body.detail) : null,
  );
}

/** Events the timeline has no special view for (summary requests, cancellations, ...). */
export function renderOther(event) {
  return el("li", { class: "entry other", dataset: { eventId: event.event_id } },
    head(tag(kindOf(event).replace(/_/g, " ")), time(event)),
    text("pre", "other-body", JSON.stringify(bodyOf(event), null, 2)),
  );
}
