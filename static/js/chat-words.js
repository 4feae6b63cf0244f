// Words as search matches them: case and accents do not count, whole words only. The search
// results use it to mark the words found, as text (the server sends no markup).
'use strict';

// A word as the server's search splits text into words: letters (with their accents), digits, '_'.
const WORD = /[\p{L}\p{M}\p{N}_]+/gu;
// A long message is shown from a little before its first match.
const LEAD_CHARS = 60;
const EXCERPT_CHARS = 240;

/** Lowercase without accents, so «informe» finds «Informe_año». */
export const folded = (text) => text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

/** The folded words of a search box's text. */
export function searchTerms(q) {
  return new Set((q.match(WORD) ?? []).map(folded));
}

/** The part of `text` to show: all of it if short, else a window from before `start`. */
function excerpt(text, start) {
  if (text.length <= EXCERPT_CHARS) return { from: 0, to: text.length };
  let from = Math.max(0, start - LEAD_CHARS);
  const space = text.lastIndexOf(' ', from);
  if (from > 0 && space > from - 20) from = space + 1;
  return { from, to: Math.min(text.length, from + EXCERPT_CHARS) };
}

/**
 * `text` cut in pieces [{text, match}] where `match` marks the words of `q`; a long text is
 * shortened around its first match, with «…» where it was cut.
 */
export function highlightPieces(text, q) {
  const terms = searchTerms(q);
  const found = [...text.matchAll(WORD)].filter((word) => terms.has(folded(word[0])));
  const { from, to } = excerpt(text, found[0]?.index ?? 0);
  const pieces = from > 0 ? [{ text: '…', match: false }] : [];
  let at = from;
  for (const word of found) {
    const end = word.index + word[0].length;
    if (word.index < from || end > to) continue;
    if (word.index > at) pieces.push({ text: text.slice(at, word.index), match: false });
    pieces.push({ text: word[0], match: true });
    at = end;
  }
  if (to > at) pieces.push({ text: text.slice(at, to), match: false });
  if (to < text.length) pieces.push({ text: '…', match: false });
  return pieces;
}
