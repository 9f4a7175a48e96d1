// Drives Debian's chromium (headless, through playwright-core) over parceld's tracking page,
// as a shopper would, with JavaScript off: look-up by number, by order number + email, a
// wrong second factor, every sandbox status, three languages, a phone and a desktop viewport;
// axe-core on each kind of page (in a separate context with JavaScript on, since axe is a
// script); the shipment page's weight and that no request leaves the server. Screenshots go
// to $SHOTS. Called by crates/parceld/tests/it/page_browser.rs with the seeded cases in
// $PAGE_CASES (JSON); exits non-zero listing every failed check.
import { axeSource, check, failures, launch, shots } from './common.mjs';

const cfg = JSON.parse(process.env.PAGE_CASES);
const browser = await launch();

const viewports = {
  phone: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
  desktop: { viewport: { width: 1280, height: 900 } },
};
const home = `${cfg.base}/track/${cfg.account}`;
const origin = new URL(cfg.base).origin;

async function context(kind, extra = {}) {
  const ctx = await browser.newContext({ ...viewports[kind], javaScriptEnabled: false, locale: 'en-US', ...extra });
  const page = await ctx.newPage();
  const outside = [];
  page.on('request', (r) => { if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) outside.push(r.url()); });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  return { ctx, page, outside, errors };
}

const text = async (page, selector) => (await page.locator(selector).first().innerText()).trim();

for (const kind of Object.keys(viewports)) {
  const { ctx, page, outside, errors } = await context(kind);

  // Look-up by tracking number, through the form.
  await page.goto(home);
  await page.screenshot({ path: `${shots}/${kind}-lookup.png`, fullPage: true });
  await page.fill('#number', cfg.by_number.typed);
  await Promise.all([page.waitForURL(`**/${cfg.by_number.number}`), page.click('#by-number ~ form button')]);
  check(await text(page, 'h2.status') === cfg.by_number.headline, `${kind}: the number form leads to the shipment (${cfg.by_number.headline})`);
  const journey = await page.content();
  check(!journey.includes(cfg.order.order_number) && !journey.includes(cfg.order.contents) && !journey.includes(cfg.order.email),
    `${kind}: a number alone shows no order number, contents or email`);
  await page.screenshot({ path: `${shots}/${kind}-by-number.png`, fullPage: true });

  // Every status the sandbox journeys reach.
  for (const c of cfg.cases) {
    const response = await page.goto(`${home}/${c.number}`);
    check(response.status() === 200, `${kind}: ${c.number} answers 200`);
    check(await text(page, 'h2.status') === c.headline, `${kind}: ${c.number} reads "${c.headline}"`);
    if (c.problem) check(await page.locator('.steps .problem').count() === 1, `${kind}: ${c.number} marks the step that went wrong`);
    await page.screenshot({ path: `${shots}/${kind}-status-${c.status}.png`, fullPage: true });
  }

  // Look-up by order number and email: every parcel of the order, with the order number.
  await page.goto(home);
  await page.fill('#order', cfg.order.order_number);
  await page.fill('#contact', cfg.order.email);
  await Promise.all([page.waitForLoadState(), page.click('#by-order ~ form button')]);
  check(await page.locator('article.card').count() === cfg.order.parcels, `${kind}: the order shows its ${cfg.order.parcels} parcels`);
  const orderPage = await page.content();
  check(orderPage.includes(cfg.order.order_number) && orderPage.includes(cfg.order.contents), `${kind}: the order shows its number and contents`);
  await page.screenshot({ path: `${shots}/${kind}-by-order.png`, fullPage: true });

  // A wrong second factor: the same answer as an unknown order, nothing of the order. Its
  // 404 is logged by the browser as a failed load; that one is expected.
  const errorsBefore = errors.length;
  await page.goto(home);
  await page.fill('#order', cfg.order.order_number);
  await page.fill('#contact', 'eve@example.com');
  const [wrong] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/order')), page.click('#by-order ~ form button')]);
  check(wrong.status() === 404, `${kind}: a wrong second factor answers 404`);
  check(await text(page, '[role=alert] p') === cfg.order.wrong_text, `${kind}: a wrong second factor says "${cfg.order.wrong_text}"`);
  check(!(await page.content()).includes(cfg.order.contents), `${kind}: a wrong second factor shows nothing of the order`);
  await page.screenshot({ path: `${shots}/${kind}-wrong-factor.png`, fullPage: true });
  const expected = errors.splice(errorsBefore).filter((e) => !e.includes('status of 404'));
  errors.push(...expected);

  // Languages: ?lang=, the switch (a plain form), and the browser's Accept-Language.
  await page.goto(`${home}?lang=de`);
  check(await text(page, 'h1') === 'Wo ist mein Paket?', `${kind}: ?lang=de gives German`);
  await page.screenshot({ path: `${shots}/${kind}-lookup-de.png`, fullPage: true });
  await page.goto(`${home}/${cfg.by_number.number}`);
  await page.selectOption('#lang', 'ja');
  await Promise.all([page.waitForURL('**lang=ja'), page.click('form.lang button')]);
  check(await text(page, 'h1') === '配送状況', `${kind}: the language switch gives Japanese`);
  check((await page.getAttribute('html', 'lang')) === 'ja', `${kind}: <html lang> follows the language`);
  await page.screenshot({ path: `${shots}/${kind}-shipment-ja.png`, fullPage: true });
  const french = await context(kind, { locale: 'fr-FR', extraHTTPHeaders: { 'Accept-Language': 'fr-FR,fr;q=0.9' } });
  await french.page.goto(`${home}/${cfg.by_number.number}`);
  check(await text(french.page, 'h1') === 'Suivi de l’envoi', `${kind}: Accept-Language fr gives French`);
  await french.page.screenshot({ path: `${shots}/${kind}-shipment-fr.png`, fullPage: true });
  await french.ctx.close();

  check(outside.length === 0, `${kind}: no request leaves the server (${outside.join(', ')})`);
  check(errors.length === 0, `${kind}: no console error (${errors.join('; ')})`);
  await ctx.close();
}

// The shipment page in total: one request, under 50 KB.
{
  const { ctx, page } = await context('phone');
  let bytes = 0;
  let requests = 0;
  page.on('requestfinished', async (r) => {
    const sizes = await r.sizes();
    requests += 1;
    bytes += sizes.responseBodySize + sizes.responseHeadersSize;
  });
  await page.goto(`${home}/${cfg.weight_number}`, { waitUntil: 'networkidle' });
  await page.waitForTimeout(200);
  console.log(`shipment page: ${requests} request(s), ${bytes} bytes`);
  check(requests === 1 && bytes > 0 && bytes < 50 * 1024, `the shipment page is ${bytes} bytes in ${requests} request(s), under 50 KB`);
  await ctx.close();
}

// axe-core on every kind of page.
{
  const ctx = await browser.newContext({ ...viewports.desktop, bypassCSP: true });
  const page = await ctx.newPage();
  const pages = [
    ['lookup', async () => page.goto(home)],
    ['shipment', async () => page.goto(`${home}/${cfg.by_number.number}`)],
    ['problem', async () => page.goto(`${home}/${cfg.problem_number}`)],
    ['not found', async () => page.goto(`${home}/NOSUCH-0000`)],
    ['no such page', async () => page.goto(`${cfg.base}/track/no-such-shop`)],
    ['order', async () => {
      await page.goto(home);
      await page.fill('#order', cfg.order.order_number);
      await page.fill('#contact', cfg.order.email);
      await Promise.all([page.waitForLoadState(), page.click('#by-order ~ form button')]);
    }],
    ['japanese', async () => page.goto(`${home}/${cfg.by_number.number}?lang=ja`)],
  ];
  for (const [name, open] of pages) {
    await open();
    await page.addScriptTag({ content: axeSource });
    const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
    const found = result.violations.map((v) => `${v.id} (${v.nodes.length}): ${v.help}`);
    check(found.length === 0, `axe: the ${name} page has no violation ${found.join(' | ')}`);
  }
  await ctx.close();
}

await browser.close();
console.log(`${failures.length === 0 ? 'all browser checks passed' : `${failures.length} browser check(s) failed`}`);
process.exit(failures.length === 0 ? 0 : 1);
