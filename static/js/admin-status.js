// The "Ahora" section: version, uptime, backends, who is connected and which rooms are open.
'use strict';

import { byId, element, fillTable, NOT_AVAILABLE, textRow } from './admin-dom.js';

/** "3 d 4 h 5 min" for a number of seconds. */
function duration(seconds) {
  const days = Math.floor(seconds / 86400);
  const hours = Math.floor((seconds % 86400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const parts = [];
  if (days) parts.push(`${days} d`);
  if (days || hours) parts.push(`${hours} h`);
  parts.push(`${minutes} min`);
  return parts.join(' ');
}

function scannerText(nas) {
  if (!nas || !nas.scanner.engine) return NOT_AVAILABLE;
  return [nas.scanner.engine, nas.scanner.version].filter(Boolean).join(' ');
}

// The last presence list the socket delivered: live, so it outranks a missing chat provider.
let liveOnline = null;

/** Show the connected usernames from a live presence event. */
export function showPresence(names) {
  liveOnline = names;
  renderOnline(names);
}

/** Show the connected usernames (null: chat not available). */
function renderOnline(names) {
  byId('online-count').textContent = names ? String(names.length) : NOT_AVAILABLE;
  byId('online-names').replaceChildren(...(names || []).map((name) => element('li', '', name)));
}

/** Fill the section from the status API's answer. */
export function renderStatus(status) {
  byId('status-version').textContent = status.version;
  byId('status-uptime').textContent = duration(status.uptime_seconds);
  byId('status-database').textContent = status.database;
  byId('status-scanner').textContent = scannerText(status.nas);
  byId('status-redis').textContent = status.redis ? 'Configurado' : 'No configurado';
  renderOnline(liveOnline ?? (status.chat ? status.chat.online : null));
  const rooms = status.chat ? status.chat.rooms : [];
  const rows = rooms.map((room) => textRow([room.room, room.members, room.persistent ? 'Sí' : 'No']));
  fillTable(byId('rooms-body'), rows, status.chat ? 'No hay salas abiertas.' : `Chat ${NOT_AVAILABLE}.`);
}
