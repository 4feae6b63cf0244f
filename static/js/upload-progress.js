// Sending one file to MicroNAS (POST /api/files) with a real progress bar (XHR upload events)
// and a cancel button: the files page and the chat page share it. The page holds the box
// #upload-progress with #upload-name, #upload-bar, #upload-percent and #upload-cancel.
'use strict';

const byId = (id) => document.getElementById(id);
let current = null;

function setProgress(fraction) {
  const value = Math.min(100, Math.round(fraction * 100));
  byId('upload-bar').value = value;
  byId('upload-percent').textContent = `${value} %`;
}

/** Whether an upload is under way (one at a time). */
export function uploading() {
  return current !== null;
}

/** Hide the progress box (a finished upload leaves it showing 100 %). */
export function hideUploadProgress() {
  byId('upload-progress').classList.add('hidden');
}

function send(api, csrfToken, file) {
  const xhr = new XMLHttpRequest();
  const answered = new Promise((resolve) => {
    xhr.addEventListener('load', () => resolve({
      status: xhr.status, body: xhr.response, retryAfter: xhr.getResponseHeader('Retry-After'),
    }));
    xhr.addEventListener('error', () => resolve({ status: 0, body: null }));
    xhr.addEventListener('abort', () => resolve({ status: 0, body: null, aborted: true }));
  });
  const form = new FormData();
  form.append('file', file);
  xhr.open('POST', api);
  xhr.responseType = 'json';
  xhr.setRequestHeader('Accept', 'application/json');
  xhr.setRequestHeader('X-CSRFToken', csrfToken);
  xhr.upload.addEventListener('progress', (event) => {
    if (event.lengthComputable) setProgress(event.loaded / event.total);
  });
  xhr.send(form);
  return { xhr, answered };
}

/**
 * Upload `file` showing its progress. Resolves with {status, body, retryAfter, aborted}
 * (status 0: no answer). After a 201 the box stays at 100 %; otherwise it hides.
 */
export async function uploadWithProgress({ api, csrfToken, file }) {
  const cancel = byId('upload-cancel');
  if (!cancel.dataset.bound) {
    cancel.dataset.bound = 'true';
    cancel.addEventListener('click', () => current?.abort());
  }
  byId('upload-name').textContent = file.name;
  setProgress(0);
  byId('upload-progress').classList.remove('hidden');
  cancel.classList.remove('hidden');
  const { xhr, answered } = send(api, csrfToken, file);
  current = xhr;
  const answer = await answered;
  current = null;
  cancel.classList.add('hidden');
  if (answer.status === 201) setProgress(1);
  else hideUploadProgress();
  return answer;
}
