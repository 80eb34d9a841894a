// Building DOM from data. Text always goes in as text (never as markup),
// so whatever a record contains is shown, not run.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

export function time(iso) {
  if (!iso) return '';
  return h('time', { datetime: iso, title: iso }, relative(iso));
}

export function relative(iso) {
  const seconds = Math.round((Date.now() - Date.parse(iso)) / 1000);
  const n = Math.abs(seconds);
  if (n < 45) return 'just now';
  const amount = n < 3600 ? `${Math.max(1, Math.ceil(n / 60))} min` : n < 86400 ? `${Math.floor(n / 3600)} h` : `${Math.floor(n / 86400)} d`;
  return seconds >= 0 ? `${amount} ago` : `in ${amount}`;
}

/// Shows an error in a page's alert paragraph.
export function showError(el, error) {
  if (!el) return;
  el.textContent = error ? error.message || String(error) : '';
  el.hidden = !error;
}
