// Connect an agent: the snippets carry the URL this browser reached the
// server at, each copies with one click, and the page watches for the
// first event a client sends.

import { api, enc } from './api.js';
import { h, replace, time } from './dom.js';

const WATCH_EVERY_MS = 2000;

// Behind a proxy the server may not know the address people use: the
// browser does.
for (const el of document.querySelectorAll('.server-url')) el.textContent = location.origin;

for (const button of document.querySelectorAll('button.copy')) {
  button.addEventListener('click', async () => {
    const text = document.getElementById(button.dataset.copy).textContent;
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = 'Copied';
    } catch {
      // No clipboard outside a secure context: select it for Ctrl+C.
      const range = document.createRange();
      range.selectNodeContents(document.getElementById(button.dataset.copy));
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      button.textContent = 'Selected: press Ctrl+C';
    }
    setTimeout(() => { button.textContent = 'Copy'; }, 2000);
  });
}

const status = document.getElementById('first-event');

async function watch() {
  try {
    const page = await api('GET', '/v1/events?origin=client&limit=1');
    const [event] = page.events;
    if (event) {
      const who = event.agent_id || event.actor?.id;
      replace(status,
        h('strong', {}, 'First event received: '),
        h('code', {}, event.type), who ? [' from ', h('code', {}, who)] : null, ' ',
        time(event.time), ' — ',
        h('a', { href: `/events/${enc(event.id)}` }, 'open it'), ' or ',
        h('a', { href: '/?origin=client' }, 'see the audit log'), '.');
      status.classList.add('arrived');
      return;
    }
  } catch {
    // A failed look is retried at the next tick; the page stays as it is.
  }
  setTimeout(watch, WATCH_EVERY_MS);
}

if (status.dataset.connected !== 'true') watch();
