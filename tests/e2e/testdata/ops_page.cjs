// Reads the local runner's ops page (/.web/ops/) in headless Chromium, as a user would look at
// it: waits until the functions table, which the page refreshes every 2 s, has a row with at least
// one invocation for each expected function. Run by the ops page test (tests/e2e/ops_test.go):
//   PAGE_URL    the page
//   FUNCTIONS   a JSON array of function names
//   SCREENSHOT  where to save a screenshot of the whole page
//   CHROMIUM    the browser (default /usr/bin/chromium)
// It prints one JSON object: the live status, whether the page refreshed itself, the tables'
// captions, and the rows of the functions and queues tables by name (their header cell, th
// scope=row, and their other cells).
"use strict";
const { chromium } = require("playwright-core");

async function main() {
  const want = JSON.parse(process.env.FUNCTIONS);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--no-first-run"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(process.env.PAGE_URL);
    // No reload: the page must fetch the new numbers itself.
    await page.waitForFunction((names) => {
      const rows = [...document.querySelectorAll("#functions tbody tr")];
      return names.every((n) => rows.some((r) => {
        const th = r.querySelector("th[scope=row]");
        return th && th.textContent === n && Number(r.cells[1].textContent) > 0;
      }));
    }, want, { timeout: 30000, polling: 500 });
    // The page refreshes by itself: its time of last update changes without a reload.
    const updated = await page.textContent("#updated");
    const refreshed = await page.waitForFunction((before) => document.getElementById("updated").textContent !== before,
      updated, { timeout: 10000, polling: 250 }).then(() => true, () => false);
    const result = await page.evaluate(() => {
      const rows = (id) => {
        const out = {};
        for (const r of document.querySelectorAll("#" + id + " tbody tr")) {
          const th = r.querySelector("th[scope=row]");
          if (!th) continue;
          out[th.textContent] = {
            header: th.getAttribute("scope"),
            cells: [...r.querySelectorAll("td")].map((td) => td.textContent),
          };
        }
        return out;
      };
      return {
        status: document.querySelector("[aria-live]").textContent,
        captions: [...document.querySelectorAll("table caption")].map((c) => c.textContent),
        functions: rows("functions"),
        queues: rows("queues"),
      };
    });
    result.refreshed = refreshed;
    await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
    process.stdout.write(JSON.stringify(result));
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
