// A run's span tree: nesting (indented rows), how long each span and its
// children took (a bar on the run's time line) and whether it failed.

import { api, enc } from './api.js';
import { h, replace } from './dom.js';

const root = document.getElementById('trace');
const runId = root.dataset.run;

/// Each span's extent, its children's included, in Unix milliseconds.
function measure(span) {
  span.start = Date.parse(span.first_time);
  span.end = Math.max(span.start + span.duration_ms, Date.parse(span.last_time));
  for (const child of span.children) {
    measure(child);
    span.start = Math.min(span.start, child.start);
    span.end = Math.max(span.end, child.end);
  }
}

function duration(ms) {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}

function rows(span, depth, range, out) {
  const total = Math.max(range.end - range.start, 1);
  const bar = h('span', { class: `bar ${span.status}`, title: `${span.first_time} · ${duration(span.end - span.start)}` });
  bar.style.left = `${((span.start - range.start) / total) * 100}%`;
  bar.style.width = `${((span.end - span.start) / total) * 100}%`;
  const label = h('span', { class: 'span-name' },
    h('span', { class: `badge ${span.status}` }, span.name || span.span_id), ' ',
    h('code', {}, span.span_id), ` · ${span.events.length} ${span.events.length === 1 ? 'event' : 'events'}`);
  label.style.paddingLeft = `${depth * 18}px`;
  out.push(h('li', { class: 'span', dataset: { span: span.span_id, depth } },
    label, h('span', { class: 'bar-track' }, bar), h('span', { class: 'dur' }, duration(span.end - span.start))));
  for (const child of span.children) rows(child, depth + 1, range, out);
  return out;
}

try {
  const tree = await api('GET', `/v1/runs/${enc(runId)}/tree`);
  tree.spans.forEach(measure);
  const range = {
    start: Math.min(...tree.spans.map((s) => s.start)),
    end: Math.max(...tree.spans.map((s) => s.end)),
  };
  const out = [];
  for (const span of tree.spans) rows(span, 0, range, out);
  replace(root,
    h('p', {}, `${tree.event_count} events in ${out.length} spans; ${tree.events_without_span.length} outside any span.`),
    out.length ? h('ul', { class: 'tree', id: 'span-tree' }, out) : h('p', { class: 'empty' }, 'This run has no spans: its events carry no span_id.'));
} catch (e) {
  replace(root, h('p', { class: 'error', role: 'alert' }, e.message));
}
