import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/** Debian's chromium (installed by .ci/run when missing); CHROMIUM_PATH overrides. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Screenshots of the browser e2e land here (git-ignored), to be looked at after a run. */
export const ARTIFACTS = resolve(import.meta.dirname, '..', 'artifacts');

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`no chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in a container has no user namespace sandbox; /dev/shm is small there.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    defaultViewport: { width: 1400, height: 1000 },
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: resolve(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Waits until `read` (run in the page) returns a truthy value, and returns it. */
export async function waitInPage<T>(
  page: Page,
  read: (arg?: unknown) => T,
  timeoutMs = 60_000,
  what = 'a condition',
  arg?: unknown,
): Promise<T> {
  const handle = await page.waitForFunction(read, { timeout: timeoutMs, polling: 100 }, arg).catch((error: Error) => {
    throw new Error(`waited ${timeoutMs} ms for ${what}: ${error.message}`);
  });
  return (await handle.jsonValue()) as T;
}
