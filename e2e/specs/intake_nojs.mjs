// JavaScript off: the plain form posts (with a photo) and answers with a result page.
import { BASE, assert, phone, run, shot } from '../lib.mjs';

const code = process.env.CARD_CODE;
const photo = process.env.PHOTO_PATH;

run(async (browser) => {
  const ctx = await phone(browser, { javaScriptEnabled: false });
  const page = await ctx.newPage();
  await page.goto(`${BASE}/c/${code}`);
  await page.locator('label:has-text("道路交通")').click();
  await page.fill('#description', '通往镇上的水泥路断了一截，摩托车过不去');
  await page.fill('#phone', '139 1234 5678');
  await page.setInputFiles('#photo', photo);
  await shot(page, 'intake-nojs-form');
  await Promise.all([page.waitForNavigation(), page.click('#submit')]);
  const no = (await page.textContent('#ticket-no')).trim();
  assert(/^\d{8}-\d{6}$/.test(no), `ticket number ${no}`);
  await shot(page, 'intake-nojs-done');
  // The large-font link works without JavaScript too.
  await page.goto(`${BASE}/c/${code}?large=1`);
  assert(await page.evaluate(() => document.body.className) === 'large', 'large font by link');
  await shot(page, 'intake-nojs-large');
  await ctx.close();
  return { ticket_no: no };
});
