// "X está escribiendo…": who is typing where, and a throttle for our own typing events.
'use strict';

// Someone counts as typing for this long after their last `typing` event.
const SHOWN_MS = 3000;
// At most one `typing` event per interval, so typing does not spend the per-connection event budget.
const SEND_INTERVAL_MS = 2000;

export class TypingTracker {
  /** `onChange(room)` runs whenever the set of people typing in `room` changes. */
  constructor(onChange) {
    this.rooms = new Map();
    this.onChange = onChange;
  }

  /** `user` is typing in `room`. */
  mark(room, user) {
    const users = this.rooms.get(room) ?? new Map();
    this.rooms.set(room, users);
    clearTimeout(users.get(user));
    users.set(user, setTimeout(() => this.clear(room, user), SHOWN_MS));
    this.onChange(room);
  }

  /** `user` stopped typing in `room`: the hint timed out or the message arrived. */
  clear(room, user) {
    const users = this.rooms.get(room);
    if (!users?.has(user)) return;
    clearTimeout(users.get(user));
    users.delete(user);
    this.onChange(room);
  }

  /** The hint line for `room`, or '' when nobody is typing there. */
  describe(room) {
    const names = [...(this.rooms.get(room)?.keys() ?? [])];
    if (names.length === 0) return '';
    if (names.length === 1) return `${names[0]} está escribiendo…`;
    return `${names.slice(0, -1).join(', ')} y ${names.at(-1)} están escribiendo…`;
  }
}

/** Wrap `send` so it runs at most once per SEND_INTERVAL_MS. */
export function throttled(send) {
  let last = 0;
  return (...args) => {
    const now = Date.now();
    if (now - last < SEND_INTERVAL_MS) return;
    last = now;
    send(...args);
  };
}
