// The big screen when the stream is not there: a leader signs in on /screen/ (no screen token)
// while the instance's only stream is taken (by this spec), so the page's stream is refused. The
// page says it is polling and a new request shows at the next poll, without a reload. When the spec
// lets its stream go, the page goes live by itself. A dropped connection (the browser offline) is
// taken up again with the last event's id, and what was missed arrives. The page is served through
// a small TCP relay here, so that the spec can cut its connections as a bad network would.
import net from 'node:net';
import { BASE, assert, fileByApi, run, shot } from '../lib.mjs';

const CARD = process.env.CARD_CODE;

const intake = (phone) => fileByApi(BASE, CARD, phone);

run(async (browser) => {
  // The only stream of the instance, held here.
  const login = await (await fetch(`${BASE}/api/v1/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'inspector', password: 'minsheng-demo' }),
  })).json();
  const hold = new AbortController();
  const held = await fetch(`${BASE}/api/v1/stream/dashboard`, { headers: { Authorization: 'Bearer ' + login.access_token }, signal: hold.signal });
  assert(held.status === 200, `the spec's stream admitted: ${held.status}`);
  const reader = held.body.getReader();
  await reader.read();

  // The relay: every connection of the page goes through it; `cut()` drops them all.
  const target = new URL(BASE);
  const open = new Set();
  const relay = net.createServer((c) => {
    const s = net.connect(Number(target.port), target.hostname);
    const drop = () => { c.destroy(); s.destroy(); open.delete(c); };
    open.add(c);
    // Nothing of the relay keeps Node running once the spec is done (failed or not).
    c.unref(); s.unref();
    c.on('error', drop); s.on('error', drop); c.on('close', drop); s.on('close', drop);
    c.pipe(s); s.pipe(c);
  });
  await new Promise((ok) => relay.listen(0, '127.0.0.1', ok));
  relay.unref();
  const PAGE = `http://127.0.0.1:${relay.address().port}`;
  const cut = () => { for (const c of open) c.destroy(); };

  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const streams = [];
  page.on('request', (r) => {
    // allHeaders(): what went on the wire, Last-Event-ID included (headers() may omit it).
    if (r.url().includes('/api/v1/stream/dashboard')) {
      const seen = { url: r.url().replace(/access_token=[^&]*/, 'access_token=…'), lastEventId: null };
      streams.push(seen);
      r.allHeaders().then((h) => { seen.lastEventId = h['last-event-id'] || null; }).catch(() => {});
    }
  });

  await page.goto(`${PAGE}/screen/?poll=2`);
  await page.waitForSelector('#login:not([hidden])');
  await page.fill('#login [name=username]', 'leader');
  await page.fill('#login [name=password]', 'minsheng-demo');
  await page.click('#login button[type=submit]');
  await page.waitForSelector('#board:not([hidden])');
  await page.waitForSelector('#link.poll', { timeout: 8000 });
  const linkText = await page.textContent('#link');
  assert(linkText.includes('定时刷新'), `says it polls: ${linkText}`);
  await shot(page, 'screen-polling-1366');

  // Polling: the next request shows without a reload.
  await page.evaluate(() => { window.__sameDocument = true; });
  const before = Number(await page.textContent('#kpi-received'));
  const polledNo = await intake('13800009102');
  await page.waitForSelector(`#latest li[data-no="${polledNo}"]`, { timeout: 6000 });
  assert(Number(await page.textContent('#kpi-received')) === before + 1, 'today\'s count by polling');

  // The spec lets its stream go: the page's next try is admitted.
  hold.abort();
  await page.waitForSelector('#link.on', { timeout: 30000 });
  const tries = streams.length;
  assert(tries >= 2, `the page tried again by itself: ${JSON.stringify(streams)}`);

  // Live: an event arrives.
  const liveNo = await intake('13800009103');
  await page.waitForSelector(`#latest li[data-no="${liveNo}"]`, { timeout: 5000 });

  // The connection drops; the page takes it up again with the last event's id (the browser's own
  // retry sends Last-Event-ID; a refused retry makes the page open a new stream with last_event_id).
  cut();
  await page.waitForSelector('#link.poll', { timeout: 15000 });
  const missedNo = await intake('13800009104');
  await page.waitForSelector('#link.on', { timeout: 30000 });
  await page.waitForSelector(`#latest li[data-no="${missedNo}"]`, { timeout: 8000 });
  const resumed = streams.slice(tries).filter((s) => s.lastEventId || s.url.includes('last_event_id='));
  assert(resumed.length >= 1, `reconnected with the last event's id: ${JSON.stringify(streams)}`);
  assert(await page.evaluate(() => window.__sameDocument === true), 'the page was not reloaded');
  assert(errors.length === 0, `no page errors: ${errors}`);
  await context.close();
  relay.close();
  return { polled: true, live_again: true, stream_requests: streams.length };
});
