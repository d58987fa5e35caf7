// Issue 15.2: the order page shows what the villager sent (photo, voice note, position) and what
// the dispatcher asked, under the page's security policy; screenshots at phone and desk sizes.
import { BASE, assert, phone, run, shot } from '../lib.mjs';

const link = process.env.LINK;
const note = process.env.NOTE;

run(async (browser) => {
  const sizes = [[360, 640], [320, 534], [1366, 768]];
  let seen = null;
  for (const [width, height] of sizes) {
    const ctx = width > 1000
      ? await browser.newContext({ viewport: { width, height }, locale: 'zh-CN' })
      : await phone(browser, { viewport: { width, height } });
    const page = await ctx.newPage();
    await page.goto(`${BASE}${link}`);
    const img = page.locator('#reported-photos img').first();
    await img.waitFor();
    await page.waitForFunction(() => {
      const i = document.querySelector('#reported-photos img');
      return i && i.complete && i.naturalWidth > 0;
    });
    const asked = (await page.textContent('#asked')).replace(/\s+/g, ' ');
    assert(asked.includes('派单要求') && asked.includes(note), `the dispatcher's note: ${asked}`);
    const audio = await page.evaluate(async () => {
      const a = document.querySelector('.voice audio');
      if (!a) return null;
      a.preload = 'metadata';
      a.load();
      await new Promise((ok) => {
        if (a.readyState >= 1) ok();
        a.addEventListener('loadedmetadata', ok, { once: true });
        a.addEventListener('error', ok, { once: true });
      });
      return { duration: Number.isFinite(a.duration) ? a.duration : String(a.duration), error: a.error && a.error.code };
    });
    assert(audio && !audio.error && audio.duration > 0, `the voice note plays: ${JSON.stringify(audio)}`);
    const position = (await page.textContent('#position')).trim();
    assert(/北纬\d+\.\d{5}°，东经\d+\.\d{5}°/.test(position), `position as text: ${position}`);
    // Nothing wider than the screen.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(overflow <= 0, `no sideways scrolling at ${width}px: ${overflow}`);
    if (width < 1000) {
      // Every control of the page a thumb must hit (the header's own tools aside).
      const small = await page.evaluate(() => [...document.querySelectorAll('main a, main button, main summary, main label.pick')]
        .filter((el) => el.offsetParent !== null && el.getBoundingClientRect().height < 44)
        .map((el) => `${el.textContent.trim()} (${Math.round(el.getBoundingClientRect().height)}px)`));
      assert(small.length === 0, `tap targets under 44 px at ${width}px: ${small}`);
    }
    await shot(page, `cadre-order-${width}`);
    seen = { audio };
    await ctx.close();
  }
  return seen;
});
