// A photo from the phone's camera is shrunk on the phone, uploaded, and attached to the request.
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
  await page.waitForSelector('figcaption:has-text("已上传")', { timeout: 20000 });
  await shot(page, 'intake-photo');
  await page.click('#submit');
  await page.waitForSelector('#ticket-no');
  const no = (await page.textContent('#ticket-no')).trim();
  await ctx.close();
  return { ticket_no: no };

});
