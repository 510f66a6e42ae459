// Opens the index of the local pages (PAGES_URL, /.web/) in headless Chromium, follows each link
// it lists, and mints a token from the page as the service pages do. Run by TestPagesIndex
// (tests/e2e/pages_test.go):
//   PAGE_URL    the index
//   SCREENSHOT  where to save a screenshot of it
//   CHROMIUM    the browser (default /usr/bin/chromium)
// It prints one JSON object: the links (href, title, and the status GET of each answered), and
// the status and token of POST /.web/token {"user": "page-user"} sent from the page.
"use strict";
const { chromium } = require("playwright-core");

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--no-first-run"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    await page.goto(process.env.PAGE_URL);
    const links = await page.$$eval("#pages a", (as) => as.map((a) => ({ href: a.getAttribute("href"), title: a.textContent })));
    for (const link of links) {
      const response = await page.request.get(new URL(link.href, process.env.PAGE_URL).href);
      link.status = response.status();
    }
    const minted = await page.evaluate(async () => {
      const response = await fetch("/.web/token", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ user: "page-user" }),
      });
      const body = await response.json();
      return { status: response.status, token: body.token || "" };
    });
    await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
    process.stdout.write(JSON.stringify({ links, minted: minted.status, token: minted.token }));
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
