// Searching the open persistent room: the box in its header (on a phone, opened from the ⋮
// menu), the results newest first with the words found marked, a result's message shown.
'use strict';

import { byId, element } from './chat-dom.js';
import { keepsHistory } from './chat-scrollback.js';
import { errorText, request } from './chat-socket.js';
import { highlightPieces, searchTerms } from './chat-words.js';
import { fullDate } from './dates.js';

// The server's most; more words narrow a search better than a longer list.
const HITS = 50;

const NOT_SHOWN = {
  gone: 'Ese mensaje ya no está en la sala.',
  far: 'Ese mensaje es demasiado antiguo para mostrarlo aquí: está más de 2.000 mensajes atrás.',
  failed: 'No se pudieron cargar los mensajes anteriores. Inténtelo de nuevo.',
};

function countText(count) {
  if (count === 0) return 'Ningún mensaje contiene esas palabras.';
  if (count === 1) return '1 mensaje, el más reciente primero.';
  const newest = count === HITS ? ' más recientes' : '';
  return `${count} mensajes${newest}, el más reciente primero.`;
}

/** A hit's text with the words searched for in <mark>, built as text nodes, never as HTML. */
function markedText(text, q) {
  const node = element('span', 'search-hit-text');
  node.append(...highlightPieces(text, q).map((piece) => (
    piece.match ? element('mark', '', piece.text) : document.createTextNode(piece.text))));
  return node;
}

export class RoomSearch {
  /**
   * `page` gives the store and socket; `reveal(conversation, id)` shows a message and resolves
   * 'shown' or why not; `closeMenu()` closes the ⋮ menu.
   */
  constructor(page, reveal, closeMenu) {
    this.page = page;
    this.reveal = reveal;
    this.closeMenu = closeMenu;
    this.main = byId('chat-main');
    this.form = byId('search-form');
    this.input = byId('search-input');
    this.panel = byId('search-results');
    this.list = byId('search-list');
    this.summary = byId('search-summary');
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.run();
    });
    byId('menu-search').addEventListener('click', () => this.openBox());
    byId('search-hide').addEventListener('click', () => this.closeBox());
    byId('search-close').addEventListener('click', () => this.closeResults(true));
    this.form.addEventListener('keydown', (event) => this.onEscape(event, () => {
      if (this.panel.classList.contains('hidden')) this.closeBox();
      else this.closeResults(true);
    }));
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'ArrowDown') this.list.querySelector('.search-hit')?.focus();
    });
    this.panel.addEventListener('keydown', (event) => this.onEscape(event, () => this.closeResults(true)));
  }

  onEscape(event, close) {
    if (event.key !== 'Escape') return;
    event.stopPropagation();
    close();
  }

  /** Offer the search in a persistent room only; another conversation starts afresh. */
  render(conversation) {
    const offered = keepsHistory(conversation);
    this.form.classList.toggle('hidden', !offered);
    byId('menu-search').classList.toggle('hidden', !offered);
    if (conversation.id === this.shownId && offered) return;
    this.shownId = conversation.id;
    this.input.value = '';
    this.closeResults(false);
    this.main.classList.remove('search-open');
  }

  /** On a phone the box is opened from the ⋮ menu, under the header. */
  openBox() {
    this.closeMenu();
    this.main.classList.add('search-open');
    this.input.focus();
  }

  closeBox() {
    this.closeResults(false);
    this.main.classList.remove('search-open');
    if (this.panel.contains(document.activeElement) || this.form.contains(document.activeElement)) {
      byId('composer-text').focus();
    }
  }

  closeResults(refocus) {
    this.panel.classList.add('hidden');
    if (refocus) this.input.focus();
  }

  async run() {
    const conversation = this.page.store.active();
    const q = this.input.value.trim();
    this.panel.classList.remove('hidden');
    this.list.replaceChildren();
    if (searchTerms(q).size === 0) {
      this.summary.textContent = 'Escriba alguna palabra para buscar.';
      return;
    }
    this.summary.textContent = 'Buscando…';
    const ack = await request(this.page.socket, 'search_messages',
      { room: conversation.id, q, limit: HITS });
    if (conversation.id !== this.page.store.activeId || this.input.value.trim() !== q) return;
    if (!ack.ok) {
      this.summary.textContent = errorText(ack);
      return;
    }
    const hits = Array.isArray(ack.hits) ? ack.hits : [];
    this.summary.textContent = countText(hits.length);
    this.list.replaceChildren(...hits.map((hit) => this.hitItem(conversation, hit, q)));
  }

  hitItem(conversation, hit, q) {
    const item = element('li');
    item.dataset.id = hit.id;
    const pick = element('button', 'search-hit');
    pick.type = 'button';
    const meta = element('span', 'search-hit-meta');
    meta.append(element('span', 'msg-author', hit.user), ` · ${fullDate(hit.ts)}`);
    pick.append(meta, markedText(hit.text ?? '', q));
    pick.addEventListener('click', () => this.pick(conversation, hit.id));
    item.append(pick);
    return item;
  }

  async pick(conversation, id) {
    this.summary.textContent = 'Buscando el mensaje en la conversación…';
    const outcome = await this.reveal(conversation, id);
    if (outcome === 'shown') {
      this.closeResults(false);
      this.main.classList.remove('search-open');
    } else {
      this.summary.textContent = NOT_SHOWN[outcome] ?? NOT_SHOWN.failed;
    }
  }

  /** A message deleted meanwhile leaves the results. */
  forget(room, id) {
    if (room !== this.shownId) return;
    this.list.querySelector(`[data-id="${CSS.escape(String(id))}"]`)?.remove();
  }
}
