// A weak network: the first submission reaches the server but its answer is lost; the page retries
// with the same Idempotency-Key and shows the number. Exactly one ticket must exist.
import { BASE, assert, phone, run, shot } from '../lib.mjs';

const code = process.env.CARD_CODE;

run(async (browser) => {
  const ctx = await phone(browser);
  const page = await ctx.newPage();
  const keys = [];
  let lost = 0;
  await page.route('**/api/v1/tickets', async (route) => {
    keys.push(route.request().headers()['idempotency-key']);
    if (lost === 0) {
      lost++;
      await route.fetch();                 // the server files the request…
      await route.abort('connectionreset'); // …but the answer never reaches the phone
    } else if (lost === 1) {
      lost++;
      await route.abort('internetdisconnected'); // then the network drops entirely
    } else {
      await route.continue();
    }
  });
  await page.goto(`${BASE}/c/${code}`);
  await page.locator('label:has-text("饮水安全")').click();
  await page.fill('#description', '全村停水两天了，老人孩子喝水都成问题');
  await page.fill('#phone', '13812345678');
  await page.click('#submit');
  await page.waitForSelector('text=正在重新提交', { timeout: 10000 });
  await shot(page, 'intake-retrying');
  await page.waitForSelector('#ticket-no', { timeout: 20000 });
  const no = (await page.textContent('#ticket-no')).trim();
  await shot(page, 'intake-retried-done');
  assert(keys.length === 3, `three tries, got ${keys.length}`);
  assert(keys.every((k) => k && k === keys[0]), 'the same Idempotency-Key on every try');
  await ctx.close();
  return { ticket_no: no, tries: keys.length };
});
