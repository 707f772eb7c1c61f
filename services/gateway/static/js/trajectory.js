// One trajectory: timeline, search, guidance, sessions and file changes, kept live by
// the trajectory's event stream. Events are deduplicated by event_id because the
// snapshot and the stream overlap (and a reconnect refetches the snapshot).
import { api } from "./api.js";
import { trackAttention } from "./attention.js";
import { fromTemplate } from "./dom.js";
import { advanceSummary, bodyOf, kindOf } from "./events.js";
import { createFileChanges } from "./files.js";
import { createGuidanceBox } from "./guidance.js";
import { createHeader } from "./header.js";
import { createSearch } from "./search.js";
import { openStream } from "./stream.js";
import { createTerminal } from "./terminal.js";
import { createTimeline } from "./timeline.js";
import { createVerdicts } from "./verdicts.js";

/** Shows trajectory `id` for user `me`; returns {close, focusSearch, focusGuidance}. */
export function showTrajectory(container, id, me) {
  const view = fromTemplate("tpl-trajectory");
  container.replaceChildren(view);
  const canSend = me.role !== "viewer";
  const timelineRoot = view.querySelector(".timeline");

  const header = createHeader(view, id);
  const labelStatus = view.querySelector(".label-status");
  const timeline = createTimeline(timelineRoot, {
    canFlag: canSend,
    onFlagsChange: (steps) => guidance.setFlags(steps),
    async onLabel(step, label) {
      // The label shows on the step when its event comes back on the stream.
      try {
        await api.label(id, { step_index: step, label });
        labelStatus.textContent = "";
      } catch (error) {
        labelStatus.textContent = `Step ${step} not labelled: ${error.message}`;
      }
    },
  });
  const verdicts = createVerdicts(view.querySelector("select[name=ruleset]"), timelineRoot, {
    trajectoryId: id, ctx: { jumpToStep: (step) => timeline.jumpToStep(step) },
  });
  const guidance = createGuidanceBox(view.querySelector(".guidance-box"), {
    trajectoryId: id, canSend, clearFlags: () => timeline.clearFlags(),
  });
  const search = createSearch(view.querySelector(".search"), timelineRoot);
  const terminal = createTerminal(view.querySelector(".terminal"));
  const files = createFileChanges(view.querySelector(".file-changes"), {
    jumpToStep: (step) => timeline.jumpToStep(step),
  });

  const seen = new Set();
  const actions = new Map(); // action event_id → body, for the panels fed by observations
  let pending = []; // stream events that arrive before the snapshot
  let loaded = false;
  let presenceSeen = false; // live presence is newer than any snapshot's watchers
  let liveStatus = null; // the status the stream sent; newer than any snapshot's

  function apply(events, { live }) {
    const unseen = events.filter((event) => !seen.has(event.event_id));
    unseen.forEach((event) => seen.add(event.event_id));
    // Verdicts are not the run's history: they decorate it, one ruleset version at a time
    // (the snapshot's verdicts come from the verdicts API instead).
    const fresh = unseen.filter((event) => kindOf(event) !== "action_judged");
    if (live) unseen.filter((event) => kindOf(event) === "action_judged").forEach(verdicts.observe);
    if (fresh.length === 0) return;
    for (const event of fresh) {
      header.noteEvent(event);
      if (kindOf(event) === "action_proposed") actions.set(event.event_id, bodyOf(event));
      if (live) header.setRow(advanceSummary(header.row(), event));
      if (live && kindOf(event) === "observation_recorded") {
        const action = actions.get(bodyOf(event).action_id);
        terminal.observe(bodyOf(event), action);
        files.observe(bodyOf(event), action);
      }
    }
    timeline.addAll(fresh);
    fresh.filter((event) => kindOf(event) === "action_proposed")
      .forEach((event) => verdicts.showOn(event.event_id));
    search.refresh();
  }

  async function load() {
    loaded = false;
    let detail;
    try {
      detail = await api.trajectory(id);
    } catch (error) {
      const status = error.status === 404 ? "not found" : "unavailable";
      header.setRow({ ...header.row(), status });
      return;
    }
    header.setRow(detail.summary || header.row());
    if (!presenceSeen) header.setWatchers(detail.summary?.watchers);
    terminal.reset(detail.sessions);
    files.reset(detail.file_changes);
    apply(detail.events || [], { live: false });
    await verdicts.load().catch(() => {}); // the timeline stands without its verdicts
    loaded = true;
    apply(pending, { live: true });
    pending = [];
    if (liveStatus) header.setRow({ ...header.row(), status: liveStatus });
  }

  const stream = openStream(id, {
    onEvent(event) {
      if (event.trajectory_id !== id) return;
      if (loaded) apply([event], { live: true });
      else pending.push(event);
    },
    onPresence(presence) {
      if (presence.trajectory_id !== id) return;
      presenceSeen = true;
      header.setWatchers(presence.watchers);
    },
    onStatus({ trajectory_id: trajectoryId, status }) {
      if (trajectoryId !== id) return;
      liveStatus = status;
      if (loaded) header.setRow({ ...header.row(), status });
    },
    // After a reconnect, the snapshot fills in whatever happened while we were away.
    onOpen(reconnected) {
      if (reconnected) load();
    },
  });
  const attention = trackAttention(id);
  load();

  return {
    close() {
      stream.close();
      attention.stop();
    },
    focusSearch: () => search.focus(),
    focusGuidance: () => guidance.focus(),
  };
}
