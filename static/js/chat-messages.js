// The open conversation's messages: grouping by author, pending marks, the "new messages" pill.
'use strict';

import { element } from './chat-dom.js';

// Closer than this to the bottom counts as "reading the latest", so new messages scroll into view.
const STICKY_BOTTOM_PX = 80;
// Messages of one author closer than this in time share one author line.
const GROUP_MS = 5 * 60 * 1000;

const PENDING_TITLE = 'Se enviará en cuanto haya conexión con el servidor.';

/** Local HH:MM of a date. */
function clockTime(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function continues(previous, entry) {
  return previous?.type === 'message' && entry.type === 'message'
    && previous.user === entry.user && new Date(entry.ts) - new Date(previous.ts) < GROUP_MS;
}

function stateMark(entry) {
  if (entry.state === 'failed') return element('span', 'msg-state', 'No enviado');
  const mark = element('span', 'msg-state', 'Pendiente');
  mark.title = PENDING_TITLE;
  return mark;
}

function metaLine(entry, grouped) {
  const meta = element('div', 'msg-meta');
  const date = new Date(entry.ts);
  const time = element('time', 'msg-time', clockTime(date));
  time.dateTime = entry.ts;
  time.title = date.toLocaleString('es-ES');
  // A grouped message keeps its author for screen readers only.
  meta.append(element('span', grouped ? 'msg-author visually-hidden' : 'msg-author', entry.user), time);
  if (entry.state) meta.append(stateMark(entry));
  return meta;
}

export class MessagePane {
  /** `onRetry(entry)` when the user asks to send a failed message again. */
  constructor(me, onRetry) {
    this.me = me;
    this.onRetry = onRetry;
    this.list = document.getElementById('message-list');
    this.pill = document.getElementById('new-messages');
    this.pill.addEventListener('click', () => this.scrollToEnd());
    this.list.addEventListener('scroll', () => {
      if (this.atBottom()) this.pill.classList.add('hidden');
    });
  }

  /** Draw all of `conversation`, scrolled to its latest entry. */
  show(conversation) {
    const { entries } = conversation;
    this.list.replaceChildren(...entries.map((entry, i) => this.draw(entry, entries[i - 1])));
    this.scrollToEnd();
  }

  /** Add the newest entry of `conversation`; follow it if the reader was at the bottom. */
  append(conversation) {
    const { entries } = conversation;
    const entry = entries.at(-1);
    const following = this.atBottom() || entry.user === this.me;
    this.list.append(this.draw(entry, entries.at(-2)));
    if (following) this.scrollToEnd();
    else if (entry.type === 'message') this.pill.classList.remove('hidden');
  }

  /** Redraw `entry` of `conversation` (its state changed), or take it out if it is gone. */
  update(conversation, entry) {
    const node = this.list.querySelector(`[data-key="${CSS.escape(entry.key)}"]`);
    if (!node) return;
    const index = conversation.entries.indexOf(entry);
    if (index === -1) node.remove();
    else node.replaceWith(this.draw(entry, conversation.entries[index - 1]));
  }

  draw(entry, previous) {
    if (entry.type !== 'message') return element('li', 'notice', entry.text);
    const grouped = continues(previous, entry);
    const classes = ['msg', entry.user === this.me && 'msg-own', grouped && 'msg-grouped',
      entry.state && (entry.state === 'failed' ? 'msg-failed' : 'msg-pending')];
    const item = element('li', classes.filter(Boolean).join(' '));
    item.dataset.key = entry.key;
    item.append(metaLine(entry, grouped), element('p', 'msg-text', entry.text));
    if (entry.state === 'failed') item.append(...this.failure(entry));
    return item;
  }

  failure(entry) {
    const retry = element('button', 'small msg-retry', 'Reintentar');
    retry.type = 'button';
    retry.addEventListener('click', () => this.onRetry(entry));
    return [element('p', 'msg-error', `No se ha enviado: ${entry.error}`), retry];
  }

  atBottom() {
    const { list } = this;
    return list.scrollHeight - list.scrollTop - list.clientHeight < STICKY_BOTTOM_PX;
  }

  scrollToEnd() {
    this.list.scrollTop = this.list.scrollHeight;
    this.pill.classList.add('hidden');
  }
}
