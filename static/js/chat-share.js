// Sharing a file into the open conversation: the clip's dialog (a file already in MicroNAS, found
// by name, or a new upload), a file dropped on the conversation, an image pasted into the
// composer. Uploads go through POST /api/files with the page's progress bar.
'use strict';

import { byId, element, showAlert } from './chat-dom.js';
import { fileFacts, filesApi, listFiles, statusBadge } from './chat-files.js';
import { folded } from './chat-words.js';
import { hideUploadProgress, uploadWithProgress, uploading } from './upload-progress.js';

// The picker lists this many matches; typing more of the name narrows them.
const LISTED = 50;
const NO_UPLOAD = 'Su cuenta no puede subir archivos: pulse el clip para compartir uno que ya '
  + 'esté en Archivos.';
const CSRF_TOKEN = () => document.querySelector('meta[name="csrf-token"]').content;

function failureText({ status, body, retryAfter }, maxMb) {
  if (body?.message && status === 429 && retryAfter) return `${body.message} (${retryAfter} s)`;
  if (body?.message) return body.message;
  if (status === 0) return 'Sin conexión con el servidor. Inténtelo de nuevo.';
  if (status === 413) return `El archivo supera el máximo de ${maxMb} MB.`;
  return `El servidor respondió ${status}.`;
}

const carriesFiles = (event) => [...(event.dataTransfer?.types ?? [])].includes('Files');

/** «la sala proyecto», «la conversación con ana», «la sala general». */
function placeName({ kind, title }) {
  const names = { lobby: 'la sala general', dm: `la conversación con ${title}` };
  return names[kind] ?? `la sala ${title}`;
}

export class FileSharing {
  /**
   * `root` carries data-can-upload and data-max-mb. `page` gives the store and the outbox,
   * `showLatest(conversation)` and `showError(text)`; `onSessionEnded()` runs when an upload
   * finds the session gone.
   */
  constructor(root, page, onSessionEnded) {
    this.canUpload = root.dataset.canUpload === 'true';
    this.maxMb = Number(root.dataset.maxMb);
    this.page = page;
    this.onSessionEnded = onSessionEnded;
    this.dialog = byId('share-dialog');
    this.files = [];
    this.bindDialog();
    this.bindDrop(byId('chat-main'));
    byId('composer-text').addEventListener('paste', (event) => this.onPaste(event));
  }

  target() {
    return this.page.store.activeId;
  }

  describe() {
    return placeName(this.page.store.active());
  }

  showError(text) {
    this.page.showError(text);
  }

  /** Share `file` (its JSON from MicroNAS) into conversation `id`, through the outbox. */
  share(id, file) {
    const { store, outbox } = this.page;
    const conversation = store.get(id);
    if (!conversation) return;
    const { name, size, mime, status } = file;
    const entry = store.addPending(conversation, '', { id: file.id, name, size, mime, status });
    this.page.showLatest(conversation);
    outbox.push(entry);
  }

  bindDialog() {
    byId('attach-file').addEventListener('click', () => this.open());
    byId('share-cancel').addEventListener('click', () => this.dialog.close());
    byId('share-search').addEventListener('input', () => this.renderList());
    const input = byId('share-upload-input');
    byId('share-upload').addEventListener('click', () => input.click());
    input.addEventListener('change', () => {
      const [file] = input.files;
      input.value = '';
      this.dialog.close();
      if (file) this.upload(file, this.shareTo);
    });
  }

  /** The picker, for the conversation open now: upload (if allowed) or pick a listed file. */
  async open() {
    this.shareTo = this.target();
    byId('share-where').textContent = `Se compartirá en ${this.describe()}.`;
    byId('share-upload-box').classList.toggle('hidden', !this.canUpload);
    byId('share-search').value = '';
    this.files = null;
    this.renderList();
    this.dialog.showModal();
    this.files = (await listFiles()).filter((file) => file.status !== 'infected' && !file.missing);
    this.renderList();
  }

  /** The files whose name holds what is typed in the search box (nothing while loading). */
  renderList() {
    const typed = byId('share-search').value.trim();
    const found = (this.files ?? []).filter((file) => folded(file.name).includes(folded(typed)));
    const items = found.slice(0, LISTED).map((file) => this.listItem(file));
    byId('share-list').replaceChildren(...items);
    let note = '';
    if (this.files?.length === 0) note = 'Todavía no hay archivos en Archivos.';
    else if (this.files && found.length === 0) note = `Ningún archivo se llama «${typed}».`;
    showAlert(byId('share-note'), note);
  }

  listItem(file) {
    const button = element('button', 'share-pick');
    button.type = 'button';
    button.dataset.fileId = file.id;
    const head = element('span', 'file-card-head');
    head.append(element('span', 'file-card-name', file.name), statusBadge(file.status));
    const facts = `${fileFacts(file)} · ${file.uploaded_by}`;
    button.append(head, element('span', 'file-card-facts', facts));
    button.setAttribute('aria-label', `Compartir ${file.name}`);
    button.addEventListener('click', () => {
      this.dialog.close();
      this.share(this.shareTo, file);
    });
    const item = element('li');
    item.append(button);
    return item;
  }

  bindDrop(zone) {
    const overlay = byId('drop-overlay');
    zone.addEventListener('dragover', (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      overlay.textContent = this.canUpload
        ? `Suelte el archivo para compartirlo en ${this.describe()}` : NO_UPLOAD;
      overlay.classList.remove('hidden');
    });
    zone.addEventListener('dragleave', (event) => {
      if (!zone.contains(event.relatedTarget)) overlay.classList.add('hidden');
    });
    zone.addEventListener('drop', (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      overlay.classList.add('hidden');
      const dropped = [...(event.dataTransfer?.files ?? [])];
      if (dropped.length > 1) this.showError('Comparta los archivos de uno en uno.');
      else if (dropped.length === 1) this.upload(dropped[0], this.target());
    });
    // A file dropped beside the conversation must not make the browser navigate away to it
    // (text dragged into the composer still lands there).
    for (const type of ['dragover', 'drop']) {
      window.addEventListener(type, (event) => {
        if (carriesFiles(event)) event.preventDefault();
      });
    }
  }

  onPaste(event) {
    const pasted = [...(event.clipboardData?.files ?? [])];
    const image = pasted.find((file) => file.type.startsWith('image/'));
    if (!image) return;
    event.preventDefault();
    this.upload(image, this.target());
  }

  /** Upload `file`, then share it into conversation `id` (the one open when it was chosen). */
  async upload(file, id) {
    if (!this.canUpload) {
      this.showError(NO_UPLOAD);
      return;
    }
    if (uploading()) {
      this.showError('Espere a que termine la subida en curso.');
      return;
    }
    if (file.size > this.maxMb * 1024 * 1024) {
      this.showError(`«${file.name}»: El archivo supera el máximo de ${this.maxMb} MB.`);
      return;
    }
    this.showError('');
    const answer = await uploadWithProgress({ api: filesApi(), csrfToken: CSRF_TOKEN(), file });
    hideUploadProgress();
    if (answer.status === 201 && answer.body) this.share(id, answer.body);
    else if (answer.status === 401) this.onSessionEnded();
    else if (!answer.aborted) this.showError(`«${file.name}»: ${failureText(answer, this.maxMb)}`);
  }
}
