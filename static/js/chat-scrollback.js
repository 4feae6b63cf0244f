// Scrolling back through a persistent room: near the top of the list the previous page comes
// in and the reader keeps their place, until the server says it was the first. A search hit
// older than what is shown is reached the same way, page after page.
'use strict';

import { request } from './chat-socket.js';
import { MAX_LOADED } from './chat-store.js';
import { findMessage, oldestStoredId } from './chat-stored.js';

// Closer than this to the top asks for the previous page, so it is there before the reader is.
const TOP_PX = 200;
const PAGE = 50;
// Reaching a search hit loads bigger pages, this many at most (2,000 messages back).
const JUMP_PAGE = 100;
const MAX_JUMP_PAGES = 20;
// The oldest message shown may have been deleted meanwhile: ask from the next one, this often.
const RETRIES = 3;
// After a failed page (offline, refused) scrolling asks again only after this pause.
const RETRY_MS = 3000;

/** Whether the server keeps this conversation's messages (a persistent room). */
export const keepsHistory = (conversation) => conversation?.kind === 'room'
  && conversation.persistent === true;

export class ScrollBack {
  /** `page` gives the store and the socket; `pane` draws the messages. */
  constructor(page, pane) {
    this.page = page;
    this.pane = pane;
    this.loading = null;
    this.pausedUntil = 0;
    pane.list.addEventListener('scroll', () => this.check(), { passive: true });
  }

  /** At the top of the open room (or when its messages do not fill the pane): the page before. */
  check() {
    const { list } = this.pane;
    if (list.scrollTop > TOP_PX || Date.now() < this.pausedUntil) return;
    this.loadOlder(this.page.store.active(), PAGE);
  }

  /** Load one older page of `conversation`; resolves true if it brought messages. */
  loadOlder(conversation, limit) {
    if (this.loading) return this.loading;
    if (!keepsHistory(conversation) || conversation.historyStart
      || conversation.entries.length >= MAX_LOADED) return Promise.resolve(false);
    this.loading = this.load(conversation, limit).finally(() => { this.loading = null; });
    // The reader may still be at the top: of a page too short to scroll, or of another room
    // opened meanwhile.
    this.loading.then((brought) => brought && this.check());
    return this.loading;
  }

  async load(conversation, limit) {
    conversation.loadingOlder = true;
    this.showIfOpen(conversation, () => this.pane.showHead(conversation));
    const ack = await this.fetchOlder(conversation, limit);
    conversation.loadingOlder = false;
    const messages = ack.ok && Array.isArray(ack.messages) ? ack.messages : [];
    if (ack.ok) {
      this.page.store.addOlder(conversation, messages);
      conversation.historyStart = !ack.more;
    } else {
      this.pausedUntil = Date.now() + RETRY_MS;
    }
    this.showIfOpen(conversation, () => this.pane.show(conversation, true));
    return messages.length > 0;
  }

  showIfOpen(conversation, draw) {
    if (conversation.id === this.page.store.activeId) draw();
  }

  /** The history ack for the page before the oldest message shown. */
  async fetchOlder(conversation, limit) {
    let ack = { ok: false, error: 'not_found' };
    for (let attempt = 0; attempt < RETRIES; attempt += 1) {
      const before = oldestStoredId(conversation);
      const payload = { room: conversation.id, limit, ...(before ? { before } : {}) };
      ack = await request(this.page.socket, 'history', payload);
      if (ack.ok || ack.error !== 'not_found' || !before) return ack;
      const gone = findMessage(conversation, before);
      conversation.entries.splice(conversation.entries.indexOf(gone), 1);
    }
    return ack;
  }

  /**
   * Load older pages until message `id` of `conversation` is shown, then show it.
   * Resolves 'shown', 'gone' (deleted or expired), 'far' (too far back) or 'failed'.
   */
  async reveal(conversation, id) {
    for (let pages = 0; !findMessage(conversation, id); pages += 1) {
      if (pages === MAX_JUMP_PAGES) return 'far';
      if (conversation.historyStart) return 'gone';
      if (conversation.entries.length >= MAX_LOADED) return 'far';
      if (!(await this.loadOlder(conversation, JUMP_PAGE)) && !conversation.historyStart) {
        return 'failed';
      }
    }
    const entry = findMessage(conversation, id);
    if (entry.type !== 'message') return 'gone';
    this.showIfOpen(conversation, () => this.pane.reveal(entry));
    return 'shown';
  }
}
