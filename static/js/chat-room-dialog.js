// The dialog to create a room, or to join one by code and password.
'use strict';

import { showAlert } from './chat-dom.js';

/**
 * Open the dialog from `openButton`, in create mode; on submit,
 * `enter({mode, code, password, persistent})` resolves to an error text to show, or '' to
 * close the dialog.
 */
export function setupRoomDialog(openButton, enter) {
  const dialog = document.getElementById('room-dialog');
  const form = document.getElementById('room-form');
  const error = document.getElementById('room-error');
  const submit = document.getElementById('room-submit');
  const fields = form.elements;

  const showMode = () => {
    const creating = fields.mode.value === 'create';
    document.getElementById('persistent-field').classList.toggle('hidden', !creating);
    submit.textContent = creating ? 'Crear sala' : 'Unirse';
  };

  openButton.addEventListener('click', () => {
    form.reset();
    showMode();
    showAlert(error, '');
    dialog.showModal();
    fields.code.focus();
  });
  document.getElementById('room-cancel').addEventListener('click', () => dialog.close());
  form.addEventListener('change', showMode);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    const message = await enter({
      mode: fields.mode.value,
      code: fields.code.value.trim(),
      password: fields.password.value,
      persistent: fields.persistent.checked,
    });
    submit.disabled = false;
    showAlert(error, message);
    if (!message) dialog.close();
  });
}
