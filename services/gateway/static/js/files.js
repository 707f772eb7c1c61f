// File-change history: which step changed which file with which tool, newest first.
// The server's snapshot is authoritative; successful live file edits are appended.
import { el } from "./dom.js";
import { argumentsOf, stepOf } from "./events.js";

const FILE_TOOLS = new Set(["create_file", "edit_file"]);

/** Creates the panel in `root` (an <ol>); `jumpToStep` scrolls the timeline. */
export function createFileChanges(root, { jumpToStep }) {
  let changes = [];

  function render() {
    if (changes.length === 0) {
      root.replaceChildren(el("li", { class: "muted" }, "No file changes yet."));
      return;
    }
    root.replaceChildren(...changes.slice().reverse().map((change) =>
      el("li", {},
        el("button",
          { type: "button", class: "link-button", onclick: () => jumpToStep(change.step) },
          `#${change.step}`),
        el("span", { class: "file-tool muted" }, change.tool),
        el("span", { class: "file-path" }, change.path))));
  }

  return {
    reset(list) {
      changes = [...(list || [])];
      render();
    },
    observe(observationBody, actionBody) {
      const tool = actionBody?.tool_call?.name;
      const path = argumentsOf(actionBody).path;
      if (!observationBody.success || !FILE_TOOLS.has(tool) || typeof path !== "string") return;
      changes.push({ step: stepOf(actionBody), path, tool });
      render();
    },
  };
}
