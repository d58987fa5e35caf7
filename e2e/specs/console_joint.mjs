// 联合办理 in the staff console: the dispatcher gives a registered order to the township with two
// county bureaus assisting (office screen); the township signs for it and cannot resolve while the
// parts are owed; the housing bureau's cadre reports its part on a phone; the dispatcher releases
// the water bureau; the township resolves. The Rust test checks the ledger afterwards.
import {
  actionLabels, assert, openAction, openOrder, phone, consoleLogin, run, shot, shotView, signedIn, takeAction,
} from '../lib.mjs';

const NO = process.env.TICKET_NO;
const status = async (page) => (await page.textContent('#detail-status')).trim();
const parts = async (page) => page.$$eval('#parts li', (li) => li.map((x) => [x.querySelector('b').textContent, x.dataset.status, x.querySelector('.tag').textContent]));

async function onPhone(browser, username, errors) {
  const ctx = await phone(browser, { timezoneId: 'Asia/Shanghai' });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  await consoleLogin(page, username);
  await openOrder(page, NO);
  return { ctx, page };
}

run(async (browser) => {
  const errors = [];
  const t0 = Date.now();

  // The dispatcher, on an office screen: the lead unit and two assisting units ticked.
  const di = await signedIn(browser, 'dispatcher');
  const d = di.page;
  await openOrder(d, NO);
  const form = await openAction(d, '派单');
  await form.locator('[name="unit_id"]').selectOption({ label: '东坝镇人民政府' });
  await form.locator('details.assisting summary').click();
  await form.locator('label.check', { hasText: '县住房和城乡建设局' }).locator('input').check();
  await form.locator('label.check', { hasText: '县水利局' }).locator('input').check();
  await form.locator('[name="note"]').fill('护栏由住建局协办，清淤由水利局协办');
  await shot(d, 'joint-dispatch-desk');
  await form.locator('button[type=submit]').click();
  await d.waitForSelector('#flash');
  let p = await parts(d);
  assert(p.length === 2 && p.every(([, s, tag]) => s === 'active' && tag.startsWith('待签收')), `two parts owed: ${JSON.stringify(p)}`);
  const dispatched = await d.textContent('#timeline li[data-action="dispatch"]');
  assert(/协办单位：.*县住房和城乡建设局/.test(dispatched) && /协办单位：.*县水利局/.test(dispatched), `the dispatch names the assisting units: ${dispatched}`);

  // The township signs for it on a phone; 办结 is not offered while the parts are owed, and the
  // parts card says why.
  const lead = await onPhone(browser, 'dongba', errors);
  assert(await takeAction(lead.page, '签收', {}) !== '', 'signed for');
  const leadLabels = await actionLabels(lead.page);
  assert(leadLabels.includes('反馈进展') && !leadLabels.includes('办结'), `lead's actions while parts are owed: ${leadLabels}`);
  assert((await lead.page.textContent('#parts')).length > 0 && (await lead.page.textContent('#detail')).includes('全部协办单位反馈（或由派单员解除协办）后，主办单位方可办结'), 'the reason is said');
  await lead.ctx.close();

  // The housing bureau's cadre sees its part's actions only and reports it.
  const zj = await onPhone(browser, 'zhujian', errors);
  const labels = await actionLabels(zj.page);
  assert(labels.includes('签收协办') && labels.includes('协办反馈') && !labels.includes('办结') && !labels.includes('退单'), `assisting cadre's actions: ${labels}`);
  const report = await openAction(zj.page, '协办反馈');
  await report.locator('button[type=submit]').click();
  assert((await report.locator('[data-field="note"] .field-msg').textContent()).trim() === '请填写协办情况', 'a missing report is said next to the field');
  await report.locator('[name="note"]').fill('已更换两段桥梁护栏');
  await shotView(zj.page, 'joint-report-phone');
  await report.locator('button[type=submit]').click();
  await zj.page.waitForSelector('#flash');
  assert((await zj.page.textContent('#flash')).trim() === '已反馈协办情况，主办单位可见', 'reported');
  p = await parts(zj.page);
  assert(p.some(([n, s]) => n === '县住房和城乡建设局' && s === 'completed'), `reported part: ${JSON.stringify(p)}`);
  await shot(zj.page, 'joint-parts-phone');
  await zj.ctx.close();

  // The dispatcher releases the water bureau.
  await openOrder(d, NO);
  assert(await takeAction(d, '解除协办', { unit_id: '县水利局', reason: '经核实不涉及水利设施' }) === '已解除协办，该单位已收到短信通知', 'released');
  p = await parts(d);
  assert(p.some(([n, s]) => n === '县水利局' && s === 'released'), `released part: ${JSON.stringify(p)}`);
  assert((await d.textContent('#parts')).includes('已更换两段桥梁护栏'), 'the report is shown with its part');
  await shot(d, 'joint-parts-desk');
  await di.context.close();

  // Now the township resolves.
  const lead2 = await onPhone(browser, 'dongba', errors);
  assert(await takeAction(lead2.page, '办结', { result: '护栏已修复，河道已清淤' }) !== '', 'resolved');
  assert(await status(lead2.page) === '已办结', 'resolved');
  await lead2.ctx.close();

  assert(errors.length === 0 && di.errors.length === 0, `no script errors: ${errors} ${di.errors}`);
  return { seconds: (Date.now() - t0) / 1000 };
});
