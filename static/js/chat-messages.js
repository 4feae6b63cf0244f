// The open conversation's messages: grouping by author, pending and edited marks, file
// cards, the "new messages" pill, the top of a persistent room's history.
'use strict';

import { element } from './chat-dom.js';
import { fileCard } from './chat-files.js';
import { fullDate } from './dates.js';

// Closer than this to the bottom counts as "reading the latest", so new messages scroll into view.
const STICKY_BOTTOM_PX = 80;
// Messages of one author closer than this in time share one author line.
const GROUP_MS = 5 * 60 * 1000;

const PENDING_TITLE = 'Se enviará en cuanto haya conexión con el servidor.';
// How long a message found by a search stays highlighted.
const FOUND_MS = 2500;

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
  if (entry.edited_ts) {
    const edited = element('span', 'msg-edited', '(editado)');
    edited.title = `Editado: ${fullDate(entry.edited_ts)}`;
    meta.append(edited);
  }
  if (entry.state) meta.append(stateMark(entry));
  return meta;
}

/** What stands for a deleted message: who wrote it, and that it is gone. */
function deletedItem(entry, me) {
  const item = element('li', entry.user === me ? 'msg msg-own msg-deleted' : 'msg msg-deleted');
  item.dataset.key = entry.key;
  item.append(metaLine(entry, false), element('p', 'msg-text', 'Mensaje borrado'));
  return item;
}

/** Above the oldest message: older ones loading, or the beginning of the conversation. */
function historyHead(conversation) {
  if (conversation.entries.length === 0) return null;
  if (conversation.loadingOlder) return element('li', 'history-head', 'Cargando mensajes anteriores…');
  if (conversation.historyStart) return element('li', 'history-head', 'Principio de la conversación');
  return null;
}

export class MessagePane {
  /**
   * `onRetry(entry)` when the user asks to send a failed message again. `tools`, once set,
   * adds the edit and delete actions to a message: `tools.decorate(entry, item)`.
   */
  constructor(me, onRetry) {
    this.me = me;
    this.onRetry = onRetry;
    this.tools = null;
    this.list = document.getElementById('message-list');
    this.pill = document.getElementById('new-messages');
    this.pill.addEventListener('click', () => this.scrollToEnd());
    this.list.addEventListener('scroll', () => {
      if (this.atBottom()) this.pill.classList.add('hidden');
    });
  }

  /**
   * Draw all of `conversation`, scrolled to its latest entry; drawn again while the reader is
   * further up (a reconnect) or with `keepPlace` (older pages came in above), the messages
   * shown stay where they were.
   */
  show(conversation, keepPlace = false) {
    const { entries } = conversation;
    const { list } = this;
    const again = conversation.id === this.shownId && (keepPlace || !this.atBottom());
    const fromBottom = again ? list.scrollHeight - list.scrollTop : null;
    this.shownId = conversation.id;
    const items = entries.map((entry, i) => this.draw(entry, entries[i - 1]));
    list.replaceChildren(...[historyHead(conversation), ...items].filter(Boolean));
    if (fromBottom === null) this.scrollToEnd();
    else list.scrollTop = list.scrollHeight - fromBottom;
  }

  /** Redraw the line above the oldest message (loading, or the beginning). */
  showHead(conversation) {
    this.list.querySelector('.history-head')?.remove();
    const head = historyHead(conversation);
    if (head) this.list.prepend(head);
  }

  /** Scroll message `entry` into view and highlight it for a moment. */
  reveal(entry) {
    const node = this.list.querySelector(`[data-key="${CSS.escape(entry.key)}"]`);
    if (!node) return;
    node.scrollIntoView({ block: 'center' });
    node.classList.add('msg-found');
    node.tabIndex = -1;
    node.focus({ preventScroll: true });
    setTimeout(() => node.classList.remove('msg-found'), FOUND_MS);
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
    if (entry.type === 'deleted') return deletedItem(entry, this.me);
    if (entry.type !== 'message') return element('li', 'notice', entry.text);
    const grouped = continues(previous, entry);
    const classes = ['msg', entry.user === this.me && 'msg-own', grouped && 'msg-grouped',
      entry.state && (entry.state === 'failed' ? 'msg-failed' : 'msg-pending')];
    const item = element('li', classes.filter(Boolean).join(' '));
    item.dataset.key = entry.key;
    item.append(metaLine(entry, grouped));
    if (entry.text) item.append(element('p', 'msg-text', entry.text));
    if (entry.file) item.append(fileCard(entry.file));
    if (entry.state === 'failed') item.append(...this.failure(entry));
    this.tools?.decorate(entry, item);
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
