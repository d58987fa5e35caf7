// Contact cards for an admin: the list by region, one card's preview and details, one PDF for the
// whole county and one for a township (downloaded through the token), revoking a card (a second
// click confirms) and issuing a new one. Township staff have the link; a village cadre does not.
import { assert, consoleLogin, run, shot } from '../lib.mjs';
import { statSync } from 'node:fs';

const DIR = process.env.DOWNLOAD_DIR;

run(async (browser) => {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', acceptDownloads: true });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e.stack || e)));
  await consoleLogin(page, 'lijiazhuang');
  assert(await page.isHidden('#nav a[data-tab=cards]'), 'a village cadre has no cards link');
  await consoleLogin(page, 'dongba');
  assert(await page.isVisible('#nav a[data-tab=cards]'), 'the township office has the cards link');
  await consoleLogin(page, 'admin');
  await page.click('#nav a[data-tab=cards]');
  await page.waitForFunction(() => document.querySelectorAll('#cards-list tbody tr[data-code]').length === 6);

  // One PDF for the whole county, then one for 东坝镇.
  const download = async (region, name, copies) => {
    await page.selectOption('#print-form select[name=region_id]', { label: region });
    await page.fill('#print-form input[name=copies]', String(copies));
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#print-run')]);
    const path = `${DIR}/${name}.pdf`;
    await dl.saveAs(path);
    await page.waitForSelector('#print-done:not([hidden])');
    assert(dl.suggestedFilename().endsWith('.pdf') && dl.suggestedFilename().includes('联系卡'), dl.suggestedFilename());
    assert(statSync(path).size > 1000, 'a PDF was saved');
    return path;
  };
  const county = await download('清河县（全县）', 'county', 10);
  assert((await page.textContent('#print-done')).includes('60张'), await page.textContent('#print-done'));
  const township = await download('　东坝镇', 'township', 1);
  assert((await page.textContent('#print-done')).includes('3张'), await page.textContent('#print-done'));
  // A number of copies out of range: the message next to the field, nothing fetched.
  await page.fill('#print-form input[name=copies]', '50');
  await page.click('#print-run');
  await page.waitForSelector('#print-form [data-field=copies] .field-msg:not([hidden])');
  assert((await page.textContent('#print-form [data-field=copies] .field-msg')).includes('1 到 20'), 'copies message');
  await page.fill('#print-form input[name=copies]', '1');

  // One card: preview and details.
  await page.click('#cards-list tbody tr:has-text("石桥村") button[data-do=open] >> nth=0');
  await page.waitForFunction(() => { const img = document.getElementById('card-img'); return img && img.complete && img.naturalWidth > 0; });
  const facts = await page.textContent('#card-detail');
  for (const want of ['石桥村 联系卡', '第1版', '使用中', '12345', '张德顺']) assert(facts.includes(want), `details show ${want}`);
  await page.click('#card-refresh');
  await page.waitForSelector('#card-msg:not([hidden])');
  await shot(page, 'console-cards-detail');

  // Revoke 河口村's card (the first click asks), then issue a new one.
  await page.click('#cards-list tbody tr:has-text("河口村") button[data-do=open] >> nth=0');
  await page.waitForFunction(() => (document.querySelector('#card-detail h2') || {}).textContent === '河口村 联系卡 · 第1版');
  await page.click('#card-revoke');
  assert((await page.textContent('#card-revoke')).includes('确认停用'), 'asks first');
  await page.click('#card-revoke');
  await page.waitForFunction(() => (document.getElementById('card-msg') || {}).textContent === '联系卡已停用。');
  await page.waitForFunction(() => document.querySelectorAll('#cards-list tbody tr[data-code]').length === 5);
  await page.selectOption('#issue-form select[name=village_id]', { label: '河口村' });
  await page.click('#issue-form button[type=submit]');
  await page.waitForSelector('#cards-done:not([hidden])');
  assert((await page.textContent('#cards-done')).includes('河口村发放第2版'), await page.textContent('#cards-done'));
  await page.waitForFunction(() => (document.querySelector('#card-detail h2') || {}).textContent === '河口村 联系卡 · 第2版');
  await page.waitForFunction(() => document.querySelectorAll('#cards-list tbody tr[data-code]').length === 6);
  await page.selectOption('#cards-filters select[name=status]', '');
  await page.waitForFunction(() => document.querySelectorAll('#cards-list tbody tr[data-code]').length === 7);
  await shot(page, 'console-cards');
  await page.setViewportSize({ width: 360, height: 640 });
  await shot(page, 'console-cards-phone');
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert(wide <= 360, `no sideways scrolling on a phone: ${wide}px`);
  assert(errors.length === 0, `page errors: ${errors.join('; ')}`);
  return { county, township };
});
