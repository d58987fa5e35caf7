// Point 9: the result with JavaScript says what the page without it says (when we will contact you,
// the masked phone, a button to follow the request), and the button opens the tracking page, whose
// expected time is the same; the large-font switch there keeps phone_tail (no JavaScript).
import { BASE, assert, phone, run, shot } from '../lib.mjs';

const code = process.env.CARD_CODE;
const TIME = /^\d{2}月\d{2}日 \d{2}:\d{2}$/;

async function file(browser, js, tel) {
  const ctx = await phone(browser, { javaScriptEnabled: js });
  const page = await ctx.newPage();
  await page.goto(`${BASE}/c/${code}`);
  await page.locator('label:has-text("饮水安全")').first().click();
  await page.fill('#description', js ? '自来水管破了，水流了一地' : '自来水有股怪味，不敢喝');
  await page.fill('#phone', tel);
  if (js) await page.click('#submit'); else await Promise.all([page.waitForNavigation(), page.click('#submit')]);
  await page.waitForSelector('#result #ticket-no');
  const seen = await page.evaluate(() => ({
    no: document.getElementById('ticket-no').textContent.trim(),
    by: document.querySelector('#respond-by strong').textContent.trim(),
    respond: document.getElementById('respond-by').textContent.replace(/\s+/g, ' ').trim(),
    phone: document.getElementById('phone-masked').textContent.trim(),
    sms: document.getElementById('sms-note').textContent.trim(),
    button: document.getElementById('track-link').textContent.trim(),
    href: document.getElementById('track-link').getAttribute('href'),
  }));
  await shot(page, `villager-result-${js ? 'js' : 'nojs'}`);
  return { ctx, page, seen };
}

run(async (browser) => {
  const plain = await file(browser, false, '13612345678');
  const rich = await file(browser, true, '136 8765 4321');
  for (const [s, masked, tail] of [[plain.seen, '136****5678', '5678'], [rich.seen, '136****4321', '4321']]) {
    assert(TIME.test(s.by), `a time to be contacted by: ${JSON.stringify(s)}`);
    assert(s.phone === masked, `masked phone ${s.phone}`);
    assert(s.sms.includes(masked), `SMS note names the masked number: ${s.sms}`);
    assert(s.button === '查看办理进度', `a button to follow: ${s.button}`);
    assert(s.href === `/t/${s.no}?phone_tail=${tail}`, `the button opens the tracking page: ${s.href}`);
  }
  assert(plain.seen.respond.replace(plain.seen.by, 'T') === rich.seen.respond.replace(rich.seen.by, 'T'),
    `the same sentence: ${plain.seen.respond} / ${rich.seen.respond}`);

  // The button (JavaScript on): the tracking page, with the same expected time while waiting.
  await rich.page.click('#track-link');
  await rich.page.waitForSelector('#status');
  const handling = (await rich.page.textContent('#handling')).trim();
  assert(handling.includes(`预计${rich.seen.by}前联系您`), `tracking says the same time: ${handling}`);
  await rich.ctx.close();

  // Without JavaScript: the button, then the large-font switch keeps the phone tail.
  await Promise.all([plain.page.waitForNavigation(), plain.page.click('#track-link')]);
  await plain.page.waitForSelector('#status');
  await Promise.all([plain.page.waitForNavigation(), plain.page.click('#font-toggle')]);
  assert(await plain.page.locator('#status').count() === 1, `still the status page after 大字: ${plain.page.url()}`);
  assert(await plain.page.evaluate(() => document.body.className) === 'large', 'large font');
  assert(plain.page.url().includes('phone_tail=5678'), plain.page.url());
  await shot(plain.page, 'villager-tracking-large-nojs');
  await plain.ctx.close();
  return { js: rich.seen, nojs: plain.seen };
});
