// What the browser scripts (page.mjs, dashboard.mjs) share: playwright-core and axe-core from
// $BROWSER_NODE_MODULES, the screenshot folder $SHOTS, the list of failed checks, and Debian's
// chromium launched headless without any background traffic.
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const require = createRequire(path.join(process.env.BROWSER_NODE_MODULES, 'x.js'));
const { chromium } = require('playwright-core');
export const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const shots = process.env.SHOTS;
mkdirSync(shots, { recursive: true });
export const failures = [];
export const check = (ok, what) => {
  if (!ok) failures.push(what);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
};

export const launch = () => chromium.launch({
  executablePath: process.env.CHROME_PATH || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic', '--disable-gpu'],
});
