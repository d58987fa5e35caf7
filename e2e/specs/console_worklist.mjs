// The dispatcher's work list at a 1366×768 desk over the demo's few days of work: status tabs with
// the counts of GET /tickets/counts, overdue rows highlighted, sortable columns, dates as 年-月-日
// and a Chinese date picker for the period.
import { assert, consoleLogin, run, shot } from '../lib.mjs';

const EXPECTED = JSON.parse(process.env.EXPECTED);

const rows = (page) => page.$$eval('#orders tbody tr[data-no]', (trs) => trs.map((tr) => ({
  no: tr.dataset.no,
  cls: tr.className,
  status: tr.children[1].textContent,
  due: tr.children[5].textContent,
  when: tr.children[6].textContent,
})));

/// Waits until the list shown answers the latest request.
const loaded = (page) => page.waitForSelector('#orders[aria-busy="false"]');

async function openTab(page, tab, n) {
  await page.click(`#tabs button[data-tab="${tab}"]`);
  await loaded(page);
  const b = await page.$eval(`#tabs button[data-tab="${tab}"]`, (el) => el.classList.contains('on'));
  assert(b, `tab ${tab} open`);
  const shown = await page.$$eval('#orders tbody tr[data-no]', (trs) => trs.length);
  // A page holds 20 rows.
  assert(shown === Math.min(n, 20), `tab ${tab}: ${shown} rows, ${n} counted`);
}

const dueTime = (text) => (text.match(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}/) || [null])[0];

run(async (browser) => {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await consoleLogin(page, 'dispatcher');
  await loaded(page);

  // Each tab shows the server's count.
  const shown = await page.$$eval('#tabs button', (bs) => Object.fromEntries(bs.map((b) => [b.dataset.tab, b.querySelector('.count').textContent])));
  for (const [tab, n] of Object.entries(EXPECTED.tabs)) assert(shown[tab] === String(n), `tab ${tab}: ${shown[tab]} ≠ ${n}`);
  const labels = await page.$$eval('#tabs button', (bs) => bs.map((b) => b.firstChild.textContent.trim()));
  assert(labels.join() === '全部,待登记,待派单,办理中,逾期,待回访,挂起中,待批挂起,待批下交', `tabs: ${labels}`);

  // Overdue rows stand out; every date reads 年-月-日.
  let list = await rows(page);
  // One page of the list (20 rows) holds the demo's newest orders.
  const PAGE = Math.min(EXPECTED.tabs.all, 20);
  assert(list.length === PAGE, `a full page listed: ${list.length}`);
  const overdue = list.filter((r) => r.cls.includes('overdue'));
  assert(overdue.length === EXPECTED.overdue_on_first_page && overdue.length >= 1, `overdue rows highlighted: ${overdue.length}`);
  assert(overdue.every((r) => r.cls.includes('late')), 'overdue rows carry the late highlight');
  assert(list.every((r) => /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/.test(r.when)), `dates as 年-月-日: ${list.map((r) => r.when)}`);
  const bg = await page.$eval('#orders tbody tr.overdue', (tr) => getComputedStyle(tr).backgroundColor);
  assert(bg !== 'rgba(0, 0, 0, 0)' && bg !== 'rgb(255, 255, 255)', `overdue background: ${bg}`);
  await shot(page, 'console-list-tabs-1366');

  // The late tab lists exactly the late orders, all highlighted.
  await openTab(page, 'late', EXPECTED.tabs.late);
  list = await rows(page);
  assert(list.every((r) => r.cls.includes('late') && r.due.includes('已逾期')), 'every late row highlighted');
  await shot(page, 'console-list-late-1366');
  await openTab(page, 'registered', EXPECTED.tabs.registered);
  assert((await rows(page)).every((r) => r.status === '已登记'), 'waiting for dispatch');
  await openTab(page, 'handling', EXPECTED.tabs.handling);
  await openTab(page, 'all', EXPECTED.tabs.all);

  // Sorting by the current deadline, soonest first, then the other way.
  await page.click('#orders th[data-sort="deadline"] button');
  await page.waitForSelector('#orders th[data-sort="deadline"][aria-sort="ascending"]');
  await loaded(page);
  let dues = (await rows(page)).map((r) => dueTime(r.due));
  const dated = dues.filter(Boolean);
  assert(dated.length > 3 && dated.every((d, i) => i === 0 || dated[i - 1] <= d), `ascending deadlines: ${dues}`);
  assert(dues.indexOf(null) === -1 || dues.slice(dues.indexOf(null)).every((d) => d === null), 'orders without a deadline last');
  await page.click('#orders th[data-sort="deadline"] button');
  await page.waitForSelector('#orders th[data-sort="deadline"][aria-sort="descending"]');
  await loaded(page);
  dues = (await rows(page)).map((r) => dueTime(r.due)).filter(Boolean);
  assert(dues.every((d, i) => i === 0 || dues[i - 1] >= d), `descending deadlines: ${dues}`);
  await page.click('#orders th[data-sort="no"] button');
  await page.waitForSelector('#orders th[data-sort="no"][aria-sort="ascending"]');
  await loaded(page);
  const nos = (await rows(page)).map((r) => r.no);
  assert(nos.length === PAGE && nos.every((n, i) => i === 0 || nos[i - 1] <= n), `by number: ${nos}`);

  // The period from a Chinese calendar: 年 and 月 in its title, weeks from Monday.
  await page.click('#filters input[name=from]');
  await page.waitForSelector('#datepicker:not([hidden])');
  const title = await page.textContent('#datepicker .dp-title');
  assert(/^\d{4}年\d{1,2}月$/.test(title), `title ${title}`);
  const week = await page.$$eval('#datepicker th', (ths) => ths.map((t) => t.textContent).join(''));
  assert(week === '一二三四五六日', `weekdays ${week}`);
  await shot(page, 'console-datepicker-1366');
  await page.click('#datepicker [data-dp="prev"]');
  const prev = await page.textContent('#datepicker .dp-title');
  assert(prev !== title, 'the previous month');
  await page.click('#datepicker td button >> text="1"');
  await page.waitForSelector('#datepicker', { state: 'hidden' });
  const from = await page.inputValue('#filters input[name=from]');
  assert(/^\d{4}-\d{2}-01$/.test(from), `picked ${from}`);
  // A typed date in another form is named under its field before anything is asked.
  await page.fill('#filters input[name=to]', '2026/12/01');
  await page.keyboard.press('Escape');
  await page.click('#filters button[type=submit]');
  const msg = page.locator('#filters [data-field="to"] .field-msg:not([hidden])');
  await msg.waitFor();
  assert((await msg.textContent()).includes('年-月-日'), 'the date format is explained');
  await page.fill('#filters input[name=to]', '');
  await page.keyboard.press('Escape');
  await page.click('#filters button[type=submit]');
  await loaded(page);
  assert((await rows(page)).length === PAGE, 'every order since the first of last month');
  assert(await page.isHidden('#filters [data-field="to"] .field-msg'), 'the message goes with the mistake');
  assert(errors.length === 0, `no script errors: ${errors}`);
  await ctx.close();
  return { tabs: shown };
});
