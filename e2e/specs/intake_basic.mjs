// The card page on a phone: read the contacts, choose a category, describe, submit, see the number.
import { BASE, assert, phone, run, shot } from '../lib.mjs';

const code = process.env.CARD_CODE;

run(async (browser) => {
  const ctx = await phone(browser);
  const page = await ctx.newPage();
  await page.goto(`${BASE}/c/${code}`);
  assert((await page.title()).includes('联系卡'), 'title names the card');
  assert(await page.locator('a.call').count() >= 1, 'tap-to-call contacts');
  await shot(page, 'intake-empty');
  await page.locator('label:has-text("道路交通")').click();
  await page.fill('#description', '村小学门口的路灯坏了一个月，晚上孩子放学很危险');
  await page.fill('#phone', '13812345678');
  await page.click('button[type=submit]');
  await page.waitForSelector('#ticket-no');
  const no = (await page.textContent('#ticket-no')).trim();
  assert(/^\d{8}-\d{6}$/.test(no), `ticket number ${no}`);
  await shot(page, 'intake-done');
  await ctx.close();
  return { ticket_no: no };
});
