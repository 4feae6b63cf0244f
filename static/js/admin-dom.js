// Small DOM helpers for the admin page. User strings always go in as text, never as HTML.
'use strict';

export const byId = (id) => document.getElementById(id);

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

/** Replace a table body's rows; an empty list shows `emptyText` across all columns. */
export function fillTable(body, rows, emptyText) {
  if (rows.length === 0) {
    const cell = element('td', 'muted', emptyText);
    cell.colSpan = body.closest('table').querySelectorAll('thead th').length;
    const row = element('tr');
    row.append(cell);
    body.replaceChildren(row);
  } else {
    body.replaceChildren(...rows);
  }
}

/** Show a message in an alert paragraph: kind 'ok' or 'error'; an empty text hides it. */
export function showMessage(node, text, kind = 'error') {
  node.textContent = text || '';
  node.classList.toggle('hidden', !text);
  node.classList.toggle('alert-error', kind === 'error');
  node.classList.toggle('alert-ok', kind === 'ok');
}

/** A local date and time for an ISO 8601 timestamp, or a dash. */
export function dateTime(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString('es-ES');
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
