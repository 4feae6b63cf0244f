// The quarantine section: counts by status, infected files, rescan and delete (MicroNAS API).
'use strict';

import { api } from './admin-api.js';
import { confirmAction } from './confirm-dialog.js';
import {
  actionButton, buttonsCell, byId, dateTime, element, fillTable, NOT_AVAILABLE, showMessage,
} from './admin-dom.js';

const COUNT_IDS = { pending: 'count-pending', clean: 'count-clean', infected: 'count-infected' };

function verdict(file) {
  const engine = [file.scan_engine, file.scan_version].filter(Boolean).join(' ');
  return engine ? `${file.signature || '—'} (${engine})` : file.signature || '—';
}

function infectedRow(file) {
  const row = element('tr');
  row.dataset.fileId = file.id;
  row.append(
    element('td', 'file-name', file.name),
    element('td', '', file.uploaded_by),
    element('td', '', dateTime(file.scanned_at || file.uploaded_at)),
    element('td', 'verdict', verdict(file)),
    buttonsCell(actionButton('Eliminar', 'delete', file.id, 'small danger')),
  );
  return row;
}

/** Show the counts from the status API's "nas" part (null: MicroNAS not available). */
export function renderCounts(nas) {
  for (const [status, id] of Object.entries(COUNT_IDS)) {
    byId(id).textContent = nas ? String(nas.counts[status] ?? 0) : NOT_AVAILABLE;
  }
}

/** Load the infected files from the MicroNAS API. */
export async function loadInfected() {
  const answer = await api('GET', '/api/files?status=infected');
  if (!answer.ok) {
    fillTable(byId('infected-body'), [], NOT_AVAILABLE);
    return showMessage(byId('quarantine-message'), `Cuarentena ${NOT_AVAILABLE}: ${answer.message}`);
  }
  fillTable(byId('infected-body'), answer.data.map(infectedRow), 'No hay archivos infectados.');
}

/** Put a file reported live as infected at the top of the list (the counts follow the
 * file events). */
export function addInfected(file) {
  const body = byId('infected-body');
  if (body.querySelector(`tr[data-file-id="${CSS.escape(String(file.id))}"]`)) return;
  body.querySelector('td.empty')?.parentElement.remove();
  body.prepend(infectedRow({ ...file, scanned_at: new Date().toISOString() }));
}

async function deleteFile(id, name, onChange) {
  const sure = await confirmAction(`¿Eliminar «${name}»?`,
    'El archivo infectado se borrará del servidor. No se puede deshacer.', 'Eliminar');
  if (!sure) return;
  const answer = await api('DELETE', `/api/files/${encodeURIComponent(id)}`);
  showMessage(byId('quarantine-message'), answer.ok ? 'Archivo eliminado.' : answer.message, answer.ok ? 'ok' : 'error');
  if (answer.ok) await onChange();
}

async function rescan(onChange) {
  const answer = await api('POST', '/api/files/rescan');
  const queued = answer.ok && answer.data && Number.isInteger(answer.data.queued)
    ? ` (${answer.data.queued} en cola)` : '';
  const text = answer.ok ? `Reanálisis de pendientes solicitado${queued}.` : answer.message;
  showMessage(byId('quarantine-message'), text, answer.ok ? 'ok' : 'error');
  if (answer.ok) await onChange();
}

/** Wire the buttons; `onChange` reloads the list and the counts. */
export function initQuarantine(onChange) {
  byId('infected-body').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-action="delete"]');
    if (!button) return;
    const name = button.closest('tr').querySelector('.file-name').textContent;
    deleteFile(button.dataset.target, name, onChange);
  });
  byId('quarantine-rescan').addEventListener('click', () => rescan(onChange));
  byId('quarantine-refresh').addEventListener('click', () => {
    showMessage(byId('quarantine-message'), '');
    onChange();
  });
}
