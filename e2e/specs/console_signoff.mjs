// Four-party sign-off (四方会签) and closing in the staff console, for an order whose policy requires
// it: the caller records the return visit and signs for the requester, the two leaders sign (one
// with a photo of the signed form), the village cadre signs on a phone, and only then may the
// dispatcher close it. The Rust test checks the ledger.
import {
  actionLabels, assert, consoleLogin, desk, fillAction, openAction, openOrder, phone, run, shot, shotView, takeAction,
} from '../lib.mjs';

const NO = process.env.TICKET_NO;
const PHOTO = process.env.PHOTO;
const status = async (page) => (await page.textContent('#detail-status')).trim();
const signed = async (page) => page.locator('#signoffs li.done').count();

run(async (browser) => {
  const ctx = await desk(browser);
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const t0 = Date.now();

  await consoleLogin(page, 'caller');
  await openOrder(page, NO);
  let labels = await actionLabels(page);
  assert(labels.includes('回访') && labels.includes('会签（群众）') && !labels.includes('归档'), `caller's actions: ${labels}`);
  assert(await signed(page) === 0, 'nobody signed yet');
  const visit = { reached: '已联系到', solved: '已解决', satisfaction: '满意', comment: '群众认可村里的调解结果' };
  assert(await takeAction(page, '回访', visit) === '已记录回访', 'visit recorded');
  assert(await status(page) === '已回访', 'visited, not closed: sign-off is required');
  assert(await takeAction(page, '会签（群众）', { note: '电话确认群众同意调解方案' }) === '已会签（群众）', 'requester signed');
  labels = await actionLabels(page);
  assert(!labels.some((l) => l.startsWith('会签')), `one person signs for one party only: ${labels}`);
  assert(!labels.includes('归档'), 'no closing before all four signed');

  await consoleLogin(page, 'leader');
  await openOrder(page, NO);
  labels = await actionLabels(page);
  assert(labels.includes('会签（分管领导）') && labels.includes('会签（主要领导）'), `a leader may sign as either: ${labels}`);
  await takeAction(page, '会签（分管领导）', { note: '同意，按调解协议执行' }, { photos: [PHOTO], shotName: 'signoff-leader-form' });
  await page.waitForFunction(() => {
    const img = document.querySelector('#uploads img');
    return img && img.complete && img.naturalWidth > 0;
  }, null, { timeout: 10000 });

  await consoleLogin(page, 'principal');
  await openOrder(page, NO);
  labels = await actionLabels(page);
  assert(labels.includes('会签（主要领导）') && !labels.includes('会签（分管领导）'), `the principal's part only: ${labels}`);
  await takeAction(page, '会签（主要领导）', {});
  assert(await signed(page) === 3, 'three parties signed');
  await ctx.close();

  // The village cadre signs as the handler on a phone.
  const mobile = await phone(browser);
  const m = await mobile.newPage();
  m.on('pageerror', (e) => errors.push(String(e)));
  await consoleLogin(m, 'xinghua');
  await openOrder(m, NO);
  assert(JSON.stringify(await actionLabels(m)) === JSON.stringify(['会签（承办人）']), `the cadre's part: ${await actionLabels(m)}`);
  const form = await openAction(m, '会签（承办人）');
  await fillAction(form, { note: '已按协议重新丈量界址' });
  await form.locator('button[type=submit]').scrollIntoViewIfNeeded();
  await shotView(m, 'signoff-cadre-phone');
  await form.locator('button[type=submit]').click();
  await m.waitForSelector('#flash');
  await shotView(m, 'signoff-cadre-phone-done');
  assert(await signed(m) === 4, 'all four signed');
  await mobile.close();

  const ctx2 = await desk(browser);
  const d = await ctx2.newPage();
  d.on('pageerror', (e) => errors.push(String(e)));
  await consoleLogin(d, 'dispatcher');
  await openOrder(d, NO);
  assert((await actionLabels(d)).includes('归档'), 'closing offered once all signed');
  assert(await takeAction(d, '归档', { note: '四方会签齐全，归档' }) === '已归档', 'closed');
  assert(await status(d) === '已归档', 'status closed');
  await shot(d, 'signoff-closed');
  await ctx2.close();

  assert(errors.length === 0, `no script errors: ${errors}`);
  return { seconds: (Date.now() - t0) / 1000 };
});
