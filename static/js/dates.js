// Dates as people read them, in full and in Spanish: «1 dic 2026, 16:05».
'use strict';

const fullFormat = new Intl.DateTimeFormat('es-ES', {
  day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit',
});

/** «1 dic 2026, 16:05» in the browser's time zone; '' for none, the text itself if unreadable. */
export function fullDate(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : fullFormat.format(date);
}
