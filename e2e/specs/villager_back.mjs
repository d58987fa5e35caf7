// Point 6: JavaScript off, submit, go back, submit again: the same ticket, shown as already sent.
import { BASE, assert, phone, run, shot } from '../lib.mjs';

const code = process.env.CARD_CODE;

run(async (browser) => {
  const ctx = await phone(browser, { javaScriptEnabled: false });
  const page = await ctx.newPage();
  await page.goto(`${BASE}/c/${code}`);
  const key = await page.inputValue('input[name=idempotency_key]');
  await page.locator('label:has-text("道路交通")').click();
  await page.fill('#description', '桥头的护栏被车撞坏了，孩子上学要经过');
  await page.fill('#phone', '13712345678');
  await Promise.all([page.waitForNavigation(), page.click('#submit')]);
  const first = (await page.textContent('#ticket-no')).trim();
  assert(/^\d{8}-\d{6}$/.test(first), `ticket number ${first}`);
  assert(await page.locator('#replayed').count() === 0, 'the first answer is not marked as a replay');

  await page.goBack();
  await page.waitForSelector('#intake');
  // What the villager sees after going back: the form as it was sent.
  if (!(await page.inputValue('#description'))) {
    await page.locator('label:has-text("道路交通")').click();
    await page.fill('#description', '桥头的护栏被车撞坏了，孩子上学要经过');
    await page.fill('#phone', '13712345678');
  }
  await Promise.all([page.waitForNavigation(), page.click('#submit')]);
  const second = (await page.textContent('#ticket-no')).trim();
  assert(second === first, `the resent form shows the first result: ${first} vs ${second}`);
  assert((await page.textContent('#replayed')).includes('已经提交过'), 'said to be the earlier submission');
  assert((await page.textContent('#phone-masked')).trim() === '137****5678', 'masked phone of the ticket');
  await shot(page, 'villager-back-replayed');

  // A new visit to the card (not the history) is a new form with a new key, and a different request
  // from the same browser is filed as a new ticket.
  await page.click('text=反映新的问题');
  await page.waitForSelector('#intake');
  const fresh = await page.inputValue('input[name=idempotency_key]');
  assert(fresh !== key, 'a new visit gets a new key');
  await page.locator('label:has-text("道路交通")').click();
  await page.fill('#description', '村口的路灯也不亮了，晚上看不见路');
  await page.fill('#phone', '13712345678');
  await Promise.all([page.waitForNavigation(), page.click('#submit')]);
  const other = (await page.textContent('#ticket-no')).trim();
  assert(other !== first && await page.locator('#replayed').count() === 0, `a different request is a new ticket: ${other}`);
  await ctx.close();
  return { ticket_no: first, other };
});
