// The phone goes offline while submitting and the villager closes the page; opening the card again
// later resumes the submission with the same key. Nothing is lost, nothing is filed twice.
import { BASE, assert, phone, run, shot } from '../lib.mjs';

const code = process.env.CARD_CODE;

run(async (browser) => {
  const ctx = await phone(browser);
  const page = await ctx.newPage();
  await page.route('**/api/v1/tickets', (route) => route.abort('internetdisconnected'));
  await page.goto(`${BASE}/c/${code}`);
  await page.locator('label:has-text("住房安全")').click();
  await page.fill('#description', '我家老房子墙体开裂，下雨天漏水');
  await page.fill('#phone', '13812345678');
  await page.click('#submit');
  await page.waitForSelector('text=正在重新提交', { timeout: 10000 });
  await page.close();

  const later = await ctx.newPage();
  await later.goto(`${BASE}/c/${code}`);
  await later.waitForSelector('#ticket-no', { timeout: 20000 });
  const no = (await later.textContent('#ticket-no')).trim();
  await shot(later, 'intake-resumed');
  await ctx.close();
  return { ticket_no: no };
});
