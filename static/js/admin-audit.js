// The audit section: filters, pages of rows newest first, and CSV export of the same filters.
'use strict';

import { api } from './admin-api.js';
import { byId, dateTime, element, fillTable, labelCell, showMessage } from './admin-dom.js';

const PAGE_SIZE = 50;
let page = 0;

/** Local midnight of a yyyy-mm-dd date, `addDays` later, as a UTC ISO 8601 instant. */
function localMidnight(day, addDays = 0) {
  const date = new Date(`${day}T00:00:00`);
  date.setDate(date.getDate() + addDays);
  return date.toISOString();
}

/** The query string for the filter form; dates are local days and "Hasta" includes its day. */
function filterQuery() {
  const form = byId('audit-filters');
  const query = new URLSearchParams();
  for (const name of ['event', 'user']) {
    const value = form.elements[name].value.trim();
    if (value) query.set(name, value);
  }
  if (form.elements.since.value) query.set('since', localMidnight(form.elements.since.value));
  if (form.elements.until.value) query.set('until', localMidnight(form.elements.until.value, 1));
  return query;
}

/** A row of the trail: event and outcome in Spanish, their codes in the tooltips. */
function auditRow(row) {
  const line = element('tr');
  const text = (value) => element('td', '', value);
  line.append(
    text(dateTime(row.ts)), labelCell('events', row.event), text(row.user), text(row.ip),
    text(row.target), labelCell('outcomes', row.outcome), text(row.detail),
  );
  return line;
}

/** Load the current page with the current filters. */
export async function loadAudit() {
  const query = filterQuery();
  byId('audit-export').href = `/api/admin/audit.csv?${query}`;
  query.set('limit', PAGE_SIZE);
  query.set('offset', page * PAGE_SIZE);
  const answer = await api('GET', `/api/admin/audit?${query}`);
  showMessage(byId('audit-message'), answer.ok ? '' : answer.message);
  const rows = answer.ok ? answer.data : [];
  fillTable(byId('audit-body'), rows.map(auditRow), 'Ningún evento coincide con el filtro.');
  byId('audit-page').textContent = `Página ${page + 1}`;
  byId('audit-prev').disabled = page === 0;
  byId('audit-next').disabled = rows.length < PAGE_SIZE;
}

/** Wire the filter form and the pager. */
export function initAudit() {
  byId('audit-filters').addEventListener('submit', (event) => {
    event.preventDefault();
    page = 0;
    loadAudit();
  });
  byId('audit-prev').addEventListener('click', () => {
    page = Math.max(0, page - 1);
    loadAudit();
  });
  byId('audit-next').addEventListener('click', () => {
    page += 1;
    loadAudit();
  });
}
