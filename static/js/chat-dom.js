// Small DOM helpers of the chat page. Every user-supplied string goes in as text, never as HTML.
'use strict';

export const byId = (id) => document.getElementById(id);

/** An element with an optional class and text. */
export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Show `text` in an alert element, or hide it when `text` is empty. */
export function showAlert(node, text) {
  node.textContent = text;
  node.classList.toggle('hidden', !text);
}
