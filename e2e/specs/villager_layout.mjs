// Points 5 and 8: at 320 px the category tiles stay two a row; the 大字 switch, the call buttons and
// the hotline link are at least 44×44; without JavaScript there is one photo control, not two.
import { BASE, assert, phone, run, shot } from '../lib.mjs';

const code = process.env.CARD_CODE;

function rects(page, selector) {
  return page.$$eval(selector, (els) => els.map((e) => {
    const r = e.getBoundingClientRect();
    const s = getComputedStyle(e);
    return { x: r.left, y: r.top, w: r.width, h: r.height, visible: s.display !== 'none' && s.visibility !== 'hidden' && r.width > 1 && r.height > 1 };
  }));
}

run(async (browser) => {
  const sizes = {};
  for (const [w, h] of [[320, 534], [360, 640]]) {
    for (const large of [false, true]) {
      const ctx = await phone(browser, { viewport: { width: w, height: h } });
      const page = await ctx.newPage();
      await page.goto(`${BASE}/c/${code}${large ? '?large=1' : ''}`);
      const tiles = await rects(page, '.cats label');
      assert(tiles.length >= 4, 'category tiles');
      assert(Math.abs(tiles[0].y - tiles[1].y) < 1 && tiles[1].x > tiles[0].x + tiles[0].w - 1,
        `${w}px${large ? ' large' : ''}: two tiles a row ${JSON.stringify(tiles.slice(0, 2))}`);
      assert(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), `${w}px: no sideways scroll`);
      for (const [name, sel] of [['大字', '#font-toggle'], ['call', 'a.call'], ['hotline', '.hotline a']]) {
        const rs = await rects(page, sel);
        assert(rs.length > 0, `${name} present`);
        for (const r of rs) assert(r.w >= 44 && r.h >= 44, `${w}px${large ? ' large' : ''}: ${name} is ${r.w}×${r.h}, at least 44×44`);
        sizes[`${name}@${w}${large ? 'L' : ''}`] = `${Math.round(rs[0].w)}×${Math.round(rs[0].h)}`;
      }
      await ctx.close();
    }
  }
  // Without JavaScript: one photo control (the browser's own), one voice control.
  const ctx = await phone(browser, { javaScriptEnabled: false });
  const page = await ctx.newPage();
  await page.goto(`${BASE}/c/${code}`);
  for (const f of ['photo', 'voice']) {
    const controls = (await rects(page, `[data-field=${f}] label.pick, [data-field=${f}] input[type=file]`)).filter((r) => r.visible);
    assert(controls.length === 1, `no JavaScript: ${controls.length} ${f} controls, want one`);
  }
  await ctx.close();
  // With JavaScript: the big label is the one control.
  const jctx = await phone(browser);
  const jpage = await jctx.newPage();
  await jpage.goto(`${BASE}/c/${code}`);
  await jpage.waitForFunction(() => document.body.classList.contains('js'));
  const pick = (await rects(jpage, '[data-field=photo] label.pick, [data-field=photo] input[type=file]')).filter((r) => r.visible && r.w >= 44);
  assert(pick.length === 1 && pick[0].h >= 44, `JavaScript: one photo control ${JSON.stringify(pick)}`);
  await jctx.close();
  return { sizes };
});
