// 下交签批 and 三老合议 in the console: the dispatcher asks to refer a repeated request, the leader
// finds it under the 待批下交 tab on an office screen (1366×768) and approves it, the operator records
// three council members' signatures and the decision (published, texted to the village's cadres), and
// the village's public notice page shows it on a phone (360 px) without the requester's name or phone.
// The Rust test checks the ledger, the notice row and the messages.
import {
  actionLabels, assert, consoleLogin, desk, fieldMessage, openAction, openOrder, phone, run, shot, takeAction,
} from '../lib.mjs';

const NO = process.env.TICKET_NO;
const VILLAGE_ID = process.env.VILLAGE_ID;
const BASE = process.env.BASE_URL;
const status = async (page) => (await page.textContent('#detail-status')).trim();

run(async (browser) => {
  const errors = [];
  const t0 = Date.now();
  const ctx = await desk(browser);
  const d = await ctx.newPage();
  await d.setViewportSize({ width: 1366, height: 768 });
  d.on('pageerror', (e) => errors.push(String(e)));

  // The dispatcher asks; the order stays with its unit.
  await consoleLogin(d, 'dispatcher');
  await openOrder(d, NO);
  const form = await openAction(d, '申请下交');
  await form.locator('button[type=submit]').click();
  assert(await fieldMessage(form, 'reason') === '请填写下交理由', 'a missing reason is said next to the field');
  assert(await takeAction(d, '申请下交', { reason: '同一诉求反复反映，提交村民议事会合议' }) === '已申请下交，等待领导签批', 'asked');
  assert(await status(d) === '已签收', 'still with the unit');
  assert(!(await actionLabels(d)).includes('申请下交'), 'one request at a time');

  // The leader finds it under its tab and approves.
  await consoleLogin(d, 'leader');
  await d.click('#tabs button[data-tab="refer_pending"]');
  await d.waitForSelector(`#orders tbody tr[data-no="${NO}"]`);
  await d.waitForFunction(() => document.querySelector('#tabs button[data-tab="refer_pending"] .count').textContent !== '');
  assert((await d.textContent('#tabs button[data-tab="refer_pending"] .count')).trim() === '1', 'the tab counts the request');
  await shot(d, 'council-refer-pending-1366');
  await openOrder(d, NO);
  let labels = await actionLabels(d);
  assert(labels.includes('批准下交') && labels.includes('驳回下交申请'), `leader's actions: ${labels}`);
  const approve = await openAction(d, '批准下交');
  assert((await approve.locator('#refer-ask').textContent()).includes('同一诉求反复反映'), 'the request is shown with the form');
  await shot(d, 'council-refer-approve-1366');
  assert(await takeAction(d, '批准下交', { note: '同意下交' }) === '已批准下交，工单交由村民议事会合议', 'approved');
  assert(await status(d) === '已下交', 'referred');

  // The operator records three signatures and the decision.
  await consoleLogin(d, 'operator');
  await openOrder(d, NO);
  for (const who of ['赵德胜（老党员）', '赵月英（老教师）', '孙河清（老干部）']) {
    assert(await takeAction(d, '合议签字', { member_id: who }) === '已记录签字', `signed: ${who}`);
  }
  assert(!(await actionLabels(d)).includes('合议签字'), 'every member has signed: no more signatures offered');
  const decide = await openAction(d, '合议决定');
  assert((await decide.locator('#council-signed').textContent()).includes('孙河清（老干部）'), 'the signers are listed');
  await decide.locator('[name="decision"]').fill('经村民议事会合议：由村集体出资维修水泵，下周完成');
  await decide.locator('[name="notify_cadres"]').check();
  await shot(d, 'council-decision-1366');
  await decide.locator('button[type=submit]').click();
  await d.waitForSelector('#flash');
  assert((await d.textContent('#flash')).trim() === '已记录合议决定', 'decided');
  assert(await status(d) === '已办结', 'resolved');
  await ctx.close();

  // The village's public notice page, on a phone.
  const mobile = await phone(browser, { timezoneId: 'Asia/Shanghai' });
  const m = await mobile.newPage();
  m.on('pageerror', (e) => errors.push(String(e)));
  await m.goto(`${BASE}/v/${VILLAGE_ID}/notices`);
  const text = await m.textContent('main');
  assert(text.includes('由村集体出资维修水泵') && text.includes('赵德胜（老党员）'), `the decision and its members: ${text}`);
  assert(!text.includes('张三丰') && !text.includes('13812340001'), 'never the requester');
  const width = await m.evaluate(() => document.documentElement.scrollWidth);
  assert(width <= 360, `fits a 360 px phone: ${width}`);
  await shot(m, 'council-notices-360');
  await mobile.close();

  assert(errors.length === 0, `no script errors: ${errors}`);
  return { seconds: (Date.now() - t0) / 1000 };
});
