// The card page on a phone: first load stays small, the draft survives a reload, large-font mode,
// then choose a category, describe, submit and see the number.
import { BASE, assert, phone, run, shot } from '../lib.mjs';

const code = process.env.CARD_CODE;

run(async (browser) => {
  const ctx = await phone(browser);
  const page = await ctx.newPage();
  let transferred = 0;
  page.on('requestfinished', async (req) => {
    const sizes = await req.sizes().catch(() => null);
    if (sizes) transferred += sizes.responseBodySize + sizes.responseHeadersSize;
  });
  await page.goto(`${BASE}/c/${code}`, { waitUntil: 'networkidle' });
  const firstLoad = transferred;
  assert(firstLoad > 0 && firstLoad < 50 * 1024, `first load ${firstLoad} bytes < 50 KB`);
  assert((await page.title()).includes('联系卡'), 'title names the card');
  assert(await page.locator('a.call').count() >= 1, 'tap-to-call contacts');
  await shot(page, 'intake-empty');

  // The draft stays on the phone.
  await page.fill('#description', '村小学门口的路灯坏了一个月，晚上孩子放学很危险');
  await page.locator('label:has-text("道路交通")').click();
  await page.reload({ waitUntil: 'networkidle' });
  assert((await page.inputValue('#description')).includes('路灯坏了一个月'), 'draft restored after reload');
  assert(await page.locator('input[value="roads"]').isChecked(), 'category restored');

  // Large-font mode, remembered.
  await page.click('#font-toggle');
  assert(await page.evaluate(() => document.body.classList.contains('large')), 'large font on');
  await shot(page, 'intake-large-font');
  await page.reload({ waitUntil: 'networkidle' });
  assert(await page.evaluate(() => document.body.classList.contains('large')), 'large font remembered');
  await page.click('#font-toggle');

  await page.fill('#phone', '13812345678');
  await page.click('#submit');
  await page.waitForSelector('#ticket-no');
  const no = (await page.textContent('#ticket-no')).trim();
  assert(/^\d{8}-\d{6}$/.test(no), `ticket number ${no}`);
  await shot(page, 'intake-done');
  assert(await page.evaluate((c) => localStorage.getItem('ms-draft-' + c) === null, code), 'draft cleared after success');
  await ctx.close();
  return { ticket_no: no, first_load_bytes: firstLoad };
});
