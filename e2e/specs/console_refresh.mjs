// The console when its access token has expired: the requests that fail together share one
// refresh (refresh tokens rotate, and a used one ends the login), the rotated refresh token is kept,
// and the person stays signed in through two expiries in a row — also when one request's 401 comes
// back only after the refresh is done (it must retry with the new token, not refresh again).
import { BASE, assert, consoleLogin, desk, run } from '../lib.mjs';

const NO = process.env.TICKET_NO;

async function expireAndReload(page, { lateUnits = false } = {}) {
  const before = await page.evaluate(() => JSON.parse(sessionStorage.getItem('minsheng.session')));
  await page.evaluate(() => {
    const s = JSON.parse(sessionStorage.getItem('minsheng.session'));
    s.access_token = 'expired.access.token';
    sessionStorage.setItem('minsheng.session', JSON.stringify(s));
  });
  const refreshes = [];
  page.on('request', (r) => { if (r.url().endsWith('/api/v1/auth/refresh')) refreshes.push(r.url()); });
  if (lateUnits) {
    // Hold the first answer of the units lookup (a 401, sent with the expired token) until the
    // refresh has been answered: a slow network delivers it after the session already moved on.
    let refreshDone;
    const done = new Promise((resolve) => { refreshDone = resolve; });
    page.on('requestfinished', (r) => { if (r.url().endsWith('/api/v1/auth/refresh')) refreshDone(); });
    let held = false;
    await page.route('**/api/v1/units*', async (route) => {
      if (held) return route.continue();
      held = true;
      const response = await route.fetch();
      await done;
      await route.fulfill({ response });
    });
  }
  await page.reload();
  // The three lookups and the list all answered 401 first; the list shows the order after one refresh.
  await page.waitForSelector(`#orders tbody tr[data-no="${NO}"]`);
  await page.waitForFunction(() => document.querySelectorAll('#filters select[name=unit_id] option').length > 1);
  assert(await page.isHidden('#login-view'), 'still signed in');
  const after = await page.evaluate(() => JSON.parse(sessionStorage.getItem('minsheng.session')));
  assert(after.refresh_token && after.refresh_token !== before.refresh_token, 'the rotated refresh token is kept');
  assert(after.access_token !== 'expired.access.token', 'a fresh access token is kept');
  page.removeAllListeners('request');
  page.removeAllListeners('requestfinished');
  await page.unrouteAll();
  return refreshes.length;
}

run(async (browser) => {
  const page = await (await desk(browser)).newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await consoleLogin(page, 'dispatcher');
  await page.waitForSelector(`#orders tbody tr[data-no="${NO}"]`);
  const first = await expireAndReload(page);
  const second = await expireAndReload(page, { lateUnits: true });
  assert(first === 1 && second === 1, `one refresh per expiry (saw ${first} and ${second})`);
  assert(errors.length === 0, `page errors: ${errors.join('; ')}`);
  return { refreshes: first + second };
});
