// The SMS outbox for an admin: filter by status, see the dead message with its masked phone,
// attempts, provider and last error, resend it; then a phone-sized look. Other staff have no link.
import { assert, consoleLogin, run, shot, signedIn } from '../lib.mjs';

run(async (browser) => {
  const { context, page, errors } = await signedIn(browser, 'operator');
  assert(await page.isHidden('#nav a[data-tab=outbox]'), 'an operator has no outbox link');
  await consoleLogin(page, 'admin');
  await page.click('#nav a[data-tab=outbox]');
  await page.waitForSelector('#outbox-list tbody tr[data-id]');
  assert((await page.$$('#outbox-list tbody tr[data-id]')).length === 2, 'both messages listed');
  // A phone number that is not one: the server's word next to the field.
  await page.fill('#outbox-filters input[name=phone]', '12345');
  await page.click('#outbox-filters button[type=submit]');
  await page.waitForSelector('#outbox-filters [data-field=phone] .field-msg:not([hidden])');
  assert((await page.textContent('#outbox-filters [data-field=phone] .field-msg')).includes('手机号格式不正确'), 'phone message');
  await page.fill('#outbox-filters input[name=phone]', '');
  await page.selectOption('#outbox-filters select[name=status]', 'dead');
  await page.waitForFunction(() => document.querySelectorAll('#outbox-list tbody tr[data-id]').length === 1);
  const row = page.locator('#outbox-list tbody tr[data-id]');
  const text = await row.textContent();
  for (const want of ['已放弃', '受理回执', '138****5678', '网关超时（已重试5次）', '控制台']) assert(text.includes(want), `row shows ${want}: ${text}`);
  assert(!text.includes('13812345678'), 'the phone is masked');
  assert((await row.locator('[data-label=尝试次数]').textContent()) === '5', 'attempts');
  const id = Number(await row.getAttribute('data-id'));
  await shot(page, 'console-outbox-dead');
  await row.locator('button[data-do=resend]').click();
  await page.waitForSelector('#outbox-done:not([hidden])');
  assert((await page.textContent('#outbox-done')).includes('已重新排队发送'), 'confirmation');
  await page.waitForSelector('#outbox-list tbody td.meta');
  await page.selectOption('#outbox-filters select[name=status]', 'pending');
  await page.waitForSelector(`#outbox-list tbody tr[data-id="${id}"]`);
  assert((await page.textContent(`#outbox-list tbody tr[data-id="${id}"]`)).includes('待发送'), 'back to pending');
  await page.selectOption('#outbox-filters select[name=status]', '');
  await page.waitForFunction(() => document.querySelectorAll('#outbox-list tbody tr[data-id]').length === 2);
  await page.setViewportSize({ width: 360, height: 640 });
  await shot(page, 'console-outbox-phone');
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert(wide <= 360, `no sideways scrolling on a phone: ${wide}px`);
  assert(errors.length === 0, `page errors: ${errors.join('; ')}`);
  return { resent: id };
});
