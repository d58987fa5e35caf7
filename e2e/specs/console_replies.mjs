// The operators' queue of free-text SMS replies: one is linked to an existing ticket (a wrong number
// first: the message under the field), another opens 登记来电 prefilled and, once registered, is
// marked as filed with the new number. Then the handled list, and a phone-sized look.
import { assert, consoleLogin, run, shot } from '../lib.mjs';

const NO = process.env.TICKET_NO;

run(async (browser) => {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e.stack || e)));
  await consoleLogin(page, 'leader');
  assert(await page.isHidden('#nav a[data-tab=replies]'), 'a leader has no replies link');
  await consoleLogin(page, 'operator');
  await page.click('#nav a[data-tab=replies]');
  await page.waitForFunction(() => document.querySelectorAll('#replies-list tbody tr[data-id]').length === 2);
  const rowOf = (phone) => page.locator(`#replies-list tbody tr[data-phone="${phone}"]`);
  const a = rowOf('13700001111');
  assert((await a.textContent()).includes('村口的垃圾还没人清'), 'the reply text');
  assert((await a.textContent()).includes('未识别'), 'no ticket recognised');
  await a.locator('button[data-do=handle]').click();
  const form = page.locator('#replies-list form.reply-form');
  await form.waitFor();
  await form.locator('input[name=ticket_no]').fill('20991231-9999');
  await form.locator('button[type=submit]').click();
  const msg = form.locator('[data-field=ticket_no] .field-msg:not([hidden])');
  await msg.waitFor();
  assert((await msg.textContent()).includes('工单号「20991231-9999」不存在'), await msg.textContent());
  await form.locator('input[name=ticket_no]').fill(NO);
  await form.locator('textarea[name=note]').fill('与李家庄村垃圾工单为同一事');
  await shot(page, 'console-replies-link');
  await form.locator('button[type=submit]').click();
  await page.waitForSelector('#replies-done:not([hidden])');
  assert((await page.textContent('#replies-done')).includes(NO), await page.textContent('#replies-done'));
  await page.waitForFunction(() => document.querySelectorAll('#replies-list tbody tr[data-id]').length === 1);

  // The other one becomes a new ticket through 登记来电.
  const b = rowOf('13700002222');
  await b.locator('button[data-do=handle]').click();
  await form.waitFor();
  await form.locator('input[name=how][value=file]').check();
  assert(await form.locator('.file-hint').isVisible(), 'what filing does');
  await form.locator('button[type=submit]').click();
  await page.waitForSelector('#new-view:not([hidden]) #from-reply:not([hidden])');
  assert(await page.inputValue('#new-phone') === '13700002222', 'phone prefilled');
  assert(await page.inputValue('#new-description') === '桥头路灯坏了一个星期', 'text prefilled');
  assert(await page.inputValue('#new-channel') === 'sms', 'channel sms');
  await page.selectOption('#new-region', { label: '河口村' });
  const category = await page.$eval('#new-category', (s) => s.querySelector('optgroup option').value);
  await page.selectOption('#new-category', category);
  await page.click('#new-form button[type=submit]');
  await page.waitForSelector('#from-reply #from-reply-done, #from-reply .error, #new-error:not([hidden])');
  assert(await page.isVisible('#from-reply-done'), await page.textContent('#new-view'));
  const filed = (await page.textContent('#new-no')).trim();
  assert((await page.textContent('#from-reply')).includes(filed), 'the banner names the new ticket');

  await page.click('#nav a[data-tab=replies]');
  await page.waitForSelector('#replies-list tbody td.meta');
  await page.selectOption('#replies-filters select[name=status]', 'done');
  await page.waitForFunction(() => document.querySelectorAll('#replies-list tbody tr[data-id]').length === 2);
  const doneA = await rowOf('13700001111').textContent();
  const doneB = await rowOf('13700002222').textContent();
  assert(doneA.includes('已关联工单') && doneA.includes(NO) && doneA.includes('与李家庄村垃圾工单为同一事'), doneA);
  assert(doneB.includes('已转为新工单') && doneB.includes(filed), doneB);
  await page.setViewportSize({ width: 360, height: 640 });
  await shot(page, 'console-replies-phone');
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert(wide <= 360, `no sideways scrolling on a phone: ${wide}px`);
  // A dispatcher works the queue too, with the numbers masked.
  await consoleLogin(page, 'dispatcher');
  await page.click('#nav a[data-tab=replies]');
  await page.selectOption('#replies-filters select[name=status]', 'all');
  await page.waitForFunction(() => document.querySelectorAll('#replies-list tbody tr[data-id]').length === 2);
  assert((await page.textContent('#replies-list tbody')).includes('137****1111'), 'masked for a dispatcher');
  assert(errors.length === 0, `page errors: ${errors.join('; ')}`);
  return { filed };
});
