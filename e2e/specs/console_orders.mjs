// The staff console: a dispatcher on a desk sees late orders highlighted, filters, opens an order
// and dispatches it; the village cadre on a phone signs for it and asks to escalate.
import { BASE, assert, phone, run, shot } from '../lib.mjs';

const overdue = process.env.NO_OVERDUE;
const registered = process.env.NO_REGISTERED;
const unitName = process.env.UNIT_NAME;

async function login(page, username) {
  await page.goto(`${BASE}/console/`);
  await page.waitForSelector('#login-view:not([hidden])');
  await page.fill('#username', username);
  await page.fill('#password', 'minsheng-demo');
  await page.click('#login-form button[type=submit]');
  // A dispatcher's first page is the dashboard (看板); the work list is one click away.
  if (username === 'dispatcher') {
    await page.waitForSelector('#dashboard-view:not([hidden])');
    await page.click('#nav a[data-tab=list]');
  }
  await page.waitForSelector('#orders tbody tr[data-no]');
}

run(async (browser) => {
  // --- desk: the dispatcher ---
  const desk = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: 'zh-CN' });
  const page = await desk.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await login(page, 'dispatcher');
  assert((await page.textContent('#who-name')).includes('派单员'), 'who is logged in');
  const lateRow = page.locator(`tr[data-no="${overdue}"]`);
  assert(await lateRow.count() === 1, 'the overdue order is listed');
  assert((await lateRow.getAttribute('class')).includes('late'), 'overdue order highlighted');
  assert((await lateRow.textContent()).includes('超时'), 'overdue tag');
  assert(!((await page.locator(`tr[data-no="${registered}"]`).getAttribute('class')) || '').includes('late'), 'fresh order not highlighted');
  await shot(page, 'console-list-desktop');

  await page.check('input[name=overdue]');
  await page.click('#filters button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('#orders tbody tr[data-no]').length === 1);
  assert(await page.locator(`tr[data-no="${overdue}"]`).count() === 1, 'filter keeps the overdue order only');
  await page.uncheck('input[name=overdue]');

  await page.goto(`${BASE}/console/#/t/${registered}`);
  await page.waitForSelector('#detail-no');
  assert((await page.textContent('#detail-status')).includes('已登记'), 'registered');
  await page.click('#actions button:has-text("派单")');
  // The form starts on the unit the category's level gives for the village, not the list's first.
  const chosen = await page.$eval('#act-dispatch select[name=unit_id]', (s) => s.options[s.selectedIndex].textContent);
  assert(chosen === `${unitName}（建议）`, `the suggested unit is chosen: ${chosen}`);
  await page.click('#act-dispatch button[type=submit]');
  await page.waitForSelector('#detail #flash');
  assert((await page.textContent('#detail-status')).includes('已派单'), 'dispatched');
  assert((await page.textContent('#timeline')).includes('派单'), 'timeline shows the dispatch');
  assert((await page.textContent('.deadlines')).includes('签收时限'), 'deadlines shown');
  await page.click('#verify');
  await page.waitForFunction(() => document.querySelector('#verify-result').textContent.length > 0);
  assert((await page.textContent('#verify-result')).includes('台账完整'), 'ledger verifies');
  await shot(page, 'console-detail-desktop');
  assert(errors.length === 0, `no script errors: ${errors}`);
  await desk.close();

  // --- phone: the village cadre ---
  const ctx = await phone(browser);
  const m = await ctx.newPage();
  m.on('pageerror', (e) => errors.push(String(e)));
  await login(m, 'lijiazhuang');
  assert(await m.locator(`tr[data-no="${registered}"]`).count() === 1, 'the cadre sees the order');
  await shot(m, 'console-list-phone');
  await m.click(`tr[data-no="${registered}"] a`);
  await m.waitForSelector('#detail-no');
  await m.click('#actions button:has-text("签收")');
  await m.click('#act-accept button[type=submit]');
  await m.waitForFunction(() => document.querySelector('#detail-status').textContent.includes('已签收'));
  await m.click('#actions button:has-text("申请提级")');
  await m.click('#act-escalate button[type=submit]');
  assert(await m.locator('#act-escalate textarea[name=reason]:invalid').count() === 1, 'a reason is required');
  await m.fill('#act-escalate textarea[name=reason]', '涉及跨村水源，需镇里协调');
  await m.click('#act-escalate button[type=submit]');
  await m.waitForSelector('text=待派单员审批');
  await shot(m, 'console-detail-phone');
  assert(errors.length === 0, `no script errors: ${errors}`);
  await ctx.close();
  return { dispatched: registered };
});
