// A dispatcher at a 1366×768 desk: the dispatch form starts on the unit the category's level gives
// for the village (the county department the category names), units grouped by level and found by
// typing; then 改派 and 撤回 of orders no unit has signed for yet.
import { assert, consoleLogin, fieldMessage, openOrder, run, shot } from '../lib.mjs';

const WAGES = process.env.NO_WAGES;
const REDIRECT = process.env.NO_REDIRECT;
const WITHDRAW = process.env.NO_WITHDRAW;

const visibleOptions = (page) => page.$$eval('#act-dispatch select[name=unit_id] option', (os) => os.filter((o) => !o.hidden).map((o) => o.textContent));
const chosen = (page, form) => page.$eval(`${form} select[name=unit_id]`, (s) => s.options[s.selectedIndex].textContent);

run(async (browser) => {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await consoleLogin(page, 'dispatcher');

  // --- dispatch: the suggested unit, grouped and searchable ---
  await openOrder(page, WAGES);
  await page.click('#actions button[data-action="dispatch"]');
  await page.waitForSelector('#act-dispatch');
  assert(await chosen(page, '#act-dispatch') === '县人力资源和社会保障局（建议）', `default: ${await chosen(page, '#act-dispatch')}`);
  const first = await page.$eval('#act-dispatch select[name=unit_id]', (s) => s.options[0].textContent);
  assert(first !== '县人力资源和社会保障局（建议）', 'not merely the first of the list');
  const groups = await page.$$eval('#act-dispatch select[name=unit_id] optgroup', (gs) => gs.map((g) => g.label));
  assert(groups.join() === '村级,乡镇级,县级', `grouped by level: ${groups}`);
  const hint = await page.textContent('#act-dispatch [data-field="unit_id"] .hint');
  assert(hint.includes('拖欠工资') && hint.includes('县级') && hint.includes('县人力资源和社会保障局'), `why: ${hint}`);
  // The cadres of the suggested unit are offered.
  await page.waitForFunction(() => document.querySelectorAll('#act-dispatch select[name=assignee_id] option').length > 1);
  await shot(page, 'console-dispatch-1366');
  await page.fill('#act-dispatch input.unit-search', '水利');
  await page.waitForFunction(() => document.querySelector('#act-dispatch select[name=unit_id]').selectedOptions[0].textContent === '县水利局');
  const found = await visibleOptions(page);
  assert(found.join() === '县水利局', `search keeps matching units: ${found}`);
  const hiddenGroups = await page.$$eval('#act-dispatch select[name=unit_id] optgroup', (gs) => gs.filter((g) => g.hidden).length);
  assert(hiddenGroups === 2, 'empty levels fold away');
  await shot(page, 'console-dispatch-search-1366');
  await page.fill('#act-dispatch input.unit-search', '');
  await page.selectOption('#act-dispatch select[name=unit_id]', { label: '县人力资源和社会保障局（建议）' });
  await page.click('#act-dispatch button[type=submit]');
  await page.waitForSelector('#flash');
  assert((await page.textContent('#detail-status')).includes('已派单'), 'dispatched');
  assert((await page.textContent('#detail')).includes('当前承办：县人力资源和社会保障局'), 'held by the department');

  // --- 改派: another unit before the village signs for it ---
  await openOrder(page, REDIRECT);
  const labels = await page.$$eval('#actions button', (bs) => bs.map((b) => b.textContent));
  assert(labels.includes('改派') && labels.includes('撤回'), `actions: ${labels}`);
  await page.click('#actions button[data-action="redirect"]');
  const form = page.locator('#act-redirect');
  await form.waitFor();
  await form.locator('button[type=submit]').click();
  assert(await fieldMessage(form, 'unit_id') === '请选择改派至', 'a unit is required');
  assert(await fieldMessage(form, 'reason') === '请填写改派理由', 'a reason is required');
  await page.selectOption('#act-redirect select[name=unit_id]', { label: '东坝镇人民政府' });
  await page.fill('#act-redirect textarea[name=reason]', '该路段属镇里管护，应由镇政府办理');
  await shot(page, 'console-redirect-1366');
  await form.locator('button[type=submit]').click();
  await page.waitForSelector('#flash');
  assert((await page.textContent('#flash')).includes('已改派'), 'confirmed');
  assert((await page.textContent('#detail')).includes('当前承办：东坝镇人民政府'), 'now with the township');
  const top = await page.textContent('#timeline li:first-child');
  assert(top.includes('改派') && top.includes('由 李家庄村村民委员会 改派至 东坝镇人民政府'), `timeline: ${top}`);

  // --- 撤回: back to dispatch ---
  await openOrder(page, WITHDRAW);
  await page.click('#actions button[data-action="withdraw"]');
  await page.fill('#act-withdraw textarea[name=reason]', '分类有误，需要重新研判');
  await page.click('#act-withdraw button[type=submit]');
  await page.waitForSelector('#flash');
  assert((await page.textContent('#detail-status')).includes('已登记'), 'waiting for dispatch again');
  assert((await page.textContent('#current-deadline')).includes('派单'), 'the dispatch clock runs again');
  const after = await page.$$eval('#actions button', (bs) => bs.map((b) => b.textContent));
  assert(after.includes('派单') && !after.includes('撤回'), `actions: ${after}`);
  assert(errors.length === 0, `no script errors: ${errors}`);
  await ctx.close();
  return {};
});
