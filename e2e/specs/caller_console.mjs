// A caller works the queue with the keyboard: Enter claims (full number shown), Q records
// "satisfied, solved", 0 records "not reached"; the next ticket is selected each time.
import { BASE, assert, run, shot } from '../lib.mjs';

run(async (browser) => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
  const page = await ctx.newPage();
  // Signed in to the staff console, a caller opens the desk from its menu without a second login.
  await page.goto(`${BASE}/console/`);
  await page.fill('#username', 'caller');
  await page.fill('#password', 'minsheng-demo');
  await page.click('#login-form button[type=submit]');
  await page.click('#nav a[href="/console/visits"]');
  await page.waitForURL('**/console/visits');
  try {
    await page.waitForSelector('#queue li', { timeout: 60000 });
  } catch (e) {
    // Say what the desk showed instead of the queue (a sign-in form, an error, an empty list).
    await shot(page, 'caller-queue-missing');
    const login = await page.isVisible('#login');
    const status = await page.textContent('#status').catch(() => '?');
    throw new Error(`no queue rows: login shown=${login}, status=${JSON.stringify(status)}, count=${await page.textContent('#count').catch(() => '?')}`);
  }
  assert(await page.isHidden('#login'), 'no second login');

  assert((await page.textContent('#count')).trim() === '2', 'two visits due');
  await shot(page, 'caller-queue');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#call:not([hidden])');
  const phone = (await page.textContent('#c-phone')).trim();
  assert(/^1\d{10}$/.test(phone), `full phone shown after claiming: ${phone}`);
  assert((await page.textContent('.script')).includes('已处理完毕'), 'the script quotes the result');
  await shot(page, 'caller-claimed');
  await page.keyboard.press('q');
  await page.waitForFunction(() => document.getElementById('status').textContent.includes('已回访'));
  assert((await page.textContent('#count')).trim() === '1', 'one left');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#call:not([hidden])');
  await page.keyboard.press('0');
  await page.waitForFunction(() => document.getElementById('status').textContent.includes('未接通'));
  await shot(page, 'caller-after');
  await ctx.close();
  return { first_phone: phone };
});
