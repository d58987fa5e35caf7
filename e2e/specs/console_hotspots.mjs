// 热点 → 未诉先办 in the console: a leader reads the hotspots without the button, a dispatcher opens
// the water hotspot of 李家庄村 (a repeat cluster), raises a proactive ticket from it with the
// requests linked (the form refuses none checked), and lands on the new ticket with its requests.
import { assert, consoleLogin, run, shot, signedIn } from '../lib.mjs';

const LINKS = Number(process.env.EXPECTED_LINKS);

run(async (browser) => {
  const { page, errors } = await signedIn(browser, 'operator');
  assert(await page.isHidden('#nav a[data-tab=hotspots]'), 'an operator has no hotspots link');
  await consoleLogin(page, 'leader');
  await page.click('#nav a[data-tab=hotspots]');
  await page.waitForSelector('#hotspots tbody tr[data-i]');
  assert((await page.$$('#hotspots button.raise')).length === 0, 'a leader reads, does not raise');

  await consoleLogin(page, 'dispatcher');
  await page.click('#nav a[data-tab=hotspots]');
  await page.waitForSelector('#hotspots tbody button.raise');
  const row = page.locator('#hotspots tbody tr[data-i]', { hasText: '李家庄村' }).filter({ hasText: '停水断水' });
  const text = await row.textContent();
  for (const want of ['东坝镇', '重复聚集', String(LINKS)]) assert(text.includes(want), `row shows ${want}: ${text}`);
  assert((await page.textContent('#hotspots-period')).includes('对比上期'), 'the period and the one before');
  await shot(page, 'console-hotspots');

  await row.locator('button.raise').click();
  await page.waitForSelector('#proactive-linked input[name=linked]');
  const boxes = page.locator('#proactive-linked input[name=linked]');
  assert((await boxes.count()) === LINKS, `every request of the hotspot listed: ${await boxes.count()}`);
  assert((await page.textContent('#proactive-region')).includes('李家庄村'), 'the place prefilled');
  assert((await page.textContent('#proactive-category')) === '停水断水', 'the category prefilled');
  assert((await page.inputValue('#proactive-description')).includes('李家庄村'), 'a description to start from');
  assert(!(await page.textContent('#proactive-linked')).match(/1380000\d{4}/), 'phones masked');
  await shot(page, 'console-proactive-form');
  // None checked: the form says so next to the list, nothing is sent.
  for (let i = 0; i < LINKS; i++) await boxes.nth(i).uncheck();
  await page.click('#proactive-form button[type=submit]');
  await page.waitForSelector('#proactive-form [data-field=linked_tickets] .field-msg:not([hidden])');
  for (let i = 0; i < LINKS; i++) await boxes.nth(i).check();
  const linked = await page.$$eval('#proactive-linked input[name=linked]:checked', (xs) => xs.map((x) => x.value));
  await page.click('#proactive-form button[type=submit]');
  await page.waitForSelector('#proactive-done:not([hidden])');
  const no = await page.textContent('#proactive-no');
  await shot(page, 'console-proactive-done');

  await page.click('#proactive-no');
  await page.waitForFunction((n) => document.getElementById('detail-no')?.textContent === n, no);
  await page.waitForSelector('#linked-tickets li');
  assert((await page.$$('#linked-tickets li')).length === LINKS, 'the requests on the new ticket');
  const facts = await page.textContent('#detail .facts');
  assert(facts.includes('未诉先办') && facts.includes('无（工作人员主动发现）'), `facts: ${facts}`);
  await shot(page, 'console-proactive-detail');
  assert(errors.length === 0, `page errors: ${errors.join('; ')}`);
  return { ticket_no: no, linked };
});
