// Shared helpers for the page tests: launch Debian's Chromium headless, phone-sized pages, screenshots.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

export const BASE = process.env.BASE_URL;
export const SHOTS = process.env.SCREENSHOT_DIR || new URL('./screenshots/', import.meta.url).pathname;
mkdirSync(SHOTS, { recursive: true });

export async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  // Every context any spec opens reports the page's content-security-policy violations.
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => watchPolicy(await newContext(options));
  return browser;
}

// --- the content security policy: a spec fails when Chromium blocks anything on a page ---

const violations = [];

/** Violations seen so far (and forgets them): for a spec that provokes one on purpose. */
export function takeCspViolations() {
  return violations.splice(0, violations.length);
}

async function watchPolicy(context) {
  // The event from the page (script, style, image, form … that the policy blocked) …
  await context.exposeBinding('__msPolicyViolation', ({ page }, v) => violations.push({ url: page.url(), ...v }));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__msPolicyViolation({ directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile,
        line: e.lineNumber, sample: e.sample });
    }, true);
  });
  // … and Chromium's console message, which also covers pages where scripts do not run.
  context.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) violations.push({ url: msg.page()?.url(), console: msg.text() });
  });
  return context;
}

/** A cheap Android phone: 360×740 CSS px, touch, mobile user agent. */
export async function phone(browser, options = {}) {
  const context = await browser.newContext({
    viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN',
    userAgent: 'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120 Mobile Safari/537.36',
    ...options,
  });
  return context;
}

export async function shot(page, name) {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

export function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

/** Runs a spec's main, printing a JSON line of results for the Rust harness; exits non-zero on failure. */
export async function run(main) {
  const browser = await launch();
  try {
    const result = await main(browser);
    const seen = takeCspViolations();
    assert(seen.length === 0, `the content security policy blocked something: ${JSON.stringify(seen, null, 1)}`);
    console.log(JSON.stringify({ ok: true, ...(result || {}) }));
  } catch (e) {
    console.error(e.stack || String(e));
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}

// --- the staff console ---

/** A desk computer: a 1366×900 window. */
export async function desk(browser) {
  return browser.newContext({ viewport: { width: 1366, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
}

/**
 * An office screen (1366×768) signed in to the console as `username`, collecting page errors:
 * { context, page, errors }.
 */
export async function signedIn(browser, username) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await consoleLogin(page, username);
  return { context, page, errors };
}

/** Signs in to the staff console through its login form as a demo user (signing out whoever was in). */
export async function consoleLogin(page, username) {
  if (page.url().startsWith(`${BASE}/console/`) && await page.isVisible('#logout')) await page.click('#logout');
  else await page.goto(`${BASE}/console/`);
  await page.waitForSelector('#login-view:not([hidden])');
  // Land on the work list after signing in, whatever order was open before.
  await page.evaluate(() => history.replaceState(null, '', '#/'));
  await page.fill('#username', username);
  await page.fill('#password', 'minsheng-demo');
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#list-view:not([hidden])');
}

/** Opens an order's detail in the console (from the list view, where consoleLogin leaves the page). */
export async function openOrder(page, no) {
  await page.evaluate((h) => { location.hash = h; }, `#/t/${no}`);
  await page.waitForFunction((n) => {
    const el = document.getElementById('detail-no');
    return !document.getElementById('detail-view').hidden && el && el.textContent === n;
  }, no);
}

/** Labels of the action buttons the console shows for the open order. */
export async function actionLabels(page) {
  return (await page.locator('#actions button').allTextContents()).map((s) => s.trim());
}

/** Opens the form of the action button labelled `label`; returns the form's locator. */
export async function openAction(page, label) {
  await page.click(`#actions button:text-is("${label}")`);
  const form = page.locator('#action-form form.act');
  await form.waitFor();
  return form;
}

/** Fills an open action form: text for inputs and text areas, an option label for selects. */
export async function fillAction(form, fields) {
  for (const [name, value] of Object.entries(fields)) {
    const el = form.locator(`[name="${name}"]`);
    if ((await el.evaluate((e) => e.tagName)) === 'SELECT') await el.selectOption({ label: value });
    else await el.fill(value);
  }
}

/** Takes an action through its form (fields, optional photos) and returns the confirmation shown. */
export async function takeAction(page, label, fields = {}, { photos, shotName } = {}) {
  const form = await openAction(page, label);
  await fillAction(form, fields);
  if (photos) {
    await form.locator('input[type=file]').setInputFiles(photos);
    await form.locator('.thumbs.picked img').nth(photos.length - 1).waitFor();
  }
  if (shotName) await shot(page, shotName);
  await form.locator('button[type=submit]').click();
  await page.waitForSelector('#flash');
  return (await page.textContent('#flash')).trim();
}

/** The message shown under a field of the open action form. */
export async function fieldMessage(form, field) {
  const msg = form.locator(`[data-field="${field}"] .field-msg:not([hidden])`);
  await msg.waitFor();
  return (await msg.textContent()).trim();
}

/** A screenshot of what the window shows now (not the whole page), e.g. a form on a phone. */
export async function shotView(page, name) {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: false });
}

// --- requests filed through the public API (as a phone would) ---

/** Files a request from the card `card` through `POST {base}/api/v1/tickets`; answers its number. */
export async function fileByApi(base, card, phone) {
  const r = await fetch(`${base}/api/v1/tickets`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': crypto.randomUUID() },
    body: JSON.stringify({ card_code: card, category: 'water.supply', kind: 'help', description: '村口水管破裂，一直在漏水', phone }),
  });
  const body = await r.json();
  assert(r.status === 201, `intake answered ${r.status}: ${JSON.stringify(body)}`);
  return body.ticket_no;
}
