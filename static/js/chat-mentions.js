// Mentions: names after "@" in the composer (a list picked with the arrows and Enter or Tab,
// or a tap), and the `mention` event that turns a conversation's badge into "@".
'use strict';

import { element } from './chat-dom.js';
import { notifyHidden } from './chat-notify.js';

// "@" at the start or after a space or bracket, then what is typed of a username so far.
const TYPED = /(?:^|[\s([{])@([A-Za-z0-9_.-]{0,32})$/;
const SHOWN = 8;

export class MentionCompleter {
  /**
   * `names()` gives who can be mentioned in the open conversation. Build it before the
   * composer's own key handler: an Enter that picks a name must not also send.
   */
  constructor(textarea, list, names) {
    this.textarea = textarea;
    this.list = list;
    this.names = names;
    this.options = [];
    this.selected = 0;
    textarea.setAttribute('aria-autocomplete', 'list');
    textarea.setAttribute('aria-controls', list.id);
    textarea.addEventListener('input', () => this.refresh());
    textarea.addEventListener('keydown', (event) => this.onKey(event));
    textarea.addEventListener('blur', () => this.close());
    // A tap on a name must not take the focus (and the caret) from the composer first.
    list.addEventListener('mousedown', (event) => event.preventDefault());
  }

  /** What is typed after "@" right before the caret, or null. */
  typed() {
    const { value, selectionStart, selectionEnd } = this.textarea;
    if (selectionStart !== selectionEnd) return null;
    return TYPED.exec(value.slice(0, selectionStart))?.[1] ?? null;
  }

  refresh() {
    const typed = this.typed();
    const start = typed?.toLowerCase();
    this.options = typed === null ? []
      : this.names().filter((name) => name.toLowerCase().startsWith(start)).sort().slice(0, SHOWN);
    if (this.options.length === 0) {
      this.close();
      return;
    }
    this.selected = 0;
    this.render();
  }

  render() {
    this.list.replaceChildren(...this.options.map((name, index) => {
      const option = element('li', 'mention-option', `@${name}`);
      option.id = `mention-option-${index}`;
      option.setAttribute('role', 'option');
      option.setAttribute('aria-selected', String(index === this.selected));
      option.addEventListener('click', () => this.pick(name));
      return option;
    }));
    this.list.classList.remove('hidden');
    this.textarea.setAttribute('aria-activedescendant', `mention-option-${this.selected}`);
  }

  close() {
    this.options = [];
    this.list.classList.add('hidden');
    this.list.replaceChildren();
    this.textarea.removeAttribute('aria-activedescendant');
  }

  /** Put "@name " in place of what was typed after "@". */
  pick(name) {
    const { value, selectionStart } = this.textarea;
    const typed = this.typed() ?? '';
    const before = value.slice(0, selectionStart - typed.length);
    this.textarea.value = `${before}${name} ${value.slice(selectionStart)}`;
    const caret = before.length + name.length + 1;
    this.textarea.setSelectionRange(caret, caret);
    this.close();
    this.textarea.focus();
  }

  onKey(event) {
    if (this.options.length === 0) return;
    const moves = { ArrowDown: 1, ArrowUp: -1 };
    if (event.key in moves) {
      const count = this.options.length;
      this.selected = (this.selected + moves[event.key] + count) % count;
      this.render();
    } else if (event.key === 'Enter' || event.key === 'Tab') {
      this.pick(this.options[this.selected]);
    } else if (event.key === 'Escape') {
      this.close();
    } else {
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}

/** Who can be mentioned in `conversation`: its members, or everyone `online` in the lobby. */
export function mentionable(conversation, online, me) {
  const names = { lobby: online, room: [...conversation.members] }[conversation.kind] ?? [];
  return names.filter((name) => name !== me);
}

/**
 * `mention` {room, user, text}: unless the user is reading that room, its badge turns "@";
 * a notification (tab hidden) takes the place of the message's. `page` gives the store,
 * `open(id)` and `refreshSide()`.
 */
export function receiveMention(page, { room, user, text }) {
  const conversation = page.store.get(room);
  if (!conversation) return;
  if (conversation.id !== page.store.activeId || document.hidden) {
    conversation.mentions = (conversation.mentions || 0) + 1;
  }
  notifyHidden(`${user} le ha mencionado en ${conversation.title}`, text,
    () => page.open(conversation.id), conversation.id);
  page.refreshSide();
}
