// An admin reads the category tree (subjects with their items, default handling level, county
// department and the deadlines that apply), adds an item under a subject, is told next to the code
// that it is taken (the API's 409), edits an item's name and level, and deactivates one, which stays
// listed as deactivated. Then the tree on a phone.
import { assert, run, shot, signedIn } from '../lib.mjs';

const row = (code) => `#cat-list tbody tr[data-code="${code}"]`;
const cells = (page, code) => page.$$eval(`${row(code)} td`, (tds) => tds.map((t) => t.textContent));
async function fieldMessage(page, field) {
  const msg = page.locator(`#cat-form [data-field="${field}"] .field-msg:not([hidden])`);
  await msg.waitFor();
  return (await msg.textContent()).trim();
}

run(async (browser) => {
  const { context, page, errors } = await signedIn(browser, 'admin');
  await page.click('#nav a[data-tab=categories]');
  await page.waitForSelector(`${row('roads.lights')}`);
  const summary = await page.textContent('#cat-summary');
  assert(summary === '大类17个，小项28个', summary);
  // Items follow their subject.
  const order = await page.$$eval('#cat-list tbody tr[data-code]', (trs) => trs.map((tr) => tr.dataset.code));
  const roads = order.indexOf('roads');
  assert(order[roads + 1] === 'roads.damage' && order[roads + 2] === 'roads.lights', `items under their subject: ${order.slice(roads, roads + 3)}`);
  assert(await page.locator(`${row('roads.lights')}.item`).count() === 1, 'an item is indented');
  const land = await cells(page, 'land.contract');
  assert(land[2] === '乡镇级', `level in Chinese: ${land}`);
  assert(land[4].includes('沿用大类') && land[4].includes('办结30天') && land[4].includes('需四方会签'), `the subject's deadlines apply: ${land[4]}`);
  const housing = await cells(page, 'housing');
  assert(housing[3] === '县住房和城乡建设局', `the county department: ${housing}`);

  // A new item under 道路交通: the form starts from the subject.
  await page.click(`${row('roads')} button[data-do=add]`);
  await page.waitForSelector('#cat-form-box:not([hidden])');
  assert((await page.inputValue('#cf-code')) === 'roads.' && (await page.inputValue('#cf-parent')) === 'roads', 'prefilled from the subject');
  assert((await page.inputValue('#cf-level')) === 'township', "the subject's level by default");
  await page.fill('#cf-code', 'roads.bridge');
  await page.fill('#cf-name', '桥梁损毁');
  await page.selectOption('#cf-level', 'county');
  await page.selectOption('#cf-unit', { label: '县交通运输局' });
  await page.click('#cat-form button[type=submit]');
  await page.waitForSelector('#cat-done:not([hidden])');
  assert((await page.textContent('#cat-done')).includes('已新增分类「桥梁损毁」'), 'confirmed');
  const added = await cells(page, 'roads.bridge');
  assert(added[0].includes('桥梁损毁') && added[2] === '县级' && added[3] === '县交通运输局', `the new item: ${added}`);
  const order2 = await page.$$eval('#cat-list tbody tr[data-code]', (trs) => trs.map((tr) => tr.dataset.code));
  assert(order2.indexOf('roads.bridge') > order2.indexOf('roads') && order2.indexOf('roads.bridge') < order2.indexOf('roads') + 4, 'listed under its subject');

  // A code that is taken: the API's 409 next to the code.
  await page.click('#cat-new');
  await page.fill('#cf-code', 'water');
  await page.fill('#cf-name', '饮水');
  await page.selectOption('#cf-level', 'village');
  await page.click('#cat-form button[type=submit]');
  const dup = await fieldMessage(page, 'code');
  assert(dup === '分类编码已存在', dup);
  assert(await page.isHidden('#cat-form-error'), 'at the field');
  await shot(page, 'admin-categories-duplicate');
  await page.click('#cat-cancel');

  // Edit an item: name and default level; the code cannot change.
  await page.click(`${row('roads.lights')} button[data-do=edit]`);
  assert(await page.isDisabled('#cf-code'), 'the code stays');
  assert((await page.textContent('#cf-policy')).includes('时限策略'), 'the deadlines that apply are shown');
  await page.fill('#cf-name', '路灯照明维修');
  await page.selectOption('#cf-level', 'township');
  assert(!(await page.isChecked('#cf-auto')), 'not dispatched by the system yet');
  await page.check('#cf-auto');
  await page.selectOption('#cf-kind', 'report');
  await page.click('#cat-form button[type=submit]');
  await page.waitForFunction((sel) => document.querySelector(sel + ' td').textContent.includes('路灯照明维修'), row('roads.lights'));
  const edited = await cells(page, 'roads.lights');
  assert(edited[2].startsWith('乡镇级') && edited[2].includes('自动派单'), `new level, dispatched by the system: ${edited[2]}`);
  // The catalogue's own auto-dispatch subject is marked too, and its form shows the box ticked.
  assert((await cells(page, 'sanitation'))[2].includes('自动派单'), 'sanitation is auto-dispatched');
  await page.click(`${row('sanitation')} button[data-do=edit]`);
  assert(await page.isChecked('#cf-auto'), 'the box shows the stored flag');
  assert((await page.inputValue('#cf-kind')) === '', 'no kind hint on sanitation');
  await page.click('#cat-cancel');

  // Deactivate an item: still listed (with the inactive ones), marked, and can be reactivated.
  await page.click(`${row('sanitation.toilet')} button[data-do=off]`);
  await page.waitForSelector(`${row('sanitation.toilet')}.off button[data-do=on]`);
  assert((await page.textContent('#cat-summary')).includes('其中已停用1个'), 'counted');
  await page.click('#nav a[data-tab=list]');
  await page.waitForSelector('#list-view:not([hidden])');
  await page.click('#nav a[data-tab=categories]');
  await page.waitForSelector(`${row('sanitation.toilet')}.off`);
  assert((await cells(page, 'sanitation.toilet'))[5].includes('已停用'), 'deactivated, still listed');
  await shot(page, 'admin-categories');

  // On a phone.
  await page.setViewportSize({ width: 360, height: 740 });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert(wide <= 360, `no sideways scrolling on a phone: ${wide}px`);
  await shot(page, 'admin-categories-phone');
  assert(errors.length === 0, `page errors: ${errors.join('; ')}`);
  return { categories: order2.length };
});
