// Files in chat messages: the card (name, size, type, a status badge that follows the scan
// live, a download button only once clean) and the statuses missed while offline.
'use strict';

import { element } from './chat-dom.js';
import { fileTypeLabel } from './file-types.js';
import { humanSize } from './sizes.js';

const STATUS_TEXT = {
  pending: 'en análisis', clean: 'limpio', infected: 'bloqueado', deleted: 'borrado',
};
const NOTE = {
  pending: 'Se podrá descargar cuando termine el análisis.',
  infected: 'Bloqueado por el antivirus: no se puede descargar.',
};

/** The files API (GET list, /<id>/download), as the page's template gives it. */
export const filesApi = () => document.getElementById('chat').dataset.filesApi;

export function statusBadge(status) {
  return element('span', `badge badge-${status}`, STATUS_TEXT[status] ?? status);
}

/** «12 KB · Documento PDF». */
export function fileFacts(file) {
  return `${humanSize(file.size)} · ${fileTypeLabel(file.mime, file.name)}`;
}

function downloadLink(file) {
  const link = element('a', 'button small primary file-card-download', 'Descargar');
  link.href = `${filesApi()}/${encodeURIComponent(file.id)}/download`;
  link.setAttribute('download', '');
  link.setAttribute('aria-label', `Descargar ${file.name}`);
  return link;
}

/** A shared file's card as its latest known status shows it. */
export function fileCard(file) {
  const card = element('div', 'file-card');
  card.dataset.fileId = file.id;
  card.dataset.status = file.status;
  const head = element('div', 'file-card-head');
  if (file.status === 'deleted') {
    head.append(element('span', 'file-card-name', 'Archivo borrado'), statusBadge(file.status));
    card.append(head);
    return card;
  }
  head.append(element('span', 'file-card-name', file.name), statusBadge(file.status));
  card.append(head, element('span', 'file-card-facts', fileFacts(file)));
  const action = file.status === 'clean'
    ? downloadLink(file) : element('span', 'file-card-note', NOTE[file.status] ?? '');
  card.append(action);
  return card;
}

/** The files list now (GET), or [] offline. */
export async function listFiles() {
  try {
    const headers = { Accept: 'application/json' };
    const answer = await fetch(filesApi(), { headers, cache: 'no-store' });
    return answer.ok ? await answer.json() : [];
  } catch {
    return [];
  }
}

/** After a reconnect: the verdicts of files still shown «en análisis», as the list has them. */
export async function refreshPendingCards(store, update) {
  const pending = new Set();
  for (const conversation of store.items.values()) {
    for (const entry of conversation.entries) {
      if (entry.file?.status === 'pending') pending.add(entry.file.id);
    }
  }
  if (pending.size === 0) return;
  for (const file of await listFiles()) {
    if (pending.has(file.id) && file.status !== 'pending') update(file.id, file.status);
  }
}
