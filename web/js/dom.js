/* Building the page safely. User text (messages, pseudonyms, room names, topics, reasons)
 * only ever enters the page as text nodes, never as HTML; the pages run under a strict CSP
 * (no inline scripts or styles). */

export const $ = (id) => document.getElementById(id);

/* Build an element. attrs: {class, text, dataset: {...}, on: {event: fn}, any other attribute}.
 * children: nodes or strings (strings become text nodes). */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = String(value);
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key === "on") {
        for (const [ev, fn] of Object.entries(value)) node.addEventListener(ev, fn);
      } else if (value === true) node.setAttribute(key, "");
      else node.setAttribute(key, String(value));
    }
  }
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}
