// An admin lists units by region and by name, adds a county department (level and kind follow the
// region chosen), is told next to the name that the county already has a unit of that name (the
// API's 409) and next to the phone that it is not a phone number, edits a unit's phone and
// deactivates it. Then the list and the form on a phone.
import { assert, run, shot, shotView, signedIn } from '../lib.mjs';

const rowNames = (page) => page.$$eval('#unit-list tbody tr[data-id] td:first-child b', (els) => els.map((e) => e.textContent));
async function search(page, q, regionName) {
  const value = regionName ? await page.$$eval('#unit-search select[name=region_id] option', (os, n) => os.find((o) => o.textContent.trim() === n).value, regionName) : '';
  await page.selectOption('#unit-search select[name=region_id]', value);
  await page.fill('#unit-search input[name=q]', q);
  await page.click('#unit-search button[type=submit]');
}
async function fieldMessage(page, field) {
  const msg = page.locator(`#unit-form [data-field="${field}"] .field-msg:not([hidden])`);
  await msg.waitFor();
  return (await msg.textContent()).trim();
}

run(async (browser) => {
  const { context, page, errors } = await signedIn(browser, 'admin');
  await page.click('#nav a[data-tab=units]');
  await page.waitForSelector('#unit-list tbody tr[data-id]');
  const total = await page.textContent('#unit-summary');
  assert(total === '共15个单位', total);

  // By region (the choice lists the tree, indented), then by name.
  await search(page, '', '李家庄村');
  await page.waitForFunction(() => document.querySelectorAll('#unit-list tbody tr[data-id]').length === 1 &&
    document.querySelector('#unit-list tbody tr[data-id] b').textContent === '李家庄村村民委员会');
  assert(JSON.stringify(await rowNames(page)) === JSON.stringify(['李家庄村村民委员会']), 'the village committee');
  const row = await page.$$eval('#unit-list tbody tr[data-id] td', (tds) => tds.map((t) => t.textContent));
  assert(row[1] === '李家庄村' && row[2] === '村级' && row[3] === '村民委员会', `in Chinese: ${row}`);
  await search(page, '水利', '');
  await page.waitForFunction(() => document.getElementById('unit-summary').textContent === '共1个单位' &&
    document.querySelector('#unit-list tbody tr[data-id] b').textContent === '县水利局');
  assert(JSON.stringify(await rowNames(page)) === JSON.stringify(['县水利局']), 'found by name');

  // A new county department: level and kind follow the region.
  await page.click('#unit-new');
  await page.waitForSelector('#unit-form-box:not([hidden])');
  await page.selectOption('#uf-region', { label: '清河县' });
  assert((await page.inputValue('#uf-level')) === 'county' && (await page.inputValue('#uf-kind')) === 'department', 'county department by default');
  await page.fill('#uf-name', '县应急管理局');
  await page.fill('#uf-phone', '0871-6123456');
  await page.click('#unit-form button[type=submit]');
  await page.waitForSelector('#unit-done:not([hidden])');
  assert((await page.textContent('#unit-done')).includes('已新增单位「县应急管理局」'), 'confirmed');
  await page.waitForFunction(() => Array.from(document.querySelectorAll('#unit-list tbody tr[data-id] b')).some((b) => b.textContent === '县应急管理局'));
  const added = await page.$$eval('#unit-list tbody tr[data-id]', (trs) => trs.map((tr) => Array.from(tr.cells).map((c) => c.textContent)).find((r) => r[0] === '县应急管理局'));
  assert(added[1] === '清河县' && added[2] === '县级' && added[3] === '县直部门' && added[4] === '0871-6123456', `the new row: ${added}`);

  // The same name again in the county: the API's 409, next to the name.
  await page.click('#unit-new');
  await page.selectOption('#uf-region', { label: '清河县' });
  await page.fill('#uf-name', '县水利局');
  await page.click('#unit-form button[type=submit]');
  const dup = await fieldMessage(page, 'name');
  assert(dup === '该区域已有同名单位', dup);
  assert(await page.isHidden('#unit-form-error'), 'the message is at the field, not above the form');
  assert((await page.getAttribute('#uf-name', 'aria-invalid')) === 'true', 'the field is marked');
  await shot(page, 'admin-units-duplicate');
  // A phone that is not one: the API's message next to the phone.
  await page.fill('#uf-name', '县林业局');
  assert(await page.isHidden('#unit-form [data-field="name"] .field-msg'), 'the message goes when the name is changed');
  await page.fill('#uf-phone', '12345');
  await page.click('#unit-form button[type=submit]');
  const bad = await fieldMessage(page, 'phone');
  assert(bad.includes('电话号码格式不正确'), bad);
  await page.click('#unit-cancel');

  // Edit a unit's phone, then deactivate it.
  // (choosing the region lists at once with the last search; the list asked for is the one with 交通)
  await search(page, '交通', '');
  await page.waitForFunction(() => document.getElementById('unit-summary').textContent === '共1个单位' &&
    document.querySelector('#unit-list tbody tr[data-id] b').textContent === '县交通运输局');
  await page.click('#unit-list tbody tr[data-id] button[data-do=edit]');
  assert((await page.inputValue('#uf-name')) === '县交通运输局', 'the form holds the unit');
  assert((await page.textContent('#unit-form-title')).includes('编辑单位'), 'editing');
  await page.fill('#uf-phone', '13900000888');
  await page.click('#unit-form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#unit-list tbody tr[data-id] td[data-label="电话"]').textContent === '13900000888');
  await page.click('#unit-list tbody tr[data-id] button[data-do=off]');
  await page.waitForSelector('#unit-list tbody tr.off button[data-do=on]');
  assert((await page.textContent('#unit-list tbody tr.off')).includes('已停用'), 'shown as deactivated');

  // On a phone: the list as cards, and the form.
  await search(page, '', '');
  await page.waitForFunction(() => document.getElementById('unit-summary').textContent === '共16个单位');
  await page.setViewportSize({ width: 360, height: 740 });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert(wide <= 360, `no sideways scrolling on a phone: ${wide}px`);
  await shot(page, 'admin-units-phone');
  await page.click('#unit-new');
  await page.selectOption('#uf-region', { label: '清河县' });
  await page.fill('#uf-name', '县水利局');
  await page.click('#unit-form button[type=submit]');
  await fieldMessage(page, 'name');
  await page.evaluate(() => window.scrollTo(0, 0));
  await shotView(page, 'admin-units-form-phone');
  assert(errors.length === 0, `page errors: ${errors.join('; ')}`);
  return { units: 16 };
});
