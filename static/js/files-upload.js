// Uploading one file: picker or drag and drop, a real progress bar (XHR upload events), cancel.
'use strict';

/**
 * Wire the upload control. `onUploaded(fileJson)` gets each 201 answer; `say(text, kind)`
 * shows a message; `failureText(status, body, retryAfter)` words a refusal.
 */
export function setupUpload({ api, csrfToken, maxBytes, failureText, onUploaded, say }) {
  const input = document.getElementById('upload-input');
  const zone = document.getElementById('drop-zone');
  const box = document.getElementById('upload-progress');
  const bar = document.getElementById('upload-bar');
  const percent = document.getElementById('upload-percent');
  const cancel = document.getElementById('upload-cancel');
  let current = null;

  function setProgress(fraction) {
    const value = Math.min(100, Math.round(fraction * 100));
    bar.value = value;
    percent.textContent = `${value} %`;
  }

  function finished(stored) {
    current = null;
    cancel.classList.add('hidden');
    box.classList.toggle('hidden', !stored);
    zone.classList.remove('busy');
    input.value = '';
  }

  function answered(xhr, file) {
    const body = xhr.response;
    finished(xhr.status === 201);
    if (xhr.status === 201 && body) {
      setProgress(1);
      onUploaded(body);
    } else if (xhr.status === 401) {
      window.location.assign(document.getElementById('files').dataset.loginUrl);
    } else {
      const retryAfter = xhr.getResponseHeader('Retry-After');
      say(`«${file.name}»: ${failureText(xhr.status, body, retryAfter)}`, 'error');
    }
  }

  function start(file) {
    if (!file) return;
    if (current) {
      say('Espere a que termine la subida en curso.', 'error');
      return;
    }
    if (file.size > maxBytes) {
      say(`«${file.name}»: ${failureText(413)}`, 'error');
      return;
    }
    const form = new FormData();
    form.append('file', file);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', api);
    xhr.responseType = 'json';
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('X-CSRFToken', csrfToken);
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) setProgress(event.loaded / event.total);
    });
    xhr.addEventListener('load', () => answered(xhr, file));
    xhr.addEventListener('error', () => {
      finished();
      say(`«${file.name}»: ${failureText(0)}`, 'error');
    });
    xhr.addEventListener('abort', () => {
      finished();
      say(`Subida de «${file.name}» cancelada.`, 'ok');
    });
    document.getElementById('upload-name').textContent = file.name;
    setProgress(0);
    box.classList.remove('hidden');
    cancel.classList.remove('hidden');
    zone.classList.add('busy');
    say('Subiendo…', 'ok');
    current = xhr;
    xhr.send(form);
  }

  cancel.addEventListener('click', () => current?.abort());
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
