// Appeals for a leader: the pending appeal with its ticket, the visit's result, the unit's reason and
// evidence; deciding needs a choice and a reason (messages next to the fields), then the decision
// shows with its reason. An inspector sees the list but cannot decide; a caller has no link.
import { assert, consoleLogin, run, shot, signedIn } from '../lib.mjs';

const NO = process.env.TICKET_NO;
const REASON = '通知只说明检修两天，停水持续一周，村委会未及时上报';

run(async (browser) => {
  const { context, page, errors } = await signedIn(browser, 'caller');
  assert(await page.isHidden('#nav a[data-tab=appeals]'), 'a caller has no appeals link');
  await consoleLogin(page, 'leader');
  await page.click('#nav a[data-tab=appeals]');
  await page.waitForSelector('#appeals-list tbody tr[data-id]');
  const row = page.locator('#appeals-list tbody tr[data-id]');
  const text = await row.textContent();
  for (const want of [NO, '李家庄村村民委员会', '电话回访', '未解决', '不满意', '水还是浑的', '停水是县水厂检修造成的', '待裁定']) assert(text.includes(want), `row shows ${want}: ${text}`);
  // The evidence photo loads through the token.
  await page.waitForFunction(() => { const img = document.querySelector('#appeals-list img[data-upload]'); return img && img.complete && img.naturalWidth > 0; });
  await row.locator('button[data-do=decide]').click();
  const form = page.locator('#appeals-list form.decide-form');
  await form.waitFor();
  await form.locator('button[type=submit]').click();
  await form.locator('[data-field=upheld] .field-msg:not([hidden])').waitFor();
  assert((await form.locator('[data-field=upheld] .field-msg').textContent()).includes('请选择申诉成立或驳回'), 'choice message');
  assert((await form.locator('[data-field=note] .field-msg').textContent()).includes('请填写裁定理由'), 'reason message');
  await form.locator('input[name=upheld][value=false]').check();
  await form.locator('textarea[name=note]').fill(REASON);
  await shot(page, 'console-appeals-decide');
  await form.locator('button[type=submit]').click();
  await page.waitForSelector('#appeals-done:not([hidden])');
  assert((await page.textContent('#appeals-done')).includes('申诉驳回'), await page.textContent('#appeals-done'));
  await page.waitForSelector('#appeals-list tbody td.meta');
  await page.selectOption('#appeals-filters select[name=status]', '');
  await page.waitForSelector('#appeals-list tbody tr[data-id]');
  const decided = await page.textContent('#appeals-list tbody tr[data-id]');
  assert(decided.includes('申诉驳回') && decided.includes(REASON), decided);
  await page.setViewportSize({ width: 360, height: 640 });
  await shot(page, 'console-appeals-phone');
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert(wide <= 360, `no sideways scrolling on a phone: ${wide}px`);

  await page.setViewportSize({ width: 1366, height: 768 });
  await consoleLogin(page, 'inspector');
  await page.click('#nav a[data-tab=appeals]');
  await page.selectOption('#appeals-filters select[name=status]', '');
  await page.waitForSelector('#appeals-list tbody tr[data-id]');
  assert(await page.locator('#appeals-list button[data-do=decide]').count() === 0, 'an inspector does not decide');
  assert(errors.length === 0, `page errors: ${errors.join('; ')}`);
  return { reason: REASON };
});
