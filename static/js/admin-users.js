// The accounts section: list, create, change role, disable/enable, reset password, unlock.
'use strict';

import { api } from './admin-api.js';
import { confirmAction } from './confirm-dialog.js';
import {
  actionButton, buttonsCell, byId, dateTime, element, fillTable, label, NOT_AVAILABLE, showMessage,
} from './admin-dom.js';
import { humanSize } from './sizes.js';

const usersUrl = (name) => `/api/admin/users/${encodeURIComponent(name)}`;
let online = null; // Set of usernames, or null while chat cannot say

/** "Sí"/"No" from the live presence list, else from what the server reported (null: unknown). */
function onlineText(username, reported) {
  if (online === null && reported === null) return NOT_AVAILABLE;
  const here = online === null ? reported : online.has(username);
  return here ? 'Sí' : 'No';
}

function roleForm(user) {
  const form = element('form', 'role-form');
  form.dataset.target = user.username;
  const select = element('select');
  select.name = 'role';
  select.setAttribute('aria-label', `Rol de ${user.username}`);
  select.append(byId('role-options').content.cloneNode(true));
  select.value = user.role;
  select.dataset.saved = user.role;
  const apply = element('button', 'small', 'Cambiar');
  apply.type = 'submit';
  form.append(select, apply);
  return form;
}

function actionsCell(user) {
  const buttons = [
    user.active
      ? actionButton('Desactivar', 'disable', user.username, 'small danger')
      : actionButton('Activar', 'enable', user.username),
    actionButton('Contraseña', 'password', user.username),
  ];
  if (user.locked_until) buttons.push(actionButton('Desbloquear', 'unlock', user.username));
  return buttonsCell(...buttons);
}

function userRow(user) {
  const row = element('tr');
  row.dataset.username = user.username;
  const roleCell = element('td');
  roleCell.append(roleForm(user));
  row.append(
    element('td', 'username', user.username),
    roleCell,
    element('td', user.active ? 'state-on' : 'state-off', user.active ? 'Activa' : 'Desactivada'),
    element('td', '', user.locked_until ? dateTime(user.locked_until) : '—'),
    element('td', '', dateTime(user.last_login)),
    element('td', 'online-cell', onlineText(user.username, user.online)),
    element('td', 'storage-cell', humanSize(user.storage_bytes)),
    actionsCell(user),
  );
  row.dataset.reported = JSON.stringify(user.online);
  return row;
}

/** Roles chosen but not yet applied, and where the focus was, so a live refresh of the
 * table never undoes what the administrator is doing. */
function pendingEdits(body) {
  const roles = new Map();
  for (const select of body.querySelectorAll('select[name=role]')) {
    if (select.value !== select.dataset.saved) roles.set(select.closest('form').dataset.target, select.value);
  }
  const focused = body.contains(document.activeElement) ? document.activeElement : null;
  const row = focused?.closest('tr');
  return { roles, focus: row && { user: row.dataset.username, name: focused.name, action: focused.dataset.action } };
}

function restoreEdits(body, { roles, focus }) {
  for (const [name, role] of roles) {
    const select = body.querySelector(`tr[data-username="${CSS.escape(name)}"] select[name=role]`);
    if (select) select.value = role;
  }
  if (!focus) return;
  const row = body.querySelector(`tr[data-username="${CSS.escape(focus.user)}"]`);
  const target = focus.action
    ? row?.querySelector(`[data-action="${CSS.escape(focus.action)}"]`)
    : row?.querySelector(`[name="${CSS.escape(focus.name || '')}"]`);
  target?.focus();
}

/** Load the list from the server and draw it, keeping unapplied edits. */
export async function loadUsers() {
  const answer = await api('GET', '/api/admin/users');
  if (!answer.ok) return showMessage(byId('users-message'), answer.message);
  const body = byId('users-body');
  const edits = pendingEdits(body);
  fillTable(body, answer.data.map(userRow), 'No hay usuarios.');
  restoreEdits(body, edits);
}

/** Update the "En línea" column from a live presence list. */
export function setOnline(names) {
  online = new Set(names);
  for (const row of byId('users-body').rows) {
    const cell = row.querySelector('.online-cell');
    if (cell) cell.textContent = onlineText(row.dataset.username, JSON.parse(row.dataset.reported));
  }
}

async function change(username, fields, doneText) {
  const answer = await api('PATCH', usersUrl(username), fields);
  showMessage(byId('users-message'), answer.ok ? doneText : answer.message, answer.ok ? 'ok' : 'error');
  if (answer.ok) await loadUsers();
  return answer;
}

const ACTIONS = {
  disable: async (name) => {
    const sure = await confirmAction(`¿Desactivar a ${name}?`,
      'No podrá entrar y sus sesiones se cerrarán ahora.', 'Desactivar');
    if (sure) await change(name, { active: false }, `${name} desactivado; sus sesiones se cerraron.`);
  },
  enable: (name) => change(name, { active: true }, `${name} activado.`),
  password: (name) => openPasswordDialog(name),
  unlock: async (name) => {
    const answer = await api('POST', `${usersUrl(name)}/unlock`);
    showMessage(byId('users-message'), answer.ok ? `${name} desbloqueado.` : answer.message, answer.ok ? 'ok' : 'error');
    if (answer.ok) await loadUsers();
  },
};

function openPasswordDialog(name) {
  const dialog = byId('password-dialog');
  byId('password-user').textContent = name;
  byId('password-form').dataset.target = name;
  byId('password-form').reset();
  showMessage(byId('password-error'), '');
  dialog.showModal();
}

async function submitPassword(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const name = form.dataset.target;
  const answer = await api('PATCH', usersUrl(name), { password: form.elements.password.value });
  if (!answer.ok) return showMessage(byId('password-error'), answer.message);
  byId('password-dialog').close();
  showMessage(byId('users-message'), `Contraseña de ${name} cambiada; sus sesiones se cerraron.`, 'ok');
  await loadUsers();
}

async function submitCreate(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const fields = Object.fromEntries(new FormData(form));
  const answer = await api('POST', '/api/admin/users', fields);
  if (!answer.ok) return showMessage(byId('users-message'), answer.message);
  form.reset();
  showMessage(byId('users-message'), `Usuario ${answer.data.username} creado.`, 'ok');
  await loadUsers();
}

async function submitRole(event) {
  event.preventDefault();
  const form = event.target;
  const name = form.dataset.target;
  const role = form.elements.role.value;
  const shown = label('roles', role);
  const sure = await confirmAction(`¿Cambiar el rol de ${name} a ${shown}?`,
    'Sus sesiones se cerrarán ahora y tendrá que volver a entrar.', 'Cambiar el rol');
  if (sure) await change(name, { role }, `${name} ahora es ${shown}; sus sesiones se cerraron.`);
}

/** Wire the section's forms and buttons. */
export function initUsers() {
  const body = byId('users-body');
  body.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-action]');
    if (button) ACTIONS[button.dataset.action](button.dataset.target);
  });
  body.addEventListener('submit', submitRole);
  byId('create-user-form').addEventListener('submit', submitCreate);
  byId('password-form').addEventListener('submit', submitPassword);
  byId('password-cancel').addEventListener('click', () => byId('password-dialog').close());
  byId('users-refresh').addEventListener('click', loadUsers);
}
