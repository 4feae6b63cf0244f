// Editing and deleting the messages a persistent room keeps: «Editar» and «Borrar» in the ⋯
// menu of each message the user may change (their own; anyone's to delete for an
// administrator), the editor in place, and everyone's edits and deletions applied live.
'use strict';

import { byId, element } from './chat-dom.js';
import { MessageMenus } from './chat-message-menu.js';
import { errorText, request } from './chat-socket.js';
import { cleanText } from './chat-store.js';
import { applyDelete, applyEdit, findMessage } from './chat-stored.js';
import { confirmAction } from './confirm-dialog.js';

function button(className, text) {
  const node = element('button', className, text);
  node.type = 'button';
  return node;
}

export class MessageTools {
  /**
   * `page` gives the store and socket, `redraw(entry)` and `showError(text)`; `isAdmin`: the
   * user may delete anyone's message; `onDeleted(room, id)` after any deletion.
   */
  constructor(page, isAdmin, onDeleted) {
    this.page = page;
    this.store = page.store;
    this.isAdmin = isAdmin;
    this.onDeleted = onDeleted;
    // The message being edited: {key, room, id, draft, error, saving, ...}, kept across redraws.
    this.editing = null;
    this.menus = new MessageMenus();
  }

  /** What the user may do with `entry`: {edit, remove}. */
  rights(entry) {
    const conversation = this.store.get(entry.room);
    const kept = conversation?.kind === 'room' && conversation.persistent === true
      && entry.id !== undefined && !entry.state;
    const own = entry.user === this.store.me;
    return { edit: kept && own, remove: kept && (own || this.isAdmin) };
  }

  /** Add the ⋯ actions (or the editor, while it is edited) to a drawn message. */
  decorate(entry, item) {
    if (this.editing?.key === entry.key) {
      this.drawEditor(entry, item);
      return;
    }
    const rights = this.rights(entry);
    const choices = [
      rights.edit && { text: 'Editar', className: 'msg-edit', act: () => this.startEditing(entry) },
      rights.remove && { text: 'Borrar', className: 'msg-delete danger', act: () => this.remove(entry) },
    ].filter(Boolean);
    if (choices.length) item.append(this.menus.build(choices));
  }

  /** Edit `entry` in place (one message at a time: another one being edited closes). */
  startEditing(entry) {
    const previous = this.editing && findMessage(this.store.get(this.editing.room), this.editing.id);
    const { key, room, id, text = '' } = entry;
    this.editing = {
      key, room, id, draft: text, error: '', saving: false, focus: true, fresh: true,
    };
    if (previous) this.page.redraw(previous);
    this.page.redraw(entry);
  }

  /** The message's text as a box to edit: Enter saves, Escape cancels. */
  drawEditor(entry, item) {
    const { editing } = this;
    item.querySelector('.msg-text')?.remove();
    const form = element('form', 'msg-editor');
    const box = element('textarea', 'msg-edit-box');
    box.value = editing.draft;
    box.rows = Math.min(6, Math.max(2, editing.draft.split('\n').length));
    box.maxLength = 2000;
    box.setAttribute('aria-label', 'Editar mensaje');
    box.addEventListener('input', () => { editing.draft = box.value; });
    box.addEventListener('keydown', (event) => this.editorKey(event, entry));
    const save = element('button', 'small primary', 'Guardar');
    const cancel = button('small', 'Cancelar');
    save.disabled = cancel.disabled = editing.saving;
    cancel.addEventListener('click', () => this.stopEditing(entry));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.save(entry);
    });
    const hint = element('p', 'msg-edit-hint', 'Intro guarda · Esc cancela');
    const controls = element('div', 'msg-edit-controls');
    controls.append(hint, cancel, save);
    form.append(box, controls);
    if (editing.error) form.append(element('p', 'msg-error', editing.error));
    item.querySelector('.msg-meta').after(form);
    if (editing.focus) queueMicrotask(() => this.focusEditor(box));
    box.addEventListener('focus', () => { editing.focus = true; });
    // A box taken out by a redraw keeps the focus for the box drawn in its place.
    box.addEventListener('blur', () => queueMicrotask(() => {
      if (box.isConnected) editing.focus = false;
    }));
  }

  /** Focus the editor's box; the first time, with the caret after the text. */
  focusEditor(box) {
    if (!box.isConnected || !this.editing) return;
    box.focus();
    if (this.editing.fresh) box.setSelectionRange(box.value.length, box.value.length);
    this.editing.fresh = false;
  }

  editorKey(event, entry) {
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      this.stopEditing(entry);
    } else if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.save(entry);
    }
  }

  /** Leave the editor; the focus goes back to the message's ⋯ button. */
  stopEditing(entry) {
    this.editing = null;
    this.page.redraw(entry);
    this.focusActions(entry);
  }

  focusActions(entry) {
    const selector = `[data-key="${CSS.escape(entry.key)}"] .msg-actions-toggle`;
    document.querySelector(selector)?.focus();
  }

  async save(entry) {
    const { editing } = this;
    if (!editing || editing.saving) return;
    const text = cleanText(editing.draft);
    if (text === (entry.text ?? '')) {
      this.stopEditing(entry);
      return;
    }
    if (!text) {
      this.fail(entry, 'El mensaje no puede quedar vacío. Para quitarlo, bórrelo.');
      return;
    }
    Object.assign(editing, { saving: true, error: '' });
    this.page.redraw(entry);
    const ack = await request(this.page.socket, 'edit_message', { room: entry.room, id: entry.id, text });
    editing.saving = false;
    if (this.editing !== editing) return;  // deleted meanwhile
    if (!ack.ok) {
      this.fail(entry, errorText(ack));
      return;
    }
    applyEdit(this.store.get(entry.room), { id: entry.id, text });
    this.stopEditing(entry);
  }

  fail(entry, error) {
    Object.assign(this.editing, { error, focus: true });
    this.page.redraw(entry);
  }

  /** Ask with the page's dialog, then delete the message for everyone. */
  async remove(entry) {
    const whose = entry.user === this.store.me ? '' : `Es un mensaje de ${entry.user}. `;
    const sure = await confirmAction('¿Borrar el mensaje?',
      `${whose}Se borrará para todos los miembros de la sala y no se podrá recuperar.`, 'Borrar');
    if (!sure) {
      this.focusActions(entry);
      return;
    }
    const ack = await request(this.page.socket, 'delete_message', { room: entry.room, id: entry.id });
    if (!ack.ok) {
      this.page.showError(errorText(ack));
      return;
    }
    this.deleted({ room: entry.room, id: entry.id });
    byId('composer-text').focus();
  }

  /** message_edited {room, id, text, edited_ts}, from anyone (this user's other tabs too). */
  edited(event) {
    const entry = applyEdit(this.store.get(event?.room), event ?? {});
    if (entry) this.page.redraw(entry);
  }

  /** message_deleted {room, id}: the message is gone, and its editor if it was open. */
  deleted(event) {
    if (!event) return;
    const entry = applyDelete(this.store.get(event.room), event);
    if (this.editing?.id === event.id) this.editing = null;
    if (entry) this.page.redraw(entry);
    this.onDeleted(event.room, event.id);
  }
}
