// The caller desk at a 1366×768 desk: signed in once in the console (the same session, header and
// look), the caller works the queue with the keyboard. A quick answer is not recorded at once: it
// waits ten seconds with an undo (Esc), or is confirmed with Enter. Unreachable visits have a page.
import { BASE, assert, run, shot } from '../lib.mjs';

const UNREACHABLE = process.env.NO_UNREACHABLE;

const queueTotal = (page) => page.evaluate(async () => (await Staff.api('GET', '/api/v1/return-visits/queue')).total);
const header = (page) => page.evaluate(() => ({
  background: getComputedStyle(document.querySelector('header.top')).backgroundColor,
  font: getComputedStyle(document.body).fontFamily,
  title: document.querySelector('header.top h1').textContent,
  links: Array.from(document.querySelectorAll('#nav a')).map((a) => a.getAttribute('href') + ' ' + a.textContent + (a.hidden ? ' hidden' : '')),
  who: document.getElementById('who-name').textContent,
}));

run(async (browser) => {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // Signed in to the staff console, a caller opens the desk from its menu without a second login.
  await page.goto(`${BASE}/console/`);
  await page.fill('#username', 'caller');
  await page.fill('#password', 'minsheng-demo');
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#list-view:not([hidden])');
  const consoleLook = await header(page);
  await page.click('#nav a[href="/console/visits"]');
  await page.waitForURL('**/console/visits');
  try {
    await page.waitForSelector('#queue li', { timeout: 60000 });
  } catch (e) {
    // Say what the desk showed instead of the queue (a sign-in form, an error, an empty list).
    await shot(page, 'caller-queue-missing');
    const login = await page.isVisible('#login-view');
    const status = await page.textContent('#status').catch(() => '?');
    throw new Error(`no queue rows: login shown=${login}, status=${JSON.stringify(status)}, count=${await page.textContent('#count').catch(() => '?')}`);
  }
  assert(await page.isHidden('#login-view'), 'no second login');
  const deskLook = await header(page);
  assert(JSON.stringify(deskLook) === JSON.stringify(consoleLook), `one look: ${JSON.stringify(consoleLook)} vs ${JSON.stringify(deskLook)}`);
  assert(await page.getAttribute('#nav a[href="/console/visits"]', 'aria-current') === 'page', 'the desk marked in the menu');

  assert((await page.textContent('#count')).trim() === '2', 'two visits due');
  await shot(page, 'caller-queue');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#call:not([hidden])');
  const phone = (await page.textContent('#c-phone')).trim();
  assert(/^1\d{10}$/.test(phone), `full phone shown after claiming: ${phone}`);
  assert((await page.textContent('.script')).includes('已处理完毕'), 'the script quotes the result');

  // Q proposes "satisfied"; nothing is recorded while it waits, and Esc takes it back.
  await page.keyboard.press('q');
  await page.waitForSelector('#pending:not([hidden])');
  const waiting = await page.textContent('#pending-text');
  assert(waiting.includes('满意（已解决）') && /\d+ 秒后自动提交/.test(waiting), `pending: ${waiting}`);
  await shot(page, 'caller-desk-1366');
  assert(await queueTotal(page) === 2, 'not recorded while it waits');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#pending', { state: 'hidden' });
  assert((await page.textContent('#status')).includes('已撤销'), 'taken back');
  assert(await page.isVisible('#call'), 'the call goes on');
  assert(await queueTotal(page) === 2, 'nothing recorded');

  // Q again, confirmed at once with Enter.
  await page.keyboard.press('q');
  await page.waitForSelector('#pending:not([hidden])');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.getElementById('status').textContent.includes('已回访'));
  assert((await page.textContent('#count')).trim() === '1', 'one left');

  // 0 on the next call, left to run out its ten seconds.
  await page.keyboard.press('Enter');
  await page.waitForSelector('#call:not([hidden])');
  await page.keyboard.press('0');
  await page.waitForSelector('#pending:not([hidden])');
  const started = Date.now();
  await page.waitForFunction(() => document.getElementById('status').textContent.includes('未接通'), null, { timeout: 20000 });
  const waited = Date.now() - started;
  assert(waited > 8000, `recorded only after the undo time (${waited} ms)`);
  await shot(page, 'caller-after');

  // The unreachable list has a page, reached from the same menu.
  await page.click('#nav a[data-tab="unreachable"]');
  await page.waitForURL('**/console/#/unreachable');
  await page.waitForSelector(`#unreachable tbody tr[data-no="${UNREACHABLE}"]`);
  assert((await page.textContent('#unreachable-summary')).includes('共 1 件'), 'one unreachable visit');
  assert(await page.getAttribute('#nav a[data-tab="unreachable"]', 'aria-current') === 'page', 'marked in the menu');
  await shot(page, 'console-unreachable-1366');

  // One session: signing out in the console signs out of the desk too.
  await page.click('#logout');
  await page.waitForSelector('#login-view:not([hidden])');
  await page.goto(`${BASE}/console/visits`);
  await page.waitForSelector('#login-view:not([hidden])');
  assert(await page.isHidden('#desk'), 'the desk needs a sign-in again');
  assert(errors.length === 0, `no script errors: ${errors}`);
  await ctx.close();
  return { first_phone: phone, waited_ms: waited };
});
