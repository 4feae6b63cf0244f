// What this tab shows (conversations, their messages, the open one) kept in sessionStorage,
// so a reload finds it again. The server keeps no lobby or direct message; this tab does,
// until it is closed or the user logs out.
'use strict';

// Saving is batched: a burst of messages costs one write.
const SAVE_DELAY_MS = 300;
// Per conversation, so a day of chat stays well inside the browser's storage quota.
const SAVED_ENTRIES = 100;
const KEPT_FIELDS = [
  'id', 'kind', 'title', 'peer', 'persistent', 'creator', 'unread', 'mentions', 'retention',
];

function snapshot(store) {
  const conversations = [...store.items.values()].map((conversation) => {
    const saved = Object.fromEntries(KEPT_FIELDS.map((field) => [field, conversation[field]]));
    saved.members = [...conversation.members];
    saved.entries = conversation.entries.slice(-SAVED_ENTRIES);
    return saved;
  });
  return { active: store.activeId, conversations };
}

export class TabMemory {
  constructor(me) {
    this.key = `pichat.chat.${me}`;
    this.timer = null;
    this.enabled = true;
  }

  /** What the previous page of this tab saved, or null. */
  load() {
    try {
      return JSON.parse(sessionStorage.getItem(this.key));
    } catch {
      return null;
    }
  }

  /** Save `store` soon (once for several calls in a row). */
  save(store) {
    if (!this.enabled || this.timer) return;
    this.timer = setTimeout(() => this.saveNow(store), SAVE_DELAY_MS);
  }

  saveNow(store) {
    clearTimeout(this.timer);
    this.timer = null;
    if (!this.enabled) return;
    try {
      sessionStorage.setItem(this.key, JSON.stringify(snapshot(store)));
    } catch {
      // Storage full or disabled: the page works on; only a reload loses what it shows.
    }
  }

  /** Forget everything this tab kept (logout) and save nothing more. */
  clear() {
    this.enabled = false;
    clearTimeout(this.timer);
    sessionStorage.removeItem(this.key);
  }
}

/** Put saved conversations back into `store`; returns the saved pending entries, in order. */
export function restore(store, saved) {
  const pending = [];
  for (const { members, entries, ...fields } of saved?.conversations ?? []) {
    if (typeof fields.id !== 'string') continue;
    const conversation = store.add({ ...fields, members });
    Object.assign(conversation, fields);
    for (const entry of Array.isArray(entries) ? entries : []) {
      conversation.entries.push(entry);
      if (entry.id !== undefined) conversation.seen.add(String(entry.id));
      if (entry.state === 'queued' || entry.state === 'sending') pending.push(entry);
    }
  }
  if (saved && store.get(saved.active)) store.activeId = saved.active;
  return pending.sort((a, b) => (a.ts < b.ts ? -1 : 1));
}
