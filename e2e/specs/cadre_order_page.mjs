// The cadre's order page from the SMS link, on a phone: sign for it, report progress with a photo,
// resolve with a photo.
import { BASE, assert, phone, run, shot } from '../lib.mjs';

const link = process.env.LINK;
const photo = process.env.PHOTO;

run(async (browser) => {
  const ctx = await phone(browser);
  const page = await ctx.newPage();
  await page.goto(`${BASE}${link}`);
  assert((await page.textContent('#status')).includes('已派单'), 'dispatched');
  assert(await page.locator('a.call').count() === 1, 'a way to call the requester');
  assert(!(await page.content()).includes('tel:'), 'the number is masked on the order page');
  await shot(page, 'order-page-dispatched');
  await Promise.all([page.waitForNavigation(), page.click('a.call')]);
  assert(await page.locator('a[href^="tel:1"]').count() === 1, 'tap to call on the logged number page');
  await shot(page, 'order-page-call');
  await page.goBack();
  await Promise.all([page.waitForNavigation(), page.click('#form-accept button[type=submit]')]);
  assert((await page.textContent('.success-msg')).includes('已签收'), 'signed for');
  await page.fill('#progress-note', '已联系水厂，正在抢修');
  await page.setInputFiles('#form-progress input[type=file]', photo);
  await Promise.all([page.waitForNavigation(), page.click('#form-progress button[type=submit]')]);
  assert((await page.textContent('.success-msg')).includes('进展已反馈'), 'progress reported');
  await shot(page, 'order-page-progress');
  await page.fill('#resolve-result', '管道已修复，恢复供水');
  await page.setInputFiles('#form-resolve input[type=file]', photo);
  await Promise.all([page.waitForNavigation(), page.click('#form-resolve button[type=submit]')]);
  assert((await page.textContent('#status')).includes('已办结'), 'resolved');
  await shot(page, 'order-page-resolved');
  await ctx.close();
  return {};
});
