// The import wizard: a staff CSV with mistakes is checked (nothing written, every mistake listed by
// row and column), then the corrected file is checked clean and imported.
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assert, run, shot, signedIn } from '../lib.mjs';

const dir = mkdtempSync(join(tmpdir(), 'ms-import-'));
const header = '用户名,姓名,手机号,角色,单位\n';
const bad = join(dir, 'staff-bad.csv');
writeFileSync(bad, header +
  'imp-zhang,张三,13911112222,cadre,李家庄村村民委员会\n' +
  'imp-li,李四,12345,cadre,李家庄村村民委员会\n' +
  'imp-wang,王五,13911113333,cadre,没有这个单位\n');
const good = join(dir, 'staff-good.csv');
writeFileSync(good, header +
  'imp-zhang,张三,13911112222,cadre,李家庄村村民委员会\n' +
  'imp-li,李四,13911114444,cadre,李家庄村村民委员会\n' +
  'imp-wang,王五,13911113333,cadre,王家湾村村民委员会\n');

run(async (browser) => {
  const { context, page, errors } = await signedIn(browser, 'admin');
  await page.click('#nav a[data-tab=import]');
  await page.waitForSelector('#import-view:not([hidden])');
  // Checking without a file says so next to the file input.
  await page.click('#import-check');
  assert((await page.textContent('[data-field=file] .field-msg')).includes('请选择'), 'a file is asked for');
  await page.check('input[name=kind][value=staff]');
  assert((await page.textContent('#import-template')) === '下载「人员」模板', 'the template link follows the kind');
  const download = page.waitForEvent('download');
  await page.click('#import-template');
  const file = await download;
  assert(file.suggestedFilename().endsWith('.xlsx'), 'the template downloads as XLSX');

  await page.setInputFiles('#import-file', bad);
  assert((await page.textContent('#import-name')) === 'staff-bad.csv', 'the chosen file is named');
  await page.click('#import-check');
  await page.waitForSelector('#import-errors:not([hidden]) tbody tr');
  const rows = await page.$$eval('#import-errors tbody tr', (trs) => trs.map((tr) => Array.from(tr.cells).map((c) => c.textContent)));
  assert(await page.isDisabled('#import-run'), 'a file with errors cannot be imported');
  assert(rows.length === 2, `two mistakes listed: ${JSON.stringify(rows)}`);
  assert(rows[0][0] === '3' && rows[0][1] === '手机号', `row 3, phone: ${JSON.stringify(rows[0])}`);
  assert(rows[1][0] === '4' && rows[1][1] === '单位', `row 4, unit: ${JSON.stringify(rows[1])}`);
  await shot(page, 'admin-import-errors');
  // Nothing was written by the check.
  const none = await page.evaluate(() => Staff.api('GET', '/api/v1/staff?q=imp-'));
  assert(none.total === 0, 'the check wrote nothing');

  await page.setInputFiles('#import-file', good);
  assert(await page.isHidden('#import-errors'), 'a new file clears the old errors');
  await page.click('#import-check');
  await page.waitForSelector('#import-result:not([hidden])');
  assert((await page.textContent('#import-result')).includes('共3行，没有错误'), await page.textContent('#import-result'));
  await page.click('#import-run');
  await page.waitForFunction(() => document.getElementById('import-result').textContent.includes('已导入'));
  const done = await page.textContent('#import-result');
  assert(done.includes('已导入人员3条'), done);
  await shot(page, 'admin-import-done');
  assert(errors.length === 0, `page errors: ${errors.join('; ')}`);
  return { checked: rows.length };
});
