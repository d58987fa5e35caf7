// Issue 15.3: an empty required field of the order page is named in Chinese next to it, the way
// the console does, and focused; the browser's tooltip never comes (the forms are `novalidate`)
// and nothing is sent. Without JavaScript the server's message comes back next to the same field.
import { BASE, assert, phone, run, shot } from '../lib.mjs';

const link = process.env.LINK;

async function msgOf(page, id) {
  const p = page.locator(`#${id}-msg`);
  await p.waitFor({ state: 'visible', timeout: 5000 });
  return (await p.textContent()).trim();
}

run(async (browser) => {
  const ctx = await phone(browser, { viewport: { width: 360, height: 640 } });
  const page = await ctx.newPage();
  const posts = [];
  page.on('request', (r) => { if (r.method() === 'POST') posts.push(r.url()); });
  await page.goto(`${BASE}${link}`);
  assert(await page.evaluate(() => [...document.querySelectorAll('form.act')].every((f) => f.noValidate)),
    'the browser does not check the forms itself');
  // 反馈进展 with nothing written.
  await page.locator('#form-progress button[type=submit]').tap();
  assert(await msgOf(page, 'progress-note') === '请填写办理进展', 'named next to the field');
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'progress-note');
  assert(await page.getAttribute('#progress-note', 'aria-invalid') === 'true', 'marked for screen readers');
  await shot(page, 'cadre-required-360');
  // 办结 with only spaces: the same, for its own field.
  await page.locator('#resolve-result').fill('   ');
  await page.locator('#form-resolve button[type=submit]').tap();
  assert(await msgOf(page, 'resolve-result') === '请填写办理结果', 'the result named');
  // 申请提级, behind its summary.
  await page.locator('summary', { hasText: '申请提级' }).tap();
  await page.locator('#form-escalate button[type=submit]').tap();
  assert(await msgOf(page, 'escalate-reason') === '请填写提级理由', 'the reason named');
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'escalate-reason');
  assert(posts.length === 0, `nothing sent: ${posts}`);
  // Typing takes the message away; the report then goes once.
  await page.locator('#progress-note').fill('已联系施工队');
  await page.locator('#progress-note-msg').waitFor({ state: 'hidden' });
  await Promise.all([page.waitForNavigation(), page.locator('#form-progress button[type=submit]').tap()]);
  assert((await page.textContent('.success-msg')).includes('进展已反馈'), 'progress reported');
  assert(posts.length === 1, `one report sent: ${posts}`);
  await ctx.close();

  // JavaScript off: spaces pass the browser's check; the server answers with the page, its
  // message under the field of the form that was sent.
  const plain = await phone(browser, { viewport: { width: 360, height: 640 }, javaScriptEnabled: false });
  const p2 = await plain.newPage();
  await p2.goto(`${BASE}${link}`);
  await p2.locator('#resolve-result').fill('  ');
  await Promise.all([p2.waitForNavigation(), p2.locator('#form-resolve button[type=submit]').tap()]);
  assert(await msgOf(p2, 'resolve-result') === '请填写办理结果', 'the server names the field');
  assert((await p2.textContent('p.error[role=alert]')).includes('请填写办理结果'), 'and says so at the top');
  await shot(p2, 'cadre-required-nojs-360');
  await plain.close();
  return { posts: posts.length };
});
