// The trajectory view's header: title, status, counts, attention flag and watchers.
import { el } from "./dom.js";
import { bodyOf, formatTenths, kindOf, statusClass } from "./events.js";

/** Renders a summary row's status as a coloured pill (shared with the list). */
export function fillStatus(pill, status) {
  pill.className = `status-pill ${statusClass(status)}`;
  pill.textContent = status || "unknown";
}

/** Renders watcher names as chips (shared with the list). */
export function fillWatchers(container, names) {
  container.replaceChildren(...(names || []).map((name) => el("span", { class: "watcher" }, name)));
}

/** Renders the attention flag and its reasons (shared with the list). */
export function fillAttention(badge, row) {
  badge.hidden = !row.needs_attention;
  badge.textContent = row.needs_attention ? "⚑ needs attention" : "";
  badge.title = (row.attention_reasons || []).join("\n");
  if (row.needs_attention && row.attention_reasons?.length) {
    const reasons = `: ${row.attention_reasons.join("; ")}`;
    badge.append(el("span", { class: "attention-reasons" }, reasons));
  }
}

/** Wires the header inside the trajectory view `root`. */
export function createHeader(root, trajectoryId) {
  const title = root.querySelector(".traj-title");
  let taskTitle = "";
  let row = { trajectory_id: trajectoryId };

  function render() {
    title.textContent = taskTitle || row.task_id || trajectoryId;
    title.title = trajectoryId;
    fillStatus(root.querySelector(".status-pill"), row.status);
    root.querySelector(".traj-stats").textContent =
      `${row.steps ?? 0} steps · ${row.guidance_count ?? 0} guidance · `
      + `score ${formatTenths(row.final_score)}`;
    fillAttention(root.querySelector(".attention-badge"), row);
    document.title = `${taskTitle || row.task_id || "trajectory"} · Apollo`;
  }

  return {
    setRow(next) {
      row = next;
      render();
    },
    row: () => row,
    noteEvent(event) {
      if (kindOf(event) !== "trajectory_started") return;
      taskTitle = bodyOf(event).task_title || "";
      render();
    },
    setWatchers: (names) => fillWatchers(root.querySelector(".watchers"), names),
  };
}
