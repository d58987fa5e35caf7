// User text with markup in it, on the pages that show it: Chromium shows it as text. No element
// comes from it (no <img>, no script but the page's own), and nothing is blocked by the content
// security policy (lib.mjs fails the spec on any violation, as an injected handler would cause).
import { BASE, assert, phone, run, shot } from '../lib.mjs';

const pages = JSON.parse(process.env.PAGES || '[]');
const texts = JSON.parse(process.env.TEXTS || '[]');

run(async (browser) => {
  assert(pages.length > 0 && texts.length > 0, 'PAGES and TEXTS');
  const ctx = await phone(browser);
  let checked = 0;
  for (const { path, name, shows } of pages) {
    const page = await ctx.newPage();
    let dialogs = 0;
    page.on('dialog', (d) => { dialogs += 1; d.dismiss(); });
    const r = await page.goto(`${BASE}${path}`, { waitUntil: 'networkidle' });
    assert(r.status() < 300, `${path}: ${r.status()}`);
    const found = await page.evaluate(() => ({
      imgs: document.querySelectorAll('img').length,
      scripts: [...document.scripts].map((s) => s.getAttribute('src') || '(inline)'),
      text: document.body.innerText,
    }));
    assert(found.imgs === 0, `${name}: ${found.imgs} <img> elements`);
    assert(found.scripts.every((s) => s.startsWith('/assets/js/')), `${name}: scripts ${JSON.stringify(found.scripts)}`);
    texts.forEach((t, i) => {
      const n = found.text.split(t).length - 1;
      assert(n >= shows[i], `${name}: shows ${JSON.stringify(t)} ${n} times, expected ${shows[i]}`);
    });
    assert(dialogs === 0, `${name}: an alert ran`);
    await shot(page, `xss-${name}`);
    checked += 1;
    await page.close();
  }
  await ctx.close();
  return { checked };
});
