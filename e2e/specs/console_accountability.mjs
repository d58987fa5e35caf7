// 追责红线 in the console: a leader reads the records without the decide form; an inspector opens the
// record of ticket TICKET_NO, sees its evidence (the dispatch on the ledger), is told to choose a
// finding before closing, moves it to review and closes it as 问责 with a note.
import { assert, consoleLogin, run, shot, signedIn } from '../lib.mjs';

const NO = process.env.TICKET_NO;

run(async (browser) => {
  const { page, errors } = await signedIn(browser, 'operator');
  assert(await page.isHidden('#nav a[data-tab=accountability]'), 'an operator has no accountability link');
  await consoleLogin(page, 'leader');
  await page.click('#nav a[data-tab=accountability]');
  await page.waitForSelector('#accountability tbody tr[data-id]');
  const row = page.locator('#accountability tbody tr[data-id]', { hasText: NO });
  const text = await row.textContent();
  for (const want of ['超时未签收', '李家庄村村民委员会', '待审查']) assert(text.includes(want), `row shows ${want}: ${text}`);
  await row.click();
  await page.waitForSelector('#accountability-detail:not([hidden])');
  assert(await page.isHidden('#accountability-form'), 'a leader reads, does not decide');

  await consoleLogin(page, 'inspector');
  await page.click('#nav a[data-tab=accountability]');
  await page.selectOption('#accountability-filters select[name=status]', 'open');
  await page.click('#accountability-filters button[type=submit]');
  await page.waitForSelector('#accountability tbody tr[data-id]');
  await page.locator('#accountability tbody tr[data-id]', { hasText: NO }).click();
  await page.waitForSelector('#accountability-form:not([hidden])');
  const evidence = await page.textContent('#accountability-evidence');
  assert(evidence.includes('派单'), `the dispatch is the evidence: ${evidence}`);
  await shot(page, 'console-accountability-detail');
  // Closing without a finding: told next to the choice, nothing sent.
  await page.click('#accountability-close');
  await page.waitForSelector('#accountability-form [data-field=decision] .field-msg:not([hidden])');
  await page.click('#accountability-review');
  await page.waitForFunction(() => document.getElementById('accountability-facts').textContent.includes('审查中'));
  assert(await page.isHidden('#accountability-review'), 'under review: only closing is left');
  await page.check('#accountability-form input[name=decision][value=upheld]');
  await page.fill('#accountability-note', '约谈村委会主任');
  await page.click('#accountability-close');
  await page.waitForFunction(() => document.getElementById('accountability-facts').textContent.includes('问责'));
  assert(await page.isHidden('#accountability-form'), 'a closed record is final');
  const listed = await page.locator('#accountability tbody tr[data-id]', { hasText: NO }).count();
  assert(listed === 0, 'the open filter no longer lists it');
  await shot(page, 'console-accountability-closed');
  assert(errors.length === 0, `page errors: ${errors.join('; ')}`);
  return { ok: true };
});
