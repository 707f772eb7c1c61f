// DOM building blocks. Every piece of data (agent output, guidance, names) enters the
// page through text nodes, so markup inside it is shown, never interpreted.

/** Creates an element; string children become text nodes, never HTML. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  appendAll(node, children);
  return node;
}

/** Appends nodes and strings (as text) to a parent, skipping empty values. */
export function appendAll(parent, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false || child === "") continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** A fresh copy of a <template> from index.html. */
export function fromTemplate(id) {
  return document.getElementById(id).content.firstElementChild.cloneNode(true);
}

const NOT_TYPED_INTO = new Set(["checkbox", "radio", "button", "submit", "reset"]);

/** True when keyboard focus is in a text field, where shortcuts must not fire. */
export function isTyping(target) {
  if (!(target instanceof HTMLElement)) return false;
  if (target.tagName === "INPUT") return !NOT_TYPED_INTO.has(target.type);
  return target.isContentEditable || ["TEXTAREA", "SELECT"].includes(target.tagName);
}
