// Open a page of the built site from disk (file://) in Firefox, wait until its first
// widget is live, move the temperature slider and wait for Python's new view.
// Prints one JSON line: {ready_ms, summary, errors, requests}; exits 1 on any failure.
// Usage: node file_mode.mjs file:///path/to/_site/sampling.html
import puppeteer from "puppeteer-core";

const url = process.argv[2];
const executablePath = process.env.FIREFOX || "/usr/bin/firefox-esr";
const errors = [];
const requests = [];
const browser = await puppeteer.launch({ browser: "firefox", executablePath, headless: true });
let outcome = { errors, requests };
try {
  const page = await browser.newPage();
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e.message || e)));
  page.on("request", (r) => { if (!r.url().startsWith("file:") && !r.url().startsWith("blob:") && !r.url().startsWith("data:")) requests.push(r.url()); });
  const started = Date.now();
  await page.goto(url);
  await page.waitForSelector('[data-widget="temperature"][data-stage="ready"]', { timeout: 180000 });
  outcome.ready_ms = Date.now() - started;
  await page.$eval('[data-widget="temperature"] input[type="range"]', (input) => {
    input.value = "0.5";
    input.dispatchEvent(new Event("input", { bubbles: true }));
  });
  await page.waitForFunction(
    () => document.querySelector('[data-widget="temperature"] .summary').textContent.includes("At temperature 0.5,"),
    { timeout: 30000 });
  outcome.summary = await page.$eval('[data-widget="temperature"] .summary', (el) => el.textContent);
} catch (error) {
  outcome.failure = String(error.message || error);
} finally {
  await browser.close();
}
console.log(JSON.stringify(outcome));
process.exit(outcome.failure || errors.length || requests.length ? 1 : 0);
