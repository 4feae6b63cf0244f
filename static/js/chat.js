// The chat page: wires the socket, the conversations and the view together.
'use strict';

import { byId } from './chat-dom.js';
import { Drawer } from './chat-drawer.js';
import { refreshPendingCards } from './chat-files.js';
import { StoredHistory } from './chat-history.js';
import { TabMemory, restore } from './chat-memory.js';
import { MentionCompleter, mentionable, receiveMention } from './chat-mentions.js';
import { ConversationMenu } from './chat-menu.js';
import { MessagePane } from './chat-messages.js';
import { notifyHidden, setupNotifications } from './chat-notify.js';
import { Outbox } from './chat-outbox.js';
import { setupRoomDialog } from './chat-room-dialog.js';
import { RoomMembership } from './chat-rooms.js';
import { FileSharing } from './chat-share.js';
import { errorText, watchConnection } from './chat-socket.js';
import { Conversations, LOBBY, cleanText } from './chat-store.js';
import { TypingTracker, throttled } from './chat-typing.js';
import { ChatView } from './chat-view.js';

const root = byId('chat');
const me = root.dataset.username;
const isAdmin = root.dataset.admin === 'true';
const composer = byId('composer-text');

const store = new Conversations(me);
const memory = new TabMemory(me);
const view = new ChatView(me);
// After an outage the page tries again within 3 s (the client's default waits up to 5 s).
const socket = window.io({ autoConnect: false, reconnectionDelayMax: 3000 });
const outbox = new Outbox(socket, me, {
  onSent: (entry, id) => {
    const conversation = store.conversationOf(entry.room);
    if (conversation) store.confirm(conversation, entry, id);
    redraw(entry);
  },
  onFailed: (entry, ack) => {
    Object.assign(entry, { state: 'failed', error: errorText(ack) });
    redraw(entry);
  },
  onChange: (entry) => redraw(entry),
});
const pane = new MessagePane(me, (entry) => outbox.push(entry));
const drawer = new Drawer();
let online = [];

const typing = new TypingTracker((room) => {
  if (room === store.activeId) view.setTyping(typing.describe(room));
});
const sendTyping = throttled((room) => socket.emit('typing', { room }));

const page = {
  store,
  socket,
  outbox,
  open: openConversation,
  showActive,
  showLatest,
  refreshHeader,
  refreshSide,
  redraw,
  showError: (text) => view.showComposerError(text),
};
const membership = new RoomMembership(page);
const menu = new ConversationMenu(me, isAdmin, {
  onLeave: () => membership.leaveActive(),
  onCloseRoom: () => membership.closeActive(),
});
const stored = new StoredHistory(page, pane, menu, isAdmin);

function refreshSide() {
  view.renderConversations(store.items.values(), store.activeId, openConversation);
  view.showTotalUnread(store.totalUnread(), store.mentioned());
  memory.save(store);
}

function refreshHeader(conversation) {
  if (conversation.id !== store.activeId) return;
  view.showHeader(conversation);
  menu.render(conversation);
  stored.render(conversation);
}

/** Draw the open conversation again (its entries or its place in the list changed). */
function showActive() {
  const conversation = store.active();
  refreshHeader(conversation);
  pane.show(conversation);
  view.setTyping(typing.describe(conversation.id));
  refreshSide();
  stored.shown();
}

function openConversation(id) {
  store.activeId = store.get(id) ? id : LOBBY;
  Object.assign(store.active(), { unread: 0, mentions: 0 });
  store.settle(store.active());
  view.showComposerError('');
  menu.setOpen(false);
  drawer.close();
  showActive();
}

/** Draw the newest entry of `conversation` if it is the one on screen. */
function showLatest(conversation) {
  if (conversation.id === store.activeId) pane.append(conversation);
  memory.save(store);
}

/** Draw `entry` again after its state changed (pending, sent, failed). */
function redraw(entry) {
  const conversation = store.conversationOf(entry.room);
  if (conversation?.id === store.activeId) pane.update(conversation, entry);
  memory.save(store);
}

function receiveMessage(message) {
  const added = store.addMessage(message);
  if (!added) return;
  const { conversation, entry, confirmed } = added;
  if (confirmed) {
    redraw(entry);
    return;
  }
  typing.clear(conversation.id, message.user);
  showLatest(conversation);
  if (message.user !== me) {
    if (conversation.id !== store.activeId || document.hidden) conversation.unread += 1;
    const where = conversation.kind === 'dm' ? 'en privado' : `en ${conversation.title}`;
    const body = message.text || message.file?.name || '';
    notifyHidden(`${message.user} ${where}`, body, () => openConversation(conversation.id),
      conversation.id);
  }
  refreshSide();
}

/** A shared file's new status reaches every card of it. */
function fileChanged(id, status) {
  store.updateFile(id, status).forEach(redraw);
}

/** Queue the composer's text; the box keeps nothing but what is typed after this key. */
function sendComposer() {
  const text = composer.value;
  if (!cleanText(text)) return;
  composer.value = '';
  const conversation = store.active();
  const entry = store.addPending(conversation, text);
  showLatest(conversation);
  outbox.push(entry);
}

function bindComposer() {
  byId('composer').addEventListener('submit', (event) => {
    event.preventDefault();
    sendComposer();
  });
  composer.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    sendComposer();
  });
  composer.addEventListener('input', () => {
    if (composer.value.trim() && socket.connected) sendTyping(store.activeId);
  });
}

function bindPage() {
  // Before the composer's keys: an Enter that picks a name must not also send.
  const names = () => mentionable(store.active(), online, me);
  new MentionCompleter(composer, byId('mention-list'), names);
  bindComposer();
  new FileSharing(root, page, endSession);
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) return;
    Object.assign(store.active(), { unread: 0, mentions: 0 });
    refreshSide();
  });
  // What this tab kept must not outlive the session: the next person may use this browser.
  document.querySelector('form[action$="/logout"]')?.addEventListener('submit', () => memory.clear());
  window.addEventListener('pagehide', () => memory.saveNow(store));
  setupRoomDialog(byId('open-room-dialog'), (fields) => membership.enter(fields));
  setupNotifications(byId('enable-notifications'), byId('notifications-state'));
}

function onConnect() {
  view.showComposerError('');
  outbox.flush();
  // Verdicts given while offline (or reloading) were missed: ask for cards still «en análisis».
  refreshPendingCards(store, fileChanged);
}

function endSession() {
  memory.clear();
  window.location.assign(root.dataset.loginUrl);
}

function bindSocket() {
  socket.on('message', receiveMessage);
  socket.on('rooms', (event) => membership.applyRooms(event));
  socket.on('user_joined', (event) => membership.joined(event));
  socket.on('user_left', (event) => membership.left(event));
  socket.on('room_closed', (event) => membership.closed(event));
  socket.on('presence', (event) => {
    online = [...event.online].sort();
    view.renderOnline(online, (name) => openConversation(store.direct(name).id));
  });
  socket.on('mention', (event) => receiveMention(page, event));
  socket.on('file_status', ({ id, status }) => fileChanged(id, status));
  socket.on('file_deleted', ({ id }) => fileChanged(id, 'deleted'));
  socket.on('typing', ({ room, user }) => {
    if (user !== me && store.get(room)) typing.mark(room, user);
  });
  watchConnection(socket, {
    onStatus: (state) => view.setStatus(state),
    onConnect,
    onSessionEnded: endSession,
  });
}

bindPage();
bindSocket();
const pending = restore(store, memory.load());
openConversation(store.activeId);
pending.forEach((entry) => outbox.push(entry));
socket.connect();
