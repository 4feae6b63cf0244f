// One styled confirmation for every risky action (never window.confirm):
// templates/confirm_dialog.html, included once by the page.
'use strict';

const byId = (id) => document.getElementById(id);

/**
 * Ask before `accept` (the confirm button's text); resolves true only when it is pressed.
 * Cancel, Escape or a second question close it as a no. Focus starts on Cancel.
 */
export function confirmAction(title, text, accept) {
  const dialog = byId('confirm-dialog');
  if (dialog.open) dialog.close();
  byId('confirm-title').textContent = title;
  byId('confirm-text').textContent = text;
  byId('confirm-accept').textContent = accept;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true });
    dialog.showModal();
    byId('confirm-cancel').focus();
  });
}
