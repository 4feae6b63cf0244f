// The page's conversations (lobby, rooms, direct chats) and their entries, kept in memory.
'use strict';

import { forgetMissing, insertMessages } from './chat-stored.js';

export const LOBBY = 'lobby';

// Older entries are dropped so a tab left open for days does not grow without bound.
const MAX_ENTRIES = 300;
// While the reader scrolls back, the pages loaded stay, up to this many entries.
export const MAX_LOADED = 3000;
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
        mentions: 0,
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
      (entry) => entry.state === 'sending' && entry.text === message.text
        && entry.file?.id === message.file?.id,
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

  /**
   * A message written here (with `file`, a shared file's card), shown at once and marked
   * pending until the server acks it.
   */
  addPending(conversation, text, file) {
    const entry = {
      type: 'message', key: localKey('l:'), room: conversation.id, user: this.me,
      text: cleanText(text), ts: new Date().toISOString(), state: 'queued',
    };
    if (file) entry.file = file;
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

  /**
   * A room's latest messages (join, `rooms` on connect): those not shown go in, in time order;
   * those shown follow the server (text, edit, file status, deletion).
   */
  mergeHistory(conversation, messages) {
    insertMessages(conversation, messages);
    forgetMissing(conversation, messages);
    trim(conversation);
  }

  /** An older page, loaded by scrolling back: kept while the conversation stays open. */
  addOlder(conversation, messages) {
    conversation.readingBack = true;
    insertMessages(conversation, messages);
  }

  /** The conversation is opened again at its latest messages: scrolled-back pages go. */
  settle(conversation) {
    conversation.readingBack = false;
    trim(conversation);
  }

  /**
   * File `id` has a new status ("deleted" once gone): every card of it follows. A late
   * "pending" never hides a verdict. Returns the entries that changed.
   */
  updateFile(id, status) {
    const changed = [];
    for (const conversation of this.items.values()) {
      for (const entry of conversation.entries) {
        const known = entry.file?.id === id ? entry.file.status : undefined;
        if (!known || known === status || (status === 'pending' && known !== 'pending')) continue;
        entry.file = status === 'deleted' ? { id, status } : { ...entry.file, status };
        changed.push(entry);
      }
    }
    return changed;
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

  /** Whether someone mentioned the user in a conversation not read since. */
  mentioned() {
    return [...this.items.values()].some((conversation) => conversation.mentions > 0);
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

/** Drop the oldest entries past the cap; the conversation's beginning is then not shown. */
function trim(conversation) {
  const extra = conversation.entries.length - (conversation.readingBack ? MAX_LOADED : MAX_ENTRIES);
  if (extra <= 0) return;
  conversation.entries.splice(0, extra);
  conversation.historyStart = false;
}
