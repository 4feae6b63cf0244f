// The files page: a list kept live over Socket.IO, uploads with progress, downloads, deletes.
// User strings (names, signatures) are only ever set with textContent.
'use strict';

import { confirmAction } from './confirm-dialog.js';
import { fullDate } from './dates.js';
import { fileTypeLabel } from './file-types.js';
import { setupUpload } from './files-upload.js';
import { humanSize } from './sizes.js';

const root = document.getElementById('files');
const CSRF_TOKEN = document.querySelector('meta[name="csrf-token"]').content;
const API = root.dataset.apiUrl;
const CAN_DELETE = root.dataset.canDelete === 'true';
const ME = root.dataset.username;
const MAX_BYTES = Number(root.dataset.maxBytes);

const STATUS_TEXT = { pending: 'en análisis', clean: 'limpio', infected: 'bloqueado' };
const NEXT_FOR_UPLOADER = 'Un administrador lo revisará; no se puede descargar.';
const FAILURE_TEXT = {
  0: 'Sin conexión con el servidor. Inténtelo de nuevo.',
  413: `El archivo supera el máximo de ${root.dataset.maxMb} MB.`,
  415: 'Tipo de archivo no permitido.',
  429: 'Demasiadas peticiones seguidas. Espere un momento.',
};

const files = new Map(); // id -> the file's JSON
const rows = new Map(); // id -> its <li>
const myUploads = new Set(); // ids uploaded from this page and still pending: verdict shown
const list = document.getElementById('file-list');
const itemTemplate = document.getElementById('file-item');

let leaving = false; // a navigation (the logout form, a link) is under way: let it finish
window.addEventListener('beforeunload', () => { leaving = true; });

function goToLogin() {
  if (!leaving) window.location.assign(root.dataset.loginUrl);
}

function showMessage(id, text, kind) {
  const box = document.getElementById(id);
  if (!box) return;
  box.textContent = text;
  box.className = `alert alert-${kind}`;
}

function sayUpload(text, kind) {
  showMessage('upload-message', text, kind);
}

/** Blocked files are shown only to those who can act on them: administrators and the
 * uploader (the server lists no others; live events reach every page, so they are filtered
 * here too). */
function visible(file) {
  return file.status !== 'infected' || CAN_DELETE || file.uploaded_by === ME;
}

/** The verdict in plain words: engines and hashes stay in the tooltip. */
function scanText(file) {
  if (file.missing) return 'El archivo falta en el servidor.';
  if (file.status === 'pending') return 'Analizándolo: se podrá descargar cuando termine.';
  const when = file.scanned_at ? ` · ${fullDate(file.scanned_at)}` : '';
  if (file.status === 'clean') return `Sin amenazas${when}`;
  if (CAN_DELETE) return `Bloqueado: contiene ${file.signature}${when}`;
  return `Bloqueado: un administrador lo revisará; no se puede descargar${when}`;
}

function scanDetails(file) {
  return file.scan_engine ? `Analizado con ${file.scan_engine} ${file.scan_version || ''}`.trim() : '';
}

/** Newest first, ties by id: the order the server lists. ISO times in UTC sort as text once
 * each has its fraction of a second ("…:05+00:00" has none). */
function sortKey(file) {
  const iso = String(file.uploaded_at || '').replace(/T(\d\d:\d\d:\d\d)(?!\.)/, 'T$1.000000');
  return `${iso} ${file.id}`;
}

function renderItem(file) {
  const item = itemTemplate.content.firstElementChild.cloneNode(true);
  item.dataset.id = file.id;
  item.dataset.status = file.status;
  item.querySelector('.file-name').textContent = file.name;
  const badge = item.querySelector('.badge');
  badge.textContent = file.missing ? 'no disponible' : STATUS_TEXT[file.status];
  badge.classList.add(`badge-${file.missing ? 'missing' : file.status}`);
  item.querySelector('.file-size').textContent = humanSize(file.size);
  const type = item.querySelector('.file-type');
  type.textContent = fileTypeLabel(file.mime, file.name);
  type.title = file.mime;
  item.querySelector('.file-uploader').textContent = file.uploaded_by;
  item.querySelector('.file-date').textContent = fullDate(file.uploaded_at);
  const scan = item.querySelector('.file-scan');
  scan.textContent = scanText(file);
  scan.title = scanDetails(file);
  const download = item.querySelector('.file-download');
  if (file.status === 'clean' && !file.missing) {
    download.href = `${API}/${encodeURIComponent(file.id)}/download`;
    download.classList.remove('hidden');
  }
  const remove = item.querySelector('.file-delete');
  if (CAN_DELETE) {
    remove.classList.remove('hidden');
    remove.addEventListener('click', () => confirmDelete(file.id));
  }
  return item;
}

function updateCount() {
  document.getElementById('files-count').textContent = files.size ? `(${files.size})` : '';
  document.getElementById('files-empty').classList.toggle('hidden', files.size > 0);
}

/** Show `file` in its place in the list (the list's own order, not arrival order). */
function show(file) {
  const item = renderItem(file);
  rows.get(file.id)?.remove();
  const key = sortKey(file);
  const next = [...list.children].find((row) => sortKey(files.get(row.dataset.id)) < key);
  list.insertBefore(item, next || null);
  rows.set(file.id, item);
  updateCount();
}

/** Merge news about a file; a late "pending" never hides a verdict already shown. */
function merge(update) {
  const known = files.get(update.id);
  if (!known && !update.name) return; // a status for a file this page has not seen yet
  if (known && known.status !== 'pending' && update.status === 'pending') return;
  const file = { ...known, ...update };
  if (!visible(file)) {
    forget(file.id);
    return;
  }
  files.set(file.id, file);
  show(file);
  // The lobby's bare "blocked" notice comes first; the uploader's own, with why, follows.
  const verdict = file.status !== 'pending' && 'signature' in update;
  if (verdict && myUploads.delete(file.id)) tellUploader(file);
}

/** The uploader learns the verdict: blocked (why, and what happens next) or ready. */
function tellUploader(file, message) {
  if (file.status === 'infected') {
    const why = message || `Archivo bloqueado: contiene ${file.signature}.`;
    sayUpload(`${why} ${NEXT_FOR_UPLOADER}`, 'error');
  } else {
    sayUpload(`«${file.name}» está limpio: ya se puede descargar.`, 'ok');
  }
}

/** A 201 answer: show the file, then its verdict now or when the scan ends. */
function onUploaded(file) {
  merge(file);
  const now = files.get(file.id);
  if (now.status !== 'pending') {
    tellUploader(now, file.message);
  } else {
    myUploads.add(file.id);
    sayUpload(`«${now.name}» subido. Analizándolo…`, 'ok');
  }
}

function forget(id) {
  files.delete(id);
  rows.get(id)?.remove();
  rows.delete(id);
  updateCount();
}

function replaceAll(all) {
  for (const id of [...files.keys()]) forget(id);
  for (const file of all) merge(file);
}

/** The whole list again, after a reconnect (events may have been missed meanwhile). */
async function reload() {
  try {
    const answer = await fetch(API, { headers: { Accept: 'application/json' }, cache: 'no-store' });
    if (answer.status === 401) goToLogin();
    else if (answer.ok) replaceAll(await answer.json());
  } catch {
    // Offline again: the next reconnect reloads.
  }
}

function failureText(status, body, retryAfter) {
  let text = (body && body.message) || FAILURE_TEXT[status] || `El servidor respondió ${status}.`;
  if (status === 429 && retryAfter) text += ` Vuelva a intentarlo en ${retryAfter} s.`;
  return text;
}

// ---- Delete, for administrators, after the page's confirmation dialog.

async function confirmDelete(id) {
  const name = files.get(id)?.name || '';
  const sure = await confirmAction(`¿Borrar «${name}»?`,
    'Se borrará del servidor para todos. No se puede deshacer.', 'Borrar');
  if (sure) await deleteFile(id);
}

async function deleteFile(id) {
  let answer;
  try {
    answer = await fetch(`${API}/${encodeURIComponent(id)}`, {
      method: 'DELETE',
      headers: { Accept: 'application/json', 'X-CSRFToken': CSRF_TOKEN },
    });
  } catch {
    showMessage('list-message', FAILURE_TEXT[0], 'error');
    return;
  }
  if (answer.status === 401) goToLogin();
  else if (answer.status === 204 || answer.status === 404) forget(id);
  else {
    const body = await answer.json().catch(() => null);
    const retryAfter = answer.headers.get('Retry-After');
    showMessage('list-message', failureText(answer.status, body, retryAfter), 'error');
  }
}

// ---- Socket.IO: status changes arrive without reloading or polling.

function watchSocket() {
  const status = document.getElementById('connection-status');
  const socket = window.io();
  let connectedBefore = false;
  socket.on('connect', () => {
    status.textContent = 'Actualización en vivo';
    if (connectedBefore) reload();
    connectedBefore = true;
  });
  socket.on('disconnect', (reason) => {
    if (reason === 'io server disconnect') goToLogin();
    else status.textContent = 'Sin conexión: reconectando…';
  });
  socket.on('file_added', merge);
  socket.on('file_status', merge);
  socket.on('file_deleted', ({ id }) => forget(id));
}

replaceAll(JSON.parse(document.getElementById('files-data').textContent));
watchSocket();
if (document.getElementById('upload')) {
  setupUpload({ api: API, csrfToken: CSRF_TOKEN, maxBytes: MAX_BYTES, failureText, onUploaded, say: sayUpload });
}
