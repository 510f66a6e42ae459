// Drives services/uploads/web/index.html in headless Chromium, as a user would: paste a token,
// choose a file, press Upload, watch the progress and the status, then the list of recent uploads.
// Run by TestUploadWebPageInHeadlessChromium (tests/e2e/uploads_test.go):
//   PAGE_URL    the page
//   TOKEN       an access token
//   CASES       a JSON file: [{"name": "...", "type": "...", "path": "...", "drop": false, "tamper": false,
//               "late": false}]; a case with drop is dropped on the page instead of chosen; a case with tamper has the browser's PUT to S3 changed on its way (one byte of the
//               body, same length), as a file changed while it is being sent would be; one with late
//               asks for a link valid 1 s and sends the PUT 2.5 s after it was signed
//   SCREENSHOT  where to save a screenshot of the page after the last case
//   CHROMIUM    the browser (default /usr/bin/chromium)
// It prints one JSON object: for each case, the states the page showed, its progress bar and
// progress line, its problem box, its log and the download link; and the recent uploads table
// as the last page showed it once every case had its final status there.
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
  const results = { cases: {} };
  try {
    let page;
    for (const c of cases) {
      page = await browser.newPage({ viewport: { width: 1000, height: 1100 } });
      if (c.tamper) {
        await page.route((url) => url.searchParams.has("X-Amz-Signature"), (route) => {
          const req = route.request();
          if (req.method() !== "PUT") return route.continue();
          const body = Buffer.from(req.postDataBuffer());
          body[0] ^= 0x20;
          return route.continue({ postData: body });
        });
      }
      if (c.late) {
        // The page asks for a link valid 1 s (expiresInSeconds), and its PUT leaves 2.5 s later.
        await page.route((url) => url.pathname === "/uploads", (route) => {
          const req = route.request();
          if (req.method() !== "POST") return route.continue();
          return route.continue({ postData: JSON.stringify({ ...req.postDataJSON(), expiresInSeconds: 1 }) });
        });
        await page.route((url) => url.searchParams.has("X-Amz-Signature"), async (route) => {
          if (route.request().method() === "PUT") await new Promise((resolve) => setTimeout(resolve, 2500));
          return route.continue();
        });
      }
      await page.goto(process.env.PAGE_URL);
      // Record every status the page shows, to see it change.
      await page.evaluate(() => {
        const state = document.getElementById("state");
        window.states = [];
        new MutationObserver(() => window.states.push(state.textContent))
          .observe(state, { childList: true, characterData: true, subtree: true });
      });
      await page.fill("#token", process.env.TOKEN);
      if (c.drop) {
        // Dropped on the file chooser's label, as a file dragged from the desktop.
        const dataTransfer = await page.evaluateHandle(({ name, type, base64 }) => {
          const dt = new DataTransfer();
          dt.items.add(new File([Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0))], name, { type }));
          return dt;
        }, { name: c.name, type: c.type, base64: fs.readFileSync(c.path).toString("base64") });
        await page.dispatchEvent("#drop", "drop", { dataTransfer });
      } else {
        await page.setInputFiles("#file", { name: c.name, mimeType: c.type, buffer: fs.readFileSync(c.path) });
      }
      await page.click("#upload");
      await page.waitForFunction(
        () => !["—", "SIGNING", "UPLOADING", "PENDING"].includes(document.getElementById("state").textContent),
        null, { timeout: 120000 });
      results.cases[c.name] = await page.evaluate(() => ({
        states: window.states,
        progress: document.getElementById("progress").value,
        sent: document.getElementById("sent").textContent,
        problem: document.getElementById("problem").hidden ? "" : document.getElementById("problem").textContent,
        log: document.getElementById("log").textContent,
        download: document.getElementById("download").hidden ? "" : document.getElementById("download").getAttribute("href"),
      }));
      if (c !== cases[cases.length - 1]) await page.close();
    }
    // The list is read from an index DynamoDB updates a moment after the table: wait until it
    // shows every case's final status (the page refreshes it after each upload is decided).
    // A tampered or late case's upload stays PENDING (S3 stored nothing); every other one is decided.
    await page.waitForFunction((cases) => {
      const rows = [...document.querySelectorAll("#recent tr")];
      return cases.every((c) => rows.some((r) => r.cells[0].textContent === c.name &&
        (c.tamper || c.late || !r.cells[2].textContent.startsWith("PENDING"))));
    }, cases, { timeout: 15000, polling: 250 }).catch(() => {});
    results.recent = await page.evaluate(() => [...document.querySelectorAll("#recent tr")].map((r) => ({
      file: r.cells[0].textContent, status: r.cells[2] ? r.cells[2].textContent : "", download: !!r.querySelector("button"),
    })));
    await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
