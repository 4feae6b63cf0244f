// Messages the user wrote or files shared, sent one at a time in order; offline, they wait.
'use strict';

import { request } from './chat-socket.js';
import { directPeer } from './chat-store.js';

// The server allows a burst of events per connection; past it, wait this long and try again.
const RATE_LIMITED_WAIT_MS = 2000;

const pause = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

export class Outbox {
  /**
   * `onSent(entry, id)` when the server took an entry, `onFailed(entry, ack)` when it
   * refused it, `onChange(entry)` when its state changed otherwise.
   */
  constructor(socket, me, { onSent, onFailed, onChange }) {
    this.socket = socket;
    this.me = me;
    this.handlers = { onSent, onFailed, onChange };
    this.queue = [];
    this.busy = false;
  }

  /** Queue `entry` (a pending message of the store) and send it when its turn comes. */
  push(entry) {
    entry.state = 'queued';
    entry.error = undefined;
    this.queue.push(entry);
    this.handlers.onChange(entry);
    this.flush();
  }

  /** Drop what is still queued for `room` (the user left it or it was closed). */
  forget(room) {
    const inFlight = this.busy ? this.queue[0] : null;
    this.queue = this.queue.filter((entry) => entry.room !== room || entry === inFlight);
  }

  /** Send what is queued, in order, while the socket is connected. */
  async flush() {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length && this.socket.connected) {
        if (!await this.sendFirst()) break;
      }
    } finally {
      this.busy = false;
    }
  }

  /** Send the first entry; false when it must wait for the next connection. */
  async sendFirst() {
    const entry = this.queue[0];
    entry.state = 'sending';
    this.handlers.onChange(entry);
    const ack = await this.emit(entry);
    // Its broadcast may have come back first and confirmed it already.
    if (ack.ok || entry.id) {
      this.queue.shift();
      this.handlers.onSent(entry, ack.id ?? entry.id);
      return true;
    }
    if (ack.error === 'offline') {
      entry.state = 'queued';
      this.handlers.onChange(entry);
      return false;
    }
    if (ack.error === 'rate_limited') {
      await pause(RATE_LIMITED_WAIT_MS);
      return true;
    }
    this.queue.shift();
    this.handlers.onFailed(entry, ack);
    return true;
  }

  /** The event and payload that send `entry`: a text, or a shared file (and its text). */
  request(entry) {
    const where = entry.room.startsWith('dm:')
      ? { to: directPeer(entry.room, this.me) } : { room: entry.room };
    if (entry.file) {
      const text = entry.text ? { text: entry.text } : {};
      return ['share_file', { ...where, file_id: entry.file.id, ...text }];
    }
    return [where.to ? 'send_direct' : 'send_message', { ...where, text: entry.text }];
  }

  /** The ack of `entry`'s event, or an `offline` failure as soon as the connection drops. */
  emit(entry) {
    const [event, payload] = this.request(entry);
    let dropped;
    const interrupted = new Promise((resolve) => {
      dropped = () => resolve({ ok: false, error: 'offline' });
      this.socket.once('disconnect', dropped);
    });
    return Promise.race([request(this.socket, event, payload), interrupted])
      .finally(() => this.socket.off('disconnect', dropped));
  }
}
