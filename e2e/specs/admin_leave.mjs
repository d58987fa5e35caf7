// From a cadre's row on the staff page an admin opens their leave: the deputy can only be a cadre of
// the same unit; missing fields are named before sending, the API's refusals (an end before the
// start, an overlapping leave) appear next to the field; a leave running now shows on the row as
// "休假中 · 代理：X"; a later leave is recorded and cancelled (two clicks). Then the panel on a phone.
import { assert, run, shot, signedIn } from '../lib.mjs';

/** A time `days` from now as the form writes it (年-月-日 时:分, Beijing time). */
const at = (days) => new Date(Date.now() + days * 86400e3 + 8 * 3600e3).toISOString().slice(0, 16).replace('T', ' ');
const personRow = (username) => `#staff-list tbody tr[data-id]:has(td[data-label="用户名"]:text-is("${username}"))`;
async function fieldMessage(page, field) {
  const msg = page.locator(`#leave-form [data-field="${field}"] .field-msg:not([hidden])`);
  await msg.waitFor();
  return (await msg.textContent()).trim();
}
async function fill(page, { from, to, deputy, reason }) {
  if (from !== undefined) await page.fill('#lv-from', from);
  if (to !== undefined) await page.fill('#lv-to', to);
  if (deputy) await page.selectOption('#lv-deputy', { label: deputy });
  if (reason !== undefined) await page.fill('#lv-reason', reason);
  await page.keyboard.press('Escape'); // the date picker
}
async function findPerson(page, q) {
  await page.fill('#staff-search input[name=q]', q);
  await page.click('#staff-search button[type=submit]');
  await page.waitForFunction(() => document.getElementById('staff-summary').textContent === '共3人');
}

run(async (browser) => {
  const { context, page, errors } = await signedIn(browser, 'admin');
  await page.click('#nav a[data-tab=staff]');
  await page.waitForSelector('#staff-list tbody tr[data-id]');
  // 李长河 (lijiazhuang), 王副主任 (lijiazhuang2), and the grid worker wg-lijiazhuang, who has no unit.
  await findPerson(page, 'lijiazhuang');
  assert(await page.locator(`${personRow('wg-lijiazhuang')} button[data-do=leave]`).count() === 0, 'no leave for a person without a unit');

  await page.click(`${personRow('lijiazhuang')} button[data-do=leave]`);
  await page.waitForSelector('#leave-box:not([hidden])');
  assert((await page.textContent('#leave-title')) === '李长河 的请假与代理', 'whose leave');
  await page.waitForFunction(() => document.querySelectorAll('#lv-deputy option').length > 1);
  const deputies = await page.$$eval('#lv-deputy option', (os) => os.map((o) => o.textContent));
  assert(JSON.stringify(deputies) === JSON.stringify(['请选择代理人', '王副主任（13900000399）']), `a cadre of the same unit: ${deputies}`);
  assert((await page.textContent('#leave-list')).includes('没有请假记录'), 'none yet');
  assert(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/.test(await page.inputValue('#lv-from')), 'starts now by default');

  // Nothing filled in: each field says what it needs, nothing is sent.
  await page.click('#leave-form button[type=submit]');
  assert((await fieldMessage(page, 'to')) === '请填写结束时间', 'the end');
  assert((await fieldMessage(page, 'deputy_id')) === '请选择代理人', 'the deputy');
  assert((await fieldMessage(page, 'reason')) === '请填写请假事由', 'the reason');
  // An end before the start: the API's message, next to the end.
  await fill(page, { to: at(-1), deputy: '王副主任（13900000399）', reason: '外出培训' });
  await page.click('#leave-form button[type=submit]');
  assert((await fieldMessage(page, 'to')) === '结束时间须晚于开始时间', 'refused by the API');
  await fill(page, { to: at(3) });
  await page.click('#leave-form button[type=submit]');
  await page.waitForSelector('#leave-list li.current');
  const current = await page.textContent('#leave-list li.current');
  assert(current.includes('休假中') && current.includes('代理：王副主任') && current.includes('外出培训'), current);
  const state = await page.textContent(`${personRow('lijiazhuang')} td.state`);
  assert(state.includes('休假中 · 代理：王副主任'), `on the row: ${state}`);

  // A leave overlapping the running one: the API's 409 next to the start.
  await fill(page, { from: at(1), to: at(2), deputy: '王副主任（13900000399）', reason: '年休假' });
  await page.click('#leave-form button[type=submit]');
  assert((await fieldMessage(page, 'from')) === '这段时间已登记过请假', 'overlap refused');
  // A later leave, then cancelled.
  await fill(page, { from: at(10), to: at(12), deputy: '王副主任（13900000399）', reason: '年休假' });
  await page.click('#leave-form button[type=submit]');
  await page.waitForSelector('#leave-list li.coming');
  assert((await page.textContent('#leave-list li.coming')).includes('未开始'), 'a later leave');
  await page.click('#leave-list li.coming button[data-leave=cancel]');
  assert((await page.textContent('#leave-list li.coming button')) === '确认取消？', 'asks once more');
  await shot(page, 'admin-leave');
  await page.click('#leave-list li.coming button[data-leave=cancel-yes]');
  await page.waitForSelector('#leave-list li.cancelled');
  assert((await page.textContent('#leave-list li.cancelled')).includes('已取消'), 'cancelled');
  assert(await page.locator('#leave-list li.current').count() === 1, 'the running leave stays');

  // The list drawn again still says who is on leave.
  await page.click('#leave-close');
  assert(await page.isHidden('#leave-box'), 'closed');
  await page.$$eval('#staff-list tbody tr', (trs) => trs.forEach((tr) => { tr.dataset.old = '1'; }));
  await findPerson(page, 'lijiazhuang');
  await page.waitForSelector(`${personRow('lijiazhuang')}:not([data-old]) .on-leave`);
  assert(await page.locator(`${personRow('lijiazhuang2')} .on-leave`).count() === 0, 'the deputy is not on leave');

  // On a phone.
  await page.setViewportSize({ width: 360, height: 740 });
  await page.click(`${personRow('lijiazhuang')} button[data-do=leave]`);
  await page.waitForSelector('#leave-list li.current');
  await page.waitForFunction(() => document.querySelectorAll('#lv-deputy option').length > 1);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert(wide <= 360, `no sideways scrolling on a phone: ${wide}px`);
  await shot(page, 'admin-leave-phone');
  assert(errors.length === 0, `page errors: ${errors.join('; ')}`);
  return { leaves: await page.locator('#leave-list li[data-id]').count() };
});
