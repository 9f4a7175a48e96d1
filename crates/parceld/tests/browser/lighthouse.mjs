// Lighthouse with its default (mobile) settings on Debian's chromium, over parceld's tracking
// page: the lookup page and two shipment pages must score at least 95 for performance and
// 100 for accessibility and best practices. Prints every score; keeps each report (JSON) in
// $SHOTS. Called by crates/parceld/tests/it/page_browser.rs (`lighthouse_scores_the_page`,
// run by .ci/page-audit) with the seeded cases in $PAGE_CASES.
import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const modules = process.env.BROWSER_NODE_MODULES;
const require = createRequire(path.join(modules, 'x.js'));
const { chromium } = require('playwright-core');
const lighthouse = (await import(pathToFileURL(path.join(modules, 'lighthouse/core/index.js')).href)).default;

const cfg = JSON.parse(process.env.PAGE_CASES);
const out = process.env.SHOTS;
mkdirSync(out, { recursive: true });
const port = 9300 + Math.floor(Math.random() * 500);
const browser = await chromium.launch({
  executablePath: process.env.CHROME_PATH || '/usr/bin/chromium',
  headless: true,
  args: [`--remote-debugging-port=${port}`, '--no-sandbox', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--disable-gpu'],
});

const home = `${cfg.base}/track/${cfg.account}`;
const pages = [
  ['lookup', home],
  ['shipment', `${home}/${cfg.weight_number}`],
  ['problem', `${home}/${cfg.problem_number}`],
];
const targets = { performance: 95, accessibility: 100, 'best-practices': 100 };
const failures = [];
for (const [name, url] of pages) {
  const result = await lighthouse(url, {
    port,
    output: 'json',
    logLevel: 'error',
    onlyCategories: Object.keys(targets),
  });
  writeFileSync(path.join(out, `${name}.json`), result.report);
  const scores = Object.keys(targets).map((id) => [id, Math.round(result.lhr.categories[id].score * 100)]);
  console.log(`lighthouse ${name} (${result.lhr.configSettings.formFactor}): ${scores.map(([id, s]) => `${id} ${s}`).join(', ')}`);
  for (const [id, score] of scores) {
    if (score < targets[id]) {
      const failed = Object.values(result.lhr.audits)
        .filter((a) => a.score !== null && a.score < 1 && a.scoreDisplayMode !== 'informative' && a.scoreDisplayMode !== 'manual')
        .map((a) => `${a.id} (${a.score})`);
      failures.push(`${name}: ${id} ${score} < ${targets[id]}; audits below 1: ${failed.join(', ')}`);
    }
  }
}
await browser.close();
for (const failure of failures) console.log(`FAIL ${failure}`);
console.log(failures.length === 0 ? 'lighthouse: every score on target' : `lighthouse: ${failures.length} score(s) below target`);
process.exit(failures.length === 0 ? 0 : 1);
