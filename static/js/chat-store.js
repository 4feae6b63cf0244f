// The page's conversations (lobby, rooms, direct chats) and their entries, kept in memory.
'use strict';

export const LOBBY = 'lobby';

// Older entries are dropped so a tab left open for days does not grow without bound.
const MAX_ENTRIES = 300;
// What the server removes from a message (control and bidi characters), so a pending
// message shows the text the others will read and can be matched with its broadcast.
const REMOVED = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|[\ud800-\udfff]/gu;

let lastKey = 0;

/** A key for an entry made in this page (a pending message or a notice). */
function localKey(prefix) {
  lastKey += 1;
  return `${prefix}${Date.now().toString(36)}-${lastKey}`;
}

/** The text as the server will broadcast it. */
export function cleanText(text) {
  return text.replace(/\r\n?/g, '\n').replace(/\t/g, ' ').replace(REMOVED, '').trim();
}

/** The id the server gives the direct conversation between two users. */
export function directId(a, b) {
  return `dm:${[a, b].sort().join(':')}`;
}

/** The other user of a direct conversation id, from `me`'s point of view. */
export function directPeer(id, me) {
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

  rooms() {
    return [...this.items.values()].filter((conversation) => conversation.kind === 'room');
  }

  remove(id) {
    this.items.delete(id);
    if (this.activeId === id) this.activeId = LOBBY;
  }

  /** The conversation a message belongs to (a direct one is created on its first message). */
  conversationOf(room) {
    return room.startsWith('dm:') ? this.direct(directPeer(room, this.me)) : this.items.get(room);
  }

  /**
   * Store a server message. Returns {conversation, entry, confirmed} (confirmed: it was the
   * broadcast of the message this page is sending), or null for a duplicate or unknown room.
   */
  addMessage(message) {
    const conversation = this.conversationOf(message.room);
    if (!conversation || conversation.seen.has(String(message.id))) return null;
    const sending = message.user === this.me && conversation.entries.find(
      (entry) => entry.state === 'sending' && entry.text === message.text,
    );
    if (sending) {
      this.confirm(conversation, sending, message.id);
      return { conversation, entry: sending, confirmed: true };
    }
    conversation.seen.add(String(message.id));
    const entry = { type: 'message', key: `m:${message.id}`, ...message };
    pushEntry(conversation, entry);
    return { conversation, entry, confirmed: false };
  }

  /** A message written here, shown at once and marked pending until the server acks it. */
  addPending(conversation, text) {
    const entry = {
      type: 'message', key: localKey('l:'), room: conversation.id, user: this.me,
      text: cleanText(text), ts: new Date().toISOString(), state: 'queued',
    };
    pushEntry(conversation, entry);
    return entry;
  }

  /**
   * The server took pending `entry` as message `id`. Returns false when that message is
   * already shown as another entry (its broadcast came first): the pending one is dropped.
   */
  confirm(conversation, entry, id) {
    if (entry.id === id) return true;
    if (conversation.seen.has(String(id))) {
      conversation.entries.splice(conversation.entries.indexOf(entry), 1);
      return false;
    }
    conversation.seen.add(String(id));
    Object.assign(entry, { id, state: undefined, error: undefined });
    return true;
  }

  /** Insert the messages not shown yet (a room's history) in time order. */
  mergeHistory(conversation, messages) {
    for (const message of messages) {
      const key = String(message.id);
      if (conversation.seen.has(key)) continue;
      conversation.seen.add(key);
      const entry = { type: 'message', key: `m:${key}`, ...message, room: conversation.id };
      const later = conversation.entries.findIndex((other) => other.ts > entry.ts);
      if (later === -1) conversation.entries.push(entry);
      else conversation.entries.splice(later, 0, entry);
    }
    trim(conversation);
  }

  /** Store a join/leave or status notice in conversation `id`. */
  addNotice(id, text) {
    const conversation = this.items.get(id);
    if (conversation) {
      pushEntry(conversation, {
        type: 'notice', key: localKey('n:'), text, ts: new Date().toISOString(),
      });
    }
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
  trim(conversation);
}

function trim(conversation) {
  const extra = conversation.entries.length - MAX_ENTRIES;
  if (extra > 0) conversation.entries.splice(0, extra);
}
