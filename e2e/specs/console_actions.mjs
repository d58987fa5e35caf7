// Every action of the work order, taken in the staff console by the people entitled to it, each
// signed in through the login form on a desk: 退单 (reason required), 催办, an escalation request
// refused then approved, progress and result with photos, 重办, 下交 and the council's decision on
// a repeated request, 合并 (with the checks on the number) and 作废. The Rust test checks the ledger.
import {
  BASE, actionLabels, assert, consoleLogin, desk, fieldMessage, fillAction, openAction, openOrder, run, shot, takeAction,
} from '../lib.mjs';

const env = (k) => { const v = process.env[k]; if (!v) throw new Error(`missing ${k}`); return v; };
const RETURN = env('NO_RETURN');
const ESC = env('NO_ESCALATE');
const RESOLVE = env('NO_RESOLVE');
const FIRST = env('NO_REPEAT_FIRST');
const SECOND = env('NO_REPEAT_SECOND');
const JUNK = env('NO_JUNK');
const PHOTO = env('PHOTO');

const status = async (page) => (await page.textContent('#detail-status')).trim();

run(async (browser) => {
  const ctx = await desk(browser);
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const t0 = Date.now();

  // --- 退单: the village cadre gives the order back; a reason is required ---
  await consoleLogin(page, 'lijiazhuang');
  await openOrder(page, RETURN);
  assert(JSON.stringify(await actionLabels(page)) === JSON.stringify(['签收', '退单', '申请提级']), `cadre's actions: ${await actionLabels(page)}`);
  let form = await openAction(page, '退单');
  await form.locator('textarea[name=reason]').fill('   ');
  await form.locator('button[type=submit]').click();
  assert(await fieldMessage(form, 'reason') === '请填写退单理由', 'Chinese message for the missing reason');
  assert(await form.locator('textarea[name=reason][aria-invalid=true]').count() === 1, 'the field is marked');
  await shot(page, 'actions-return-required');
  await fillAction(form, { reason: '该路段属县道，不属于村委会管护范围，请改派县交通运输局' });
  // Not a photo: refused on the page, before anything is uploaded.
  await form.locator('input[type=file]').setInputFiles({ name: '说明.txt', mimeType: 'text/plain', buffer: Buffer.from('不是照片') });
  assert((await fieldMessage(form, 'upload_ids')).includes('不是 JPEG、PNG 或 WebP 照片'), 'file type checked');
  await form.locator('input[type=file]').setInputFiles([PHOTO]);
  await form.locator('.thumbs.picked img').waitFor();
  assert(await form.locator('[data-field=upload_ids] .field-msg').isHidden(), 'message cleared by a good photo');
  await form.locator('button[type=submit]').click();
  await page.waitForSelector('#flash');
  assert((await page.textContent('#flash')).includes('已退单'), 'return confirmed');
  assert(await status(page) === '已登记', 'back to the dispatcher');
  assert((await page.textContent('#actions')).includes('暂无可办理的操作'), 'nothing left for the cadre');

  // --- 催办 by the leader ---
  await consoleLogin(page, 'leader');
  await openOrder(page, ESC);
  assert((await takeAction(page, '催办', { type: '书面催办', level: '重点催办', note: '群众反映强烈，请今天内反馈进展' })).includes('已催办'), 'urged');
  const urged = await page.textContent('#timeline li:first-child');
  assert(urged.includes('催办') && urged.includes('书面催办 · 重点催办'), 'typed urge on the timeline');
  assert(urged.includes('打印催办单'), 'a written urge links its notice');

  // --- the cadre asks to escalate ---
  await consoleLogin(page, 'wangjiawan');
  await openOrder(page, ESC);
  await takeAction(page, '申请提级', { reason: '涉及跨村水源地，村里协调不了' });
  await page.waitForSelector('text=待派单员审批');

  // --- progress and result with photos ---
  await consoleLogin(page, 'shiqiao');
  await openOrder(page, RESOLVE);
  assert((await takeAction(page, '反馈进展', { note: '已联系施工队，正在更换水泵' }, { photos: [PHOTO], shotName: 'actions-progress-photo' })).includes('已反馈进展'), 'progress');
  form = await openAction(page, '办结');
  await form.locator('button[type=submit]').click();
  assert(await fieldMessage(form, 'result') === '请填写办理结果', 'result required');
  assert(await takeAction(page, '办结', { result: '水泵已更换，恢复供水' }, { photos: [PHOTO] }) === '已办结', 'resolved');
  assert(await status(page) === '已办结', 'status resolved');
  await page.waitForFunction(() => {
    const imgs = Array.from(document.querySelectorAll('#uploads img'));
    return imgs.length === 2 && imgs.every((i) => i.complete && i.naturalWidth > 0);
  }, null, { timeout: 10000 });
  const timelineThumbs = await page.locator('#timeline .thumbs img').count();
  assert(timelineThumbs === 2, `each photo shown with its event: ${timelineThumbs}`);
  await shot(page, 'actions-resolved-photos');

  // --- the dispatcher: refuses the escalation, reopens the resolved order, refers the repeated one ---
  await consoleLogin(page, 'dispatcher');
  await openOrder(page, ESC);
  const labels = await actionLabels(page);
  assert(labels.includes('批准提级') && labels.includes('驳回提级申请'), `decide the request: ${labels}`);
  form = await openAction(page, '驳回提级申请');
  assert((await form.textContent()).includes('涉及跨村水源地'), 'the request reason is shown');
  await shot(page, 'actions-escalate-refuse');
  await fillAction(form, { reason: '先由村委会联系上游村协商，三天后仍无进展再申请' });
  await form.locator('button[type=submit]').click();
  await page.waitForSelector('#flash');
  await page.waitForSelector('text=（已驳回）');

  await openOrder(page, RESOLVE);
  assert((await takeAction(page, '重办', { reason: '群众反映水压仍然不足' })).includes('已发起重办'), 'reopened');
  assert(await status(page) === '重办', 'status reopened');

  await openOrder(page, FIRST);
  assert((await page.textContent('.facts')).includes('重复次数'), 'repeat shown');
  assert((await takeAction(page, '申请下交', { reason: '同一诉求一月内反复反映，提交村民议事会合议' })).includes('等待领导签批'), 'refer asked');
  assert(await status(page) !== '已下交', 'a request alone does not refer');

  // --- the cadre asks again; this time the dispatcher approves ---
  await consoleLogin(page, 'wangjiawan');
  await openOrder(page, ESC);
  await takeAction(page, '申请提级', { reason: '已与上游村协商三次未果，需镇里协调' });
  await consoleLogin(page, 'dispatcher');
  await openOrder(page, ESC);
  form = await openAction(page, '批准提级');
  assert(await form.locator('select[name=unit_id] option').count() > 1, 'targets above offered');
  await shot(page, 'actions-escalate-approve');
  await form.locator('button[type=submit]').click();
  await page.waitForSelector('#flash');
  assert((await page.textContent('#flash')).includes('已批准提级'), 'approved');
  assert((await page.textContent('#detail h2')).includes('东坝镇人民政府'), 'now with the township');

  // --- the leader approves the refer (下交签批) ---
  await consoleLogin(page, 'leader');
  await openOrder(page, FIRST);
  assert((await takeAction(page, '批准下交', { note: '同意' })).includes('已批准下交'), 'refer approved');
  assert(await status(page) === '已下交', 'status referred');
  assert((await page.textContent('#timeline')).includes('河口村村民议事会'), 'the council is named');

  // --- the operator: three council signatures, the decision, merge (checked number), invalid ---
  await consoleLogin(page, 'operator');
  await openOrder(page, FIRST);
  for (const who of ['赵德胜（老党员）', '赵月英（老教师）', '孙河清（老干部）']) {
    assert(await takeAction(page, '合议签字', { member_id: who }) === '已记录签字', `signed: ${who}`);
  }
  const decision = { decision: '议事会合议：由村集体出资维修水泵，下周完成' };
  assert((await takeAction(page, '合议决定', decision, { photos: [PHOTO] })).includes('合议决定'), 'decided, with the minutes');
  assert(await status(page) === '已办结', 'council decision resolves');

  // The repeated request is registered (urgent) and then merged into the first.
  await openOrder(page, SECOND);
  form = await openAction(page, '登记');
  assert(await form.locator('select[name=category] option:checked').textContent() === '　停水断水', 'current category preselected');
  await fillAction(form, { priority: '紧急', note: '同一户第二次来电' });
  await form.locator('button[type=submit]').click();
  await page.waitForSelector('#flash');
  assert(await status(page) === '已登记', 'registered');
  assert((await page.textContent('.facts')).includes('紧急'), 'priority set');
  form = await openAction(page, '合并');
  assert(await form.locator('input[name=into]').inputValue() === FIRST, 'the repeated order is proposed');
  await fillAction(form, { into: '2026-1' });
  await form.locator('button[type=submit]').click();
  assert((await fieldMessage(form, 'into')).startsWith('工单号格式应为'), 'number format checked');
  await fillAction(form, { into: '20000101-999999' });
  await form.locator('button[type=submit]').click();
  await page.waitForFunction(() => {
    const m = document.querySelector('[data-field=into] .field-msg');
    return m && !m.hidden && m.textContent.includes('不存在');
  });
  await shot(page, 'actions-merge-server-error');
  await fillAction(form, { into: FIRST, note: '同一户反映的同一件事' });
  await form.locator('button[type=submit]').click();
  await page.waitForSelector('#flash');
  assert(await status(page) === '已合并', 'merged');
  assert((await page.textContent('.facts')).includes(FIRST), 'merged into shown');

  await openOrder(page, JUNK);
  form = await openAction(page, '作废');
  await form.locator('button[type=submit]').click();
  assert(await fieldMessage(form, 'reason') === '请填写作废理由', 'reason required');
  assert((await takeAction(page, '作废', { reason: '来电内容与本县无关，经核实为误拨' })) === '已作废', 'invalid');
  assert(await status(page) === '无效', 'status invalid');
  await shot(page, 'actions-invalid');

  assert(errors.length === 0, `no script errors: ${errors}`);
  await ctx.close();
  return { seconds: (Date.now() - t0) / 1000, base: BASE };
});
