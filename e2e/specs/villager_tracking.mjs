// Point 10: the tracking page shows the villager's own description and photo and, once given, their
// rating; the photo comes by a short-lived signed link that opens only that ticket's file.
import { BASE, assert, phone, run, shot } from '../lib.mjs';

const no = process.env.TICKET_NO;
const other = process.env.OTHER_NO;
const rate = process.env.RATE_PATH;

run(async (browser) => {
  const ctx = await phone(browser);
  const page = await ctx.newPage();
  // Rate from the SMS link first.
  await page.goto(`${BASE}${rate}`);
  await page.fill('#comment', '修得很快，谢谢');
  await Promise.all([page.waitForNavigation(), page.click('button[value=satisfied]')]);
  assert((await page.textContent('main')).includes('感谢'), 'rated');

  await page.goto(`${BASE}/t/${no}?phone_tail=5678`);
  await page.waitForSelector('#status');
  assert((await page.textContent('#description')).includes('井盖丢了'), 'own description');
  const img = page.locator('#media img');
  assert(await img.count() === 1, 'own photo shown');
  await page.waitForFunction(() => { const i = document.querySelector('#media img'); return i.complete && i.naturalWidth > 0; });
  const rating = (await page.textContent('#rating')).trim();
  assert(rating.includes('满意') && rating.includes('修得很快'), `own rating: ${rating}`);
  assert((await page.textContent('main')).includes('138****5678'), 'phone masked');
  await shot(page, 'villager-tracking-full');

  const src = await img.getAttribute('src');
  assert(/^\/t\/[^/]+\/media\/[^?]+\?until=\d+&sig=/.test(src), `a signed link: ${src}`);
  const fetchStatus = (url) => page.evaluate(async (u) => (await fetch(u)).status, url);
  assert(await fetchStatus(src) === 200, 'the link opens the photo');
  assert(await fetchStatus(src.replace(/sig=./, (m) => m.endsWith('A') ? 'sig=B' : 'sig=A')) === 404, 'altered signature refused');
  assert(await fetchStatus(src.replace(/sig=.*$/, '')) >= 400, 'no signature refused');
  assert(await fetchStatus(src.replace(`/t/${no}/`, `/t/${other}/`)) === 404, 'not for another ticket');
  const bare = src.replace(/\?.*$/, '');
  const id = bare.split('/').pop();
  assert(await fetchStatus(`/api/v1/uploads/${id}`) === 401, 'the upload API still wants a login');
  await ctx.close();
  return { src };
});
