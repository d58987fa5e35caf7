// The hall's big screen at 1920×1080 with a screen token: every panel drawn from the API's numbers,
// the stream live; a request filed through the API (on INTAKE_BASE, which may be another instance)
// shows in the latest requests and today's count without a reload; the same board fits 1366×768;
// revoking the token (ADMIN_TOKEN, SCREEN_ID) takes the board down at the next heartbeat.
import { BASE, SHOTS, assert, fileByApi, run, shot } from '../lib.mjs';

const SCREEN_URL = process.env.SCREEN_URL;
const INTAKE_BASE = process.env.INTAKE_BASE || BASE;
const CARD = process.env.CARD_CODE;
const LABEL = process.env.LABEL || 'sqlite';

const intake = (phone) => fileByApi(INTAKE_BASE, CARD, phone);

run(async (browser) => {
  const context = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const streams = [];
  page.on('request', (r) => { if (r.url().includes('/api/v1/stream/dashboard')) streams.push(r.url()); });

  await page.goto(SCREEN_URL);
  await page.waitForSelector('#board:not([hidden])');
  await page.waitForSelector('#link.on', { timeout: 10000 });
  assert(await page.isHidden('#gate'), 'no login asked with a screen token');

  // Every panel is there, titled, and shows something drawn from the data.
  const panels = await page.$$eval('.panel', (ps) => ps.map((p) => {
    const r = p.getBoundingClientRect();
    return { id: p.id, title: p.querySelector('h2').textContent.trim(), w: r.width, h: r.height,
      right: r.right, bottom: r.bottom,
      drawn: p.querySelectorAll('svg rect, svg polyline, table td, li, .rate b, .tile b, .times b').length,
      dashes: Array.from(p.querySelectorAll('.tile b, .times b')).filter((b) => b.textContent.trim() === '—').length };
  }));
  assert(panels.length >= 10, `at least ten panels: ${panels.length}`);
  for (const p of panels) {
    assert(p.title.length > 0, `${p.id} has a title`);
    assert(p.w > 250 && p.h > 200, `${p.id} is large enough to read: ${p.w}×${p.h}`);
    assert(p.right <= 1921 && p.bottom <= 1081, `${p.id} inside 1920×1080: ${p.right}, ${p.bottom}`);
    assert(p.drawn > 0, `${p.id} shows data: ${JSON.stringify(p)}`);
    assert(p.dashes === 0, `${p.id} has every number: ${JSON.stringify(p)}`);
  }
  // The numbers are the API's.
  const api = await page.evaluate(async () => {
    const token = new URLSearchParams(location.search).get('token');
    const r = await fetch('/api/v1/screen/overview', { headers: { Authorization: 'Bearer ' + token } });
    return r.json();
  });
  const kpi = async () => Number(await page.textContent('#kpi-received'));
  const before = await kpi();
  assert(before === api.today_counts.received, `today's count ${before} = ${api.today_counts.received}`);
  assert(Number(await page.textContent('#kpi-overdue')) === api.today_counts.overdue, 'overdue count');
  const rateText = await page.textContent('.rate-resolution b');
  const want = api.rates.resolution_rate == null ? '—' : (api.rates.resolution_rate * 100).toFixed(1) + '%';
  assert(rateText === want, `resolution rate ${rateText} = ${want}`);
  const heatRows = await page.$$eval('#heat tbody tr', (rs) => rs.length);
  assert(heatRows === Math.min(9, api.heat.rows.length) && heatRows > 0, `heat rows ${heatRows}`);
  const latestShown = await page.$$eval('#latest li[data-no]', (ls) => ls.map((l) => l.dataset.no));
  assert(latestShown[0] === api.latest[0].ticket_no, `latest first ${latestShown[0]}`);
  const phoneShown = await page.evaluate(() => /1[3-9]\d{9}/.test(document.body.innerText));
  assert(!phoneShown, 'no phone number on the screen');
  await shot(page, `screen-1920-${LABEL}`);

  // A request filed through the API shows without a reload.
  await page.evaluate(() => { window.__sameDocument = true; });
  const t0 = Date.now();
  const no = await intake('13800009' + String(Date.now()).slice(-3));
  await page.waitForSelector(`#latest li[data-no="${no}"]`, { timeout: 5000 });
  const shownAfter = Date.now() - t0;
  await page.waitForFunction((n) => Number(document.querySelector('#kpi-received').textContent) === n, before + 1, { timeout: 5000 });
  assert(await page.evaluate(() => window.__sameDocument === true), 'the page was not reloaded');
  const first = await page.$eval('#latest li[data-no]', (l) => ({ no: l.dataset.no, text: l.innerText }));
  assert(first.no === no && first.text.includes('停水断水'), `the new request on top: ${JSON.stringify(first)}`);
  // The refetch after the event brings the hour chart along (one more in some hour).
  await page.waitForFunction((n) => document.querySelector('#updated').textContent !== n, await page.textContent('#updated'), { timeout: 8000 });
  await page.waitForTimeout(300);
  await shot(page, `screen-1920-after-${LABEL}`);

  // 1366×768: the same board, scaled to fit.
  await page.setViewportSize({ width: 1366, height: 768 });
  await page.waitForFunction(() => Math.abs(document.querySelector('#stage').getBoundingClientRect().width - 1366) < 2);
  const fits = await page.$eval('#stage', (s) => { const r = s.getBoundingClientRect(); return r.right <= 1367 && r.bottom <= 769; });
  assert(fits, 'the board fits 1366×768');
  await shot(page, `screen-1366-${LABEL}`);

  // A phone (360 px): one column, every panel as wide as the screen, nothing wider than it but the
  // heat table's own scroller.
  await page.setViewportSize({ width: 360, height: 740 });
  await page.waitForSelector('body.narrow');
  await page.waitForTimeout(300);
  const phone = await page.$$eval('.panel', (ps) => ps.map((p) => ({ id: p.id, w: p.getBoundingClientRect().width, x: p.getBoundingClientRect().left })));
  assert(phone.every((p) => p.w > 300 && p.w <= 360 && p.x >= 0), `one column on a phone: ${JSON.stringify(phone)}`);
  assert(await page.evaluate(() => document.documentElement.scrollWidth <= 360), 'no sideways scrolling');
  await page.screenshot({ path: `${SHOTS}/screen-360-${LABEL}.png`, fullPage: true });
  await page.setViewportSize({ width: 1920, height: 1080 });

  // Revoked: the board goes at the next heartbeat.
  let revoked = false;
  if (process.env.ADMIN_TOKEN) {
    const r = await fetch(`${BASE}/api/v1/screens/${process.env.SCREEN_ID}`, { method: 'DELETE', headers: { Authorization: 'Bearer ' + process.env.ADMIN_TOKEN } });
    assert(r.status === 204, `revoke answered ${r.status}`);
    await page.waitForSelector('#gate:not([hidden])', { timeout: 10000 });
    const why = await page.textContent('#gate-why');
    assert(why.includes('大屏凭证已停用'), `says why: ${why}`);
    assert(await page.isHidden('#board'), 'the board is gone');
    assert(await page.isHidden('#login'), 'no password form on a hall screen');
    revoked = true;
  }
  assert(errors.length === 0, `no page errors: ${errors}`);
  await context.close();
  return { panels: panels.length, shown_after_ms: shownAfter, ticket_no: no, revoked, streams: streams.length };
});
