// The console plays the villager's voice note of an order (fetched with the staff token, like the
// photos), on an office screen.
import { assert, consoleLogin, desk, openOrder, run, shot } from '../lib.mjs';

const NO = process.env.TICKET_NO;

run(async (browser) => {
  const ctx = await desk(browser);
  const page = await ctx.newPage();
  await page.setViewportSize({ width: 1366, height: 768 });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await consoleLogin(page, 'dispatcher');
  await openOrder(page, NO);
  await page.waitForSelector('#uploads audio');
  await page.waitForFunction(() => (document.querySelector('#uploads audio') || {}).src?.startsWith('blob:'));
  const audio = await page.evaluate(async () => {
    const a = document.querySelector('#uploads audio');
    a.preload = 'metadata';
    a.load();
    await new Promise((ok) => {
      if (a.readyState >= 1) ok();
      a.addEventListener('loadedmetadata', ok, { once: true });
      a.addEventListener('error', ok, { once: true });
    });
    return { duration: Number.isFinite(a.duration) ? a.duration : String(a.duration), error: a.error && a.error.code };
  });
  assert(audio && !audio.error && audio.duration > 0, `the voice note plays in the console: ${JSON.stringify(audio)}`);
  assert((await page.locator('#uploads img').count()) === 1, 'the photo stays a photo');
  await shot(page, 'console-voice-1366');
  await ctx.close();
  assert(errors.length === 0, `no script errors: ${errors}`);
  return { audio };
});
