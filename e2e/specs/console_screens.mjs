// 大屏管理 in the console: an admin makes a screen for 东坝镇 and gets its link once; the link opens
// the board of 东坝镇 on a hall PC (no password); the admin stops it and the open board goes dark.
// A leader reaches the board from the console's 大屏 link with their own session; an operator has
// no such link.
import { BASE, assert, run, shot, signedIn } from '../lib.mjs';

run(async (browser) => {
  const { context, page, errors } = await signedIn(browser, 'admin');
  page.on('dialog', (d) => d.accept());
  await page.click('#nav a[data-tab=screens]');
  await page.waitForSelector('#screens-view:not([hidden])');
  // A name is required.
  await page.click('#screen-form button[type=submit]');
  assert(await page.isVisible('#screen-form [data-field=name] .field-msg'), 'asks for a name');
  await page.fill('#screen-form [name=name]', '东坝镇便民服务大厅');
  await page.selectOption('#screen-form [name=region_id]', { label: '　东坝镇' });
  await page.click('#screen-form button[type=submit]');
  await page.waitForSelector('#screen-made:not([hidden])');
  const link = await page.inputValue('#screen-link');
  assert(/\/screen\/\?token=scr_/.test(link), `a screen link: ${link}`);
  await page.waitForSelector('#screens tbody tr[data-screen]');
  const row = await page.textContent('#screens tbody tr[data-screen]');
  assert(row.includes('东坝镇便民服务大厅') && row.includes('使用中') && !row.includes('scr_'), `listed without its token: ${row}`);
  await shot(page, 'console-screens-1366');

  // The hall PC: the link (the console's public URL may differ from this server's address).
  const hall = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const board = await hall.newPage();
  const boardErrors = [];
  board.on('pageerror', (e) => boardErrors.push(String(e)));
  await board.goto(BASE + link.slice(link.indexOf('/screen/')));
  await board.waitForSelector('#board:not([hidden])');
  await board.waitForSelector('#link.on');
  assert((await board.textContent('#place')) === '东坝镇', 'the board of 东坝镇');

  // Stopped: the open board goes dark at the next heartbeat, and the row says so.
  await page.click('#screens button[data-revoke]');
  await page.waitForFunction(() => document.querySelector('#screens tbody tr[data-screen]').textContent.includes('已停用'));
  await board.waitForSelector('#gate:not([hidden])', { timeout: 10000 });
  assert((await board.textContent('#gate-why')).includes('停用'), 'the board says it was stopped');
  await board.reload();
  await board.waitForSelector('#gate:not([hidden])');
  assert((await board.textContent('#gate-why')).includes('无效或已停用'), 'and stays dark on reload');
  await hall.close();

  // A leader: the 大屏 link in the console opens the board with their own session.
  await page.click('#logout');
  await page.waitForSelector('#login-view:not([hidden])');
  await page.evaluate(() => history.replaceState(null, '', '/console/'));
  await page.fill('#username', 'leader');
  await page.fill('#password', 'minsheng-demo');
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#dashboard-view:not([hidden])');
  assert(await page.isHidden('#nav a[data-tab=screens]'), 'a leader does not manage screens');
  await page.click('#nav a[data-tab=screen]');
  await page.waitForSelector('#board:not([hidden])');
  assert(await page.isHidden('#gate'), 'no second sign-in');
  assert((await page.textContent('#place')) === '清河县', 'the leader\'s county');
  assert(errors.length === 0 && boardErrors.length === 0, `no page errors: ${errors} ${boardErrors}`);
  await context.close();
  return { link_made: true };
});
