// The trajectory's full timeline, in log order. Observations go inside their action's
// entry; guidance sits where it was submitted and is marked delivered at the action
// whose prompt it entered (delivered_guidance_ids).
import { el } from "./dom.js";
import {
  renderAction, renderEnded, renderGuidance, renderObservation, renderOther, renderStarted,
  renderSummary, stepLink,
} from "./cards.js";
import { bodyOf, kindOf, stepOf } from "./events.js";

const RENDERERS = {
  trajectory_started: renderStarted,
  guidance_submitted: renderGuidance,
  context_summarized: renderSummary,
  trajectory_ended: renderEnded,
};

/**
 * Creates the timeline in `root` (an <ol>); `onFlagsChange(steps)` follows the checkboxes,
 * `onLabel(step, label)` the keep/mask buttons. Verdicts are not its events (verdicts.js).
 */
export function createTimeline(root, { canFlag, onFlagsChange, onLabel }) {
  const actions = new Map(); // action event_id → entry
  const guidance = new Map(); // guidance event_id → entry
  const deliveredAt = new Map(); // guidance event_id → step whose prompt carried it
  const flagged = new Set();

  const ctx = {
    canFlag,
    isFlagged: (step) => flagged.has(step),
    onFlag(step, checked) {
      if (checked) flagged.add(step);
      else flagged.delete(step);
      onFlagsChange([...flagged].sort((a, b) => a - b));
    },
    onLabel,
    jumpToStep,
  };

  function jumpToStep(step) {
    const entry = root.querySelector(`#step-${Number(step)}`);
    if (!entry) return;
    entry.scrollIntoView({ block: "center", behavior: "smooth" });
    entry.classList.remove("pulse");
    void entry.offsetWidth; // restart the highlight animation
    entry.classList.add("pulse");
  }

  function markDelivered(guidanceId, step) {
    deliveredAt.set(guidanceId, step);
    const entry = guidance.get(guidanceId);
    if (!entry) return;
    const status = entry.querySelector(".delivery");
    status.className = "delivery done";
    status.replaceChildren("✓ Delivered into the prompt of ", stepLink(step, ctx));
    const action = root.querySelector(`#step-${step} .delivered-slot`);
    const quoted = entry.querySelector(".guidance-text")?.textContent || "(flags only)";
    action?.append(el("p", { class: "delivered" }, "⇐ Guidance entered the context here: ",
      el("q", {}, quoted)));
  }

  function addAction(event) {
    const entry = renderAction(event, ctx);
    actions.set(event.event_id, entry);
    root.querySelector(`#step-${stepOf(bodyOf(event))}`)?.removeAttribute("id"); // a retried step
    root.append(entry);
    const step = stepOf(bodyOf(event));
    for (const id of bodyOf(event).delivered_guidance_ids || []) markDelivered(id, step);
  }

  function addObservation(event) {
    const slot = actions.get(bodyOf(event).action_id)?.querySelector(".observation-slot");
    if (slot) slot.replaceChildren(renderObservation(event));
    else root.append(el("li", { class: "entry step orphan" }, renderObservation(event)));
  }

  function addGuidance(event) {
    const entry = renderGuidance(event, ctx);
    guidance.set(event.event_id, entry);
    root.append(entry);
    for (const step of bodyOf(event).flagged_step_indices || []) {
      root.querySelector(`#step-${step} .badges`)?.append(
        el("span", { class: "badge flagged" }, `flagged by ${bodyOf(event).annotator || "?"}`));
    }
    // The action that carried it may have been rendered first (a snapshot race).
    const step = deliveredAt.get(event.event_id);
    if (step !== undefined) markDelivered(event.event_id, step);
  }

  // A label decorates its action; the newest label of an action wins.
  function addLabel(event) {
    const body = bodyOf(event);
    const entry = actions.get(body.action_id);
    if (!entry) return;
    const label = String(body.label || "").replace(/^STEP_LABEL_/, "").toLowerCase();
    entry.querySelector(".badge.labelled")?.remove();
    entry.querySelector(".badges").append(el("span", { class: `badge labelled label-${label}` },
      `labelled ${label} by ${body.annotator || "?"}`));
    entry.querySelectorAll(".label-button").forEach((button) => {
      button.setAttribute("aria-pressed", String(button.classList.contains(`label-${label}`)));
    });
  }

  function add(event) {
    const kind = kindOf(event);
    if (kind === "action_proposed") addAction(event);
    else if (kind === "observation_recorded") addObservation(event);
    else if (kind === "guidance_submitted") addGuidance(event);
    else if (kind === "step_labeled") addLabel(event);
    else root.append((RENDERERS[kind] || renderOther)(event, ctx));
  }

  return {
    /** Adds events in log order (callers deduplicate); follows the tail if the reader is there. */
    addAll(events) {
      const following = root.scrollHeight - root.scrollTop - root.clientHeight < 48;
      events.forEach(add);
      if (following) root.scrollTop = root.scrollHeight;
    },
    clearFlags() {
      flagged.clear();
      root.querySelectorAll("input.flag-step").forEach((box) => { box.checked = false; });
      onFlagsChange([]);
    },
    jumpToStep,
  };
}
