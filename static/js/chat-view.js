// Drawing the chat page around the messages: title, side lists, connection state.
'use strict';

import { byId, element, showAlert } from './chat-dom.js';

const STATUS = {
  connecting: 'Conectando…',
  connected: 'Conectado',
  reconnecting: 'Reconectando…',
  disconnected: 'Desconectado',
};

const BANNER = {
  reconnecting: 'Sin conexión. Reintentando… Lo que escriba se enviará al volver.',
  disconnected: 'Sin conexión con el servidor. Recargue la página para intentarlo de nuevo.',
};

/** How a conversation is named in the title and the side list. */
export function conversationLabel(conversation) {
  return conversation.kind === 'dm' ? `@${conversation.title}` : conversation.title;
}

function describeConversation(conversation) {
  if (conversation.kind === 'lobby') return 'Todos los conectados. No se guarda nada.';
  if (conversation.kind === 'dm') return 'Conversación privada';
  const count = conversation.members.size;
  return count === 1 ? '1 persona en la sala' : `${count} personas en la sala`;
}

/** The unread count; a mention of the user turns it into an "@" badge. */
function unreadBadge(unread, mentions) {
  if (mentions) return element('span', 'unread unread-mention', `@${unread || ''}`);
  return element('span', unread ? 'unread' : 'unread hidden', String(unread));
}

function conversationButton(conversation, activeId, onOpen) {
  const button = element('button', 'conversation');
  button.type = 'button';
  button.dataset.conversation = conversation.id;
  if (conversation.id === activeId) button.setAttribute('aria-current', 'true');
  const label = conversationLabel(conversation);
  const { unread, mentions } = conversation;
  const spoken = [label, unread && `${unread} sin leer`, mentions && 'le han mencionado'];
  button.setAttribute('aria-label', spoken.filter(Boolean).join(', '));
  button.append(
    element('span', `conversation-name kind-${conversation.kind}`, label),
    unreadBadge(unread, mentions),
  );
  button.addEventListener('click', () => onOpen(conversation.id));
  return button;
}

/** Replace the children of `list`, keeping the keyboard focus on the same item. */
function replaceKeepingFocus(list, items, attribute) {
  const focused = list.contains(document.activeElement) && document.activeElement.dataset[attribute];
  list.replaceChildren(...items);
  if (focused) list.querySelector(`[data-${attribute}="${CSS.escape(focused)}"]`)?.focus();
}

export class ChatView {
  constructor(me) {
    this.me = me;
  }

  /** The title and detail line of the open conversation. */
  showHeader(conversation) {
    byId('conversation-title').textContent = conversationLabel(conversation);
    byId('conversation-detail').textContent = describeConversation(conversation);
  }

  /** The side list of conversations with unread counts; `onOpen(id)` when one is picked. */
  renderConversations(conversations, activeId, onOpen) {
    const items = [...conversations].map((conversation) => {
      const item = element('li');
      item.append(conversationButton(conversation, activeId, onOpen));
      return item;
    });
    replaceKeepingFocus(byId('conversation-list'), items, 'conversation');
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
    replaceKeepingFocus(byId('online-list'), items, 'user');
    byId('online-count').textContent = String(names.length);
  }

  /** The unread count on the ☰ button and in the title; "@" first when someone mentioned me. */
  showTotalUnread(total, mentioned) {
    const badge = byId('total-unread');
    badge.textContent = mentioned ? `@${total || ''}` : String(total);
    badge.classList.toggle('hidden', total === 0 && !mentioned);
    badge.classList.toggle('unread-mention', mentioned);
    document.title = total ? `(${total}) Chat · PiChat` : 'Chat · PiChat';
  }

  /** The connection state: the pill, the menu's dot and line, the banner, greyed presence. */
  setStatus(state) {
    const status = byId('connection-status');
    status.textContent = STATUS[state];
    status.className = `status status-${state}`;
    byId('status-dot').className = `status-dot status-${state}`;
    byId('menu-connection').textContent = `Conexión: ${STATUS[state]}`;
    showAlert(byId('offline-banner'), BANNER[state] ?? '');
    byId('chat').classList.toggle('is-offline', state in BANNER);
  }

  setTyping(text) {
    byId('typing-line').textContent = text;
  }

  showComposerError(text) {
    showAlert(byId('composer-error'), text);
  }
}
