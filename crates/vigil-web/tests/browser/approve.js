// Drives Vigil's web UI in the system's headless Chromium:
//   node approve.js <base-url> <reviewer-token> <request-id>
// Signs in by pasting the token, opens the pending queue, prints
// "queue-open" and waits until a second request appears there live (the
// test creates one; it arrives over SSE), opens <request-id>, types a
// comment and clicks Approve, then checks the page says "approved" (or
// "executed", when a held statement already ran).
// Exit 0 on success. CHROMIUM_PATH overrides the browser binary;
// VIGIL_BROWSER_SCREENSHOTS=<dir> saves screenshots there.
'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const [base, token, id] = process.argv.slice(2);
if (!base || !token || !id) {
  console.error('usage: node approve.js <base-url> <token> <request-id>');
  process.exit(2);
}

function chromiumPath() {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  const found = candidates.find((p) => p && fs.existsSync(p));
  if (!found) throw new Error('no Chromium found (set CHROMIUM_PATH)');
  return found;
}

async function shot(page, name) {
  const dir = process.env.VIGIL_BROWSER_SCREENSHOTS;
  if (dir) await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

async function main() {
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    // CI runs as root, where Chromium's sandbox cannot start.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(20000);
    await page.goto(`${base}/signin`);
    await page.getByLabel('Token').fill(token);
    await page.click('#signin');
    await page.waitForURL(`${base}/requests`);
    await page.waitForSelector(`#row-${id}`);
    // Wait until the SSE connection is open before asking for a new request.
    await page.waitForFunction(() => {
      const el = document.querySelector('[sse-connect]');
      const source = el && el['htmx-internal-data'] && el['htmx-internal-data'].sseEventSource;
      return source && source.readyState === 1;
    });
    console.log('queue-open');
    await page.waitForFunction(() => document.querySelectorAll('#queue tr[id^="row-"]').length >= 2);
    await shot(page, 'queue');

    await page.click(`#row-${id} a`);
    await page.waitForURL(`${base}/requests/${id}`);
    await page.getByLabel(/Comment/).fill('approved from headless Chromium');
    await shot(page, 'detail');
    await page.click('#approve');
    // A held statement runs as soon as it is approved, so the page may
    // already show it executed.
    await page.waitForSelector('#status.status-approved, #status.status-executed');
    const status = (await page.textContent('#status')).trim();
    if (status !== 'approved' && status !== 'executed') throw new Error(`status after approving: ${status}`);
    await shot(page, 'approved');
    console.log('approved');
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
