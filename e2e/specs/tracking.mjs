// The villager follows their request: enter the phone's last four digits, see state and timeline.
import { BASE, assert, phone, run, shot } from '../lib.mjs';

const no = process.env.TICKET_NO;

run(async (browser) => {
  const ctx = await phone(browser);
  const page = await ctx.newPage();
  await page.goto(`${BASE}/t/${no}`);
  await shot(page, 'tracking-ask');
  await page.fill('#phone_tail', '0000');
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  assert((await page.textContent('.error')).includes('不匹配'), 'wrong tail refused');
  await page.fill('#phone_tail', '5678');
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  const status = (await page.textContent('#status')).trim();
  const items = await page.locator('.timeline li').count();
  const text = await page.textContent('main');
  assert(!text.includes('内部备注'), 'internal notes hidden');
  assert(text.includes('138****5678'), 'masked phone');
  await shot(page, 'tracking-status');
  await ctx.close();
  return { status, items };
});
