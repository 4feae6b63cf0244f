// File types as the office names them («Documento PDF»), never a MIME code (`text/plain`).
'use strict';

const ODF = 'application/vnd.oasis.opendocument.';
const OOXML = 'application/vnd.openxmlformats-officedocument.';
const SPREADSHEET_CSV = 'Hoja de cálculo (CSV)';

const LABELS = {
  'text/plain': 'Documento de texto',
  'text/csv': SPREADSHEET_CSV,
  'application/csv': SPREADSHEET_CSV,
  'application/pdf': 'Documento PDF',
  'image/png': 'Imagen PNG',
  'image/jpeg': 'Imagen JPEG',
  'image/gif': 'Imagen GIF',
  'image/webp': 'Imagen WebP',
  'application/zip': 'Archivo ZIP',
  [`${ODF}text`]: 'Documento de texto (OpenDocument)',
  [`${ODF}spreadsheet`]: 'Hoja de cálculo (OpenDocument)',
  [`${ODF}presentation`]: 'Presentación (OpenDocument)',
  [`${OOXML}wordprocessingml.document`]: 'Documento de Word',
  [`${OOXML}spreadsheetml.sheet`]: 'Hoja de cálculo de Excel',
  [`${OOXML}presentationml.presentation`]: 'Presentación de PowerPoint',
};

/** «Documento PDF» for application/pdf; a CSV sniffed as plain text is still a spreadsheet. */
export function fileTypeLabel(mime, name = '') {
  if (mime === 'text/plain' && /\.csv$/i.test(name)) return SPREADSHEET_CSV;
  if (LABELS[mime]) return LABELS[mime];
  if (String(mime).startsWith('image/')) return 'Imagen';
  if (String(mime).startsWith('text/')) return 'Documento de texto';
  const extension = /\.([a-z0-9]{1,8})$/i.exec(name);
  return extension ? `Archivo ${extension[1].toUpperCase()}` : 'Archivo';
}
