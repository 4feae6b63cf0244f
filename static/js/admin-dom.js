// Small DOM helpers for the admin page. User strings always go in as text, never as HTML.
'use strict';

import { fullDate } from './dates.js';

export const byId = (id) => document.getElementById(id);

// Roles, audit events and outcomes in Spanish: security/labels.py, as the page carries it.
const LABELS = JSON.parse(byId('admin').dataset.labels);

/** The Spanish label of `code` among `kind` ('roles', 'events', 'outcomes'), else the code. */
export function label(kind, code) {
  return LABELS[kind][code] || code;
}

/** A cell showing the label of `code`, the code itself in its tooltip. */
export function labelCell(kind, code) {
  const cell = element('td', '', label(kind, code));
  if (code && cell.textContent !== code) cell.title = code;
  return cell;
}

/** An element with an optional class and text. */
export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/** A table row of text cells. */
export function textRow(cells) {
  const row = element('tr');
  for (const cell of cells) row.append(element('td', '', cell));
  return row;
}

/** Replace a table body's rows; an empty list shows `emptyText` across all columns. Each
 * cell carries its column's name, which a phone shows beside it in stacked rows. */
export function fillTable(body, rows, emptyText) {
  const headers = [...body.closest('table').querySelectorAll('thead th')].map((th) => th.textContent);
  if (rows.length === 0) {
    const cell = element('td', 'muted empty', emptyText);
    cell.colSpan = headers.length;
    const row = element('tr');
    row.append(cell);
    body.replaceChildren(row);
    return;
  }
  for (const row of rows) {
    [...row.cells].forEach((cell, index) => { cell.dataset.label = headers[index]; });
  }
  body.replaceChildren(...rows);
}

/** Show a message in an alert paragraph: kind 'ok' or 'error'; an empty text hides it. */
export function showMessage(node, text, kind = 'error') {
  node.textContent = text || '';
  node.classList.toggle('hidden', !text);
  node.classList.toggle('alert-error', kind === 'error');
  node.classList.toggle('alert-ok', kind === 'ok');
}

/** «1 dic 2026, 16:05» for an ISO 8601 timestamp, or a dash. */
export function dateTime(iso) {
  return fullDate(iso) || '—';
}

/** A table cell holding a row of buttons. */
export function buttonsCell(...buttons) {
  const box = element('div', 'action-buttons');
  box.append(...buttons);
  const cell = element('td');
  cell.append(box);
  return cell;
}

/** A button that carries its action and target in data attributes. */
export function actionButton(text, action, target, className = 'small') {
  const button = element('button', className, text);
  button.type = 'button';
  button.dataset.action = action;
  button.dataset.target = target;
  return button;
}

export const NOT_AVAILABLE = 'no disponible';
