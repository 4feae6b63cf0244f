// The page's conversations (lobby, rooms, direct chats) and their messages, kept in memory.
'use strict';

export const LOBBY = 'lobby';

// Older entries are dropped so a tab left open for days does not grow without bound.
const MAX_ENTRIES = 300;

/** The id the server gives the direct conversation between two users. */
export function directId(a, b) {
  return `dm:${[a, b].sort().join(':')}`;
}

/** The other user of a direct conversation id, from `me`'s point of view. */
function directPeer(id, me) {
  const [, first, second] = id.split(':');
  return first === me ? second : first;
}

export class Conversations {
  constructor(me) {
    this.me = me;
    this.items = new Map();
    this.add({ id: LOBBY, kind: 'lobby', title: 'Sala general' });
    this.activeId = LOBBY;
  }

  /** The conversation `id`, created with these fields if it is new. */
  add({ id, members = [], ...fields }) {
    if (!this.items.has(id)) {
      this.items.set(id, {
        id, ...fields, members: new Set(members), entries: [], seen: new Set(), unread: 0,
      });
    }
    return this.items.get(id);
  }

  /** The direct conversation with `peer`, created if needed. */
  direct(peer) {
    return this.add({ id: directId(this.me, peer), kind: 'dm', title: peer, peer });
  }

  get(id) {
    return this.items.get(id);
  }

  active() {
    return this.items.get(this.activeId);
  }

  remove(id) {
    this.items.delete(id);
    if (this.activeId === id) this.activeId = LOBBY;
  }

  /** Store a message; returns its conversation, or null for a duplicate or an unknown room. */
  addMessage(message) {
    const conversation = message.room.startsWith('dm:')
      ? this.direct(directPeer(message.room, this.me))
      : this.items.get(message.room);
    const key = String(message.id);
    if (!conversation || conversation.seen.has(key)) return null;
    conversation.seen.add(key);
    pushEntry(conversation, { type: 'message', ...message });
    return conversation;
  }

  /** Store a join/leave or status notice in conversation `id`. */
  addNotice(id, text) {
    const conversation = this.items.get(id);
    if (conversation) pushEntry(conversation, { type: 'notice', text });
    return conversation;
  }

  totalUnread() {
    let total = 0;
    for (const conversation of this.items.values()) total += conversation.unread;
    return total;
  }
}

function pushEntry(conversation, entry) {
  conversation.entries.push(entry);
  if (conversation.entries.length > MAX_ENTRIES) conversation.entries.shift();
}
