// The real flightrec binary on a free port, over a fresh store (with the
// demo loaded unless asked not to), and a client for its API.

import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const OWNER = { email: 'owner@test.invalid', password: 'correct horse battery staple' };
export const API_KEY = 'fr_browser_test_key_0123456789abcdef0123';

export async function startServer({ demo = true, env = {} } = {}) {
  const bin = process.env.FLIGHTREC_BIN;
  if (!bin) throw new Error('FLIGHTREC_BIN is not set: run tests/browser/run');
  const dir = mkdtempSync(join(tmpdir(), 'flightrec-e2e-'));
  const args = ['serve', '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'data')];
  if (demo) args.push('--demo');
  const child = spawn(bin, args, {
    env: {
      ...process.env,
      FLIGHTREC_BOOTSTRAP_API_KEY: API_KEY,
      FLIGHTREC_BOOTSTRAP_ADMIN_EMAIL: OWNER.email,
      FLIGHTREC_BOOTSTRAP_ADMIN_PASSWORD: OWNER.password,
      FLIGHTREC_LOG: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start within 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = line.match(/^flightrec listening on (\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  const call = async (method, path, body) => {
    const response = await fetch(base + path, {
      method,
      headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
  };
  return {
    base,
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body),
    stop() {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/// RFC 4180 CSV: quoted fields may hold commas, quotes and newlines.
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

// Debian's Chromium (or CHROMIUM) with one page of `viewport`. Every
// script error, console error and dialog the page raises goes to
// `problems`, for the suite to fail on, but the console errors `expected`
// allows (a 4xx a test provokes); confirm dialogs are accepted.
export async function openBrowser(problems, { viewport, acceptDownloads = false, expected = () => false } = {}) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  const context = await browser.newContext({ viewport, acceptDownloads });
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !expected(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('dialog', async (d) => {
    if (d.type() === 'confirm') return d.accept();
    problems.push(`dialog: ${d.message()}`);
    await d.dismiss();
  });
  return { browser, context, page };
}

/// Signs the page in as the owner, through the sign-in form.
export async function signIn(page, server) {
  await page.goto(`${server.base}/login`);
  await page.fill('input[name=email]', OWNER.email);
  await page.fill('input[name=password]', OWNER.password);
  await Promise.all([page.waitForURL(`${server.base}/`), page.click('button[type=submit]')]);
}
