// Every link the staff pages show leads somewhere: for an admin (who sees every menu entry) on the
// console and on the caller desk, each link opens a page that answers 200 and shows a view — no
// admin page is linked before it is built. The big screen (/screen/) opens its board with the same session.
import { BASE, assert, consoleLogin, run } from '../lib.mjs';

const links = (page) => page.$$eval('a[href]', (as) => Array.from(new Set(as.map((a) => a.getAttribute('href')))));

run(async (browser) => {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await consoleLogin(page, 'admin');
  await page.waitForSelector('#orders tbody tr');
  const seen = new Set(await links(page));
  await page.goto(`${BASE}/console/visits`);
  await page.waitForSelector('#desk:not([hidden])');
  for (const href of await links(page)) seen.add(href);
  const checked = [];
  for (const href of seen) {
    if (href.startsWith('tel:') || href === '#') continue;
    const url = new URL(href, `${BASE}/console/`).toString();
    const r = await page.request.get(url);
    assert(r.status() === 200, `${href} answers ${r.status()}`);
    const path = new URL(url).pathname;
    assert(['/console/', '/console/visits', '/screen/'].includes(path), `${href}: only built staff pages are linked`);
    await page.goto(url);
    if (path === '/screen/') {
      // The big screen, with the same session: the board, not its sign-in.
      await page.waitForSelector('#board:not([hidden])', { timeout: 10000 });
      checked.push(href);
      continue;
    }
    // A console view behind the link shows itself (not the sign-in, not an empty page).
    await page.waitForFunction(() => {
      const views = Array.from(document.querySelectorAll('main > section[id$="-view"], main > div#desk'));
      const open = views.filter((v) => !v.hidden);
      return open.length === 1 && open[0].id !== 'login-view';
    }, null, { timeout: 10000 });
    checked.push(href);
  }
  assert(checked.length >= 5, `the menu was checked: ${checked}`);
  assert(errors.length === 0, `no script errors: ${errors}`);
  await ctx.close();
  return { links: checked };
});
