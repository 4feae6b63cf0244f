// Talking to the server: events with acks, and the connection's life (reconnect, session end).
'use strict';

// An ack slower than this is treated as lost, so the user can try again.
const ACK_TIMEOUT_MS = 8000;

const ERROR_TEXT = {
  bad_request: 'Datos no válidos.',
  forbidden: 'No tiene permiso para hacer esto.',
  not_found: 'No existe ninguna sala con ese código.',
  wrong_password: 'Contraseña incorrecta.',
  exists: 'Ya existe una sala con ese código.',
  rate_limited: 'Demasiadas acciones seguidas. Espere un momento.',
  too_long: 'El texto es demasiado largo.',
  locked: 'Demasiados intentos fallidos. Inténtelo más tarde.',
  offline: 'Sin conexión con el servidor. Espere a que se reconecte.',
  timeout: 'El servidor no respondió. Inténtelo de nuevo.',
};

/** The Spanish text to show for a failed ack. */
export function errorText(ack) {
  return ack.message || ERROR_TEXT[ack.error] || 'No se pudo completar la acción.';
}

/** Emit `event` and resolve with its ack; offline or unanswered events resolve as failures. */
export function request(socket, event, payload) {
  // While offline the client would buffer the event and send it late, maybe twice: refuse now.
  if (!socket.connected) return Promise.resolve({ ok: false, error: 'offline' });
  return new Promise((resolve) => {
    socket.timeout(ACK_TIMEOUT_MS).emit(event, payload, (timedOut, ack) => {
      resolve(timedOut || !ack ? { ok: false, error: 'timeout' } : ack);
    });
  });
}

/** True when the server no longer accepts this browser's session (pages redirect to /login). */
async function sessionEnded() {
  try {
    const answer = await fetch('/', { redirect: 'manual', cache: 'no-store' });
    return answer.type === 'opaqueredirect' || answer.status === 401;
  } catch {
    return false;
  }
}

/**
 * Follow the connection: `onStatus(state)` on every change, `onConnect()` on each connect,
 * `onSessionEnded()` when the server closed the session. A socket refused although the
 * session is still valid ends `disconnected`: the client does not retry that on its own.
 */
export function watchConnection(socket, { onStatus, onConnect, onSessionEnded }) {
  socket.on('connect', () => {
    onStatus('connected');
    onConnect();
  });
  socket.on('disconnect', (reason) => {
    if (reason === 'io server disconnect') onSessionEnded();
    else onStatus(socket.active ? 'reconnecting' : 'disconnected');
  });
  socket.on('connect_error', async () => {
    if (socket.active) {
      onStatus('reconnecting');
    } else if (await sessionEnded()) {
      onSessionEnded();
    } else {
      onStatus('disconnected');
    }
  });
}
