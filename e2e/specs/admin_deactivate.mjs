// An admin finds a grid worker, deactivates them and resets another's password; the audit log shows
// both, with the changed field before → after, and filters by kind of object. Then a phone-sized look.
import { assert, consoleLogin, run, shot, signedIn } from '../lib.mjs';

run(async (browser) => {
  const { context, page, errors } = await signedIn(browser, 'admin');
  await page.click('#nav a[data-tab=staff]');
  await page.waitForSelector('#staff-list tbody tr[data-id]');
  await page.fill('#staff-search input[name=q]', 'ziranziyuan');
  await page.click('#staff-search button[type=submit]');
  await page.waitForFunction(() => { const r = document.querySelectorAll('#staff-list tbody tr[data-id]'); return r.length === 1 && r[0].textContent.includes('林地宝'); });
  await page.click('#staff-list tbody tr[data-id] button[data-do=off]');
  await page.waitForSelector('#staff-list tbody tr.off button[data-do=on], #staff-error:not([hidden])');
  assert(await page.isHidden('#staff-error'), await page.textContent('#staff-error'));
  assert((await page.textContent('#staff-list tbody tr.off')).includes('已停用'), 'shown as deactivated');
  // A password reset shows the temporary password once.
  await page.fill('#staff-search input[name=q]', 'wg-hekou');
  await page.click('#staff-search button[type=submit]');
  await page.waitForFunction(() => { const r = document.querySelectorAll('#staff-list tbody tr[data-id]'); return r.length === 1 && r[0].textContent.includes('赵小河'); });
  await page.click('#staff-list tbody tr[data-id] button[data-do=reset]');
  await page.waitForSelector('#staff-secret:not([hidden]) #temp-password');
  assert((await page.textContent('#staff-secret')).includes('赵小河'), 'whose password it is');
  await page.waitForSelector('#staff-list tbody tr:has-text("待改密码")');
  await shot(page, 'admin-staff-reset');
  await page.click('#secret-done');
  assert(await page.isHidden('#staff-secret'), 'the password goes away');

  await page.click('#nav a[data-tab=audit]');
  await page.waitForSelector('#audit-list tbody tr[data-entity]');
  const rows = await page.$$eval('#audit-list tbody tr[data-entity]', (trs) => trs.map((tr) => Array.from(tr.cells).map((c) => c.textContent)));
  const off = rows.find((r) => r[2] === '停用' && r[3] === '人员 · 林地宝');
  assert(off, `the deactivation is logged: ${JSON.stringify(rows)}`);
  assert(off[1] === '系统管理员' && off[4].includes('状态：在用 → 停用'), JSON.stringify(off));
  const reset = rows.find((r) => r[2] === '重置密码' && r[3].includes('赵小河'));
  assert(reset, `the reset is logged: ${JSON.stringify(rows)}`);
  await shot(page, 'admin-audit');
  await page.selectOption('#audit-filters select[name=entity]', 'unit');
  await page.waitForFunction(() => !document.querySelector('#audit-list tbody tr[data-entity="staff"]'));
  await page.selectOption('#audit-filters select[name=entity]', 'staff');
  await page.waitForSelector('#audit-list tbody tr[data-entity="staff"]');

  // The same pages on a phone.
  await page.setViewportSize({ width: 360, height: 640 });
  await shot(page, 'admin-audit-phone');
  await page.click('#nav a[data-tab=staff]');
  await page.waitForSelector('#staff-list tbody tr[data-id]');
  await shot(page, 'admin-staff-phone');

  // An inspector sees the log but not the staff pages.
  await consoleLogin(page, 'inspector');
  assert(await page.isVisible('#nav a[data-tab=audit]'), 'the inspector has the log');
  assert(await page.isHidden('#nav a[data-tab=staff]') && await page.isHidden('#nav a[data-tab=import]'), 'but no administration');
  await page.click('#nav a[data-tab=audit]');
  await page.waitForSelector('#audit-list tbody tr[data-entity]');
  assert(errors.length === 0, `page errors: ${errors.join('; ')}`);
  return { logged: rows.length };
});
