// A downloaded card.svg opened on its own in the browser, on a machine without Chinese fonts (the
// Rust test hands Chromium a fontconfig that knows only a Latin font): the Chinese must be drawn
// with the font the SVG carries. Checked three ways: the @font-face of the unique family has loaded, the browser reports
// that the village name is drawn with a web font (DevTools: CSS.getPlatformFontsForNode), and the
// same file without its <style> is not. Screenshots of both for a person to look at.
import { readFileSync, writeFileSync } from 'node:fs';
import { SHOTS, assert, run } from '../lib.mjs';

const svgPath = process.env.SVG_PATH;
const family = process.env.FONT_FAMILY;
const village = process.env.VILLAGE;

/** The fonts Chromium used to draw the text of the first `<text>` element holding `content`. */
async function platformFonts(page, content) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('DOM.enable');
  await cdp.send('CSS.enable');
  const { root } = await cdp.send('DOM.getDocument', { depth: -1 });
  const { nodeIds } = await cdp.send('DOM.querySelectorAll', { nodeId: root.nodeId, selector: 'text' });
  for (const nodeId of nodeIds) {
    const { outerHTML } = await cdp.send('DOM.getOuterHTML', { nodeId });
    if (outerHTML.endsWith(`>${content}</text>`)) {
      const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
      await cdp.detach();
      return fonts;
    }
  }
  throw new Error(`no <text> holds ${content}`);
}

/** The viewport (lib's full-page shot waits forever on a bare SVG document). */
async function shot(page, name) {
  await page.screenshot({ path: `${SHOTS}/${name}.png` });
}

async function open(browser, path) {
  // The wallet card is 85.6 × 54 mm ≈ 324 × 204 CSS px; drawn at 4× for a legible screenshot.
  const ctx = await browser.newContext({ viewport: { width: 330, height: 210 }, deviceScaleFactor: 4, locale: 'zh-CN' });
  const page = await ctx.newPage();
  await page.goto(`file://${path}`);
  return { ctx, page };
}

run(async (browser) => {
  assert(svgPath && family && village, 'SVG_PATH, FONT_FAMILY and VILLAGE are set');
  const { ctx, page } = await open(browser, svgPath);
  // Wait for the face the text asks for, without asking for it ourselves (document.fonts.load would
  // fetch it even if nothing on the page used it).
  await page.waitForFunction((fam) => [...document.fonts].some((f) => f.family.replace(/"/g, '') === fam && f.status === 'loaded'),
    family, { timeout: 10_000 }).catch(() => {});
  const faces = await page.evaluate(() => [...document.fonts].map((f) => ({ family: f.family.replace(/"/g, ''), status: f.status })));
  const face = faces.find((f) => f.family === family);
  assert(face, `the card declares @font-face ${family}: ${JSON.stringify(faces)}`);
  assert(face.status === 'loaded', `the embedded face loaded: ${JSON.stringify(faces)}`);
  const check = await page.evaluate(([fam, text]) => document.fonts.check(`16px "${fam}"`, text), [family, `${village}联系卡`]);
  assert(check, 'document.fonts.check says the family is ready for the village name');
  const used = await platformFonts(page, village);
  assert(used.length === 1 && used[0].isCustomFont && used[0].glyphCount === [...village].length,
    `the village name is drawn with the embedded font only: ${JSON.stringify(used)}`);
  const phone = await platformFonts(page, '12345');
  assert(phone.length === 1 && phone[0].isCustomFont, `digits too: ${JSON.stringify(phone)}`);
  const width = await page.evaluate((v) => [...document.querySelectorAll('text')].find((t) => t.textContent === v).getComputedTextLength(), village);
  await shot(page, 'card-svg-font');
  await ctx.close();

  // Control: the same card without its font has no web font to draw with.
  const bare = svgPath.replace(/\.svg$/, '-bare.svg');
  writeFileSync(bare, readFileSync(svgPath, 'utf8').replace(/<style id="card-font">[\s\S]*?<\/style>\n?/, ''));
  const control = await open(browser, bare);
  const fallback = await platformFonts(control.page, village);
  assert(!fallback.some((f) => f.isCustomFont), `without the style no web font is used: ${JSON.stringify(fallback)}`);
  await shot(control.page, 'card-svg-font-bare');
  await control.ctx.close();
  return { faces, used, fallback, width };
});
