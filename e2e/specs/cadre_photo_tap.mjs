// Issue 15.1: on a 360 px touch phone the cadre attaches a photo to a progress report by tapping
// the photo button of the order page (a real tap, not a script setting the input): the file
// chooser opens, the page says what was picked, and the report goes with the photo.
import { BASE, assert, phone, run, shot } from '../lib.mjs';

const link = process.env.LINK;
const photo = process.env.PHOTO;

run(async (browser) => {
  const ctx = await phone(browser, { viewport: { width: 360, height: 640 } });
  const page = await ctx.newPage();
  await page.goto(`${BASE}${link}`);
  // What a cadre taps to add a photo: the photo label or button of the progress form.
  const picker = page.locator('#form-progress label', { hasText: '照片' }).last();
  await picker.scrollIntoViewIfNeeded();
  const box = await picker.boundingBox();
  assert(box && box.height >= 44 && box.width >= 44, `a tap target of at least 44 px: ${JSON.stringify(box)}`);
  assert(box.x >= 0 && box.x + box.width <= 360, `inside the screen: ${JSON.stringify(box)}`);
  let chooser;
  try {
    [chooser] = await Promise.all([page.waitForEvent('filechooser', { timeout: 5000 }), picker.tap()]);
  } catch (e) {
    throw new Error(`tapping "${(await picker.textContent()).trim()}" opened no file chooser: ${e.message}`);
  }
  assert(chooser.isMultiple(), 'several photos at once');
  await chooser.setFiles(photo);
  await page.locator('#progress-photos-picked').filter({ hasText: '已选择1张照片' }).waitFor();
  await page.locator('#progress-note').fill('已到现场查看，照片如下');
  await shot(page, 'cadre-photo-picked-360');
  await Promise.all([page.waitForNavigation(), page.locator('#form-progress button[type=submit]').tap()]);
  assert((await page.textContent('.success-msg')).includes('进展已反馈'), 'progress reported');
  await ctx.close();
  return { tapped: true };
});
