// 挂起 in the staff console: the village cadre asks on a phone (the form refuses a missing reason
// inline), the leader finds the request under the 待批挂起 tab on an office screen and approves it,
// the order shows as paused with its resume date, and the cadre resumes it. The Rust test checks the
// ledger and the deadlines.
import {
  actionLabels, assert, consoleLogin, desk, fieldMessage, openAction, openOrder, phone, run, shot, shotView, takeAction,
} from '../lib.mjs';

const NO = process.env.TICKET_NO;
const status = async (page) => (await page.textContent('#detail-status')).trim();
const pauseLine = async (page) => (await page.textContent('#pause-line')).trim();

run(async (browser) => {
  const errors = [];
  const t0 = Date.now();

  // The cadre asks, on a phone.
  const mobile = await phone(browser, { timezoneId: 'Asia/Shanghai' });
  const m = await mobile.newPage();
  m.on('pageerror', (e) => errors.push(String(e)));
  await consoleLogin(m, 'lijiazhuang');
  await openOrder(m, NO);
  let labels = await actionLabels(m);
  assert(labels.includes('申请挂起') && labels.includes('办结') && !labels.includes('恢复办理'), `cadre's actions: ${labels}`);
  const form = await openAction(m, '申请挂起');
  await form.locator('button[type=submit]').click();
  assert(await fieldMessage(form, 'reason') === '请填写挂起理由', 'a missing reason is said next to the field');
  await form.locator('[name="reason"]').fill('需等秋收后大型机械进场施工');
  await form.locator('[name="resume_on"]').scrollIntoViewIfNeeded();
  await shotView(m, 'pause-request-phone');
  await form.locator('button[type=submit]').click();
  await m.waitForSelector('#flash');
  assert((await m.textContent('#flash')).trim() === '已申请挂起，等待领导审批', 'request confirmed');
  assert((await pauseLine(m)).includes('待领导审批'), `pending shown: ${await pauseLine(m)}`);
  assert(!(await actionLabels(m)).includes('申请挂起'), 'one request at a time');
  await mobile.close();

  // The leader finds it under its tab and approves, on an office screen.
  const ctx = await desk(browser);
  const d = await ctx.newPage();
  await d.setViewportSize({ width: 1366, height: 768 });
  d.on('pageerror', (e) => errors.push(String(e)));
  await consoleLogin(d, 'leader');
  await d.click('#tabs button[data-tab="pause_pending"]');
  await d.waitForSelector(`#orders tbody tr[data-no="${NO}"]`);
  // The counts come with the list: wait for them, then read.
  await d.waitForFunction(() => document.querySelector('#tabs button[data-tab="pause_pending"] .count').textContent !== '');
  assert((await d.textContent('#tabs button[data-tab="pause_pending"] .count')).trim() === '1', 'the tab counts the request');
  await openOrder(d, NO);
  labels = await actionLabels(d);
  assert(labels.includes('批准挂起') && labels.includes('驳回挂起申请'), `leader's actions: ${labels}`);
  const approve = await openAction(d, '批准挂起');
  assert((await approve.locator('#pause-ask').textContent()).includes('需等秋收后大型机械进场施工'), 'the request is shown with the form');
  assert(await takeAction(d, '批准挂起', { note: '同意挂起' }) === '已批准挂起，计时暂停，承办单位已收到短信', 'approved');
  assert(await status(d) === '已挂起', 'paused');
  assert((await pauseLine(d)).includes('挂起中') && (await pauseLine(d)).includes('孙伟 批准'), `pause shown: ${await pauseLine(d)}`);
  await shot(d, 'pause-approved-desk');
  await ctx.close();

  // The cadre resumes it.
  const mobile2 = await phone(browser, { timezoneId: 'Asia/Shanghai' });
  const m2 = await mobile2.newPage();
  m2.on('pageerror', (e) => errors.push(String(e)));
  await consoleLogin(m2, 'lijiazhuang');
  await openOrder(m2, NO);
  labels = await actionLabels(m2);
  assert(labels.includes('恢复办理') && !labels.includes('办结'), `while paused: ${labels}`);
  assert(await takeAction(m2, '恢复办理', { note: '机械已到位' }) === '已恢复办理，时限已顺延挂起天数', 'resumed');
  assert(await status(m2) === '办理中', 'running again');
  await mobile2.close();

  assert(errors.length === 0, `no script errors: ${errors}`);
  return { seconds: (Date.now() - t0) / 1000 };
});
