// Every page under the security headers: opened on a phone (and the console on a desk), each must
// render with nothing blocked by its content security policy (lib.mjs fails the spec on any
// violation). First the guard itself is shown to notice a violation, so a silent guard cannot pass.
import { BASE, SHOTS, assert, consoleLogin, phone, run, shot, takeCspViolations } from '../lib.mjs';

const pages = JSON.parse(process.env.PAGES || '[]');

async function until(cond, what) {
  for (let i = 0; i < 50; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

run(async (browser) => {
  assert(pages.length > 0, 'PAGES lists the pages to open');
  const ctx = await phone(browser);
  const page = await ctx.newPage();

  // The guard: an inline script, an inline style and an outside image are blocked and reported.
  await page.goto(`${BASE}${pages[0].path}`);
  const policy = (await page.evaluate(async () => (await fetch(location.href)).headers.get('content-security-policy')));
  assert(policy && policy.includes("script-src 'self'"), `the page has a policy: ${policy}`);
  const ran = await page.evaluate(() => {
    window.__inline = false;
    const s = document.createElement('script');
    s.textContent = 'window.__inline = true;';
    document.body.appendChild(s);
    const st = document.createElement('style');
    st.textContent = 'body { background: red; }';
    document.head.appendChild(st);
    const img = document.createElement('img');
    img.src = 'http://example.invalid/tracker.png';
    document.body.appendChild(img);
    return window.__inline;
  });
  assert(ran === false, 'the inline script did not run');
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert(bg !== 'rgb(255, 0, 0)', `the inline style did not apply: ${bg}`);
  let seen = [];
  await until(() => { seen = seen.concat(takeCspViolations()); return new Set(seen.map((v) => v.directive).filter(Boolean)).size >= 3; },
    'three violations reported');
  const directives = [...new Set(seen.map((v) => v.directive).filter(Boolean))].sort();
  assert(JSON.stringify(directives) === JSON.stringify(['img-src', 'script-src-elem', 'style-src-elem']),
    `the guard saw each violation: ${JSON.stringify(seen)}`);
  await page.close();
  await new Promise((r) => setTimeout(r, 300));
  takeCspViolations(); // console echoes of the three

  // Every page, on a phone.
  const opened = [];
  for (const { path, name, status } of pages) {
    const p = await ctx.newPage();
    const r = await p.goto(`${BASE}${path}`);
    assert(r.status() === (status || 200), `${path}: ${r.status()}`);
    await p.waitForLoadState('networkidle');
    const css = await p.evaluate(() => getComputedStyle(document.querySelector('header.top') || document.body).display);
    assert(css !== '', `${path} is styled`);
    await shot(p, `csp-${name}`);
    opened.push(path);
    await p.close();
  }

  // The large-font toggle (a script) still works under the policy.
  const p = await ctx.newPage();
  await p.goto(`${BASE}${pages[0].path}`);
  await p.click('#font-toggle');
  assert(await p.evaluate(() => document.body.classList.contains('large')), 'large-font mode by script');
  await p.close();
  await ctx.close();

  // The staff console on a 1366×768 desk: sign in, the work list renders.
  const desk = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const c = await desk.newPage();
  await consoleLogin(c, 'dispatcher');
  await c.waitForSelector('#orders tbody tr');
  await c.screenshot({ path: `${SHOTS}/csp-console-1366.png` });
  await desk.close();
  await new Promise((r) => setTimeout(r, 300));
  return { opened: opened.length, guard: directives };
});
