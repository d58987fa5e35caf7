// Point 7: every wrong field at once, each next to its field, the page scrolled to the first; an
// empty submission shows Chinese messages on the page (not only the browser's tooltip). With
// JavaScript off (the server's page) and on (the API's `errors` list).
import { BASE, assert, phone, run, shot } from '../lib.mjs';

const code = process.env.CARD_CODE;

async function near(page, field) {
  return page.evaluate((f) => {
    const msg = document.getElementById(f + '-error');
    const box = msg && msg.closest('[data-field]');
    if (!msg || msg.hidden || !box || box.getAttribute('data-field') !== f) return null;
    const r = msg.getBoundingClientRect();
    const target = f === 'category' ? box.querySelector('.cats') : document.getElementById(f);
    const t = target.getBoundingClientRect();
    return { text: msg.textContent.trim(), gap: Math.abs(t.top - r.bottom), top: r.top, height: innerHeight };
  }, field);
}

async function check(page, js) {
  const tag = js ? 'js' : 'nojs';
  // Empty: no tooltip stops it; the page says what is missing, in Chinese, next to each field.
  await page.click('#submit');
  await page.waitForSelector('#phone-error:not([hidden])');
  for (const f of ['category', 'description', 'phone']) {
    const m = await near(page, f);
    assert(m && /[\u4e00-\u9fff]/.test(m.text), `${tag}: empty ${f} has a Chinese message next to it: ${JSON.stringify(m)}`);
    assert(m.gap < 120, `${tag}: ${f}'s message sits by its field (${m.gap}px)`);
  }
  const cat = await near(page, 'category');
  assert(cat.top > -2 && cat.top < cat.height, `${tag}: scrolled to the first wrong field (${cat.top})`);
  await shot(page, `villager-errors-empty-${tag}`);

  // Two wrong fields: both reported at once, each by its field; the first in view.
  await page.locator('label:has-text("道路交通")').click();
  await page.fill('#description', '路坏');
  await page.fill('#phone', '12345');
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  if (js) await page.click('#submit'); else await Promise.all([page.waitForNavigation(), page.click('#submit')]);
  await page.waitForSelector('#phone-error:not([hidden])');
  const d = await near(page, 'description');
  const p = await near(page, 'phone');
  assert(d && d.text.includes('至少'), `${tag}: description message ${JSON.stringify(d)}`);
  assert(p && p.text.includes('手机号码'), `${tag}: phone message ${JSON.stringify(p)}`);
  assert(p.gap < 120, `${tag}: the bad-phone message sits by the phone field (${p.gap}px)`);
  assert(await page.locator('#category-error:not([hidden])').count() === 0, `${tag}: the right category is not flagged`);
  assert(d.top > -2 && d.top < d.height, `${tag}: scrolled to the first wrong field (${d.top})`);
  assert(await page.evaluate(() => document.activeElement && document.activeElement.id) === 'description',
    `${tag}: the first wrong field has the focus`);
  await shot(page, `villager-errors-two-${tag}`);
}

run(async (browser) => {
  for (const js of [false, true]) {
    const ctx = await phone(browser, { javaScriptEnabled: js });
    const page = await ctx.newPage();
    await page.goto(`${BASE}/c/${code}`);
    await check(page, js);
    await ctx.close();
  }
  return {};
});
