// The replay player. The timeline is rendered by the server; at each point
// the player asks the API for the run's state there (GET /v1/runs/{id}/state)
// and shows its files, the last diff of the selected file and the context.
// A run still being written grows live from the replay stream.

import { api, enc } from './api.js';
import { h, replace } from './dom.js';

const root = document.getElementById('run');
const runId = root.dataset.run;
const timeline = document.getElementById('timeline');
const scrubber = document.getElementById('scrubber');
const position = document.getElementById('position');
const playButton = document.getElementById('play');
const speedSelect = document.getElementById('speed');
const els = Object.fromEntries(
  ['files', 'file-name', 'file-content', 'file-diff', 'context', 'event-detail'].map((id) => [id, document.getElementById(id)]),
);

let steps = [...timeline.querySelectorAll('button.step')];
let current = -1;
let playing = false;
let timer = null;
let selectedPath = null;
let shownToken = 0;
const states = new Map();

const offset = (i) => Number(steps[i].dataset.offset);

function stateAt(i) {
  if (!states.has(i)) {
    const request = api('GET', `/v1/runs/${enc(runId)}/state?event=${i}`);
    request.catch(() => states.delete(i));
    states.set(i, request);
  }
  return states.get(i);
}

async function go(i, { fromScrubber = false } = {}) {
  if (!steps.length) return;
  i = Math.max(0, Math.min(steps.length - 1, i));
  if (current >= 0 && steps[current]) steps[current].removeAttribute('aria-current');
  // Only the steps between the old point and the new change their look.
  const [from, to] = current < i ? [Math.max(current, 0), i] : [i, current + 1];
  for (let n = from; n < to && n < steps.length; n++) steps[n].classList.toggle('past', n < i);
  current = i;
  steps[i].setAttribute('aria-current', 'step');
  steps[i].scrollIntoView({ block: 'nearest' });
  if (!fromScrubber) scrubber.value = String(offset(i));
  position.textContent = `event ${i} (${i + 1} of ${steps.length}) · +${(offset(i) / 1000).toFixed(1)} s`;
  const token = ++shownToken;
  try {
    const [state, event] = await Promise.all([stateAt(i), api('GET', `/v1/events/${enc(steps[i].dataset.id)}`)]);
    if (token !== shownToken) return;
    show(state, event, i);
    root.dataset.shown = String(i);
  } catch (e) {
    if (token === shownToken) replace(els['event-detail'], `Could not load this point: ${e.message}`);
  }
}

function show(state, event, index) {
  const paths = Object.keys(state.files).sort();
  // Follow the file this event touched; else keep the one chosen.
  const touched = paths.find((p) => state.files[p].last_event === index);
  if (touched) selectedPath = touched;
  if (!paths.includes(selectedPath)) selectedPath = paths[0] ?? null;
  replace(
    els.files,
    paths.map((path) =>
      h('li', {}, h('button', {
        type: 'button',
        'aria-pressed': String(path === selectedPath),
        dataset: { path },
        onclick: () => { selectedPath = path; show(state, event, index); },
      }, path)),
    ),
  );
  if (!paths.length) replace(els.files, h('li', { class: 'empty' }, 'No files yet at this point.'));
  showFile(state);
  replace(els.context, state.context.map(contextEntry));
  const last = els.context.lastElementChild;
  if (last) last.scrollIntoView({ block: 'nearest' });
  replace(els['event-detail'], JSON.stringify(event, null, 2));
}

function showFile(state) {
  const file = selectedPath && state.files[selectedPath];
  replace(els['file-name'], selectedPath ?? 'No file selected');
  els['file-name'].dataset.path = selectedPath ?? '';
  if (!file) {
    replace(els['file-content']);
    replace(els['file-diff']);
    return;
  }
  replace(els['file-content'], file.content ?? '');
  els['file-content'].dataset.known = String(file.known);
  if (!file.known) els['file-content'].setAttribute('title', 'The run changed this file without seeing all of it');
  const change = [...state.changes].reverse().find((c) => c.path === selectedPath);
  // One span per line, keeping each newline, so the text is the diff exactly.
  const lines = change ? change.diff.split(/(?<=\n)/) : [];
  replace(
    els['file-diff'],
    lines.map((line) => {
      const kind = line.startsWith('@@') ? 'hunk' : line.startsWith('+') && !line.startsWith('+++') ? 'add'
        : line.startsWith('-') && !line.startsWith('---') ? 'del' : '';
      return h('span', { class: kind || undefined }, line);
    }),
  );
}

function contextEntry(entry) {
  const text = entry.text ?? (entry.tool ? `${entry.tool} ${entry.input ? JSON.stringify(entry.input) : ''}` : entry.output !== undefined ? JSON.stringify(entry.output) : '');
  return h('li', { class: entry.type === 'thinking' ? 'thinking' : undefined, dataset: { index: entry.index } },
    h('span', { class: 'role' }, entry.role),
    h('span', { class: `badge ${entry.status}` }, entry.type), ' ',
    text);
}

// Playing: each step waits the time the run took between its events
// (at least 150 ms, at most 2 s), divided by the speed.
function schedule() {
  clearTimeout(timer);
  if (!playing) return;
  if (current >= steps.length - 1) return setPlaying(false);
  const gap = offset(current + 1) - offset(current);
  const wait = Math.min(Math.max(gap, 150), 2000) / Number(speedSelect.value);
  timer = setTimeout(() => {
    go(current + 1);
    schedule();
  }, wait);
}

function setPlaying(on) {
  playing = on && steps.length > 0;
  playButton.textContent = playing ? 'Pause' : 'Play';
  playButton.setAttribute('aria-pressed', String(playing));
  if (playing && current >= steps.length - 1) go(0);
  schedule();
}

playButton.addEventListener('click', () => setPlaying(!playing));
speedSelect.addEventListener('change', () => {
  root.dataset.speed = speedSelect.value;
  schedule();
});
document.getElementById('prev').addEventListener('click', () => go(current - 1));
document.getElementById('next').addEventListener('click', () => go(current + 1));
scrubber.addEventListener('input', () => {
  const t = Number(scrubber.value);
  let i = 0;
  while (i + 1 < steps.length && offset(i + 1) <= t) i++;
  go(i, { fromScrubber: true });
  schedule();
});
timeline.addEventListener('click', (event) => {
  const step = event.target.closest('button.step');
  if (step) go(Number(step.dataset.index));
});
document.addEventListener('keydown', (event) => {
  if (event.target.closest('input, select, textarea')) return;
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === 'ArrowRight' || event.key === 'j') go(current + 1);
  else if (event.key === 'ArrowLeft' || event.key === 'k') go(current - 1);
  else if (event.key === ' ' && event.target === document.body) {
    event.preventDefault();
    setPlaying(!playing);
  }
});

// A run still being written: new events join the timeline as they come.
function follow() {
  const source = new EventSource(`/v1/runs/${enc(runId)}/replay?from_event=${steps.length}&max_gap_ms=0&follow=true`);
  source.onmessage = (message) => {
    const event = JSON.parse(message.data);
    const index = Number(message.lastEventId);
    const start = steps.length ? Date.parse(steps[0].querySelector('time').dateTime) : Date.parse(event.time);
    const at = Date.parse(event.time) - start;
    const step = h('button', { type: 'button', class: 'step', dataset: { index, id: event.id, offset: at } },
      h('span', { class: 'n' }, index),
      h('span', { class: `badge ${event.status}` }, event.type),
      h('span', { class: 'summary' }, event.message ?? event.content ?? event.input?.path ?? event.verb ?? event.tool ?? ''),
      h('time', { datetime: event.time, title: event.time }, `+${(at / 1000).toFixed(1)} s`));
    timeline.append(h('li', {}, step));
    steps.push(step);
    scrubber.max = String(Math.max(Number(scrubber.max), at));
    document.getElementById('run-count').textContent = String(steps.length);
    root.dataset.count = String(steps.length);
  };
  source.addEventListener('end', async () => {
    source.close();
    const run = await api('GET', `/v1/runs/${enc(runId)}`).catch(() => null);
    if (run) {
      const badge = document.getElementById('run-status');
      badge.textContent = run.status;
      badge.className = `badge run-${run.status}`;
      root.dataset.status = run.status;
    }
  });
}

if (root.dataset.status === 'running') follow();
go(0);
