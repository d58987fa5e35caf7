// Point 4: 查询进度 from the card page to /t/, the lookup by number and last four digits, 我的诉求
// after an SMS code, and Chinese pages (never JSON) for a bare /t and unknown pages in a browser.
import { BASE, assert, phone, run, shot } from '../lib.mjs';
import { existsSync, readFileSync } from 'node:fs';

const code = process.env.CARD_CODE;
const no = process.env.TICKET_NO;
const codeFile = process.env.CODE_FILE;

async function otpCode() {
  const until = Date.now() + 20000;
  while (!existsSync(codeFile)) {
    assert(Date.now() < until, 'the SMS code arrived');
    await new Promise((r) => setTimeout(r, 100));
  }
  return readFileSync(codeFile, 'utf8').trim();
}

run(async (browser) => {
  const ctx = await phone(browser);
  const page = await ctx.newPage();
  await page.goto(`${BASE}/c/${code}`);
  await Promise.all([page.waitForNavigation(), page.click('text=查询进度')]);
  assert(new URL(page.url()).pathname === '/t/', page.url());
  await shot(page, 'villager-lookup');

  // A wrong number: said next to the field, on the page.
  await page.fill('#no', '12345');
  await page.fill('#phone_tail', '5678');
  await Promise.all([page.waitForNavigation(), page.click('#lookup button[type=submit]')]);
  assert((await page.textContent('#no-error')).includes('工单编号不正确'), 'wrong number said');
  await page.fill('#no', no);
  await page.fill('#phone_tail', '5678');
  await Promise.all([page.waitForNavigation(), page.click('#lookup button[type=submit]')]);
  await page.waitForSelector('#status');
  assert((await page.textContent('h2')).includes(no), 'the ticket found');

  // 我的诉求 with an SMS code.
  await page.goto(`${BASE}/t/`);
  await page.waitForSelector('#mine:not([hidden])');
  await page.fill('#mine-phone-input', '13812345678');
  await page.click('#mine-send');
  await page.waitForSelector('#mine-code:not([hidden])');
  await page.fill('#mine-code-input', await otpCode());
  await page.click('#mine-verify');
  await page.waitForSelector('#mine-list li a');
  const items = await page.locator('#mine-list li').count();
  const first = await page.locator('#mine-list li a').first().getAttribute('href');
  assert(first.startsWith('/t/') && first.endsWith('?phone_tail=5678'), first);
  await shot(page, 'villager-mine');
  await Promise.all([page.waitForNavigation(), page.click('#mine-list li a >> nth=0')]);
  await page.waitForSelector('#status');

  // A bare /t and an unknown page: Chinese HTML with the way on; the API keeps JSON.
  for (const path of ['/t', '/t/', '/no-such-page', '/c/', '/t/x/y/z']) {
    const r = await page.goto(`${BASE}${path}`);
    const type = r.headers()['content-type'] || '';
    assert(type.startsWith('text/html'), `${path}: ${type}`);
    const text = await page.textContent('body');
    assert(/[\u4e00-\u9fff]/.test(text) && !text.trim().startsWith('{'), `${path}: a Chinese page`);
    assert(await page.locator('a[href="/t/"]').count() >= 1 || await page.locator('#lookup').count() === 1, `${path}: a way to 查询进度`);
  }
  await page.goto(`${BASE}/no-such-page`);
  await shot(page, 'villager-404');
  const api = await page.goto(`${BASE}/api/v1/no-such-thing`);
  assert((api.headers()['content-type'] || '').startsWith('application/json'), 'the API answers JSON');
  await ctx.close();
  return { items };
});
