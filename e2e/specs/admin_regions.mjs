// An admin opens the region tree level by level (county → township → village → grid), adds a grid,
// renames a village, moves a village to the other township, is refused deactivating a township with
// active villages (the API's message at the node), deactivates the new grid and finds regions by name
// with the townships and villages above them. Then the tree on a phone.
import { assert, run, shot, signedIn } from '../lib.mjs';

/** The id of the region named `name` drawn in the tree (waits until it is). */
async function idOf(page, name) {
  const handle = await page.waitForFunction((n) => {
    for (const li of document.querySelectorAll('#region-tree li[data-id]')) {
      if (li.querySelector(':scope > .node .name').textContent === n) return li.dataset.id;
    }
    return null;
  }, name);
  return handle.jsonValue();
}
const node = (id) => `#region-tree li[data-id="${id}"]`;
const childNames = (page, id) => page.$$eval(`${node(id)} > ul > li[data-id] > .node .name`, (els) => els.map((e) => e.textContent));
async function open(page, name) {
  const id = await idOf(page, name);
  if ((await page.getAttribute(node(id), 'aria-expanded')) !== 'true') await page.click(`${node(id)} > .node button[data-do=toggle]`);
  await page.waitForSelector(`${node(id)}[aria-expanded=true] > ul > li`);
  return id;
}
async function nodeMessage(page, id) {
  const msg = page.locator(`${node(id)} > .node-msg:not([hidden])`);
  await msg.waitFor();
  return (await msg.textContent()).trim();
}

run(async (browser) => {
  const { context, page, errors } = await signedIn(browser, 'admin');
  await page.click('#nav a[data-tab=regions]');
  await page.waitForSelector('#regions-view:not([hidden])');
  const county = await idOf(page, '清河县');
  await page.waitForSelector(`${node(county)}[aria-expanded=true]`);
  assert(JSON.stringify(await childNames(page, county)) === JSON.stringify(['东坝镇', '西河乡']), 'the townships under the county');
  await page.waitForFunction(() => document.getElementById('region-summary').textContent.includes('乡镇 2 个 · 村 6 个 · 网格 12 个'));
  // Only what was opened is drawn: no village before its township is opened.
  assert(await page.locator('#region-tree li[data-level=village]').count() === 0, 'villages are loaded when asked for');

  const dongba = await open(page, '东坝镇');
  assert(JSON.stringify(await childNames(page, dongba)) === JSON.stringify(['李家庄村', '王家湾村', '石桥村']), 'villages of 东坝镇');
  const li = await open(page, '李家庄村');
  assert(JSON.stringify(await childNames(page, li)) === JSON.stringify(['第一网格', '第二网格']), 'grids of 李家庄村');
  const tags = await page.$$eval(`${node(li)} > ul .tag.lvl`, (els) => els.map((e) => e.textContent));
  assert(tags.length === 2 && tags.every((t) => t === '网格'), `levels in Chinese: ${tags}`);
  assert((await page.textContent(`${node(li)} > .node .tag.lvl`)) === '村', 'a village says so');

  // Add a grid: an empty name is caught before sending, then the grid appears under its village.
  await page.click(`${node(li)} > .node button[data-do=add]`);
  await page.waitForSelector('#region-form:not([hidden])');
  assert((await page.textContent('#region-form-title')).includes('在「李家庄村」下新增网格'), 'the form says where');
  await page.click('#region-form button[type=submit]');
  const empty = await page.textContent('#region-form [data-field=name] .field-msg:not([hidden])');
  assert(empty.includes('请填写区域名称'), empty);
  await page.fill('#rf-name', '第三网格');
  await page.click('#region-form button[type=submit]');
  await page.waitForFunction((id) => Array.from(document.querySelectorAll(`#region-tree li[data-id="${id}"] > ul > li .name`)).some((e) => e.textContent === '第三网格'), li);
  assert((await nodeMessage(page, li)).includes('已新增网格「第三网格」'), 'confirmed');
  assert(await page.isHidden('#region-form'), 'the form closes');

  // Rename a village.
  const shiqiao = await idOf(page, '石桥村');
  await page.click(`${node(shiqiao)} > .node button[data-do=rename]`);
  assert((await page.inputValue('#rf-name')) === '石桥村', 'the old name to edit');
  await page.fill('#rf-name', '石桥新村');
  await page.click('#region-form button[type=submit]');
  await page.waitForFunction((id) => document.querySelector(`#region-tree li[data-id="${id}"] > .node .name`).textContent === '石桥新村', shiqiao);

  // Move 王家湾村 to 西河乡: it leaves 东坝镇 and is found under 西河乡.
  const wangjiawan = await idOf(page, '王家湾村');
  await page.click(`${node(wangjiawan)} > .node button[data-do=move]`);
  await page.waitForFunction(() => document.querySelectorAll('#rf-parent option').length > 1);
  const targets = await page.$$eval('#rf-parent option', (os) => os.map((o) => o.textContent));
  assert(targets.includes('西河乡') && !targets.includes('东坝镇'), `the other townships: ${targets}`);
  await page.selectOption('#rf-parent', { label: '西河乡' });
  await page.click('#region-form button[type=submit]');
  await page.waitForFunction((id) => !document.querySelector(`#region-tree li[data-id="${id}"]`), wangjiawan);
  assert(JSON.stringify(await childNames(page, dongba)) === JSON.stringify(['李家庄村', '石桥新村']), 'gone from 东坝镇');
  const xihe = await idOf(page, '西河乡');
  assert((await nodeMessage(page, xihe)).includes('已将「王家湾村」迁移到「西河乡」'), 'confirmed at the new township');
  await open(page, '西河乡');
  assert((await childNames(page, xihe)).includes('王家湾村'), 'under 西河乡 now');
  await shot(page, 'admin-regions');

  // A township with active villages cannot be deactivated: the API's word at the township.
  await page.click(`${node(dongba)} > .node button[data-do=off]`);
  const refused = await nodeMessage(page, dongba);
  assert(refused.includes('请先停用下级区域'), refused);
  assert(await page.locator(`${node(dongba)}.off`).count() === 0, 'still active');

  // Deactivate the new grid; it is marked, and can be reactivated from the same row.
  const third = await idOf(page, '第三网格');
  await page.click(`${node(third)} > .node button[data-do=off]`);
  await page.waitForSelector(`${node(third)}.off > .node button[data-do=on]`);
  assert((await page.textContent(`${node(third)} > .node`)).includes('已停用'), 'shown as deactivated');

  // Search by name: each match with the regions above it.
  await page.fill('#region-search input[name=q]', '杏花');
  await page.click('#region-search button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('#region-tree > li[data-id]').length === 1);
  assert((await page.textContent('#region-tree > li[data-id] .where')) === '西河乡', 'the township above 杏花村');
  await page.fill('#region-search input[name=q]', '第一网格');
  await page.click('#region-search button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('#region-tree > li[data-id]').length === 6);
  const wheres = await page.$$eval('#region-tree > li[data-id] .where', (els) => els.map((e) => e.textContent));
  assert(wheres.includes('西河乡 › 王家湾村'), `the moved village's grid is found under its new township: ${wheres}`);
  assert((await page.textContent('#region-summary')).includes('找到 6 个区域'), 'how many');

  // The tree on a phone.
  await page.click('#region-all');
  await page.waitForSelector('#region-all', { state: 'hidden' });
  await open(page, '东坝镇');
  await open(page, '李家庄村');
  await page.setViewportSize({ width: 360, height: 740 });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert(wide <= 360, `no sideways scrolling on a phone: ${wide}px`);
  await shot(page, 'admin-regions-phone');
  assert(errors.length === 0, `page errors: ${errors.join('; ')}`);
  return { townships: 2 };
});
