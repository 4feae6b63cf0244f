// Drawing the chat page. Every user-supplied string goes in as text, never as HTML.
'use strict';

const STATUS = {
  connecting: 'Conectando…',
  connected: 'Conectado',
  reconnecting: 'Reconectando…',
  disconnected: 'Desconectado',
};

// Closer than this to the bottom counts as "reading the latest", so new messages scroll into view.
const STICKY_BOTTOM_PX = 80;

const byId = (id) => document.getElementById(id);

/** An element with an optional class and text. */
function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Local HH:MM of an ISO 8601 timestamp. */
function clockTime(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function messageElement(entry, me) {
  const item = element('li', entry.user === me ? 'msg msg-own' : 'msg');
  const meta = element('div', 'msg-meta');
  const date = new Date(entry.ts);
  const time = element('time', 'msg-time', clockTime(date));
  time.dateTime = entry.ts;
  time.title = date.toLocaleString('es-ES');
  meta.append(element('span', 'msg-author', entry.user), time);
  item.append(meta, element('p', 'msg-text', entry.text));
  return item;
}

function entryElement(entry, me) {
  return entry.type === 'message' ? messageElement(entry, me) : element('li', 'notice', entry.text);
}

function unreadBadge(count) {
  return element('span', count ? 'unread' : 'unread hidden', String(count));
}

function describeConversation(conversation) {
  if (conversation.kind === 'lobby') return 'Todos los conectados. No se guarda nada.';
  if (conversation.kind === 'dm') return 'Conversación privada';
  const count = conversation.members.size;
  return count === 1 ? '1 persona en la sala' : `${count} personas en la sala`;
}

export class ChatView {
  constructor(me) {
    this.me = me;
    this.messages = byId('message-list');
    this.side = byId('chat-side');
    this.sideToggle = byId('side-toggle');
  }

  /** Show `conversation` in the main pane, scrolled to its latest message. */
  showConversation(conversation) {
    byId('conversation-title').textContent = conversation.kind === 'dm'
      ? `@${conversation.title}` : conversation.title;
    this.updateDetail(conversation);
    byId('leave-room').classList.toggle('hidden', conversation.kind !== 'room');
    this.messages.replaceChildren(
      ...conversation.entries.map((entry) => entryElement(entry, this.me)),
    );
    this.messages.scrollTop = this.messages.scrollHeight;
  }

  updateDetail(conversation) {
    byId('conversation-detail').textContent = describeConversation(conversation);
  }

  /** Add one entry to the open conversation; follow it if the reader was at the bottom. */
  appendEntry(entry) {
    const list = this.messages;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < STICKY_BOTTOM_PX;
    list.append(entryElement(entry, this.me));
    if (atBottom || entry.user === this.me) list.scrollTop = list.scrollHeight;
  }

  /** The side list of conversations with unread counts; `onOpen(id)` when one is picked. */
  renderConversations(conversations, activeId, onOpen) {
    const items = [...conversations].map((conversation) => {
      const button = element('button', 'conversation');
      button.type = 'button';
      button.dataset.conversation = conversation.id;
      if (conversation.id === activeId) button.setAttribute('aria-current', 'true');
      const label = conversation.kind === 'dm' ? `@${conversation.title}` : conversation.title;
      button.append(element('span', `conversation-name kind-${conversation.kind}`, label),
        unreadBadge(conversation.unread));
      button.addEventListener('click', () => onOpen(conversation.id));
      const item = element('li');
      item.append(button);
      return item;
    });
    byId('conversation-list').replaceChildren(...items);
  }

  /** The online list; every name but mine opens a direct conversation through `onPick(name)`. */
  renderOnline(names, onPick) {
    const items = names.map((name) => {
      const item = element('li');
      if (name === this.me) {
        item.append(element('span', 'online-self', `${name} (usted)`));
        return item;
      }
      const button = element('button', 'online-user', name);
      button.type = 'button';
      button.dataset.user = name;
      button.title = `Escribir a ${name} en privado`;
      button.addEventListener('click', () => onPick(name));
      item.append(button);
      return item;
    });
    byId('online-list').replaceChildren(...items);
    byId('online-count').textContent = String(names.length);
  }

  showTotalUnread(total) {
    const badge = byId('total-unread');
    badge.textContent = String(total);
    badge.classList.toggle('hidden', total === 0);
    document.title = total ? `(${total}) Chat · PiChat` : 'Chat · PiChat';
  }

  setStatus(state) {
    const status = byId('connection-status');
    status.textContent = STATUS[state];
    status.className = `status status-${state}`;
  }

  setTyping(text) {
    byId('typing-line').textContent = text;
  }

  showComposerError(text) {
    showAlert(byId('composer-error'), text);
  }

  setSideOpen(open) {
    this.side.classList.toggle('open', open);
    this.sideToggle.setAttribute('aria-expanded', String(open));
  }
}

/** Show `text` in an alert element, or hide it when `text` is empty. */
export function showAlert(node, text) {
  node.textContent = text;
  node.classList.toggle('hidden', !text);
}
