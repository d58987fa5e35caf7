// An operator registers a hotline call in the console and gets its number.
import { BASE, assert, run, shot } from '../lib.mjs';

run(async (browser) => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'zh-CN' });
  const page = await ctx.newPage();
  await page.goto(`${BASE}/console/`);
  await page.fill('#username', 'operator');
  await page.fill('#password', 'minsheng-demo');
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#orders');
  await page.click('#nav a[data-tab=new]');
  await page.waitForSelector('#new-view:not([hidden])');
  await page.selectOption('#new-region', { label: '石桥村' });
  await page.selectOption('#new-category', { label: '　路灯照明' });
  await page.fill('#new-phone', '13812345678');
  await page.fill('#new-description', '村东头路灯坏了半个月，晚上出行不便');
  await page.click('#new-form button[type=submit]');
  await page.waitForSelector('#new-no');
  const no = (await page.textContent('#new-no')).trim();
  assert(/^\d{8}-\d{6}$/.test(no), `ticket number ${no}`);
  await shot(page, 'console-register-desktop');
  await page.click('#nav a[data-tab=sla]');
  await page.waitForSelector('table.policies');
  // The calendar is fetched after the policies: wait for it rather than read it too early.
  await page.waitForFunction(() => document.getElementById('calendar').textContent.includes('年'), null, { timeout: 10000 });
  assert(
(await page.textContent('#calendar')).includes('2026年（全年工作日248天）'), 'the 2026 calendar');
  await shot(page, 'console-sla-desktop');
  await ctx.close();
  return { ticket_no: no };
});
