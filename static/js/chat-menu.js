// The conversation's menu (⋮): connection, whether it keeps history, members, leave, close.
'use strict';

import { byId, element, showAlert } from './chat-dom.js';

function historyText(conversation) {
  if (conversation.kind === 'lobby') return 'Todos los conectados. No se guarda nada.';
  if (conversation.kind === 'dm') return 'Conversación privada. El servidor no la guarda.';
  if (conversation.persistent === undefined) return '';
  return conversation.persistent
    ? 'Guarda el historial: quien entre verá los últimos mensajes.'
    : 'No guarda historial: los mensajes no se guardan en el servidor.';
}

function memberNames(conversation, me) {
  if (conversation.kind === 'lobby') return [];
  if (conversation.kind === 'dm') return [me, conversation.peer];
  return [...conversation.members].sort();
}

function memberItem(name, conversation, me) {
  const notes = [name === me && 'usted', name === conversation.creator && 'creador'];
  const note = notes.filter(Boolean).join(', ');
  return element('li', '', note ? `${name} (${note})` : name);
}

export class ConversationMenu {
  /** `onLeave()` and `onCloseRoom()` act on the open conversation. */
  constructor(me, isAdmin, { onLeave, onCloseRoom }) {
    this.me = me;
    this.isAdmin = isAdmin;
    this.button = byId('conversation-menu-button');
    this.panel = byId('conversation-menu');
    this.button.addEventListener('click', () => this.setOpen(!this.isOpen()));
    byId('leave-room').addEventListener('click', onLeave);
    byId('close-room').addEventListener('click', () => this.confirmClose(true));
    byId('close-room-no').addEventListener('click', () => this.confirmClose(false));
    byId('close-room-yes').addEventListener('click', onCloseRoom);
    document.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape' || !this.isOpen() || event.target.closest('dialog')) return;
      this.setOpen(false);
      this.button.focus();
    });
    // A dialog opened from the menu (a confirmation) leaves it open behind.
    document.addEventListener('click', (event) => {
      if (this.isOpen() && !event.target.closest('.menu-wrap, dialog')) this.setOpen(false);
    });
  }

  isOpen() {
    return !this.panel.classList.contains('hidden');
  }

  setOpen(open) {
    this.panel.classList.toggle('hidden', !open);
    this.button.setAttribute('aria-expanded', String(open));
    if (!open) this.confirmClose(false);
  }

  /** Fill the menu for `conversation`. */
  render(conversation) {
    const room = conversation.kind === 'room';
    const names = memberNames(conversation, this.me);
    showAlert(byId('menu-history'), historyText(conversation));
    byId('menu-members-title').classList.toggle('hidden', names.length === 0);
    byId('menu-members').replaceChildren(
      ...names.map((name) => memberItem(name, conversation, this.me)),
    );
    byId('leave-room').classList.toggle('hidden', !room);
    this.canClose = room && (this.isAdmin || conversation.creator === this.me);
    // A member joining while the user is asked to confirm must not take the question away.
    if (conversation.id !== this.shownId) this.confirmClose(false);
    else this.confirmClose(!byId('close-confirm').classList.contains('hidden'));
    this.shownId = conversation.id;
  }

  confirmClose(asking) {
    byId('close-room').classList.toggle('hidden', !this.canClose || asking);
    byId('close-confirm').classList.toggle('hidden', !this.canClose || !asking);
    if (asking) byId('close-room-yes').focus();
  }
}
