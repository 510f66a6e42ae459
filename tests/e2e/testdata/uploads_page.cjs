// Drives services/uploads/web/index.html in headless Chromium, as a user would: paste a token,
// choose a file, press Upload, watch the status. Run by TestUploadWebPageInHeadlessChromium:
//   PAGE_URL   the page
//   TOKEN      an access token
//   CASES      a JSON file: [{"name": "...", "type": "...", "path": "..."}]
//   CHROMIUM   the browser (default /usr/bin/chromium)
// It prints one JSON object: for each case, the states the page showed, its log and the download link.
"use strict";
const fs = require("fs");
const { chromium } = require("playwright-core");

async function main() {
  const cases = JSON.parse(fs.readFileSync(process.env.CASES, "utf8"));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--no-first-run"],
  });
  const results = {};
  try {
    for (const c of cases) {
      const page = await browser.newPage();
      await page.goto(process.env.PAGE_URL);
      // Record every status the page shows, to see it change.
      await page.evaluate(() => {
        const state = document.getElementById("state");
        window.states = [];
        new MutationObserver(() => window.states.push(state.textContent))
          .observe(state, { childList: true, characterData: true, subtree: true });
      });
      await page.fill("#token", process.env.TOKEN);
      await page.setInputFiles("#file", { name: c.name, mimeType: c.type, buffer: fs.readFileSync(c.path) });
      await page.click("#upload");
      await page.waitForFunction(
        () => !["—", "SIGNING", "UPLOADING", "PENDING"].includes(document.getElementById("state").textContent),
        null, { timeout: 60000 });
      // The page asks for the download link after it shows AVAILABLE: wait for the link too.
      if ((await page.textContent("#state")) === "AVAILABLE") {
        await page.waitForSelector("#download:not([hidden])", { timeout: 30000 });
      }
      results[c.name] = {
        states: await page.evaluate(() => window.states),
        log: await page.textContent("#log"),
        download: await page.getAttribute("#download", "href"),
      };
      await page.close();
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
