// The files page: a list kept live over Socket.IO, uploads with progress, downloads, deletes.
// User strings (names, signatures) are only ever set with textContent.
'use strict';

import { setupUpload } from './files-upload.js';
import { humanSize } from './sizes.js';

const root = document.getElementById('files');
const CSRF_TOKEN = document.querySelector('meta[name="csrf-token"]').content;
const API = root.dataset.apiUrl;
const CAN_DELETE = root.dataset.canDelete === 'true';
const MAX_BYTES = Number(root.dataset.maxBytes);

const STATUS_TEXT = { pending: 'en análisis', clean: 'limpio', infected: 'bloqueado' };
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
const dateFormat = new Intl.DateTimeFormat('es-ES', { dateStyle: 'short', timeStyle: 'short' });

function goToLogin() {
  window.location.assign(root.dataset.loginUrl);
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

function formatDate(iso) {
  return iso ? dateFormat.format(new Date(iso)) : '';
}

function scanText(file) {
  if (file.missing) return 'El archivo falta en el servidor.';
  if (!file.scan_engine) return 'Esperando al analizador…';
  const found = file.signature ? ` · contiene ${file.signature}` : '';
  const when = formatDate(file.scanned_at);
  return `Analizado con ${file.scan_version} (${file.scan_engine}) · ${when}${found}`;
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
  item.querySelector('.file-type').textContent = file.mime;
  item.querySelector('.file-uploader').textContent = file.uploaded_by;
  item.querySelector('.file-date').textContent = formatDate(file.uploaded_at);
  item.querySelector('.file-scan').textContent = scanText(file);
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

/** Show `file` in its place, newest first (ISO times in UTC sort as text). */
function show(file) {
  const item = renderItem(file);
  const old = rows.get(file.id);
  if (old) {
    old.replaceWith(item);
  } else {
    const next = [...rows.entries()].find(([id]) => files.get(id).uploaded_at < file.uploaded_at);
    list.insertBefore(item, next ? next[1] : null);
  }
  rows.set(file.id, item);
  updateCount();
}

/** Merge news about a file; a late "pending" never hides a verdict already shown. */
function merge(update) {
  const known = files.get(update.id);
  if (!known && !update.name) return; // a status for a file this page has not seen yet
  if (known && known.status !== 'pending' && update.status === 'pending') return;
  const file = { ...known, ...update };
  files.set(file.id, file);
  show(file);
  if (file.status !== 'pending' && myUploads.delete(file.id)) tellUploader(file);
}

/** The uploader learns the verdict: blocked (and why) or ready to download. */
function tellUploader(file, message) {
  if (file.status === 'infected') {
    sayUpload(message || `Archivo bloqueado: contiene ${file.signature}.`, 'error');
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

// ---- Delete, for administrators, after a confirmation dialog.

const deleteDialog = document.getElementById('delete-dialog');

function confirmDelete(id) {
  document.getElementById('delete-name').textContent = files.get(id)?.name || '';
  deleteDialog.returnValue = '';
  deleteDialog.addEventListener('close', () => {
    if (deleteDialog.returnValue === 'delete') deleteFile(id);
  }, { once: true });
  deleteDialog.showModal();
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
