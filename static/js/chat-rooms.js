// Rooms are the account's: the server lists them on every connect (`rooms`); this page
// follows that list, the members coming and going, and the user's create/join/leave/close.
'use strict';

import { errorText, request } from './chat-socket.js';
import { LOBBY } from './chat-store.js';

/** The room's days of retention (0: for ever), where the server tells them. */
function keepRetention(conversation, info) {
  if ('retention_days' in info) conversation.retention = info.retention_days ?? 0;
}

export class RoomMembership {
  /**
   * `page` gives the store, socket and outbox, and `showActive()` (redraw the open
   * conversation), `open(id)`, `showLatest(conversation)`, `refreshHeader(conversation)`,
   * `refreshSide()`, `showError(text)`.
   */
  constructor(page) {
    this.page = page;
    this.store = page.store;
  }

  /** `rooms` {rooms: [{room, persistent, members, creator, history}]}: the account's rooms. */
  applyRooms({ rooms } = {}) {
    if (!Array.isArray(rooms)) return;
    const listed = new Set(rooms.map((info) => info.room));
    for (const conversation of this.store.rooms()) {
      if (!listed.has(conversation.id)) this.forget(conversation.id);
    }
    for (const info of rooms) this.applyRoom(info);
    this.page.showActive();
  }

  applyRoom({ room, persistent, members, creator, history, ...more }) {
    const conversation = this.store.add({ id: room, kind: 'room', title: room });
    conversation.persistent = persistent;
    if (creator) conversation.creator = creator;
    keepRetention(conversation, more);
    // Who was here before this connect rejoins without a "se ha unido" notice.
    conversation.formerMembers = conversation.members;
    conversation.members = new Set(members ?? []);
    this.store.mergeHistory(conversation, history ?? []);
  }

  /** `user_joined` {room, user}: a notice, unless the user was a member already. */
  joined({ room, user }) {
    const conversation = this.store.get(room);
    if (!conversation || conversation.members.has(user)) return;
    conversation.members.add(user);
    if (!conversation.formerMembers?.has(user)) this.notice(conversation, `${user} se ha unido`);
    this.page.refreshHeader(conversation);
  }

  /** `user_left` {room, user}: the user left; if it is this account, on every one of its pages. */
  left({ room, user }) {
    const conversation = this.store.get(room);
    if (!conversation || conversation.kind !== 'room') return;
    if (user === this.store.me) {
      this.forget(room);
      this.page.showActive();
      return;
    }
    conversation.members.delete(user);
    conversation.formerMembers?.delete(user);
    this.notice(conversation, `${user} ha salido`);
    this.page.refreshHeader(conversation);
  }

  /** `room_closed` {room}: drop the room, say so in the lobby. */
  closed({ room }) {
    const conversation = this.store.get(room);
    if (!conversation || conversation.kind !== 'room') return;
    this.forget(room);
    this.notice(this.store.get(LOBBY), `La sala ${conversation.title} se ha cerrado.`);
    this.page.showActive();
  }

  /** The room dialog's submit: resolves to an error text, or '' once the room is open. */
  async enter({ mode, code, password, persistent }) {
    const { socket } = this.page;
    const ack = mode === 'create'
      ? await request(socket, 'create_room', { code, password, persistent })
      : await request(socket, 'join_room', { code, password });
    if (!ack.ok) return errorText(ack);
    const conversation = this.store.add({ id: ack.room, kind: 'room', title: ack.room });
    const history = ack.history ?? [];
    // A join ack without `persistent` tells it only by history; else it is unknown till `rooms`.
    const keeps = ack.persistent ?? (history.length > 0 || undefined);
    conversation.persistent = mode === 'create' ? persistent : keeps;
    conversation.creator = mode === 'create' ? this.store.me : ack.creator ?? conversation.creator;
    conversation.members = new Set(ack.members ?? []);
    // A room just created keeps its messages as long as the installation allows.
    keepRetention(conversation, mode === 'create' ? { retention_days: 0, ...ack } : ack);
    this.store.mergeHistory(conversation, history);
    this.page.open(ack.room);
    return '';
  }

  async leaveActive() {
    await this.act('leave_room');
  }

  async closeActive() {
    await this.act('close_room');
  }

  /** Leave or close the open room; the room goes at once, its events follow. */
  async act(event) {
    const room = this.store.activeId;
    const ack = await request(this.page.socket, event, { room });
    if (!ack.ok) {
      this.page.showError(errorText(ack));
      return;
    }
    this.forget(room);
    this.page.open(LOBBY);
  }

  forget(room) {
    this.page.outbox.forget(room);
    this.store.remove(room);
  }

  notice(conversation, text) {
    this.store.addNotice(conversation.id, text);
    this.page.showLatest(conversation);
  }
}
