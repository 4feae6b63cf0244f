// How long a persistent room keeps its messages: a choice in the ⋮ menu for the room's creator
// and administrators. Shortening it deletes older messages for everyone, so it asks first.
'use strict';

import { byId, showAlert } from './chat-dom.js';
import { keepsHistory } from './chat-scrollback.js';
import { errorText, request } from './chat-socket.js';
import { confirmAction } from './confirm-dialog.js';

const UNKNOWN = 'No se sabe el ajuste actual: elija uno para fijarlo.';

function savedText(days) {
  return days ? `Hecho: se conservan los mensajes de los últimos ${days} días.`
    : 'Hecho: se conservan siempre (o el máximo que permita la instalación).';
}

export class RetentionControl {
  /** `page` gives the store and socket; `isAdmin`: the user may set it in any room. */
  constructor(page, isAdmin) {
    this.page = page;
    this.isAdmin = isAdmin;
    this.box = byId('retention-box');
    this.select = byId('retention-select');
    this.note = byId('retention-note');
    this.select.addEventListener('change', () => this.change());
  }

  /** Offer the choice to who may make it, showing the room's setting when it is known. */
  render(conversation) {
    const allowed = keepsHistory(conversation)
      && (this.isAdmin || conversation.creator === this.page.store.me);
    this.box.classList.toggle('hidden', !allowed);
    if (!allowed) return;
    const known = Number.isInteger(conversation.retention);
    if (known && !this.select.querySelector(`option[value="${conversation.retention}"]`)) {
      this.select.add(new Option(`${conversation.retention} días`, String(conversation.retention)));
    }
    this.select.value = known ? String(conversation.retention) : '';
    if (conversation.id !== this.shownId) showAlert(this.note, known ? '' : UNKNOWN);
    this.shownId = conversation.id;
  }

  async change() {
    const conversation = this.page.store.active();
    const days = Number(this.select.value);
    if (days > 0 && !await confirmAction(
      `¿Conservar solo ${days} días?`,
      `Los mensajes de ${conversation.title} con más de ${days} días se borrarán para todos en `
        + 'menos de un minuto, y no se podrán recuperar.',
      `Conservar ${days} días`,
    )) {
      this.render(conversation);
      return;
    }
    const ack = await request(this.page.socket, 'set_retention', { room: conversation.id, days });
    if (ack.ok) conversation.retention = days;
    this.render(conversation);
    showAlert(this.note, ack.ok ? savedText(days) : errorText(ack));
  }
}
