// Drives services/imports/web/index.html in headless Chromium, as a new user would: open the index
// of the local pages, follow its link to the imports page, mint a local token, choose a file,
// press "Upload and import", and watch until the import ends. Run by
// TestImportWebPageInHeadlessChromium (tests/e2e/imports_test.go):
//   PAGE_URL    the index of the local pages (/.web/)
//   USER        the user to mint a token for
//   FILE        the file to import
//   SCREENSHOT  where to save a screenshot of the page once the import has ended
//   CHROMIUM    the browser (default /usr/bin/chromium)
// It prints one JSON object: what the mint button said where no runner mints tokens (the answer
// faked to a 404), every status the page showed, what its progress bars, counters, chain strip
// and rejects table showed at the end, and whether the page, opened again in the same tab, had
// the minted token already.
"use strict";
const { chromium } = require("playwright-core");

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--no-first-run"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    await page.goto(process.env.PAGE_URL);
    await Promise.all([page.waitForNavigation(), page.click('a[href="/.web/imports/"]')]);
    // Record every status the page shows, and how many marks the chain strip has each time.
    await page.evaluate(() => {
      window.states = [];
      window.marks = [];
      const state = document.getElementById("state");
      new MutationObserver(() => window.states.push(state.textContent))
        .observe(state, { childList: true, characterData: true, subtree: true });
      const hops = document.getElementById("hops");
      new MutationObserver(() => window.marks.push(hops.querySelectorAll("li:not(.rest)").length))
        .observe(hops, { childList: true });
    });
    // Where no runner serves /.web/token (a deployed site), the button says to paste a token.
    await page.route("**/.web/token", (route) => route.fulfill({ status: 404, body: "404 page not found" }));
    await page.click("#mint");
    await page.waitForSelector("#problem:not([hidden])");
    const withoutRunner = await page.textContent("#problem");
    await page.unroute("**/.web/token");
    await page.fill("#user", process.env.USER);
    await page.click("#mint");
    await page.waitForFunction(() => document.getElementById("token").value.length > 0, null, { timeout: 10000 });
    const token = await page.inputValue("#token");
    await page.setInputFiles("#file", process.env.FILE);
    await page.click("#start");
    await page.waitForFunction(
      () => ["SUCCEEDED", "FAILED", "ERROR", "REFUSED"].includes(document.getElementById("state").textContent),
      null, { timeout: 120000 });
    const result = await page.evaluate(() => {
      const text = (id) => document.getElementById(id).textContent;
      return {
        states: window.states,
        marksSeen: window.marks,
        uploadProgress: document.getElementById("upload-progress").value,
        sent: text("sent"),
        importProgress: document.getElementById("import-progress").value,
        accepted: text("accepted"),
        rejected: text("rejected"),
        lines: text("lines"),
        invocations: text("invocations"),
        problem: document.getElementById("problem").hidden ? "" : text("problem"),
        hops: [...document.querySelectorAll("#hops li:not(.rest)")].map((li) => ({
          hop: Number(li.textContent), label: li.getAttribute("aria-label"), retry: li.classList.contains("retry"),
        })),
        rejects: [...document.querySelectorAll("#rejects tr")].map((tr) => [...tr.cells].map((td) => td.textContent)),
      };
    });
    await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
    // The token is kept for the tab: the page opened again in it has it (the pages share it
    // through sessionStorage; the uploads page is not opened, since a fork of imports has none).
    await page.reload();
    result.tokenShared = (await page.inputValue("#token")) === token;
    result.withoutRunner = withoutRunner;
    process.stdout.write(JSON.stringify(result));
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
