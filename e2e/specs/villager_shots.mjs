// Screenshots of the villager pages at 360×640, 320×534 and 1366×768 (e2e/screenshots/, looked at by
// a person), and what can be checked without eyes: nothing scrolls sideways.
import { BASE, assert, phone, run } from '../lib.mjs';
import { SHOTS } from '../lib.mjs';

const code = process.env.CARD_CODE;
const no = process.env.TICKET_NO;

run(async (browser) => {
  const pages = [];
  for (const [w, h] of [[360, 640], [320, 534], [1366, 768]]) {
    const desk = w > 1000;
    const opts = desk ? { viewport: { width: w, height: h }, isMobile: false, hasTouch: false, deviceScaleFactor: 1 }
      : { viewport: { width: w, height: h } };
    for (const js of [true, false]) {
      const ctx = await phone(browser, { ...opts, javaScriptEnabled: js });
      const page = await ctx.newPage();
      const tag = `${w}x${h}${js ? '' : '-nojs'}`;
      const snap = async (name) => {
        assert(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth + 1), `${name} ${tag}: no sideways scroll`);
        await page.screenshot({ path: `${SHOTS}/v-${name}-${tag}.png`, fullPage: name !== 'card-top' });
        pages.push(`${name}-${tag}`);
      };
      await page.goto(`${BASE}/c/${code}`);
      if (js) await page.waitForFunction(() => document.body.classList.contains('js'));
      await snap('card-top');
      await snap('card');
      await page.locator('label:has-text("环境卫生")').click();
      await page.fill('#description', '村口垃圾池满了一个星期没人清运，味道很大');
      await page.fill('#phone', '13812345678');
      if (js) await page.click('#submit'); else await Promise.all([page.waitForNavigation(), page.click('#submit')]);
      await page.waitForSelector('#ticket-no');
      await snap('result');
      if (js) {
        await page.goto(`${BASE}/t/${no}?phone_tail=5678`);
        await snap('tracking');
        await page.goto(`${BASE}/t/`);
        await snap('lookup');
        await page.goto(`${BASE}/no-such-page`);
        await snap('404');
      }
      await ctx.close();
    }
  }
  return { pages: pages.length };
});
