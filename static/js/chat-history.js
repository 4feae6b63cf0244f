// What a persistent room keeps, on the chat page: scrolling back, editing and deleting
// messages (everyone's changes applied live), searching, and how long messages are kept.
'use strict';

import { MessageTools } from './chat-edits.js';
import { RetentionControl } from './chat-retention.js';
import { ScrollBack } from './chat-scrollback.js';
import { RoomSearch } from './chat-search.js';

export class StoredHistory {
  /**
   * `page` gives the store and socket, `redraw(entry)` and `showError(text)`; `pane` draws
   * the messages; `menu` is the ⋮ menu; `isAdmin` as the page says.
   */
  constructor(page, pane, menu, isAdmin) {
    this.scrollBack = new ScrollBack(page, pane);
    this.search = new RoomSearch(
      page, (conversation, id) => this.scrollBack.reveal(conversation, id), () => menu.setOpen(false),
    );
    const tools = new MessageTools(page, isAdmin, (room, id) => this.search.forget(room, id));
    pane.tools = tools;
    this.retention = new RetentionControl(page, isAdmin);
    page.socket.on('message_edited', (event) => tools.edited(event));
    page.socket.on('message_deleted', (event) => tools.deleted(event));
  }

  /** The header and menu parts of `conversation`: the search box, the retention choice. */
  render(conversation) {
    this.search.render(conversation);
    this.retention.render(conversation);
  }

  /** The open conversation was drawn: a persistent room too short to scroll loads more. */
  shown() {
    this.scrollBack.check();
  }
}
