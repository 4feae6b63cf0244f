// The ⋯ menu of a message: a button (seen on hover or focus with a mouse, always on touch)
// that opens the message's actions under it. Escape, a click elsewhere or the focus leaving
// close it; Escape gives the focus back to ⋯.
'use strict';

import { element } from './chat-dom.js';

export class MessageMenus {
  constructor() {
    this.open = null;
    document.addEventListener('click', (event) => {
      if (this.open && !this.open.contains(event.target)) this.close(false);
    });
  }

  /** The ⋯ button of one message; `choices` [{text, className, act}] fill its menu. */
  build(choices) {
    const wrap = element('div', 'msg-actions');
    const toggle = element('button', 'msg-actions-toggle');
    toggle.type = 'button';
    const dots = element('span', '', '⋯');
    dots.setAttribute('aria-hidden', 'true');
    toggle.append(dots, element('span', 'visually-hidden', 'Acciones del mensaje'));
    toggle.setAttribute('aria-expanded', 'false');
    toggle.addEventListener('click', () => {
      if (this.open === wrap) this.close(true);
      else this.show(wrap, choices);
    });
    wrap.addEventListener('focusout', (event) => {
      if (this.open === wrap && !wrap.contains(event.relatedTarget)) this.close(false);
    });
    wrap.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape' || this.open !== wrap) return;
      event.stopPropagation();
      this.close(true);
    });
    wrap.append(toggle);
    return wrap;
  }

  show(wrap, choices) {
    this.close(false);
    const menu = element('div', 'msg-menu');
    for (const { text, className, act } of choices) {
      const choice = element('button', className, text);
      choice.type = 'button';
      choice.addEventListener('click', () => {
        this.close(false);
        act();
      });
      menu.append(choice);
    }
    wrap.append(menu);
    wrap.firstChild.setAttribute('aria-expanded', 'true');
    this.open = wrap;
    menu.scrollIntoView({ block: 'nearest' });
    menu.firstChild.focus();
  }

  /** Close the open menu; `refocus`: the focus goes back to its ⋯ button. */
  close(refocus) {
    const wrap = this.open;
    if (!wrap) return;
    this.open = null;
    wrap.querySelector('.msg-menu')?.remove();
    wrap.firstChild.setAttribute('aria-expanded', 'false');
    if (refocus) wrap.firstChild.focus();
  }
}
