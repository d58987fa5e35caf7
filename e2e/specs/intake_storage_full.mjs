// The server's upload disk is full: the photo is refused with the reason shown (not retried for
// ever), and the request goes without it.
import { BASE, assert, phone, run, shot } from '../lib.mjs';

const code = process.env.CARD_CODE;
const photo = process.env.PHOTO_PATH;

run(async (browser) => {
  const ctx = await phone(browser);
  const page = await ctx.newPage();

  await page.goto(`${BASE}/c/${code}`);
  await page.locator('label:has-text("环境卫生")').click();
  await page.fill('#description', '村西头的垃圾池满了一个星期没人清运，气味很大');
  await page.fill('#phone', '13812345678');
  await page.setInputFiles('#photo', photo);
  await page.waitForSelector('figcaption:has-text("失败")', { timeout: 20000 });
  const status = (await page.textContent('#submit-status')).trim();
  assert(status.includes('存储空间已满'), `the reason is shown: ${status}`);
  await shot(page, 'intake-storage-full');
  await page.click('#submit');
  await page.waitForSelector('#ticket-no');
  const no = (await page.textContent('#ticket-no')).trim();
  await ctx.close();
  return { ticket_no: no, status };
});
