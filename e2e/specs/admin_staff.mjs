// Staff administration: an admin adds a person (inline errors first), hands over the temporary
// password, and the new person is made to change it on first login before seeing the work list.
import { BASE, assert, run, shot, signedIn } from '../lib.mjs';

const USER = process.env.NEW_USER;

run(async (browser) => {
  const { context, page, errors } = await signedIn(browser, 'admin');
  await page.click('#nav a[data-tab=staff]');
  await page.waitForSelector('#staff-list tbody tr[data-id]');
  await page.click('#staff-new');
  // Nothing filled: each required field says what is missing.
  await page.click('#staff-form button[type=submit]');
  assert((await page.textContent('[data-field=username] .field-msg')) === '请填写用户名', 'username asked for');
  assert((await page.textContent('[data-field=roles] .field-msg')) === '请至少选择一个角色', 'a role asked for');
  // A username already taken: the API's answer next to the field.
  await page.fill('#sf-username', 'admin');
  await page.fill('#sf-name', '王新');
  await page.selectOption('#sf-region', { index: 1 });
  await page.check('#sf-roles input[value=operator]');
  await page.fill('#sf-phone', '13911110000');
  await page.click('#staff-form button[type=submit]');
  await page.waitForSelector('[data-field=username] .field-msg:not([hidden])');
  const taken = await page.textContent('[data-field=username] .field-msg');
  assert(/用户名/.test(taken), `taken username explained: ${taken}`);
  await shot(page, 'admin-staff-form');
  await page.fill('#sf-username', USER);
  await page.click('#staff-form button[type=submit]');
  await page.waitForSelector('#staff-secret:not([hidden]) #temp-password');
  const temporary = (await page.textContent('#temp-password')).trim();
  assert(temporary.length >= 10, 'a temporary password is shown');
  assert((await page.textContent('#staff-secret')).includes('当面交给本人'), 'hand it over in person');
  await page.waitForSelector(`#staff-list tbody tr:has-text("${USER}")`);
  const row = await page.textContent(`#staff-list tbody tr:has-text("${USER}")`);
  assert(row.includes('王新') && row.includes('首问登记员') && row.includes('13911110000') && row.includes('待改密码'), row);
  await shot(page, 'admin-staff-created');

  // The new person, on another computer.
  const other = await browser.newContext({ viewport: { width: 360, height: 640 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', isMobile: true, hasTouch: true });
  const p2 = await other.newPage();
  p2.on('pageerror', (e) => errors.push(String(e)));
  await p2.goto(`${BASE}/console/`);
  await p2.waitForSelector('#login-view:not([hidden])');
  await p2.fill('#username', USER);
  await p2.fill('#password', temporary);
  await p2.click('#login-form button[type=submit]');
  await p2.waitForSelector('#password-view:not([hidden])');
  assert(await p2.isHidden('#nav'), 'nothing else is offered');
  assert((await p2.textContent('#password-view h2')) === '请修改临时密码', 'the form says why');
  await p2.fill('#pw-old', temporary);
  await p2.fill('#pw-new', 'short');
  await p2.fill('#pw-repeat', 'short');
  await p2.click('#password-form button[type=submit]');
  assert((await p2.textContent('[data-field=new_password] .field-msg')).includes('10到128'), 'too short');
  await p2.fill('#pw-new', 'wangxin-2026-new');
  await p2.fill('#pw-repeat', 'wangxin-2026-neW');
  await p2.click('#password-form button[type=submit]');
  assert((await p2.textContent('[data-field=repeat] .field-msg')) === '两次输入的新密码不一致', 'repeat differs');
  await p2.fill('#pw-old', 'not-the-password');
  await p2.fill('#pw-repeat', 'wangxin-2026-new');
  await p2.click('#password-form button[type=submit]');
  await p2.waitForSelector('[data-field=old_password] .field-msg:not([hidden])');
  assert((await p2.textContent('[data-field=old_password] .field-msg')) === '原密码不正确', 'wrong old password, from the API');
  await shot(p2, 'admin-password-phone');
  await p2.fill('#pw-old', temporary);
  await p2.click('#password-form button[type=submit]');
  await p2.waitForSelector('#list-view:not([hidden])');
  await p2.waitForSelector('#orders[aria-busy=false]');
  assert(await p2.isHidden('#password-view'), 'the form is gone');
  const stored = await p2.evaluate(() => JSON.parse(sessionStorage.getItem('minsheng.session')));
  assert(stored.staff.must_change_password === false, 'the new login is kept');
  assert(await p2.isHidden('#nav a[data-tab=staff]') && await p2.isHidden('#nav a[data-tab=audit]'), 'no admin links for an operator');
  // The new password works for the next login too.
  await p2.click('#logout');
  await p2.fill('#username', USER);
  await p2.fill('#password', 'wangxin-2026-new');
  await p2.click('#login-form button[type=submit]');
  await p2.waitForSelector('#list-view:not([hidden])');
  await other.close();
  assert(errors.length === 0, `page errors: ${errors.join('; ')}`);
  return { temporary };
});
