// Browser notifications for messages that arrive while the tab is hidden, once the user allows them.
'use strict';

const supported = 'Notification' in window;

function showPermission(button, stateLine) {
  const permission = supported ? Notification.permission : 'unsupported';
  button.classList.toggle('hidden', permission !== 'default');
  const text = {
    granted: 'Notificaciones activadas.',
    denied: 'Notificaciones bloqueadas en este navegador.',
  }[permission] ?? '';
  stateLine.textContent = text;
  stateLine.classList.toggle('hidden', !text);
}

/** Offer the "Activar notificaciones" button; permission is asked only when it is pressed. */
export function setupNotifications(button, stateLine) {
  showPermission(button, stateLine);
  button.addEventListener('click', async () => {
    await Notification.requestPermission();
    showPermission(button, stateLine);
  });
}

/**
 * Notify about a message if the tab is hidden and the user allowed it; `onClick` opens it.
 * A later notification with the same `tag` (by default the title) replaces this one.
 */
export function notifyHidden(title, body, onClick, tag = title) {
  if (!supported || !document.hidden || Notification.permission !== 'granted') return;
  const notification = new Notification(title, { body, tag });
  notification.addEventListener('click', () => {
    window.focus();
    onClick();
    notification.close();
  });
}
