// The trajectory list: status, live step count, intervention rate, score, attention flag
// and watchers.
// Live events advance rows at once; a throttled refetch then brings what only the
// server derives (needs_attention, the intervention rate, new trajectories).
import { api } from "./api.js";
import { el, fromTemplate } from "./dom.js";
import { advanceSummary, formatAge, formatTenths } from "./events.js";
import { fillAttention, fillStatus, fillWatchers } from "./header.js";
import { openStream } from "./stream.js";

const REFETCH_AFTER_MS = 2000;

// Rows that need a human first, then running ones, then the most recently active.
function byUrgency(a, b) {
  return Number(Boolean(b.needs_attention)) - Number(Boolean(a.needs_attention))
    || Number(b.status === "running") - Number(a.status === "running")
    || String(b.last_activity_at || "").localeCompare(String(a.last_activity_at || ""));
}

function renderRow(row, onOpen) {
  const status = el("span");
  fillStatus(status, row.status);
  const attention = el("span", { class: "attention-badge" });
  fillAttention(attention, row);
  const watchers = el("span", { class: "watchers" });
  fillWatchers(watchers, row.watchers);
  const href = `#/trajectories/${encodeURIComponent(row.trajectory_id)}`;
  const link = el("a", { href }, row.task_id || "(task)");
  return el("tr", {
    class: row.needs_attention ? "needs-attention" : "",
    dataset: { trajectoryId: row.trajectory_id },
    onclick: (event) => { if (event.target !== link) onOpen(row.trajectory_id); },
  },
  el("td", {}, link, el("span", { class: "muted traj-id" }, row.trajectory_id.slice(-8))),
  el("td", {}, status),
  el("td", { class: "num steps" }, String(row.steps ?? 0)),
  el("td", { class: "num" }, String(row.guidance_count ?? 0)),
  el("td", { class: "num intervention-rate" }, formatTenths(row.guidance_per_100_steps)),
  el("td", { class: "num" }, formatTenths(row.final_score)),
  el("td", {}, attention),
  el("td", {}, watchers),
  el("td", { class: "muted" }, formatAge(row.last_activity_at)));
}

/** Shows the list in `container`; `onOpen(id)` opens a trajectory. Returns {close}. */
export function showList(container, { onOpen }) {
  const view = fromTemplate("tpl-list");
  container.replaceChildren(view);
  const body = view.querySelector("tbody");
  let rows = new Map(); // trajectory_id → row
  let refetchTimer = null;

  function render() {
    const sorted = [...rows.values()].sort(byUrgency);
    body.replaceChildren(...sorted.map((row) => renderRow(row, onOpen)));
    view.querySelector(".empty").hidden = sorted.length > 0;
    const flagged = sorted.filter((row) => row.needs_attention).length;
    view.querySelector(".list-counts").textContent =
      `${sorted.length} trajectories · ${flagged} need attention`;
  }

  async function refetch() {
    refetchTimer = null;
    try {
      const fetched = await api.trajectories();
      // Keep a live step count the snapshot has not caught up with yet.
      rows = new Map(fetched.map((row) => {
        const live = rows.get(row.trajectory_id);
        return [row.trajectory_id, { ...row, steps: Math.max(row.steps ?? 0, live?.steps ?? 0) }];
      }));
      render();
    } catch {
      // 401 is handled globally; otherwise the next event retries.
    }
  }

  function scheduleRefetch() {
    refetchTimer ??= setTimeout(refetch, REFETCH_AFTER_MS);
  }

  const stream = openStream(null, {
    onEvent(event) {
      const row = rows.get(event.trajectory_id);
      if (row) {
        rows.set(event.trajectory_id, advanceSummary(row, event));
        render();
      }
      scheduleRefetch();
    },
    // The status an end sets, as the server derives it.
    onStatus({ trajectory_id: id, status }) {
      const row = rows.get(id);
      if (row) {
        rows.set(id, { ...row, status });
        render();
      }
    },
    // List presence is either one trajectory's watchers or a map of all of them.
    onPresence(presence) {
      const watching = presence.watching ?? { [presence.trajectory_id]: presence.watchers };
      for (const [id, row] of rows) {
        if (presence.watching || id in watching) {
          rows.set(id, { ...row, watchers: watching[id] || [] });
        }
      }
      render();
    },
    onOpen: (reconnected) => { if (reconnected) refetch(); },
  });
  refetch();

  return {
    close() {
      stream.close();
      clearTimeout(refetchTimer);
    },
  };
}
