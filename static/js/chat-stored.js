// A persistent room's messages as the server keeps them: pages merged into a conversation,
// edits and deletions applied to what the page (and this tab's memory) shows.
'use strict';

// join_room and `rooms` carry the room's latest messages, this many at most.
export const HISTORY_PAGE = 50;

/** A message the server has (it has an id and is not waiting to be sent). */
const stored = (entry) => entry.type === 'message' && entry.id !== undefined && !entry.state;

/** The entry of message `id` in `conversation`, or undefined. */
export function findMessage(conversation, id) {
  return conversation?.entries.find((entry) => entry.id === id);
}

/** The id of the oldest message shown that the server still has, or undefined. */
export function oldestStoredId(conversation) {
  return conversation.entries.find(stored)?.id;
}

/**
 * Put the server's `messages` in time order among the entries; those shown already take the
 * server's text, edit time and file status. Returns how many were new.
 */
export function insertMessages(conversation, messages) {
  let added = 0;
  for (const message of messages) {
    const key = String(message.id);
    if (conversation.seen.has(key)) {
      const shown = findMessage(conversation, message.id);
      if (shown?.type === 'message') refresh(shown, message);
      continue;
    }
    conversation.seen.add(key);
    added += 1;
    const entry = { type: 'message', key: `m:${key}`, ...message, room: conversation.id };
    const later = conversation.entries.findIndex((other) => other.ts > entry.ts);
    if (later === -1) conversation.entries.push(entry);
    else conversation.entries.splice(later, 0, entry);
  }
  return added;
}

function refresh(shown, message) {
  shown.text = message.text;
  if (message.file) shown.file = message.file;
  if (message.edited_ts) shown.edited_ts = message.edited_ts;
}

/**
 * `latest` is the room's newest page as the server has it now: a shown message inside its
 * span that it lacks was deleted meanwhile (while this tab was offline or closed), so it goes.
 * Messages newer than the page are not judged: they may have been sent since.
 */
export function forgetMissing(conversation, latest) {
  if (latest.length === 0) return;
  const present = new Set(latest.map((message) => String(message.id)));
  const first = latest.length < HISTORY_PAGE ? '' : latest[0].ts;
  const last = latest.at(-1).ts;
  conversation.entries = conversation.entries.filter((entry) => !stored(entry)
    || entry.ts < first || entry.ts > last || present.has(String(entry.id)));
}

/** message_edited {id, text, edited_ts}: the entry changed, or null if it is not shown. */
export function applyEdit(conversation, { id, text, edited_ts: editedTs }) {
  const entry = findMessage(conversation, id);
  if (entry?.type !== 'message' || typeof text !== 'string') return null;
  Object.assign(entry, { text, edited_ts: editedTs ?? new Date().toISOString() });
  return entry;
}

/**
 * message_deleted {id}: the entry becomes «Mensaje borrado», keeping only who and when, so
 * neither the page nor this tab's memory keeps its words. Null if it is not shown.
 */
export function applyDelete(conversation, { id }) {
  const entry = findMessage(conversation, id);
  if (entry?.type !== 'message') return null;
  for (const field of ['text', 'file', 'edited_ts']) delete entry[field];
  entry.type = 'deleted';
  return entry;
}
