// The admin page: loads every section, then follows the server live over Socket.IO (file
// events move the counts, presence moves the accounts), and says whether it is live.
'use strict';

import { api, leaveIfSessionEnded } from './admin-api.js';
import { initAudit, loadAudit } from './admin-audit.js';
import { byId, element } from './admin-dom.js';
import { addInfected, initQuarantine, loadInfected, renderCounts } from './admin-quarantine.js';
import { renderStatus, showPresence } from './admin-status.js';
import { initUsers, loadUsers, setOnline } from './admin-users.js';

// A notice stays this long, so a burst of alerts does not pile up for ever.
const NOTICE_MS = 30000;
// Live news arriving together (ten uploads, a burst of logins) is one reload per section.
const REFRESH_DELAY_MS = 300;

const LIVE_TEXT = {
  connecting: 'Conectando…',
  live: 'En vivo',
  offline: 'Sin conexión: reconectando…',
};

async function loadStatus() {
  const answer = await api('GET', '/api/admin/status');
  if (!answer.ok) return;
  renderStatus(answer.data);
  renderCounts(answer.data.nas);
}

const loadQuarantine = () => Promise.all([loadInfected(), loadStatus()]);
const loadAll = () => Promise.all([loadUsers(), loadQuarantine(), loadAudit()]);

/** `load`, run once REFRESH_DELAY_MS after the last of a burst of calls. */
function debounced(load) {
  let timer = null;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(load, REFRESH_DELAY_MS);
  };
}

function notify(text) {
  const notice = element('p', 'alert alert-error notice', text);
  notice.setAttribute('role', 'alert');
  byId('admin-notices').prepend(notice);
  setTimeout(() => notice.remove(), NOTICE_MS);
}

function showLive(state) {
  const badge = byId('live-status');
  badge.dataset.state = state;
  badge.textContent = LIVE_TEXT[state];
}

/** Live updates over Socket.IO: files, presence, infected uploads, the end of this session. */
function listen() {
  if (typeof window.io !== 'function') return showLive('offline');
  const socket = window.io();
  const refreshFiles = debounced(loadQuarantine);
  const refreshPeople = debounced(() => Promise.all([loadUsers(), loadStatus()]));
  let connectedBefore = false;
  let justLoaded = true; // the presence a connect brings is already in what was just loaded
  socket.on('connect', () => {
    showLive('live');
    if (connectedBefore) loadAll(); // news may have been missed meanwhile
    connectedBefore = true;
    justLoaded = true;
  });
  for (const event of ['file_added', 'file_status', 'file_deleted']) socket.on(event, refreshFiles);
  socket.on('file_infected', (file) => {
    notify(`Archivo infectado: «${file.name}» de ${file.uploaded_by} (${file.signature}).`);
    addInfected(file);
  });
  socket.on('presence', (data) => {
    showPresence(data.online);
    setOnline(data.online);
    if (!justLoaded) refreshPeople(); // a login or a last logout: «Último acceso» changes
    justLoaded = false;
  });
  socket.on('disconnect', (reason) => {
    showLive('offline');
    if (reason === 'io server disconnect') leaveIfSessionEnded();
  });
  socket.on('connect_error', () => {
    showLive('offline');
    if (!socket.active) leaveIfSessionEnded();
  });
}

initUsers();
initQuarantine(loadQuarantine);
initAudit();
byId('status-refresh').addEventListener('click', loadStatus);
loadAll();
listen();
