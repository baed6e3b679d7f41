// The dashboard and Swagger UI as a user sees them, in Debian's headless Chromium driven by
// playwright-core, through the lab's gateway. run_browser_test.sh starts the lab and sets:
//   GATEWAY_URL                the gateway, e.g. http://127.0.0.1:18001
//   ADMIN_TOKEN                the token the lab was started with
//   CHROMIUM_BIN               the browser (/usr/bin/chromium)
//   CIRCUITLAB_SCREENSHOT_DIR  where dashboard-open.png and dashboard-closed.png go
//   LAB_LOCAL                  scripts/lab-local.sh, to restart frontier without a token
// Each step prints what it checked; a failure names its step, saves failure-<step>.png and
// exits 1.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const GATEWAY = requireEnv("GATEWAY_URL");
const TOKEN = requireEnv("ADMIN_TOKEN");
const CHROMIUM = process.env.CHROMIUM_BIN || "/usr/bin/chromium";
const SHOTS = requireEnv("CIRCUITLAB_SCREENSHOT_DIR");
const LAB_LOCAL = requireEnv("LAB_LOCAL");
const WHOLE_TEST_MS = 150_000; // under ctest's 180 s, so the wrapper still stops the lab
const UI_MS = 10_000; // an ordinary wait for the page: generous on a busy 2-core machine
const SHOWN_OPEN_MS = 2_000; // the bound: the open breaker is on the page within 2 s
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const MUSTFAIL = {
  frontier: "frontier->midline[mustfail-request]",
  midline: "midline->backline[mustfail-request]",
};
const TIMEOUT = {
  frontier: "frontier->midline[timeout-request]",
  midline: "midline->backline[timeout-request]",
};

function requireEnv(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`browser test: ${name} is not set (run it through run_browser_test.sh)`);
    process.exit(2);
  }
  return value;
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

// --- what the page must not do ------------------------------------------------------------

// Collects console errors, uncaught exceptions, failed requests and answers >= 400 of one
// page, except those a step provokes on purpose (allow()).
class Watch {
  constructor(page, label) {
    this.label = label;
    this.problems = [];
    this.allowed = [];
    this.closing = false;
    page.on("console", (message) => {
      if (message.type() === "error" && !this.isAllowed(message.location().url)) {
        this.note(`console error: ${message.text()} (${message.location().url || "page"})`);
      }
    });
    page.on("pageerror", (error) => this.note(`uncaught exception: ${error.message}`));
    page.on("requestfailed", (request) => {
      // Leaving the page cuts the event stream; that is no failure.
      if (!this.closing) {
        this.note(`request failed: ${request.url()} ${request.failure()?.errorText}`);
      }
    });
    page.on("response", (response) => {
      if (response.status() >= 400 && !this.isAllowed(response.url())) {
        this.note(`answer ${response.status()}: ${response.request().method()} ${response.url()}`);
      }
    });
  }

  // An answer >= 400 from a URL containing `part` (and Chromium's console line about it) is
  // expected from now on.
  allow(part) { this.allowed.push(part); }

  isAllowed(url) {
    return Boolean(url) && this.allowed.some((part) => url.includes(part));
  }

  note(problem) { this.problems.push(problem); }

  assertClean(what) {
    check(this.problems.length === 0,
      `${this.label}: ${what}:\n    ${this.problems.join("\n    ")}`);
    console.log(`    no console errors, exceptions or failed requests on ${this.label}`);
  }
}

// --- steps --------------------------------------------------------------------------------

let currentPage = null;
let stepNumber = 0;

async function step(name, body) {
  stepNumber += 1;
  const started = Date.now();
  console.log(`step ${stepNumber}: ${name}`);
  try {
    await body();
  } catch (error) {
    const shot = join(SHOTS, `failure-step${stepNumber}.png`);
    if (currentPage) await currentPage.screenshot({ path: shot, fullPage: true }).catch(() => {});
    throw new Error(`step ${stepNumber} (${name}) failed: ${error.message}\n  page: ${shot}`);
  }
  console.log(`    ok in ${Date.now() - started} ms`);
}

const breaker = (page, name) => page.locator(`.breaker[data-breaker="${name}"]`);

async function expectState(page, name, state, timeout = UI_MS) {
  const card = breaker(page, name);
  await card.and(page.locator(`[data-state="${state}"]`)).waitFor({ timeout });
  const shown = (await card.locator(".state").innerText()).trim();
  check(shown.toLowerCase() === state.replace("_", "-"), `${name} shows "${shown}" for ${state}`);
  const colour = await card.locator(".state").evaluate((node) => getComputedStyle(node).color);
  return `${name}: ${shown} (${colour})`;
}

// Sends `count` calls one after the other, as curl in a loop would; notes when the first 503
// came back, by which time a breaker on the path was open.
async function storm(path, count) {
  const statuses = [];
  let firstRejectedAt = null;
  for (let i = 0; i < count; i++) {
    const answer = await fetch(GATEWAY + path, { signal: AbortSignal.timeout(UI_MS) });
    await answer.arrayBuffer();
    statuses.push(answer.status);
    if (answer.status === 503 && firstRejectedAt === null) firstRejectedAt = Date.now();
  }
  return { statuses, firstRejectedAt };
}

async function chaos() {
  const answer = await fetch(`${GATEWAY}/api/chain/chaos`, { signal: AbortSignal.timeout(UI_MS) });
  check(answer.status === 200, `GET /api/chain/chaos answered ${answer.status}`);
  return answer.json();
}

async function message(page, pattern) {
  await page.locator("#message", { hasText: pattern }).waitFor({ timeout: UI_MS });
  return (await page.locator("#message").innerText()).trim();
}

// Clears the page's message line first, so the next message() reads this press's answer.
async function press(page, name) {
  await page.locator("#message").evaluate((node) => { node.textContent = ""; });
  await page.getByRole("button", { name, exact: true }).click({ timeout: UI_MS });
}

async function pressOnBreaker(page, breakerName, action) {
  await page.locator("#message").evaluate((node) => { node.textContent = ""; });
  await breaker(page, breakerName).locator(`button[data-action="${action}"]`)
    .click({ timeout: UI_MS });
}

// Narrows and widens the window: the chart must fit its panel each time.
async function chartFollowsTheWindow(page) {
  const widths = () => page.locator("#chart").evaluate((chart) => ({
    canvas: chart.querySelector("canvas").getBoundingClientRect().width,
    panel: chart.clientWidth,
  }));
  const fits = async (viewport) => {
    await page.setViewportSize({ width: viewport, height: 900 });
    await page.waitForFunction(() => {
      const chart = document.querySelector("#chart");
      const canvas = chart.querySelector("canvas").getBoundingClientRect().width;
      return Math.abs(canvas - Math.max(320, chart.clientWidth)) <= 2;
    }, null, { timeout: UI_MS }).catch(() => {});
    const { canvas, panel } = await widths();
    check(Math.abs(canvas - Math.max(320, panel)) <= 2,
      `at ${viewport} px the chart is ${canvas} px wide in a ${panel} px panel`);
    return canvas;
  };
  // Below about 900 px the two panels stack, so the chart gets the whole width.
  const narrow = await fits(600);
  const wide = await fits(1600);
  const usual = await fits(1280);
  check(wide > usual, `the chart did not follow the window (${wide} px, then ${usual} px)`);
  return `the chart fits its panel: ${Math.round(narrow)} px at 600, ${Math.round(wide)} px ` +
    `at 1600, ${Math.round(usual)} px at 1280`;
}

// --- the scenario -------------------------------------------------------------------------

async function loadDashboard(context) {
  const page = await context.newPage();
  currentPage = page;
  const watch = new Watch(page, "/dashboard/");

  await step("the dashboard loads and shows frontier -> midline -> backline", async () => {
    const answer = await page.goto(`${GATEWAY}/dashboard/`, { timeout: UI_MS });
    check(answer && answer.status() === 200, `GET /dashboard/ answered ${answer?.status()}`);
    await page.locator("#status", { hasText: "updated" }).waitFor({ timeout: UI_MS });
    const hops = await page.locator(".chain > .hop").evaluateAll(
      (nodes) => nodes.map((node) => node.getAttribute("data-hop")));
    check(JSON.stringify(hops) === '["frontier","midline","backline"]',
      `the chain shows ${JSON.stringify(hops)}`);
    console.log(`    chain: ${hops.join(" -> ")}`);
    for (const name of [MUSTFAIL.frontier, MUSTFAIL.midline, TIMEOUT.midline]) {
      console.log(`    ${await expectState(page, name, "closed")}`);
    }
    await page.locator("#chart canvas").first().waitFor({ timeout: UI_MS });
    console.log("    the calls-per-second chart is drawn");
    console.log(`    ${await chartFollowsTheWindow(page)}`);
    // Two more polls and a few outcome events: late errors show up too.
    await page.waitForTimeout(2500);
    watch.assertClean("while loading");
  });
  return { page, watch };
}

async function openOnStorm(page, watch) {
  await step("a mustfail-request storm shows midline->backline open within 2 s", async () => {
    const { statuses, firstRejectedAt } = await storm("/api/mustfail-request", 20);
    console.log(`    20 × GET /api/mustfail-request: ${statuses.join(" ")}`);
    check(statuses.slice(0, 5).every((s) => s === 502), "the first five calls should be 502");
    check(statuses.slice(-10).every((s) => s === 503), "the last ten calls should be 503");

    const left = Math.max(1, firstRejectedAt + SHOWN_OPEN_MS - Date.now());
    console.log(`    ${await expectState(page, MUSTFAIL.midline, "open", left)}`);
    console.log(`    shown ${Date.now() - firstRejectedAt} ms after the first 503 (bound 2000 ms)`);
    await page.locator("#transitions tbody tr", { hasText: MUSTFAIL.midline })
      .filter({ hasText: "closed → open" }).first().waitFor({ timeout: UI_MS });
    console.log("    its closed → open transition is listed with its reason");
    // The card itself says why it opened: the trip cleared the window, the reason keeps it.
    const card = breaker(page, MUSTFAIL.midline);
    const why = (await card.locator(".why").innerText()).trim();
    check(/^closed → open: failure rate 100\.0% >= 50\.0% over \d+ calls/.test(why),
      `the open card should give the trip's reason, shows "${why}"`);
    const text = await card.innerText();
    check(text.includes("window cleared when it opened"), `the open card says: "${text}"`);
    console.log(`    the card says why: "${why}"`);
    // The chart gets the storm's second with the next outcomes event; the breaker stays open
    // until the next call (no CB_AUTO_HALF_OPEN), so waiting for it cannot lose the state.
    await page.waitForTimeout(1200);
    await expectState(page, MUSTFAIL.midline, "open");
    await page.screenshot({ path: join(SHOTS, "dashboard-open.png"), fullPage: true });
    console.log(`    screenshot: ${join(SHOTS, "dashboard-open.png")}`);
    watch.assertClean("after the storm");
  });
}

async function refusedWithoutToken(context) {
  const page = await context.newPage();
  currentPage = page;
  const watch = new Watch(page, "/dashboard/ without a token");
  watch.allow("/api/chain/");

  await step("without the right token the controls refuse and change nothing", async () => {
    await page.goto(`${GATEWAY}/dashboard/`, { timeout: UI_MS });
    await page.locator("#token-state", { hasText: "no token yet" }).waitFor({ timeout: UI_MS });
    await press(page, "Break backline");
    console.log(`    no token, Break backline: "${await message(page, "token first")}"`);

    await page.locator("#token").fill("not-the-admin-token-0123456789");
    await press(page, "Keep");
    await press(page, "Break backline");
    console.log(`    wrong token, Break backline: "${await message(page, /^401/)}"`);
    await page.locator("#token-state", { hasText: "no token yet" }).waitFor({ timeout: UI_MS });
    console.log("    the refused token is forgotten");

    await page.locator("#token").fill("not-the-admin-token-0123456789");
    await press(page, "Keep");
    await pressOnBreaker(page, TIMEOUT.midline, "forced_open");
    console.log(`    wrong token, forced_open: "${await message(page, /^401/)}"`);

    const after = await chaos();
    check(after.fail_rate === 0, `backline's fail_rate became ${after.fail_rate}`);
    console.log(`    ${await expectState(page, TIMEOUT.midline, "closed")}; backline fail_rate 0`);
    watch.closing = true;
    watch.assertClean("while refusing");
  });
  await page.close();
}

async function keepToken(page) {
  await page.locator("#token").fill(TOKEN);
  await press(page, "Keep");
  await page.locator("#token-state", { hasText: "token kept" }).waitFor({ timeout: UI_MS });
  // The message line no longer asks for a token.
  await message(page, /^Token kept/);
  console.log("    token entered once: \"token kept for this tab\"");
}

async function breakAndHeal(page, watch) {
  await step("Break backline, 20 × timeout-request from the page: the breakers open", async () => {
    watch.allow("/api/timeout-request");
    await keepToken(page);
    await press(page, "Break backline");
    console.log(`    Break backline: "${await message(page, "chaos: done")}"`);
    await page.locator('.hop[data-hop="backline"]', { hasText: "fail 1" })
      .waitFor({ timeout: UI_MS });
    check((await chaos()).fail_rate === 1, "backline's fail_rate is not 1");
    console.log("    backline shows fail 1");

    await press(page, "20 × timeout-request");
    console.log(`    traffic: "${await message(page, "/api/timeout-request:")}"`);
    console.log(`    ${await expectState(page, TIMEOUT.midline, "open")}`);
    watch.assertClean("while breaking");
  });

  await step("Heal backline, wait out the open period: the next calls close it", async () => {
    await press(page, "Heal backline");
    console.log(`    Heal backline: "${await message(page, "chaos: done")}"`);
    await page.locator('.hop[data-hop="backline"]', { hasText: "fail 0 " })
      .waitFor({ timeout: UI_MS });
    console.log("    backline shows fail 0");
    for (const name of [TIMEOUT.frontier, TIMEOUT.midline]) {
      await breaker(page, name).filter({ hasText: "half-open on the next call" })
        .waitFor({ timeout: UI_MS });
    }
    console.log("    both timeout-request breakers say the probe is due");

    await press(page, "20 × timeout-request");
    console.log(`    traffic: "${await message(page, "20 × 200")}"`);
    console.log(`    ${await expectState(page, TIMEOUT.midline, "closed")}`);
    console.log(`    ${await expectState(page, TIMEOUT.frontier, "closed")}`);
    await page.locator("#transitions tbody tr", { hasText: TIMEOUT.midline })
      .filter({ hasText: "half_open → closed" }).first().waitFor({ timeout: UI_MS });
    console.log("    its half_open → closed transition is listed");
    watch.assertClean("while healing");
  });

  await step("the reset buttons close the mustfail-request breakers", async () => {
    for (const name of [MUSTFAIL.midline, MUSTFAIL.frontier]) {
      await pressOnBreaker(page, name, "reset");
      await message(page, "state: done");
      console.log(`    reset: ${await expectState(page, name, "closed")}`);
    }
    await page.waitForTimeout(1500);
    await page.screenshot({ path: join(SHOTS, "dashboard-closed.png"), fullPage: true });
    console.log(`    screenshot: ${join(SHOTS, "dashboard-closed.png")}`);
    watch.closing = true;
    watch.assertClean("after the reset");
  });
}

async function swaggerUi(context) {
  const page = await context.newPage();
  currentPage = page;
  const watch = new Watch(page, "Swagger UI");

  await step("Swagger UI loads and lists the admin routes", async () => {
    const answer = await page.goto(`${GATEWAY}/api/schema/swagger-ui/`, { timeout: UI_MS });
    check(answer && answer.status() === 200, `Swagger UI answered ${answer?.status()}`);
    await page.locator(".opblock").first().waitFor({ timeout: UI_MS });
    const paths = await page.locator(".opblock-summary-path").evaluateAll(
      (nodes) => nodes.map((node) => node.getAttribute("data-path") || node.textContent));
    for (const wanted of ["/api/breakers/{name}/state", "/api/chain/breakers/{name}/state",
                          "/api/chain/chaos"]) {
      const listed = paths.some((path) => path.replace(/\u200b/g, "") === wanted);
      check(listed, `${wanted} is not listed`);
    }
    console.log(`    ${paths.length} operations, among them the admin routes`);

    await page.locator(".auth-wrapper").getByRole("button", { name: "Authorize" }).click();
    await page.locator(".modal-ux input").first().fill(TOKEN);
    await page.locator(".modal-ux button", { hasText: /^Authorize$/ }).click();
    await page.locator(".modal-ux button", { hasText: /^Logout$/ }).waitFor({ timeout: UI_MS });
    await page.locator(".modal-ux button", { hasText: /^Close$/ }).click();
    console.log("    authorized with the token (the dialog offers Logout)");
    await page.waitForTimeout(500);
    watch.closing = true;
    watch.assertClean("Swagger UI");
  });
  await page.close();
}

// The last step: frontier restarted with no ADMIN_TOKEN, so its admin routes are off.
async function refusedWhenAdminIsOff(context) {
  const page = await context.newPage();
  currentPage = page;
  const watch = new Watch(page, "/dashboard/ with the admin routes off");
  watch.allow("/api/chain/");

  await step("with no ADMIN_TOKEN on frontier the controls get 403, change nothing", async () => {
    const env = { ...process.env };
    delete env.ADMIN_TOKEN;
    execFileSync(LAB_LOCAL, ["restart", "frontier"], { env, stdio: "ignore", timeout: 30_000 });
    console.log("    frontier restarted without ADMIN_TOKEN");
    await page.goto(`${GATEWAY}/dashboard/`, { timeout: UI_MS });
    await page.locator("#token").fill(TOKEN);
    await press(page, "Keep");
    await press(page, "Break backline");
    console.log(`    Break backline: "${await message(page, /^403/)}"`);
    check((await chaos()).fail_rate === 0, "backline's fail_rate changed");
    console.log("    backline fail_rate still 0");
    watch.closing = true;
    watch.assertClean("while the admin routes are off");
  });
  await page.close();
}

async function main() {
  mkdirSync(SHOTS, { recursive: true });
  for (const old of readdirSync(SHOTS).filter((name) => name.startsWith("failure-"))) {
    rmSync(join(SHOTS, old));
  }
  const profile = mkdtempSync(join(tmpdir(), "circuitlab-chromium-"));
  const timer = setTimeout(() => {
    console.error(`browser test: not done after ${WHOLE_TEST_MS / 1000} s (step ${stepNumber})`);
    process.exit(1);
  }, WHOLE_TEST_MS);
  let context = null;
  try {
    const started = Date.now();
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
      timeout: 60_000,
    });
    context.setDefaultTimeout(UI_MS);
    console.log(`Chromium started in ${Date.now() - started} ms; lab at ${GATEWAY}`);

    const { page, watch } = await loadDashboard(context);
    await openOnStorm(page, watch);
    await refusedWithoutToken(context);
    currentPage = page;
    await breakAndHeal(page, watch);
    await page.close();
    await swaggerUi(context);
    await refusedWhenAdminIsOff(context);
    console.log(`browser test: all ${stepNumber} steps passed`);
  } finally {
    clearTimeout(timer);
    if (context) await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`browser test: ${error.message}`);
  process.exit(1);
});
