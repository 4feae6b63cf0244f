// Byte counts as people read them, in Spanish: "1,5 MB".
'use strict';

const numberFormat = new Intl.NumberFormat('es-ES', { maximumFractionDigits: 1 });

/** "512 B", "1,5 MB", "2 GB". */
export function humanSize(bytes) {
  const units = ['B', 'KB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${numberFormat.format(value)} ${units[unit]}`;
}
