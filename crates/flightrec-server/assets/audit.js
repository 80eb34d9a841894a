// The audit log: a filter applies as soon as it is chosen (text filters on
// Enter), the URL keeps only what is set, and a row opens to its payload.
// Keys: `/` to search, j and k from row to row (Enter opens one).

const form = document.getElementById('filters');
const DEFAULT_WINDOW = '24h';

function apply() {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    if (value === '' || (name === 'since' && value === DEFAULT_WINDOW)) continue;
    params.append(name, value);
  }
  const query = params.toString();
  location.assign(query ? `/?${query}` : '/');
}

form?.addEventListener('change', (event) => {
  if (event.target.matches('select[data-autosubmit]')) apply();
});
form?.addEventListener('submit', (event) => {
  event.preventDefault();
  apply();
});

document.getElementById('records')?.addEventListener('click', (event) => {
  const button = event.target.closest('button.expand');
  if (!button) return;
  const payload = document.getElementById(button.getAttribute('aria-controls'));
  const open = button.getAttribute('aria-expanded') !== 'true';
  button.setAttribute('aria-expanded', String(open));
  button.setAttribute('aria-label', open ? 'Hide the record' : 'Show the record');
  payload.hidden = !open;
});

document.addEventListener('keydown', (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target.closest('input, select, textarea')) return;
  if (event.key === '/') {
    event.preventDefault();
    form?.elements.q?.focus();
    return;
  }
  if (event.key !== 'j' && event.key !== 'k') return;
  const rows = [...document.querySelectorAll('#records tr.record button.expand')];
  if (!rows.length) return;
  // From the row that holds the focus, whichever of its controls has it.
  const at = rows.indexOf(document.activeElement?.closest('tr.record')?.querySelector('button.expand'));
  const next = at < 0 ? 0 : Math.min(rows.length - 1, Math.max(0, at + (event.key === 'j' ? 1 : -1)));
  rows[next].focus();
  rows[next].closest('tr').scrollIntoView({ block: 'nearest' });
});

// Following live: the API's event stream says when records matching the
// filters are committed; the rows themselves come rendered from
// /audit/rows, as the page renders them. Pausing keeps the stream and
// counts what arrives; resuming shows it.
const live = document.getElementById('live');
const liveStatus = document.getElementById('live-status');
const table = document.getElementById('records');
// A tab left following a busy log would grow without end.
const MAX_NEW_ROWS = 1000;

let source = null;
let paused = false;
let shownTop = live?.dataset.after ? Number(live.dataset.after) : null;
let newestSeen = shownTop;
let added = 0;
let fetching = false;

function say(text) {
  if (liveStatus) liveStatus.textContent = text;
}

function waiting() {
  return newestSeen !== null && (shownTop === null || newestSeen > shownTop);
}

async function showNew() {
  if (fetching || paused || !waiting()) return;
  fetching = true;
  try {
    while (!paused && waiting() && added < MAX_NEW_ROWS) {
      // Nothing shown of an empty log yet: its rows from the beginning.
      const after = shownTop === null ? '' : `&after_seq=${shownTop}`;
      const response = await fetch(`${live.dataset.rows}${after}`, { credentials: 'same-origin' });
      if (!response.ok) throw new Error(`the server answered ${response.status}`);
      const body = table.tBodies[0];
      const template = document.createElement('template');
      template.innerHTML = (await response.text()).trim();
      const rows = template.content.querySelectorAll('tr.record');
      if (!rows.length) break;
      shownTop = Math.max(...[...rows].map((r) => Number(r.dataset.seq)));
      for (const row of rows) row.classList.add('new');
      body.prepend(template.content);
      added += rows.length;
      table.hidden = false;
      document.getElementById('no-records')?.remove();
    }
    if (added >= MAX_NEW_ROWS) {
      stop();
      say(`Stopped after ${added} new records: reload the page to follow again.`);
    } else {
      say(`Following: ${added} new record${added === 1 ? '' : 's'}.`);
    }
  } catch (error) {
    say(`Could not show the new records (${error.message}); still following.`);
  } finally {
    fetching = false;
  }
}

function stop() {
  source?.close();
  source = null;
  live.setAttribute('aria-pressed', 'false');
  live.textContent = 'Follow live';
}

function start() {
  const after = shownTop === null ? '' : `&after_seq=${shownTop}`;
  source = new EventSource(`${live.dataset.stream}${after}`);
  source.addEventListener('start', (event) => {
    // The log was empty when the page was drawn, and the server starts
    // after its newest record: whatever came meanwhile is shown first.
    if (shownTop === null) {
      newestSeen = Math.max(newestSeen ?? -1, Number(event.lastEventId));
      showNew();
    }
  });
  source.onmessage = (message) => {
    newestSeen = Math.max(newestSeen ?? 0, Number(message.lastEventId));
    if (paused) say('Paused: new records waiting.');
    else showNew();
  };
  source.onerror = (event) => {
    // The server's own `error` event carries why; without data this is the
    // connection, which EventSource reopens by itself from the last id.
    if (event.data) {
      stop();
      say(`Stopped following: ${event.data}`);
    } else if (source?.readyState === EventSource.CONNECTING) {
      say('Reconnecting…');
    }
  };
  live.setAttribute('aria-pressed', 'true');
  live.textContent = 'Pause';
  say('Following: new records appear at the top.');
}

live?.addEventListener('click', () => {
  if (!source) {
    paused = false;
    start();
  } else if (!paused) {
    paused = true;
    live.textContent = 'Resume';
    live.setAttribute('aria-pressed', 'false');
    say(waiting() ? 'Paused: new records waiting.' : 'Paused.');
  } else {
    paused = false;
    live.textContent = 'Pause';
    live.setAttribute('aria-pressed', 'true');
    say('Following: new records appear at the top.');
    showNew();
  }
});
