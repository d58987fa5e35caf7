// 村民议事会 members in the console: an admin picks a village on an office screen, is told what is
// missing, adds two members and retires one; a leader reads the list on a phone with the phones
// masked. The Rust test checks the rows afterwards.
import { assert, consoleLogin, fieldMessage, phone, run, shot, signedIn } from '../lib.mjs';

const VILLAGE = '河口村';
const summary = async (page) => (await page.textContent('#council-summary')).trim();
const rows = async (page) => page.$$eval('#council-members tbody tr[data-id]', (trs) => trs.map((tr) => Array.from(tr.cells).map((td) => td.textContent.trim())));
const row = (list, name) => list.find((r) => r[0] === name) || [];

run(async (browser) => {
  const t0 = Date.now();
  const { context, page, errors } = await signedIn(browser, 'admin');
  await page.click('#nav a[data-tab="council"]');
  await page.waitForSelector('#council-view:not([hidden])');
  await page.selectOption('#council-village', { label: VILLAGE });
  await page.waitForFunction((v) => document.querySelector('#council-summary').textContent.startsWith(v), VILLAGE);
  assert(await summary(page) === `${VILLAGE}：在任成员 0 人（不足3人，无法合议）`, `empty council: ${await summary(page)}`);
  assert((await page.getAttribute('#council-notices', 'href')).match(/^\/v\/\d+\/notices$/), 'the notice page is linked');

  const form = page.locator('#council-form');
  await form.locator('button[type=submit]').click();
  assert(await fieldMessage(form, 'name') === '请填写姓名', 'a missing name is said next to the field');
  for (const [name, title, tel] of [['赵德胜', '老党员', '13900001111'], ['赵月英', '老教师', '']]) {
    await form.locator('[name="name"]').fill(name);
    await form.locator('[name="title"]').selectOption({ label: title });
    await form.locator('[name="phone"]').fill(tel);
    await form.locator('button[type=submit]').click();
    await page.waitForFunction((n) => document.querySelector('#council-done').textContent.includes(n), name);
  }
  let list = await rows(page);
  assert(list.length === 2 && row(list, '赵德胜')[2] === '13900001111' && row(list, '赵月英')[2] === '—', `members: ${JSON.stringify(list)}`);
  // Retire 赵德胜: the serving members come first.
  await page.locator('#council-members tbody tr', { hasText: '赵德胜' }).locator('button').click();
  await page.waitForFunction(() => document.querySelector('#council-done').textContent.startsWith('已停用'));
  list = await rows(page);
  assert(row(list, '赵德胜')[3] === '已停用' && row(list, '赵月英')[3] === '在任' && list[0][0] === '赵月英', `states: ${JSON.stringify(list)}`);
  assert(await summary(page) === `${VILLAGE}：在任成员 1 人（不足3人，无法合议）`, `after retiring: ${await summary(page)}`);
  await shot(page, 'council-members-desk');
  await context.close();

  // A leader on a phone reads the same list, the phone masked.
  const ctx = await phone(browser, { timezoneId: 'Asia/Shanghai' });
  const m = await ctx.newPage();
  const mErrors = [];
  m.on('pageerror', (e) => mErrors.push(String(e)));
  await consoleLogin(m, 'leader');
  await m.evaluate(() => { location.hash = '#/council'; });
  await m.waitForSelector('#council-view:not([hidden])');
  await m.selectOption('#council-village', { label: VILLAGE });
  await m.waitForFunction(() => document.querySelectorAll('#council-members tbody tr[data-id]').length === 2);
  list = await rows(m);
  assert(row(list, '赵德胜')[2] === '139****1111', `masked for a leader: ${JSON.stringify(list)}`);
  await shot(m, 'council-members-phone');
  await ctx.close();

  assert(errors.length === 0 && mErrors.length === 0, `no script errors: ${errors} ${mErrors}`);
  return { seconds: (Date.now() - t0) / 1000 };
});
