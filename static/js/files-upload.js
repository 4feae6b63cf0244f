// The files page's upload control: a picker or drag and drop, then upload-progress.js.
'use strict';

import { uploadWithProgress, uploading } from './upload-progress.js';

/**
 * Wire the upload control. `onUploaded(fileJson)` gets each 201 answer; `say(text, kind)`
 * shows a message; `failureText(status, body, retryAfter)` words a refusal.
 */
export function setupUpload({ api, csrfToken, maxBytes, failureText, onUploaded, say }) {
  const input = document.getElementById('upload-input');
  const zone = document.getElementById('drop-zone');

  function answered({ status, body, retryAfter, aborted }, file) {
    zone.classList.remove('busy');
    input.value = '';
    if (aborted) {
      say(`Subida de «${file.name}» cancelada.`, 'ok');
    } else if (status === 201 && body) {
      onUploaded(body);
    } else if (status === 401) {
      window.location.assign(document.getElementById('files').dataset.loginUrl);
    } else {
      say(`«${file.name}»: ${failureText(status, body, retryAfter)}`, 'error');
    }
  }

  async function start(file) {
    if (!file) return;
    if (uploading()) {
      say('Espere a que termine la subida en curso.', 'error');
      return;
    }
    if (file.size > maxBytes) {
      say(`«${file.name}»: ${failureText(413)}`, 'error');
      return;
    }
    zone.classList.add('busy');
    say('Subiendo…', 'ok');
    answered(await uploadWithProgress({ api, csrfToken, file }), file);
  }

  input.addEventListener('change', () => start(input.files[0]));
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('dragging');
    const dropped = event.dataTransfer.files;
    if (dropped.length > 1) say('Suba los archivos de uno en uno.', 'error');
    else start(dropped[0]);
  });
  // A file dropped beside the zone must not make the browser navigate away to open it.
  window.addEventListener('dragover', (event) => event.preventDefault());
  window.addEventListener('drop', (event) => event.preventDefault());
}
