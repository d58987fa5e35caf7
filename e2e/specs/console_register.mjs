// An operator registers a call in the console at a 1366×768 desk: the form starts empty (no village
// or category chosen for them), missing fields are named under each field before anything is sent,
// the caller's earlier requests appear as the phone is typed, a server refusal shows under its field,
// and the registered number is shown. Slow lists behind the form do not reset it after the operator acted.
import { assert, consoleLogin, run, shot } from '../lib.mjs';

const PHONE = process.env.PHONE;
const EARLIER = process.env.EARLIER_NO;

run(async (browser) => {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const posts = [];
  page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/api/v1/tickets')) posts.push(r.url()); });
  // The lists behind the form answer slowly (a busy county server), so the work list's load and the
  // form's overlap: the form must come up once, not be reset again after the operator acted.
  await page.route('**/api/v1/categories', async (r) => { await new Promise((ok) => setTimeout(ok, 400)); await r.continue(); });
  await consoleLogin(page, 'operator');
  await page.click('#nav a[data-tab=new]');
  await page.waitForSelector('#new-view:not([hidden])');
  await page.waitForFunction(() => document.querySelectorAll('#new-region option').length > 1 && document.querySelectorAll('#new-category option').length > 1);
  assert(await page.inputValue('#new-region') === '', 'no village is chosen for the operator');
  assert(await page.inputValue('#new-category') === '', 'no category is chosen for the operator');
  const groups = await page.$$eval('#new-region optgroup', (gs) => gs.map((g) => g.label));
  assert(groups.join() === '东坝镇,西河乡', `villages grouped by township: ${groups}`);

  // Sent empty: every missing field named under itself, nothing sent.
  await page.click('#new-form button[type=submit]');
  // Every load under way has answered: nothing resets the form after this.
  await page.waitForLoadState('networkidle');
  const expected = { phone: '请填写联系电话', region_id: '请选择所在村', category: '请选择诉求分类', description: '请填写诉求内容' };
  for (const [field, msg] of Object.entries(expected)) {
    const text = (await page.textContent(`#new-form [data-field="${field}"] .field-msg`)).trim();
    assert(text === msg, `${field}: ${text}`);
  }
  assert(await page.evaluate(() => document.activeElement.id) === 'new-phone', 'the first missing field has the focus');
  assert(posts.length === 0, 'nothing was sent');
  await shot(page, 'console-register-errors-1366');

  // The caller's number finds their earlier request.
  await page.fill('#new-phone', PHONE);
  await page.waitForSelector(`#caller-history li[data-no="${EARLIER}"]`);
  const history = await page.textContent('#caller-history');
  assert(history.includes('该号码此前的诉求') && history.includes('1'), `history: ${history}`);

  await page.selectOption('#new-region', { label: '石桥村' });
  await page.selectOption('#new-category', { label: '路灯照明' });
  await page.fill('#new-description', '村东头路灯坏了半个月，晚上出行不便');
  const left = await page.$$eval('#new-form .field-msg:not([hidden])', (ms) => ms.map((m) => m.textContent));
  assert(left.length === 0, `messages go once their fields are filled: ${left}`);
  // The time of the call from the same Chinese calendar: 年-月-日 时:分.
  await page.click('#new-received');
  await page.waitForSelector('#datepicker:not([hidden])');
  await shot(page, 'console-register-1366');
  await page.click('#datepicker [data-dp="today"]');
  const received = await page.inputValue('#new-received');
  assert(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/.test(received), `picked ${received}`);

  // A time the server refuses: its message under the field, not at the foot of the form.
  await page.fill('#new-received', '2099-01-01 10:00');
  await page.keyboard.press('Escape');
  await page.click('#new-form button[type=submit]');
  const msg = page.locator('#new-form [data-field="received_at"] .field-msg:not([hidden])');
  await msg.waitFor();
  assert((await msg.textContent()).includes('接听时间不能晚于现在'), 'the server message under its field');
  assert(await page.isHidden('#new-error'), 'no second copy at the foot of the form');
  assert(await page.getAttribute('#new-received', 'aria-invalid') === 'true', 'the field is marked');
  await page.fill('#new-received', '');

  await page.click('#new-form button[type=submit]');
  await page.waitForSelector('#new-no');
  const no = (await page.textContent('#new-no')).trim();
  assert(/^\d{8}-\d{6}$/.test(no), `ticket number ${no}`);
  assert(await page.inputValue('#new-region') === '' && await page.inputValue('#new-category') === '', 'empty again for the next call');
  assert(await page.isHidden('#caller-history'), 'the last caller\'s history is gone');
  await shot(page, 'console-register-done-1366');

  await page.click('#nav a[data-tab=sla]');
  await page.waitForSelector('table.policies');
  // The calendar is fetched after the policies: wait for it rather than read it too early.
  await page.waitForFunction(() => document.getElementById('calendar').textContent.includes('年'), null, { timeout: 10000 });
  assert((await page.textContent('#calendar')).includes('2026年（全年工作日248天）'), 'the 2026 calendar');
  const policies = await page.textContent('#policies');
  assert(policies.includes('诉求类型') && policies.includes('咨询') && policies.includes('投诉'), 'the policies show their kind');
  await shot(page, 'console-sla-desktop');
  assert(errors.length === 0, `no script errors: ${errors}`);
  await ctx.close();
  return { ticket_no: no, posts: posts.length };
});
