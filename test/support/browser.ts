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

/** Where the page is and what it shows (its text, and the values of its text fields), for a failure's message. */
function shown(page: Page): Promise<string> {
  return page
    .evaluate(() => {
      const fields = [...document.querySelectorAll('textarea, input[name]:not([type=password])')].map(
        (field) => `${field.getAttribute('name')}=${(field as HTMLInputElement).value}`,
      );
      const text = document.querySelector('main')?.textContent ?? '';
      return `${location.pathname}${location.search} ${text} ${fields.join(' ')}`.replace(/\s+/g, ' ').slice(0, 600);
    })
    .catch((error: Error) => `unreadable (${error.message})`);
}

/** Waits until `read` (run in the page) returns a truthy value, and returns it. */
export async function waitInPage<T>(
  page: Page,
  read: (arg?: unknown) => T,
  timeoutMs = 60_000,
  what = 'a condition',
  arg?: unknown,
): Promise<T> {
  const handle = await page.waitForFunction(read, { timeout: timeoutMs, polling: 100 }, arg).catch(async (error) => {
    throw new Error(`waited ${timeoutMs} ms for ${what}: ${(error as Error).message}; the page: ${await shown(page)}`);
  });
  return (await handle.jsonValue()) as T;
}
