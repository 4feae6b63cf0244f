// On a phone the side list is a drawer: opened from ☰ over a dimmed backdrop, closed by ✕,
// Escape or a tap outside; the keyboard focus goes into it and comes back to ☰.
'use strict';

import { byId } from './chat-dom.js';

// The width below which chat.css makes the side list a drawer.
const PHONE = '(max-width: 720px)';

export class Drawer {
  constructor() {
    this.root = byId('chat');
    this.side = byId('chat-side');
    this.main = byId('chat-main');
    this.toggle = byId('side-toggle');
    this.toggle.addEventListener('click', () => this.open());
    byId('side-close').addEventListener('click', () => this.close());
    byId('side-backdrop').addEventListener('click', () => this.close());
    document.addEventListener('keydown', (event) => {
      // Escape in the room dialog (opened from the drawer) closes the dialog only.
      if (event.key === 'Escape' && this.isOpen() && !event.target.closest('dialog')) this.close();
    });
    // Turned to a wide screen, the list is no drawer: nothing may stay inert behind it.
    window.matchMedia(PHONE).addEventListener('change', () => this.setOpen(false));
  }

  isOpen() {
    return this.side.classList.contains('open');
  }

  open() {
    this.setOpen(true);
    const target = this.side.querySelector('[aria-current="true"]') ?? byId('side-close');
    target.focus();
  }

  /** Close the drawer if it is open, giving the focus back to ☰. */
  close() {
    if (!this.isOpen()) return;
    this.setOpen(false);
    this.toggle.focus();
  }

  setOpen(open) {
    this.side.classList.toggle('open', open);
    this.root.classList.toggle('drawer-open', open);
    this.toggle.setAttribute('aria-expanded', String(open));
    // The conversation behind the drawer takes no clicks or focus while it is open.
    this.main.inert = open;
  }
}
