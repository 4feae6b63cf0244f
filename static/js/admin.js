// The admin page: loads every section once, refreshes on demand, and listens for live notices.
'use strict';

import { api, leaveIfSessionEnded } from './admin-api.js';
import { initAudit, loadAudit } from './admin-audit.js';
import { byId, element } from './admin-dom.js';
import { addInfected, initQuarantine, loadInfected, renderCounts } from './admin-quarantine.js';
import { renderStatus, showPresence } from './admin-status.js';
import { initUsers, loadUsers, setOnline } from './admin-users.js';

// A notice stays this long, so a burst of alerts does not pile up for ever.
const NOTICE_MS = 30000;

async function loadStatus() {
  const answer = await api('GET', '/api/admin/status');
  if (!answer.ok) return;
  renderStatus(answer.data);
  renderCounts(answer.data.nas);
}

const loadQuarantine = () => Promise.all([loadInfected(), loadStatus()]);

function notify(text) {
  const notice = element('p', 'alert alert-error notice', text);
  notice.setAttribute('role', 'alert');
  byId('admin-notices').prepend(notice);
  setTimeout(() => notice.remove(), NOTICE_MS);
}

/** Live updates over Socket.IO: infected uploads, presence, and the end of this session. */
function listen() {
  if (typeof window.io !== 'function') return;
  const socket = window.io();
  socket.on('file_infected', (file) => {
    notify(`Archivo infectado: «${file.name}» de ${file.uploaded_by} (${file.signature}).`);
    addInfected(file);
  });
  socket.on('presence', (data) => {
    showPresence(data.online);
    setOnline(data.online);
  });
  socket.on('disconnect', (reason) => {
    if (reason === 'io server disconnect') leaveIfSessionEnded();
  });
  socket.on('connect_error', () => {
    if (!socket.active) leaveIfSessionEnded();
  });
}

initUsers();
initQuarantine(loadQuarantine);
initAudit();
byId('status-refresh').addEventListener('click', loadStatus);
loadUsers();
loadQuarantine();
loadAudit();
listen();
