// Keyword search over the timeline with jump to next/previous match. Matches are
// highlighted by splitting the text of "searchable" elements (which hold only text)
// into text nodes and <mark>s; clearing puts the original text back.
import { el } from "./dom.js";

/** Wires the search form to the timeline `root`; returns {refresh, focus}. */
export function createSearch(form, root) {
  const input = form.elements.q;
  const counter = form.querySelector(".search-count");
  let highlighted = []; // [element, original text]
  let matches = [];
  let current = -1;

  function clear() {
    for (const [element, original] of highlighted) element.textContent = original;
    highlighted = [];
    matches = [];
  }

  function highlight(element, needle) {
    const original = element.textContent;
    const haystack = original.toLowerCase();
    let at = haystack.indexOf(needle);
    if (at < 0) return;
    highlighted.push([element, original]);
    const parts = [];
    let from = 0;
    while (at >= 0) {
      parts.push(original.slice(from, at));
      const mark = el("mark", {}, original.slice(at, at + needle.length));
      matches.push(mark);
      parts.push(mark);
      from = at + needle.length;
      at = haystack.indexOf(needle, from);
    }
    parts.push(original.slice(from));
    element.replaceChildren(...parts.filter(Boolean)); // strings become text nodes
  }

  function show(index, scroll) {
    matches[current]?.classList.remove("current");
    current = matches.length ? (index + matches.length) % matches.length : -1;
    counter.textContent = input.value.trim() ? `${current + 1}/${matches.length}` : "";
    const mark = matches[current];
    if (!mark) return;
    mark.classList.add("current");
    if (!scroll) return;
    // A match inside a collapsed summary or description must be visible to jump to.
    for (let node = mark.parentElement; node && node !== root; node = node.parentElement) {
      if (node.tagName === "DETAILS") node.open = true;
    }
    mark.scrollIntoView({ block: "center" });
  }

  /** Re-runs the search (after new events) keeping the reader's position. */
  function refresh({ scroll = false } = {}) {
    const keep = Math.max(current, 0);
    clear();
    const needle = input.value.trim().toLowerCase();
    if (needle) {
      root.querySelectorAll(".searchable").forEach((element) => highlight(element, needle));
    }
    show(scroll ? 0 : keep, scroll);
  }

  input.addEventListener("input", () => refresh({ scroll: true }));
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      show(current + (event.shiftKey ? -1 : 1), true);
    } else if (event.key === "Escape") {
      input.value = "";
      refresh();
      input.blur();
    }
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  form.querySelector(".search-next").addEventListener("click", () => show(current + 1, true));
  form.querySelector(".search-prev").addEventListener("click", () => show(current - 1, true));

  return { refresh, focus: () => input.focus() };
}
