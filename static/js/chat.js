// The chat page: wires the socket, the conversations and the view together.
'use strict';

import { notifyHidden, setupNotifications } from './chat-notify.js';
import { setupRoomDialog } from './chat-room-dialog.js';
import { errorText, request, watchConnection } from './chat-socket.js';
import { Conversations, LOBBY } from './chat-store.js';
import { TypingTracker, throttled } from './chat-typing.js';
import { ChatView } from './chat-view.js';

const byId = (id) => document.getElementById(id);
const root = byId('chat');
const me = root.dataset.username;
const composer = byId('composer-text');
const sendButton = byId('composer-send');

const store = new Conversations(me);
const view = new ChatView(me);
const socket = window.io({ autoConnect: false });
// {code, password} of every room joined, by room id, to rejoin after a reconnect.
// Held in memory for the page's life only: never written to any storage.
const joined = new Map();
const RECONNECTED = 'Conexión recuperada.';

const typing = new TypingTracker((room) => {
  if (room === store.activeId) view.setTyping(typing.describe(room));
});
const sendTyping = throttled((room) => socket.emit('typing', { room }));

function refreshSide() {
  view.renderConversations(store.items.values(), store.activeId, openConversation);
  view.showTotalUnread(store.totalUnread());
}

function openConversation(id) {
  store.activeId = id;
  const conversation = store.active();
  conversation.unread = 0;
  view.showConversation(conversation);
  view.setTyping(typing.describe(id));
  view.showComposerError('');
  view.setSideOpen(false);
  refreshSide();
}

/** Draw the newest entry of `conversation` if it is the one on screen. */
function showLatest(conversation) {
  if (conversation.id === store.activeId) view.appendEntry(conversation.entries.at(-1));
}

function receiveMessage(message) {
  const conversation = store.addMessage(message);
  if (!conversation) return;
  typing.clear(conversation.id, message.user);
  showLatest(conversation);
  if (message.user !== me) {
    if (conversation.id !== store.activeId || document.hidden) conversation.unread += 1;
    const where = conversation.kind === 'dm' ? 'en privado' : `en ${conversation.title}`;
    notifyHidden(`${message.user} ${where}`, message.text, () => openConversation(conversation.id));
  }
  refreshSide();
}

/** A handler for user_joined / user_left that updates the members and adds a notice. */
function memberChange(verb, update) {
  return ({ room, user }) => {
    const conversation = store.get(room);
    if (!conversation) return;
    update(conversation.members, user);
    store.addNotice(room, `${user} ${verb}`);
    showLatest(conversation);
    if (room === store.activeId) view.updateDetail(conversation);
  };
}

/** Take the members and history from a join_room / create_room ack. */
function applyJoin(conversation, ack) {
  conversation.members = new Set(ack.members ?? []);
  for (const message of ack.history ?? []) store.addMessage({ ...message, room: conversation.id });
}

async function enterRoom({ mode, code, password, persistent }) {
  const ack = mode === 'create'
    ? await request(socket, 'create_room', { code, password, persistent })
    : await request(socket, 'join_room', { code, password });
  if (!ack.ok) return errorText(ack);
  joined.set(ack.room, { code, password });
  applyJoin(store.add({ id: ack.room, kind: 'room', title: code }), ack);
  openConversation(ack.room);
  return '';
}

async function rejoinRooms() {
  for (const [room, credentials] of joined) {
    const ack = await request(socket, 'join_room', credentials);
    if (ack.ok) {
      applyJoin(store.get(room), ack);
      store.addNotice(room, RECONNECTED);
    } else {
      joined.delete(room);
      store.addNotice(room, `No se pudo volver a entrar en la sala: ${errorText(ack)}`);
    }
  }
  store.addNotice(LOBBY, RECONNECTED);
  view.showConversation(store.active());
}

async function leaveActiveRoom() {
  const room = store.activeId;
  const ack = await request(socket, 'leave_room', { room });
  if (!ack.ok) {
    view.showComposerError(errorText(ack));
    return;
  }
  forgetRoom(room);
  openConversation(LOBBY);
}

function forgetRoom(room) {
  joined.delete(room);
  store.remove(room);
}

/** room_closed (sent by the server, beyond DESIGN.md): drop the room, say so in the lobby. */
function roomClosed({ room }) {
  const conversation = store.get(room);
  if (!conversation || conversation.kind !== 'room') return;
  forgetRoom(room);
  store.addNotice(LOBBY, `La sala ${conversation.title} se ha cerrado.`);
  openConversation(store.activeId);
}

async function sendComposer() {
  const text = composer.value;
  if (!text.trim() || sendButton.disabled) return;
  const conversation = store.active();
  const [event, payload] = conversation.kind === 'dm'
    ? ['send_direct', { to: conversation.peer, text }]
    : ['send_message', { room: conversation.id, text }];
  sendButton.disabled = true;
  const ack = await request(socket, event, payload);
  sendButton.disabled = false;
  if (!ack.ok) {
    view.showComposerError(errorText(ack));
    return;
  }
  composer.value = '';
  view.showComposerError('');
  // The ack may come before the server's own broadcast; the store keeps whichever arrives first.
  const ts = new Date().toISOString();
  receiveMessage({ id: ack.id, room: conversation.id, user: me, text: text.trim(), ts });
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
    // The server tracks typing in the lobby and rooms only; direct chats answer forbidden.
    if (composer.value.trim() && store.active().kind !== 'dm') sendTyping(store.activeId);
  });
}

function bindPage() {
  bindComposer();
  byId('leave-room').addEventListener('click', leaveActiveRoom);
  byId('side-toggle').addEventListener('click', () => view.setSideOpen(true));
  byId('side-close').addEventListener('click', () => view.setSideOpen(false));
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) return;
    store.active().unread = 0;
    refreshSide();
  });
  setupRoomDialog(byId('open-room-dialog'), enterRoom);
  setupNotifications(byId('enable-notifications'), byId('notifications-state'));
}

function bindSocket() {
  socket.on('message', receiveMessage);
  socket.on('user_joined', memberChange('se ha unido', (members, user) => members.add(user)));
  socket.on('user_left', memberChange('ha salido', (members, user) => members.delete(user)));
  socket.on('room_closed', roomClosed);
  socket.on('presence', ({ online }) => {
    view.renderOnline([...online].sort(), (name) => openConversation(store.direct(name).id));
  });
  socket.on('typing', ({ room, user }) => {
    if (user !== me && store.get(room)) typing.mark(room, user);
  });
  watchConnection(socket, {
    onStatus: (state) => view.setStatus(state),
    onReconnect: rejoinRooms,
    onSessionEnded: () => window.location.assign(root.dataset.loginUrl),
    onRefused: () => view.showComposerError(
      'El servidor rechazó la conexión. Recargue la página para intentarlo de nuevo.',
    ),
  });
}

bindPage();
bindSocket();
openConversation(LOBBY);
socket.connect();
