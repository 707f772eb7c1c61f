// The always-ready guidance box: kind, text, and the steps flagged in the timeline.
// Validation is the server's (422 detail is shown as is), so the rules live in one place.
import { api } from "./api.js";

/**
 * Wires the guidance form for one trajectory; `clearFlags` unticks the timeline's
 * checkboxes (after sending, or on "clear"). Returns {setFlags, focus}.
 */
export function createGuidanceBox(form, { trajectoryId, canSend, clearFlags }) {
  const { kind, text } = form.elements;
  const submit = form.querySelector("button[type=submit]");
  const status = form.querySelector(".guidance-status");
  const flagSummary = form.querySelector(".flag-summary");
  const flagClear = form.querySelector(".flag-clear");
  let flags = [];

  function say(message, tone) {
    status.textContent = message;
    status.dataset.tone = tone;
  }

  if (!canSend) {
    for (const control of form.elements) control.disabled = true;
    form.querySelector(".viewer-note").hidden = false;
    flagSummary.textContent = "";
  }

  async function send(event) {
    event.preventDefault();
    if (!canSend || submit.disabled) return;
    submit.disabled = true;
    say("Sending…", "info");
    try {
      await api.guide(trajectoryId, { text: text.value, kind: kind.value, flag_steps: flags });
      text.value = "";
      say("Queued: the agent reads it at its next step.", "ok");
      clearFlags();
    } catch (error) {
      say(error.status === 422 ? error.message : `Not sent: ${error.message}`, "error");
    } finally {
      submit.disabled = false;
    }
  }

  form.addEventListener("submit", send);
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) send(event);
    if (event.key === "Escape") text.blur();
  });
  flagClear.addEventListener("click", clearFlags);

  return {
    /** Shows the steps currently ticked "wrong" in the timeline. */
    setFlags(steps) {
      flags = steps;
      if (!canSend) return;
      flagSummary.textContent = steps.length
        ? `Flagged as wrong: step ${steps.join(", ")}` : "Tick “wrong” on a step to flag it.";
      flagClear.hidden = steps.length === 0;
    },
    focus: () => text.focus(),
  };
}
