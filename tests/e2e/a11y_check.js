// An axe-style check of our own, evaluated in the page by tests/e2e/test_accessibility.py:
// the contrast of every visible text against the background it is drawn on, a label for
// every form field and a name for every button and link. Returns one line per problem.
(minimum) => {
  const problems = [];

  function describe(node) {
    const id = node.id ? `#${node.id}` : '';
    const classes = [...node.classList].map((name) => `.${name}`).join('');
    return `${node.tagName.toLowerCase()}${id}${classes}`;
  }

  function parse(color) {
    const match = /^rgba?\(([^)]+)\)$/.exec(color);
    if (!match) return null;
    const [r, g, b, a = 1] = match[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  }

  function over(top, bottom) {
    const mix = (c) => top[c] * top.a + bottom[c] * (1 - top.a);
    return { r: mix('r'), g: mix('g'), b: mix('b'), a: 1 };
  }

  function luminance({ r, g, b }) {
    const channel = (value) => {
      const c = value / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  }

  function ratio(a, b) {
    const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (light + 0.05) / (dark + 0.05);
  }

  /** The colour behind `node`: its ancestors' backgrounds laid over a white page, or null
   * when an image or gradient is among them (its contrast cannot be read from styles). */
  function backgroundOf(node) {
    const layers = [];
    for (let el = node; el; el = el.parentElement) {
      const style = getComputedStyle(el);
      if (style.backgroundImage !== 'none') return null;
      const color = parse(style.backgroundColor);
      if (color && color.a > 0) layers.push(color);
      if (color && color.a === 1) break;
    }
    return layers.reverse().reduce((below, layer) => over(layer, below), { r: 255, g: 255, b: 255, a: 1 });
  }

  function opacityOf(node) {
    let opacity = 1;
    for (let el = node; el; el = el.parentElement) opacity *= Number(getComputedStyle(el).opacity);
    return opacity;
  }

  /** Hidden from sight: not rendered, or clipped to a pixel (visually-hidden helpers). */
  function unseen(node) {
    if (!node.checkVisibility({ opacityProperty: true, visibilityProperty: true, checkOpacity: true, checkVisibilityCSS: true })) return true;
    for (let el = node; el; el = el.parentElement) {
      const box = el.getBoundingClientRect();
      if (getComputedStyle(el).overflow !== 'visible' && (box.width <= 1 || box.height <= 1)) return true;
    }
    return false;
  }

  function checkContrast(node, text) {
    if (unseen(node) || node.closest('[disabled], [aria-disabled="true"]')) return;
    const color = parse(getComputedStyle(node).color);
    const background = backgroundOf(node);
    if (!color || !background) return;
    const seen = over({ ...color, a: color.a * opacityOf(node) }, background);
    const value = ratio(seen, background);
    if (value < minimum) {
      problems.push(`contraste ${value.toFixed(2)}:1 en ${describe(node)} «${text.slice(0, 40)}»`);
    }
  }

  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const skipped = 'script, style, template, noscript, option, select, textarea';
  for (let text = walker.nextNode(); text; text = walker.nextNode()) {
    const content = text.textContent.trim();
    const parent = text.parentElement;
    if (content && parent && !parent.closest(skipped)) checkContrast(parent, content);
  }
  for (const field of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    const value = field.tagName === 'SELECT' ? field.selectedOptions[0]?.textContent : field.value;
    if (value && !['checkbox', 'radio', 'file', 'range', 'color'].includes(field.type)) {
      checkContrast(field, value);
    }
  }

  function referenced(node, attribute) {
    return (node.getAttribute(attribute) || '').split(/\s+/).filter(Boolean)
      .map((id) => document.getElementById(id)?.textContent.trim() || '').join(' ').trim();
  }

  function accessibleName(node) {
    return (node.getAttribute('aria-label') || '').trim() || referenced(node, 'aria-labelledby')
      || [...(node.labels || [])].map((label) => label.textContent.trim()).join(' ').trim()
      || (node.matches('button, a, [role=button]') ? node.textContent.trim() : '')
      || (node.matches('input[type=submit], input[type=button]') ? node.value.trim() : '')
      || (node.getAttribute('title') || '').trim()
      || [...node.querySelectorAll('img[alt]')].map((img) => img.alt.trim()).join(' ').trim();
  }

  for (const field of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    if (!accessibleName(field)) problems.push(`campo sin etiqueta: ${describe(field)}`);
  }
  for (const control of document.querySelectorAll('button, [role=button], a[href], input[type=submit]')) {
    if (!accessibleName(control)) problems.push(`botón o enlace sin nombre: ${describe(control)}`);
  }
  return problems;
}
