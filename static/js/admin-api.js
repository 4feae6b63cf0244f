// Talking to the server from the admin page: JSON with the CSRF token, errors as Spanish text.
'use strict';

const CSRF_TOKEN = document.querySelector('meta[name="csrf-token"]').content;

/** Where the browser goes when the session has ended (disabled, role or password changed). */
function goToLogin() {
  window.location.assign(document.getElementById('admin').dataset.loginUrl);
}

/** Go to the login form if the server no longer accepts this session (pages then redirect). */
export async function leaveIfSessionEnded() {
  try {
    const answer = await fetch(window.location.pathname, { redirect: 'manual', cache: 'no-store' });
    if (answer.type === 'opaqueredirect' || answer.status === 401) goToLogin();
  } catch {
    // The server is unreachable: the socket client keeps trying to reconnect.
  }
}

/** The human message of a failed answer. */
async function failureText(answer) {
  try {
    const body = await answer.json();
    if (body && body.message) return body.message;
  } catch {
    // Not JSON (a proxy's page, for example): fall through to the generic text.
  }
  if (answer.status === 404) return 'No disponible en este servidor.';
  return `El servidor respondió ${answer.status}.`;
}

/**
 * Call the API; resolves with {ok, status, data} or {ok: false, status, message}.
 * A 401 means the session ended: the page goes to the login form.
 */
export async function api(method, url, body) {
  const options = { method, headers: { Accept: 'application/json' }, cache: 'no-store' };
  if (method !== 'GET') options.headers['X-CSRFToken'] = CSRF_TOKEN;
  if (body !== undefined) {
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  let answer;
  try {
    answer = await fetch(url, options);
  } catch {
    return { ok: false, status: 0, message: 'Sin conexión con el servidor.' };
  }
  if (answer.status === 401) {
    goToLogin();
    return { ok: false, status: 401, message: 'La sesión terminó.' };
  }
  if (!answer.ok) return { ok: false, status: answer.status, message: await failureText(answer) };
  const data = answer.status === 204 ? null : await answer.json();
  return { ok: true, status: answer.status, data };
}
