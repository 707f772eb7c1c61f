// The terminal panel: the latest command and output of every session. The server's
// snapshot is authoritative; between snapshots, live observations of session tools
// (anything with a `session` argument) update it.
import { el } from "./dom.js";
import { argumentsOf, parseJson } from "./events.js";

/** Creates the panel in `root`; returns {reset(sessions), observe(observation, action)}. */
export function createTerminal(root) {
  const sessions = new Map(); // name → {session, last_command, output, idle}

  function render() {
    if (sessions.size === 0) {
      root.replaceChildren(el("p", { class: "terminal-empty" }, "No sessions yet."));
      return;
    }
    root.replaceChildren(...[...sessions.values()].map((s) => {
      const output = el("pre", { class: "terminal-output" }, s.output || "");
      return el("div", { class: "session", dataset: { session: s.session } },
        el("div", { class: "session-head" },
          el("span", { class: "session-name" }, s.session),
          el("span", { class: `session-state ${s.idle ? "idle" : "busy"}` },
            s.idle ? "idle" : "running")),
        s.last_command ? el("div", { class: "terminal-command" }, `$ ${s.last_command}`) : null,
        output);
    }));
    // Show the end of each output, as a terminal would.
    for (const pre of root.querySelectorAll(".terminal-output")) pre.scrollTop = pre.scrollHeight;
  }

  return {
    reset(list) {
      sessions.clear();
      for (const s of list || []) sessions.set(s.session, { ...s });
      render();
    },
    observe(observationBody, actionBody) {
      const args = argumentsOf(actionBody);
      if (typeof args.session !== "string") return;
      const previous = sessions.get(args.session) || { session: args.session, idle: false };
      const details = parseJson(observationBody.observation_json) || {};
      sessions.set(args.session, {
        ...previous,
        last_command: typeof args.command === "string" ? args.command : previous.last_command,
        output: typeof details.output === "string" ? details.output : previous.output,
        idle: typeof details.idle === "boolean" ? details.idle : previous.idle,
      });
      render();
    },
  };
}
