// Drives Debian's chromium (headless, through playwright-core) over parceld's dashboard as a
// shop's team would, with JavaScript off: sign-in, a wrong password and the lock-out, the
// overview, filtering and paging the shipments table, bulk archive, the CSV export (a real
// download), opening a shipment and refreshing it, the problems queue, the admin's settings (a
// key, a user, a webhook delivery sent again), a CSV upload, a viewer who cannot act, a form refused
// without its CSRF token; axe-core on each page (in a context with JavaScript on, since axe is
// a script). Screenshots go to $SHOTS. Called by crates/parceld/tests/it/dashboard_browser.rs
// with the seeded data in $DASHBOARD (JSON); exits non-zero listing every failed check.
import { readFileSync } from 'node:fs';
import { axeSource, check, failures, launch, shots } from './common.mjs';

const cfg = JSON.parse(process.env.DASHBOARD);
const browser = await launch();
const origin = new URL(cfg.base).origin;
const at = (p) => `${cfg.base}${p}`;

async function context(extra = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, javaScriptEnabled: false, locale: 'en-US', acceptDownloads: true, ...extra });
  const page = await ctx.newPage();
  const outside = [];
  page.on('request', (r) => { if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) outside.push(r.url()); });
  return { ctx, page, outside };
}

async function signIn(page, email, password) {
  await page.goto(at('/dashboard/sign-in'));
  await page.fill('#email', email);
  await page.fill('#password', password);
  const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/dashboard/sign-in')), page.click('main form button')]);
  await page.waitForLoadState();
  return response.status();
}

const rows = async (page) => page.locator('tbody tr').count();
const text = async (page, selector) => (await page.locator(selector).first().innerText()).trim();

// A wrong password, then the lock-out, which holds even for the right one.
{
  const { ctx, page } = await context();
  const first = await page.goto(at('/dashboard'));
  check(page.url().endsWith('/dashboard/sign-in') && first.ok(), 'a browser without a session is led to the sign-in form');
  await page.screenshot({ path: `${shots}/sign-in.png`, fullPage: true });
  check(await signIn(page, cfg.locked.email, 'not-the-password') === 401, 'a wrong password answers 401');
  check((await text(page, '[role=alert] p')).startsWith('Wrong e-mail address or password'), 'a wrong password says so');
  await page.screenshot({ path: `${shots}/wrong-password.png`, fullPage: true });
  check(await signIn(page, cfg.locked.email, 'not-the-password') === 429, `the ${cfg.lock_after}nd failure locks the user (429)`);
  check(await signIn(page, cfg.locked.email, cfg.locked.password) === 429, 'a locked user is refused with the right password too');
  check((await text(page, '[role=alert] p')).includes('locked'), 'the lock-out says so');
  await page.screenshot({ path: `${shots}/locked.png`, fullPage: true });
  await ctx.close();
}

// An admin: overview, table, paging, bulk archive, export, a shipment and its refresh.
const admin = await context();
{
  const { page } = admin;
  check(await signIn(page, cfg.admin.email, cfg.admin.password) === 303, 'the admin signs in (303 to the overview)');
  check(await text(page, 'h1') === 'Overview', 'the sign-in leads to the overview');
  const problems = await page.locator('.counts').first().innerText();
  check(problems.includes(`${cfg.problems}\nExceptions`) || problems.includes(`${cfg.problems}Exceptions`), `the overview counts ${cfg.problems} exception(s): ${JSON.stringify(problems)}`);
  await page.screenshot({ path: `${shots}/overview.png`, fullPage: true });

  await page.goto(at('/dashboard/shipments'));
  await page.fill('#courier', 'sandbox');
  await Promise.all([page.waitForURL('**courier=sandbox*'), page.click('.filters button')]);
  check(await rows(page) === 50, `the filtered first page has 50 rows (${await rows(page)})`);
  await page.screenshot({ path: `${shots}/shipments.png`, fullPage: true });
  await Promise.all([page.waitForURL('**after=*'), page.click('a[rel=next]')]);
  check(await rows(page) === cfg.sandbox_count - 50, `the second page has the other ${cfg.sandbox_count - 50} rows`);

  // Sorting by a column header keeps the filter; the page goes on from the last row.
  await page.goto(at('/dashboard/shipments?courier=sandbox'));
  await Promise.all([page.waitForURL('**sort=number*'), page.click('th a:has-text("Number")')]);
  check((await page.locator('th[aria-sort=ascending]').textContent()).trim() === 'Number ▲', 'the Number column says it sorts ascending');
  check((await text(page, 'tbody td a')) === cfg.refresh.stored, `A to Z starts with the smallest number (${await text(page, 'tbody td a')})`);
  await Promise.all([page.waitForURL('**after=*'), page.click('a[rel=next]')]);
  check(await rows(page) === cfg.sandbox_count - 50, 'the sorted second page has the rest');
  await Promise.all([page.waitForURL('**before=*'), page.click('a[rel=prev]')]);
  check(await rows(page) === 50, 'back to a full first page');
  await page.goto(at('/dashboard/shipments?courier=sandbox'));
  await Promise.all([page.waitForURL('**after=*'), page.click('a[rel=next]')]);

  // Bulk archive two rows of this page.
  const boxes = page.locator('tbody input[type=checkbox]');
  const archivedNumbers = [await boxes.nth(0).getAttribute('value'), await boxes.nth(1).getAttribute('value')];
  await boxes.nth(0).check();
  await boxes.nth(1).check();
  await Promise.all([page.waitForURL('**done=2*'), page.click('text=Archive selected')]);
  check((await text(page, '[role=status] p')) === 'Archived 2 shipment(s).', 'bulk archive reports two archived');
  check((await page.content()).split('(archived)').length - 1 === 2, 'the two rows show as archived');

  // The export of the not archived sandbox shipments, as a real download.
  await page.goto(at('/dashboard/shipments?courier=sandbox&archived=no'));
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=Export CSV of the filtered set')]);
  const csv = readFileSync(await download.path(), 'utf8').trim().split('\n');
  check(csv.length - 1 === cfg.sandbox_count - 2, `the CSV has the ${cfg.sandbox_count - 2} not archived rows (${csv.length - 1})`);
  check(!archivedNumbers.some((key) => csv.some((line) => line.includes(`,${key.split(':')[1]},`))), 'the CSV leaves the archived rows out');

  // Open a shipment by its number and refresh it.
  await page.goto(at(`/dashboard/shipments?q=${encodeURIComponent(cfg.refresh.number)}`));
  check(await rows(page) === 1, `the search by number finds one shipment (${await rows(page)})`);
  await page.screenshot({ path: `${shots}/search.png`, fullPage: true });
  await Promise.all([page.waitForURL(`**/dashboard/shipments/${cfg.refresh.id}`), page.click('tbody a')]);
  check(await text(page, 'h1') === cfg.refresh.stored, 'the search opens the shipment');
  await Promise.all([page.waitForURL('**done=refreshed'), page.click('text=Refresh now')]);
  check((await text(page, '[role=status] p')) === 'Asked the carrier just now.', 'refresh now asks the carrier');
  check(await text(page, '#status') === 'delivered', `the refreshed shipment is delivered (${await text(page, '#status')})`);
  check(await rows(page) >= 3, 'the timeline shows the journey\'s events with their raw codes');
  await page.screenshot({ path: `${shots}/shipment.png`, fullPage: true });

  // A form without this session's CSRF token, from this signed-in browser.
  const forged = await page.request.post(at(`/dashboard/shipments/${cfg.refresh.id}/archive`), { form: { csrf: 'forged' }, maxRedirects: 0 });
  check(forged.status() === 403, `a form without the session's CSRF token is refused (${forged.status()})`);
  await page.goto(at(`/dashboard/shipments/${cfg.refresh.id}`));
  check(await text(page, '#archived') === 'no', 'the refused form changed nothing');

  // The analytics: every chart drawn with today's shipments, its numbers as its table and CSV
  // give them, reached from the navigation and usable by keyboard.
  await Promise.all([page.waitForURL('**/dashboard/analytics'), page.click('header nav >> text=Analytics')]);
  check(await text(page, 'h1') === 'Analytics', 'the navigation leads to the analytics');
  check(await text(page, '#created-total') === String(cfg.sandbox_count), `the daily chart counts the ${cfg.sandbox_count} shipments created today (${await text(page, '#created-total')})`);
  check(Number(await text(page, '#delivered-total')) >= 1, 'the refreshed shipment counts as delivered');
  for (const id of ['daily-chart', 'status-chart', 'couriers-chart', 'transit-sandbox']) {
    check(await page.locator(`svg#${id}[role=img][aria-labelledby="${id}-title ${id}-desc"]`).count() === 1, `the ${id} chart is drawn as a named image`);
  }
  const mix = (await page.locator('#status-table td').allInnerTexts()).map(Number);
  check(mix.reduce((a, b) => a + b, 0) === cfg.sandbox_count, `the status mix adds up to the ${cfg.sandbox_count} shipments (${mix})`);
  check(Number(await text(page, '#status-table td[data-status=exception]')) >= cfg.problems, 'the status mix counts the exception');
  check(await text(page, 'tr[data-courier=sandbox] .shipments') === String(cfg.sandbox_count), 'the couriers table counts the sandbox shipments');
  check(await text(page, 'tr[data-courier=sandbox] .median') !== '–', 'the delivered shipment gives the sandbox a median transit time');
  const [statusCsv] = await Promise.all([page.waitForEvent('download'), page.click('a[href^="/dashboard/analytics/status.csv"]')]);
  const csvMix = readFileSync(await statusCsv.path(), 'utf8').trim().split('\n').slice(1).map((line) => Number(line.split(',')[1]));
  check(csvMix.reduce((a, b) => a + b, 0) === cfg.sandbox_count, `the status CSV adds up to the same (${csvMix})`);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: `${shots}/analytics-charts.png` });
  await page.focus('#daily-heading ~ details summary');
  await page.keyboard.press('Enter');
  check(await page.locator('#daily-heading ~ details').evaluate((d) => d.open), 'the daily data table opens from the keyboard');
  check(await page.locator('#daily-table tbody tr').count() === 30, 'the daily table has the 30 days of the default range');
  await page.screenshot({ path: `${shots}/analytics.png`, fullPage: true });
  await page.fill('#courier', 'ups');
  await Promise.all([page.waitForURL('**courier=ups*'), page.press('#courier', 'Enter')]);
  check(await page.locator('#couriers-empty').count() === 1, 'a courier without shipments leaves the charts empty');
  check(admin.outside.length === 0, `no request leaves the server (${admin.outside.join(', ')})`);
}

// The admin's settings, the problems queue, and adding shipments by hand and from a file.
{
  const { page } = admin;
  await page.goto(at('/dashboard/problems'));
  check((await text(page, '[aria-current=page] .badge')) === String(cfg.problems), `the problems queue counts ${cfg.problems} exception(s)`);
  check(await rows(page) === cfg.problems, 'the exceptions tab lists them');
  await page.screenshot({ path: `${shots}/problems.png`, fullPage: true });

  await page.goto(at('/dashboard/settings/keys'));
  const keysBefore = await rows(page);
  await Promise.all([page.waitForLoadState(), page.click('text=Create a key')]);
  check((await text(page, '#new-key')).startsWith('pk_'), 'a new key is shown once');
  check(await rows(page) === keysBefore + 1, 'the new key is listed by its prefix');
  await page.screenshot({ path: `${shots}/settings-keys.png`, fullPage: true });

  await page.goto(at('/dashboard/settings/users'));
  await page.fill('#new-email', 'new.agent@example.com');
  await page.selectOption('#new-role', 'agent');
  await Promise.all([page.waitForLoadState(), page.click('text=Add the user')]);
  check((await text(page, '#new-password')).length === 20, 'the new user\'s password is shown once');
  await page.screenshot({ path: `${shots}/settings-users.png`, fullPage: true });

  await page.goto(at('/dashboard/settings/webhooks'));
  await Promise.all([page.waitForURL(`**/dashboard/settings/webhooks/${cfg.webhook.id}`), page.click('tbody a')]);
  // The test event's delivery (the refresh above queued a TRACKING_UPDATED one to it as well).
  const testState = 'tr:has(td:text-is("TEST")) .delivery-state';
  check(await text(page, testState) === 'failed', 'the endpoint\'s failed delivery is in its log');
  await Promise.all([page.waitForURL('**done=redelivered'), page.click('text=Send again')]);
  check((await text(page, '[role=status] p')).startsWith('Queued again'), 'a delivery is sent again');
  check(await text(page, testState) === 'pending', 'the redelivered delivery is pending again');
  await page.screenshot({ path: `${shots}/settings-webhook.png`, fullPage: true });

  await page.goto(at('/dashboard/shipments/new'));
  await page.setInputFiles('#file', { name: 'shipments.csv', mimeType: 'text/csv', buffer: Buffer.from('tracking_number,courier_code\nSANDBOX-DELIVERED-CSV1,sandbox\nABC123456,nope\n') });
  await Promise.all([page.waitForLoadState(), page.click('text=Upload and add')]);
  check((await text(page, '#upload-summary')) === '2 row(s) read: 1 added, 0 already tracked, 1 refused.', `the upload reports what it did (${await text(page, '#upload-summary')})`);
  check((await text(page, '#refused tbody td')) === '3', 'the refused line is named');
  await page.screenshot({ path: `${shots}/add-shipments.png`, fullPage: true });
  check(admin.outside.length === 0, `no request leaves the server (${admin.outside.join(', ')})`);
}

// A viewer reads but has no actions, and a posted action is refused.
{
  const { ctx, page } = await context({ viewport: { width: 820, height: 1180 }, isMobile: true, hasTouch: true });
  check(await signIn(page, cfg.viewer.email, cfg.viewer.password) === 303, 'the viewer signs in');
  await page.goto(at('/dashboard/shipments'));
  check(await page.locator('text=Archive selected').count() === 0 && await page.locator('tbody input[type=checkbox]').count() === 0, 'the viewer\'s table has no bulk action');
  await page.screenshot({ path: `${shots}/viewer-tablet-shipments.png`, fullPage: true });
  await page.goto(at(`/dashboard/shipments/${cfg.refresh.id}`));
  check(await page.locator('text=Refresh now').count() === 0, 'the viewer\'s shipment page has no actions');
  const csrf = await page.locator('input[name=csrf]').first().getAttribute('value');
  const refused = await page.request.post(at(`/dashboard/shipments/${cfg.refresh.id}/refresh`), { form: { csrf }, maxRedirects: 0 });
  check(refused.status() === 403, `a viewer's refresh is refused (${refused.status()})`);
  await ctx.close();
}

// axe-core on every page, signed in as the admin (and the sign-in page signed out).
{
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
  const page = await ctx.newPage();
  await page.goto(at('/dashboard/sign-in'));
  const pages = [
    ['sign-in', '/dashboard/sign-in'],
    ['overview', '/dashboard'],
    ['shipments', '/dashboard/shipments'],
    ['filtered shipments', '/dashboard/shipments?status=exception&archived=no'],
    ['sorted shipments', '/dashboard/shipments?courier=sandbox&sort=event&dir=asc'],
    ['shipment', `/dashboard/shipments/${cfg.refresh.id}`],
    ['not found', '/dashboard/shipments/00000000000000000000000000000000'],
    ['problems', '/dashboard/problems?kind=stuck'],
    ['analytics', '/dashboard/analytics'],
    ['analytics, one country', '/dashboard/analytics?country=DE'],
    ['add shipments', '/dashboard/shipments/new'],
    ['API keys', '/dashboard/settings/keys'],
    ['users', '/dashboard/settings/users'],
    ['webhooks', '/dashboard/settings/webhooks'],
    ['webhook', `/dashboard/settings/webhooks/${cfg.webhook.id}`],
  ];
  for (const [name, p] of pages) {
    if (name === 'overview') {
      await signIn(page, cfg.admin.email, cfg.admin.password);
    }
    await page.goto(at(p));
    await page.addScriptTag({ content: axeSource });
    const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
    const found = result.violations.map((v) => `${v.id} (${v.nodes.length}): ${v.help}`);
    check(found.length === 0, `axe: the ${name} page has no violation ${found.join(' | ')}`);
  }
  await ctx.close();
}

await admin.ctx.close();
await browser.close();
console.log(`${failures.length === 0 ? 'all dashboard browser checks passed' : `${failures.length} dashboard browser check(s) failed`}`);
process.exit(failures.length === 0 ? 0 : 1);
