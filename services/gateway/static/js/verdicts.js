// The judge's verdicts on the timeline, under one ruleset version at a time: masked steps
// are marked and every reason reads as rule id, detail, evidence steps and quote. The
// server chooses the default version (the newest that judged the run) and lists the rest;
// live ActionJudged events of the shown version are added as they come.
import { api } from "./api.js";
import { el } from "./dom.js";
import { bodyOf, stepOf } from "./events.js";
import { stepLink } from "./cards.js";

const shortVersion = (version) => String(version).replace(/^sha256:/, "").slice(0, 12);

/** A live ActionJudged event (protobuf JSON) in the shape the verdicts API returns. */
function verdictOf(event) {
  const body = bodyOf(event);
  return {
    action_id: body.action_id,
    step_index: stepOf(body),
    verdict: String(body.verdict || "").endsWith("MASK") ? "mask" : "keep",
    reasons: (body.reasons || []).map((reason) => ({
      rule_id: reason.rule_id || "",
      detail: reason.detail || "",
      evidence_step_indices: (reason.evidence_step_indices || []).map(Number),
      quote: reason.quote || "",
    })),
  };
}

function renderReason(reason, ctx) {
  const evidence = reason.evidence_step_indices.flatMap((step, i) => [
    i ? ", " : "", stepLink(step, ctx)]);
  return el("li", { class: "reason" },
    el("code", { class: "rule-id searchable" }, reason.rule_id),
    reason.detail ? el("span", { class: "reason-detail searchable" }, ` ${reason.detail}`) : null,
    evidence.length ? el("span", { class: "evidence muted" }, " · evidence: ", ...evidence) : null,
    reason.quote ? el("q", { class: "reason-quote searchable" }, reason.quote) : null);
}

/**
 * Wires the ruleset picker (a <select>) to the timeline in `root`; `ctx.jumpToStep` makes
 * evidence steps clickable. Returns {load, observe, showOn}.
 */
export function createVerdicts(picker, root, { trajectoryId, ctx }) {
  const shown = new Map(); // action_id → verdict of the shown version
  let version = null;
  const versions = new Map(); // version → label text

  function fillPicker() {
    picker.closest(".ruleset-picker").hidden = versions.size === 0;
    picker.replaceChildren(...[...versions].map(([value, label]) =>
      el("option", { value, selected: value === version }, label)));
  }

  function decorate(entry, verdict) {
    entry.classList.toggle("masked", verdict.verdict === "mask");
    const slot = entry.querySelector(".verdict-slot");
    slot.replaceChildren(el("div", { class: `verdict verdict-${verdict.verdict}` },
      el("span", { class: `badge ${verdict.verdict === "mask" ? "masked" : "kept"}` },
        verdict.verdict === "mask" ? "masked" : "kept"),
      verdict.reasons.length ? el("ul", { class: "reasons" },
        ...verdict.reasons.map((reason) => renderReason(reason, ctx))) : null));
  }

  /** Shows the shown version's verdict (or none) on one action's entry, once rendered. */
  function showOn(actionId) {
    const entry = root.querySelector(`.entry.step[data-event-id="${CSS.escape(actionId)}"]`);
    if (!entry) return;
    const verdict = shown.get(actionId);
    if (verdict) decorate(entry, verdict);
    else {
      entry.classList.remove("masked");
      entry.querySelector(".verdict-slot").replaceChildren();
    }
  }

  function showAll() {
    root.querySelectorAll(".entry.step[data-event-id]")
      .forEach((entry) => showOn(entry.dataset.eventId));
  }

  async function load(chosen) {
    const reply = await api.verdicts(trajectoryId, chosen);
    version = reply.ruleset_version;
    versions.clear();
    for (const v of reply.versions) {
      versions.set(v.ruleset_version,
        `${shortVersion(v.ruleset_version)} · ${v.actions_masked}/${v.actions_judged} masked`);
    }
    shown.clear();
    for (const verdict of reply.verdicts) shown.set(verdict.action_id, verdict);
    fillPicker();
    showAll();
  }

  picker.addEventListener("change", () => load(picker.value));

  return {
    load: () => load(version),
    /** Takes a live ActionJudged event: shown if it is of the shown version (or the first). */
    observe(event) {
      const judged = bodyOf(event).ruleset_version;
      if (!versions.has(judged)) {
        versions.set(judged, shortVersion(judged));
        version = version ?? judged;
        fillPicker();
      }
      if (judged !== version) return;
      const verdict = verdictOf(event);
      shown.set(verdict.action_id, verdict);
      showOn(verdict.action_id);
    },
    showOn,
  };
}
