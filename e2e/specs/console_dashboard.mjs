// 看板 in the console: a leader opening /console/ lands on the dashboard; the rate cards show the
// same rates and fractions as the API, the ranking has rows tier by tier, the overdue order shows
// who holds it and for how long; the overdue count opens the work list filtered to overdue orders of
// the region; a row opens the order. The region picker narrows it. Also at 360 px on a phone, and an
// operator still lands on the work list.
import { BASE, SHOTS, assert, phone, run, shot } from '../lib.mjs';

const NO = process.env.NO_OVERDUE;
const pct = (r) => (r == null ? '—' : (r * 100).toFixed(1) + '%');
const num = (n) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

/** Opens /console/ without any page in the address and signs in, as a person would. */
async function openAs(page, username) {
  await page.goto(`${BASE}/console/`);
  await page.waitForSelector('#login-view:not([hidden])');
  await page.fill('#username', username);
  await page.fill('#password', 'minsheng-demo');
  await page.click('#login-form button[type=submit]');
}

const apiGet = (page, path) => page.evaluate(async (p) => {
  const r = await fetch(p, { headers: { Authorization: 'Bearer ' + window.Staff.token() } });
  return r.json();
}, path);

run(async (browser) => {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));

  // An operator keeps the work list as the first page and has no dashboard link.
  await openAs(page, 'operator');
  await page.waitForSelector('#list-view:not([hidden])');
  assert(await page.isHidden('#nav a[data-tab=dashboard]'), 'an operator has no dashboard link');
  await page.click('#logout');
  await page.evaluate(() => history.replaceState(null, '', '/console/'));

  await openAs(page, 'leader');
  await page.waitForSelector('#dashboard-view:not([hidden])');
  assert(new URL(page.url()).hash === '#/dashboard', `landed on ${page.url()}`);
  assert(await page.isVisible('#nav a[data-tab=dashboard].on'), 'the nav shows where we are');
  await page.waitForSelector('#dashboard-rates .kpi');
  await page.waitForSelector('#dashboard-overdue tbody tr');

  // The rates and their fractions, as the API answers for the period the page shows.
  const [, from, to] = (await page.textContent('#dashboard-period')).match(/(\d{4}-\d{2}-\d{2}) 至 (\d{4}-\d{2}-\d{2})/);
  const region = await page.inputValue('#dashboard-filters select[name=region_id]');
  const s = await apiGet(page, `/api/v1/stats/summary?from=${from}&to=${to}&region_id=${region}`);
  for (const k of ['response', 'resolution', 'satisfaction', 'closure', 'reopen']) {
    const shown = await page.textContent(`#dashboard-rates .rate-${k} b`);
    assert(shown === pct(s[k + '_rate']), `${k}: ${shown} vs ${s[k + '_rate']}`);
    const f = s.fractions[k];
    const sub = await page.textContent(`#dashboard-rates .rate-${k} small`);
    assert(sub.startsWith(num(f.numerator) + '/' + f.denominator), `${k} fraction: ${sub} vs ${JSON.stringify(f)}`);
  }
  assert(s.fractions.resolution.denominator === 5, `five visits: ${JSON.stringify(s.fractions)}`);
  assert(await page.textContent('#dashboard-rates .rate-composite b') === s.composite_score.toFixed(1), 'the composite score');
  assert(await page.textContent('#dashboard-counts .count-received b') === String(s.counts.received), 'received');
  assert((await page.textContent('#dashboard-dims .dim-attitude')).includes('态度'), 'the four dimensions');

  // The ranking, tier by tier, as the API ranks it.
  const units = await apiGet(page, `/api/v1/stats/units?from=${from}&to=${to}&region_id=${region}&per_page=100`);
  for (const tier of ['village', 'township', 'county']) {
    const want = units.items.filter((u) => u.tier === tier);
    const rows = page.locator(`#dashboard-ranking table[data-tier=${tier}] tbody tr`);
    assert((await rows.count()) === want.length, `${tier}: ${await rows.count()} rows, API ${want.length}`);
    const first = await rows.first().textContent();
    assert(first.includes(want[0].unit.name) && want[0].rank === 1 && first.startsWith('1'), `${tier} first: ${first}`);
    const f = want[0].fractions.response;
    assert(first.includes(num(f.numerator) + '/' + f.denominator), `${tier} first row fractions: ${first}`);
  }
  // Companies outside government (公共服务企业) on a line of their own, when the region has any.
  const outside = units.items.filter((u) => u.tier === 'outside');
  assert((await page.locator('#dashboard-ranking table[data-tier=outside] tbody tr').count()) === outside.length, `outside: ${outside.length}`);
  // Units not ranked say why, in words: 柳树沟村 has orders but no visit yet, 杏花村 has no order at all.
  const why = async (name) => page.textContent(`#dashboard-ranking tbody tr.unranked:has-text("${name}") td.rank`);
  assert((await why('柳树沟村村民委员会')) === '有效回访不足1件', `柳树沟村: ${await why('柳树沟村村民委员会')}`);
  assert((await why('杏花村村民委员会')) === '本期无数据', `杏花村: ${await why('杏花村村民委员会')}`);
  assert((await page.textContent('#dashboard-rules')).includes('综合得分'), 'the formula under the table');

  // The overdue order, its holder and how long.
  const od = page.locator('#dashboard-overdue tbody tr', { hasText: NO });
  const odText = await od.textContent();
  for (const want of ['柳树沟村村民委员会', '未签收', '响应超时', '超时 ']) assert(odText.includes(want), `overdue row shows ${want}: ${odText}`);
  assert(/超时 \d+(小时|分钟)/.test(odText), `how long: ${odText}`);
  await shot(page, 'console-dashboard');

  // The region picker: the order is 西河乡's, not 东坝镇's (whose reopened order, given back to
  // 王家湾村 after the dissatisfied visit and not signed for since, is overdue too).
  const pick = async (name) => {
    const value = await page.$eval('#dashboard-filters select[name=region_id]', (sel, n) => [...sel.options].find((o) => o.textContent.trim() === n).value, name);
    await page.selectOption('#dashboard-filters select[name=region_id]', value);
    await page.waitForFunction((n) => document.getElementById('dashboard-period').textContent.startsWith(n), name);
  };
  await pick('东坝镇');
  await page.waitForSelector('#dashboard-overdue tbody tr[data-ticket]');
  assert(!(await page.textContent('#dashboard-overdue tbody')).includes(NO), '东坝镇 does not list 西河乡\'s order');
  assert((await page.textContent('#dashboard-overdue tbody')).includes('王家湾村'), '东坝镇 lists its own');
  await pick('西河乡');
  await page.waitForSelector(`#dashboard-overdue tbody tr[data-ticket="${NO}"]`);

  // The overdue count opens the work list with the filter applied.
  const overdueTotal = Number(await page.textContent('#dashboard-counts .count-overdue b'));
  await page.click('#dashboard-counts .count-overdue a');
  await page.waitForSelector('#list-view:not([hidden])');
  await page.waitForSelector('#orders[aria-busy=false] tbody tr[data-no]');
  assert(await page.isChecked('#filters input[name=overdue]'), 'the overdue filter is on');
  assert(await page.$eval('#filters select[name=region_id]', (s) => s.options[s.selectedIndex].textContent.trim()) === '西河乡', 'the region filter');
  const listed = await page.$$eval('#orders tbody tr[data-no]', (trs) => trs.map((tr) => tr.dataset.no));
  assert(listed.length === overdueTotal, `list ${listed.length} vs dashboard ${overdueTotal}`);
  await shot(page, 'console-dashboard-list');

  // Back to the dashboard; an overdue row opens its order.
  await page.click('#nav a[data-tab=dashboard]');
  await page.waitForSelector(`#dashboard-overdue tbody tr[data-ticket="${NO}"] a`);
  await page.click(`#dashboard-overdue tbody tr[data-ticket="${NO}"] a`);
  await page.waitForFunction((n) => document.getElementById('detail-no')?.textContent === n, NO);

  // A phone, 360 px wide: the same page without sideways scrolling.
  const ph = await phone(browser, { timezoneId: 'Asia/Shanghai' });
  const mobile = await ph.newPage();
  mobile.on('pageerror', (e) => errors.push(String(e)));
  await openAs(mobile, 'leader');
  await mobile.waitForSelector('#dashboard-view:not([hidden])');
  await mobile.waitForSelector('#dashboard-ranking table');
  await mobile.waitForSelector('#dashboard-overdue tbody tr[data-ticket]');
  const wide = await mobile.evaluate(() => document.documentElement.scrollWidth);
  assert(wide <= 360, `no sideways scrolling at 360 px: ${wide}`);
  await shot(mobile, 'console-dashboard-phone');
  // The full page is too tall to read at once: the first screen and the ranking on their own too.
  await mobile.screenshot({ path: `${SHOTS}/console-dashboard-phone-top.png` });
  await mobile.locator('#dashboard-ranking').screenshot({ path: `${SHOTS}/console-dashboard-phone-ranking.png` });

  assert(errors.length === 0, `page errors: ${errors.join('; ')}`);
  return { overdue_total: overdueTotal, listed };
});
