import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Browser, HTTPRequest, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EXAMPLE_SPEC } from '../apps/web/src/examples.js';
import { chartPointBudget } from '../apps/web/src/series.js';
import { launchBrowser, screenshot, waitInPage } from './support/browser.js';
import { mnistPngs, zipOf } from './support/image-zips.js';
import { TestStack } from './support/stack.js';

/** Palmer penguins from the vega-datasets package, written as the CSV a user would upload. */
function penguinsCsv(): string {
  const path = join(import.meta.dirname, '..', 'node_modules', 'vega-datasets', 'data', 'penguins.json');
  const rows = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>[];
  const columns = Object.keys(rows[0]);
  const cell = (value: unknown) =>
    value === null || value === undefined
      ? ''
      : /[",\n]/.test(String(value))
        ? `"${String(value).replace(/"/g, '""')}"`
        : String(value);
  return [columns.map(cell).join(','), ...rows.map((row) => columns.map((column) => cell(row[column])).join(','))].join(
    '\n',
  );
}

const PENGUINS_FILE = join(tmpdir(), `penguins-${process.pid}.csv`);
writeFileSync(PENGUINS_FILE, penguinsCsv());

/** A penguins dataset and a model of a test's own, made through the API (no test relies on what another made). */
async function penguinsAndModel(stack: TestStack): Promise<{ datasetId: string; modelId: string }> {
  const upload = await stack.upload(readFileSync(PENGUINS_FILE), 'penguins.csv', { name: 'penguins' });
  expect(upload.status, JSON.stringify(upload.body)).toBe(201);
  const { createModel } = await stack.gqlOk(
    `mutation($input: CreateModelInput!) { createModel(input: $input) { id } }`,
    { input: { name: 'penguin-mlp', spec: EXAMPLE_SPEC } },
  );
  return { datasetId: upload.body.id, modelId: createModel.id };
}

/** Starts a run of the penguins MLP through the API and returns its id. */
async function startPenguinsRun(stack: TestStack, training: Record<string, unknown>): Promise<string> {
  const { datasetId, modelId } = await penguinsAndModel(stack);
  const hyperparameters = { hidden: 16, lr: 0.01 };
  const input = { datasetId, modelId, hyperparameters, training: { target: 'Species', ...training } };
  const { startRun } = await stack.gqlOk(`mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, {
    input,
  });
  return startRun.id;
}

async function setField(page: Page, selector: string, value: string): Promise<void> {
  await page.$eval(
    selector,
    (element, text) => {
      const field = element as HTMLInputElement | HTMLTextAreaElement;
      field.value = text;
      field.dispatchEvent(new Event('input', { bubbles: true }));
    },
    value,
  );
}

async function text(page: Page, selector: string): Promise<string> {
  return page.$eval(selector, (element) => element.textContent ?? '');
}

/** Points drawn on the chart titled `title` (the chart reports them in data-points). */
function pointsOn(page: Page, title: string): Promise<number> {
  return page.evaluate(
    (name) => Number(document.querySelector(`[data-chart="${name}"]`)?.getAttribute('data-points') ?? 0),
    title,
  );
}

/** Upload penguins through the page's form, with its progress bar, and land on the dataset's own page. */
async function uploadPenguins(page: Page, base: string): Promise<string> {
  await page.goto(`${base}/ui/datasets/new`);
  const input = await page.waitForSelector('input[type=file]');
  await input!.uploadFile(PENGUINS_FILE);
  await setField(page, 'input[name=name]', 'penguins');
  await page.click('button[type=submit]');
  await page.waitForFunction(() => /^\/ui\/datasets\/[0-9a-f-]{36}$/.test(location.pathname), { timeout: 60_000 });
  await page.waitForSelector('table[aria-label=columns] tbody tr');
  return page.evaluate(() => location.pathname.split('/').pop()!);
}

/** Create the model from the JSON editor (after showing the server's refusal of a bad spec) and start a run. */
async function createModelAndStartRun(page: Page, base: string, epochs: number): Promise<string> {
  await page.goto(`${base}/ui/models/new`);
  await page.waitForSelector('textarea[name=spec]');
  await setField(page, 'input[name=name]', 'penguin-mlp');
  const spec = await page.$eval('textarea[name=spec]', (element) => (element as HTMLTextAreaElement).value);
  await setField(page, 'textarea[name=spec]', spec.replace('"relu"', '"no-such-activation"'));
  await page.click('button[type=submit]');
  await page.waitForSelector('.error');
  const refusal = await text(page, '.error');
  await setField(page, 'textarea[name=spec]', spec);
  await page.click('button[type=submit]');
  await page.waitForFunction(() => location.pathname === '/ui/runs/new', { timeout: 30_000 });
  // The training config is filled in for the chosen dataset; the target found is the species.
  await waitInPage(
    page,
    () => (document.querySelector('textarea[name=training]') as HTMLTextAreaElement)?.value.includes('Species'),
    30_000,
    'the training config',
  );
  await setField(
    page,
    'textarea[name=training]',
    JSON.stringify({ target: 'Species', epochs, batchSize: 16, validationSplit: 0.25, seed: 7 }),
  );
  await page.click('button[type=submit]');
  await page.waitForFunction(() => /^\/ui\/runs\/[0-9a-f-]{36}$/.test(location.pathname), { timeout: 30_000 });
  expect(refusal).toMatch(/no-such-activation|activation/i);
  return page.evaluate(() => location.pathname.split('/').pop()!);
}

/** Watch the loss curve grow on the open run page while the run trains, with no reload, until it succeeds. */
async function watchCurveGrow(page: Page, epochs: number): Promise<number[]> {
  const seen: number[] = [];
  const deadline = Date.now() + 120_000;
  for (;;) {
    const [points, status] = [await pointsOn(page, 'loss'), await text(page, 'h1 .badge').catch(() => '')];
    if (points !== seen[seen.length - 1]) seen.push(points);
    if (status === 'SUCCEEDED' && points >= 2 * epochs) return seen;
    if (['FAILED', 'CANCELLED'].includes(status)) throw new Error(`the run ended ${status}`);
    if (Date.now() > deadline)
      throw new Error(`the curve did not finish: saw ${seen.join(', ')} points, status ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the dashboard in a real browser', () => {
  const stack = new TestStack();
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    await stack.start({ workers: 1 });
    browser = await launchBrowser();
    page = await browser.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await stack.stop();
  });

  it('serves the page at / and every /ui address (deep links survive a reload), GraphiQL at GET /graphql', async () => {
    for (const path of [
      '/',
      '/ui/datasets',
      '/ui/runs',
      '/ui/sweeps',
      '/ui/runs/00000000-0000-0000-0000-000000000000',
    ]) {
      const response = await fetch(`${stack.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type'), path).toMatch(/text\/html/);
      expect(await response.text(), path).toContain('/assets/app.js');
    }
    const app = await fetch(`${stack.url}/assets/app.js`);
    expect(app.headers.get('content-type')).toMatch(/javascript/);
    // Only the built assets: no way out of dist/web, and an unknown asset is a 404, not the page.
    for (const path of ['/assets/..%2f..%2f..%2fpackage.json', '/assets/%2e%2e/schema.graphql', '/assets/no-such.js']) {
      const response = await fetch(`${stack.url}${path}`);
      expect(response.status, path).toBe(404);
      expect(await response.text(), path).not.toContain('"trainer"');
    }
    const graphiql = await fetch(`${stack.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(graphiql.status).toBe(200);
    expect(await graphiql.text()).toContain('/assets/graphiql.js');
    // Everything the pages load comes from the API itself: nothing from a CDN.
    const external: string[] = [];
    page.on(
      'request',
      (request) =>
        !request.url().startsWith(stack.url) && !request.url().startsWith('data:') && external.push(request.url()),
    );
    await page.goto(`${stack.url}/graphql`);
    await page.waitForSelector('.graphiql-container', { timeout: 30_000 });
    await waitInPage(
      page,
      () => document.body.innerText.includes('Documentation') || !!document.querySelector('.graphiql-doc-explorer'),
      10_000,
      'GraphiQL',
    ).catch(() => undefined);
    await screenshot(page, 'graphiql');
    expect(external).toEqual([]);
    // POST /graphql is unchanged.
    expect((await stack.gqlOk('{ datasets { id } }')).datasets).toEqual([]);
  });

  let runId: string;

  it('uploads penguins, creates a model from the JSON editor, starts a run, watches its curve grow', async () => {
    const datasetId = await uploadPenguins(page, stack.url);
    const columns = await page.$$eval('table[aria-label=columns] tbody tr', (rows) =>
      rows.map((row) => row.querySelector('td')!.textContent),
    );
    expect(columns).toEqual([
      'Species',
      'Island',
      'Beak Length (mm)',
      'Beak Depth (mm)',
      'Flipper Length (mm)',
      'Body Mass (g)',
      'Sex',
    ]);
    // A histogram per column: 24 bins between min and max for numbers, value counts for text.
    await page.waitForSelector('svg[aria-label=histogram]', { timeout: 20_000 });
    const bars = await page.$$eval('table[aria-label=columns] tbody tr', (rows) =>
      rows.map((row) => row.querySelector('svg')?.getAttribute('data-bars')),
    );
    expect(bars).toEqual(['3', '3', '24', '24', '24', '24', '3']);
    const { dataset } = await stack.gqlOk(`query($id: ID!) { dataset(id: $id) { histograms(bins: 10) } }`, {
      id: datasetId,
    });
    const beak = dataset.histograms['Beak Length (mm)'];
    expect(beak.counts.reduce((sum: number, count: number) => sum + count, 0)).toBe(342);
    expect([beak.edges[0], beak.edges[10]]).toEqual([32.1, expect.closeTo(59.6, 6)]);
    expect(dataset.histograms.Species).toEqual({
      kind: 'categorical',
      values: ['Adelie', 'Gentoo', 'Chinstrap'],
      counts: [152, 124, 68],
      other: 0,
    });
    const refused = await stack.gql(`query($id: ID!) { dataset(id: $id) { histograms(bins: 1000) } }`, {
      id: datasetId,
    });
    expect(refused.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(refused.errors?.[0].message).toContain('bins');
    await screenshot(page, 'dataset');
    const epochs = 40;
    runId = await createModelAndStartRun(page, stack.url, epochs);
    const seen = await watchCurveGrow(page, epochs);
    // At least three different sizes of the curve while it trained: it grew on the open page, not at a reload.
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen[seen.length - 1]).toBe(2 * epochs);
    const summary = (
      await stack.gqlOk(`query($id: ID!) { run(id: $id) { summary dataset { id } bestCheckpoint { modelUrl } } }`, {
        id: runId,
      })
    ).run;
    expect(summary.dataset.id).toBe(datasetId);
    expect(summary.summary.val_accuracy).toBeGreaterThanOrEqual(0.9);
    // The checkpoints list catches up with the finished run (older checkpoints are pruned as it trains): the best
    // one's download link is there and serves model.json.
    const modelUrl = summary.bestCheckpoint.modelUrl;
    await page.waitForSelector(`a[download="model.json"][href="${modelUrl}"]`, { timeout: 20_000 });
    expect((await fetch(`${stack.url}${modelUrl}`)).status).toBe(200);
    expect(await pointsOn(page, 'learning rate')).toBe(epochs);
    // The best checkpoint's confusion matrix on the validation split: penguins keep 333 of 344 rows (missing=drop),
    // a quarter of them validate; its accuracy is the val_accuracy that checkpoint recorded while training.
    await page.waitForSelector('table[aria-label="confusion matrix"]', { timeout: 60_000 });
    const cells = await page.$$eval('table[aria-label="confusion matrix"] tbody tr', (rows) =>
      rows.map((row) => [...row.querySelectorAll('td')].map((cell) => Number(cell.textContent))),
    );
    expect(cells).toHaveLength(3);
    expect(cells.flat().reduce((sum, count) => sum + count, 0)).toBe(Math.floor(333 * 0.25));
    const { run: evaluated } = await stack.gqlOk(
      `query($id: ID!) { run(id: $id) { confusionMatrix bestCheckpoint { id metrics } } }`,
      { id: runId },
    );
    expect(evaluated.confusionMatrix.labels).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
    expect(evaluated.confusionMatrix.checkpointId).toBe(evaluated.bestCheckpoint.id);
    expect(evaluated.confusionMatrix.accuracy).toBeCloseTo(evaluated.bestCheckpoint.metrics.val_accuracy, 4);
    await screenshot(page, 'run');
    // A reload of the run's own address shows the same run, curve complete.
    await page.reload();
    await waitInPage(
      page,
      () => Number(document.querySelector('[data-chart="loss"]')?.getAttribute('data-points')) > 0,
      20_000,
      'the curve',
    );
    expect(await pointsOn(page, 'loss')).toBe(2 * epochs);
  });

  it('keeps the curve growing across an API restart (reconnecting by itself), cancels on confirmation', async () => {
    // The final check counts every epoch on the chart, so the run may never log more epochs than the chart holds
    // undownsampled (chartPointBudget: ~650 per series in this viewport): at most 600. It must still be training
    // when the page cancels it, so its epochs are slow: one row per step and a checkpoint written after each epoch
    // (about 4 epochs a second on CI, where the steps below take two minutes).
    const maxEpochs = 600;
    const runId = await startPenguinsRun(stack, {
      epochs: maxEpochs,
      batchSize: 1,
      checkpoint: { every: 1, keep: 2 },
      seed: 1,
    });
    try {
      await followAcrossRestart(runId, maxEpochs);
    } finally {
      // Whatever happened above, the run must not keep the only worker busy for the tests after this one.
      await stack.gql(`mutation($id: ID!) { cancelRun(id: $id) { id } }`, { id: runId }).catch(() => undefined);
    }
  }, 240_000);

  /** The restart test's steps, each with its own limit, so a failure names the step that did not happen. */
  async function followAcrossRestart(runId: string, maxEpochs: number): Promise<void> {
    await page.goto(`${stack.url}/ui/runs/${runId}`);
    // The premise of the last step: the page fetches every stored point of a run this long.
    expect(await page.evaluate(chartPointBudget)).toBeGreaterThanOrEqual(maxEpochs);
    await waitInPage(
      page,
      () => document.querySelector('h1 .badge')?.textContent === 'RUNNING',
      60_000,
      'the run to start',
    );
    await waitInPage(
      page,
      () => Number(document.querySelector('[data-chart="loss"]')?.getAttribute('data-points')) >= 6,
      60_000,
      'points',
    );
    // Checkpoints show up while it trains (one per epoch here, a new epoch every fraction of a second).
    await page.waitForSelector('a[download="model.json"]', { timeout: 20_000 });
    expect(await text(page, 'h1 .badge')).toBe('RUNNING');
    // The API goes away while the worker trains on; the page's socket drops, retries, and catches up.
    await stack.stopApi();
    await waitInPage(
      page,
      () => document.querySelector('.live')?.textContent?.includes('connecting'),
      20_000,
      'the page to notice',
    );
    const beforeRestart = await pointsOn(page, 'loss');
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await stack.startApi();
    await waitInPage(
      page,
      () => document.querySelector('.live')?.textContent?.includes('live'),
      60_000,
      'the reconnection',
    );
    const afterRestart = await waitInPage(
      page,
      (at) => {
        const points = Number(document.querySelector('[data-chart="loss"]')?.getAttribute('data-points'));
        return points > (at as number) + 4 ? points : 0;
      },
      60_000,
      'new points after the restart',
      beforeRestart,
    );
    expect(afterRestart).toBeGreaterThan(beforeRestart);
    await page.click('button.danger');
    await page.waitForSelector('.confirm');
    const [yes] = await page.$$('.confirm button.danger');
    await yes.click();
    await waitInPage(page, () => document.querySelector('h1 .badge')?.textContent === 'CANCELLED', 30_000, 'CANCELLED');
    const cancelled = await stack.waitForRun(runId, ['CANCELLED']);
    // No gap: every epoch logged, also those logged while the API was down, is on the chart (loss and val_loss).
    await waitInPage(
      page,
      (epochs) =>
        Number(document.querySelector('[data-chart="loss"]')?.getAttribute('data-points')) === 2 * (epochs as number),
      20_000,
      'every point',
      cancelled.epochsCompleted,
    );
  }

  it('starts a sweep from its form; the finished sweep: objective, parallel coords, importance, trials', async () => {
    const { datasetId, modelId } = await penguinsAndModel(stack);
    await page.goto(`${stack.url}/ui/sweeps/new?dataset=${datasetId}&model=${modelId}`);
    await waitInPage(
      page,
      () => (document.querySelector('textarea[name=training]') as HTMLTextAreaElement)?.value.includes('Species'),
      30_000,
      'the form',
    );
    await setField(page, 'input[name=name]', 'penguin-search');
    await setField(page, 'input[name=maxTrials]', '10');
    await setField(page, 'input[name=metric]', 'val_loss');
    await page.select('select[name=goal]', 'MINIMIZE');
    await page.select('select[name=strategy]', 'RANDOM');
    await setField(
      page,
      'textarea[name=training]',
      JSON.stringify({ target: 'Species', epochs: 4, batchSize: 16, seed: 3 }),
    );
    await page.click('button[type=submit]');
    await page.waitForFunction(() => /^\/ui\/sweeps\/[0-9a-f-]{36}$/.test(location.pathname), { timeout: 30_000 });
    const sweepId = await page.evaluate(() => location.pathname.split('/').pop()!);
    // The page follows the running sweep by itself, to its end, without a reload.
    await waitInPage(
      page,
      () =>
        document.querySelector('h1 .badge')?.textContent === 'SUCCEEDED' &&
        document.querySelector('[role=table][aria-label=trials]')?.getAttribute('data-rows') === '10' &&
        document.querySelector('.live')?.textContent === 'finished',
      150_000,
      'the finished sweep on the page it was started from',
    ).catch((error) => {
      throw new Error(`${error.message}\n${stack.logs()}`);
    });
    const problems: string[] = [];
    page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));
    page.on('pageerror', (error) => problems.push(String(error)));
    await page.reload();
    await page.waitForSelector('[data-chart="parallel coordinates"] canvas', { timeout: 20_000 });
    await screenshot(page, 'sweep');
    await page.waitForSelector('[data-chart="objective by trial"] canvas');
    expect(await text(page, 'h1 .badge')).toBe('SUCCEEDED');
    // Ten finished trials: PED-ANOVA importance is served and drawn as bars, one per parameter, summing to 1.
    await page.waitForSelector('[data-chart="parameter importance"] canvas');
    const { sweep } = await stack.gqlOk(`query($id: ID!) { sweep(id: $id) { importance } }`, { id: sweepId });
    expect(Object.keys(sweep.importance).sort()).toEqual(['hidden', 'lr']);
    expect(
      Object.values(sweep.importance as Record<string, number>).reduce((sum, share) => sum + share, 0),
    ).toBeCloseTo(1, 6);
    expect(await page.$eval('[role=table][aria-label=trials]', (table) => table.getAttribute('data-rows'))).toBe('10');
    await waitInPage(
      page,
      () => Number(document.querySelector('[data-chart="intermediate values"]')?.getAttribute('data-points')) >= 10 * 4,
      30_000,
      'intermediate values',
    ).catch((error) => {
      throw new Error(`${error.message}; page errors: ${problems.join('; ')}`);
    });
    // Sort the trials by the objective with a click on its header, pick two and overlay their curves.
    await page.evaluate(() =>
      [...document.querySelectorAll('[role=columnheader]')]
        .find((h) => h.textContent?.startsWith('val_loss'))
        ?.dispatchEvent(new MouseEvent('click', { bubbles: true })),
    );
    const boxes = await page.$$('[aria-label^="pick trial"]');
    await boxes[0].click();
    await boxes[1].click();
    await waitInPage(
      page,
      () => {
        // Both trials, loss and val_loss each, 4 epochs.
        const chart = document.querySelector('[data-chart="picked trials"]');
        return chart?.getAttribute('data-series') === '4' && chart.getAttribute('data-points') === String(2 * 2 * 4);
      },
      20_000,
      'the overlay of both picked trials',
    );
    await screenshot(page, 'sweep');
  }, 240_000);

  it('lists the runs newest first with their total, and filters them by status', async () => {
    const cancelledId = await startPenguinsRun(stack, { epochs: 10_000 });
    await stack.gqlOk(`mutation($id: ID!) { cancelRun(id: $id) { id } }`, { id: cancelledId });
    await stack.waitForRun(cancelledId, ['CANCELLED']);
    await page.goto(`${stack.url}/ui/runs`);
    const { runsPage } = await stack.gqlOk('{ runsPage(first: 500) { totalCount nodes { id } } }');
    await waitInPage(
      page,
      (total) => document.querySelector('[aria-label=runs]')?.getAttribute('data-rows') === String(total),
      20_000,
      'the runs',
      runsPage.totalCount,
    );
    expect(await text(page, '.toolbar .muted')).toBe(`${runsPage.totalCount} runs`);
    const shown = await page.$$eval('[aria-label=runs] [role=row] [role=cell]:first-child a', (links) =>
      links.map((link) => link.getAttribute('href')!.split('/').pop()),
    );
    expect(shown).toEqual(runsPage.nodes.slice(0, shown.length).map((run: { id: string }) => run.id));
    await screenshot(page, 'runs');
    const cancelled = (await stack.gqlOk('{ runsPage(first: 500, status: CANCELLED) { totalCount } }')).runsPage;
    await page.select('select[name=status]', 'CANCELLED');
    await waitInPage(
      page,
      (total) => document.querySelector('[aria-label=runs]')?.getAttribute('data-rows') === String(total),
      20_000,
      'the filter',
      cancelled.totalCount,
    );
    const badges = await page.$$eval('[aria-label=runs] [role=row] .badge', (cells) => cells.map((c) => c.textContent));
    expect(new Set(badges)).toEqual(new Set(['CANCELLED']));
    const filtered = await page.$$eval('[aria-label=runs] [role=row] [role=cell]:first-child a', (links) =>
      links.map((link) => link.getAttribute('href')!.split('/').pop()),
    );
    expect(filtered).toContain(cancelledId);
    // The list keeps itself up to date: a run cancelled now shows up in it, with no reload.
    const laterId = await startPenguinsRun(stack, { epochs: 10_000 });
    await stack.gqlOk(`mutation($id: ID!) { cancelRun(id: $id) { id } }`, { id: laterId });
    await waitInPage(
      page,
      (id) => !!document.querySelector(`[aria-label=runs] a[href="/ui/runs/${id}"]`),
      20_000,
      'the run cancelled after the page loaded',
      laterId,
    );
    expect(await text(page, '.toolbar .muted')).toBe(`${cancelled.totalCount + 1} runs`);
  });

  it('shows an images dataset uploaded from the page: warnings, images per class and thumbnails', async () => {
    const digits = mnistPngs(200, 0);
    const entries = digits.training.map((digit, index) => ({
      name: `digits/${digit.label}/${index}.png`,
      data: digit.png,
    }));
    entries.push({ name: 'digits/README.txt', data: Buffer.from('one folder per class\n') });
    const zipFile = join(tmpdir(), `digits-${process.pid}.zip`);
    writeFileSync(zipFile, await zipOf(entries));
    await page.goto(`${stack.url}/ui/datasets/new`);
    const input = await page.waitForSelector('input[type=file]');
    await input!.uploadFile(zipFile);
    await page.click('button[type=submit]');
    await page.waitForFunction(() => /^\/ui\/datasets\/[0-9a-f-]{36}$/.test(location.pathname), { timeout: 60_000 });
    await page.waitForSelector('[aria-label=samples] img', { timeout: 60_000 });
    await page.waitForSelector('[data-chart="images per class"] canvas');
    expect(await text(page, '.warnings')).toContain('digits/README.txt');
    const counts = new Map<string, number>();
    for (const digit of digits.training) counts.set(String(digit.label), (counts.get(String(digit.label)) ?? 0) + 1);
    // Six thumbnails of each class (28×28 digits stay 28×28), fewer for a class holding fewer images.
    const thumbnails = await page.$$eval('[aria-label=samples] img', (images) =>
      images.map((image) => (image as HTMLImageElement).naturalWidth),
    );
    expect(thumbnails).toHaveLength([...counts.values()].reduce((sum, count) => sum + Math.min(6, count), 0));
    expect(thumbnails.every((width) => width === 28)).toBe(true);
    const datasetId = await page.evaluate(() => location.pathname.split('/').pop()!);
    const { dataset } = await stack.gqlOk(`query($id: ID!) { dataset(id: $id) { imageSamples(perClass: 1) } }`, {
      id: datasetId,
    });
    expect(
      Object.fromEntries(
        dataset.imageSamples.classes.map((entry: { label: string; count: number }) => [entry.label, entry.count]),
      ),
    ).toEqual(Object.fromEntries(counts));
    expect(dataset.imageSamples.samples).toHaveLength(counts.size);
    await screenshot(page, 'dataset-images');
  });
});

describe('the dashboard with API_KEY set', () => {
  const KEY = 'dashboard-e2e-key-7f3a';
  const stack = new TestStack({ API_KEY: KEY });
  let browser: Browser;
  let page: Page;
  const requests: HTTPRequest[] = [];

  beforeAll(async () => {
    await stack.start({ workers: 1 });
    browser = await launchBrowser();
    page = await browser.newPage();
    page.on('request', (request) => requests.push(request));
  });
  afterAll(async () => {
    await browser?.close();
    await stack.stop();
  });

  it('asks for the key, keeps it in sessionStorage, sends it as a header only; the flow works with it', async () => {
    expect(
      (
        await fetch(`${stack.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"query":"{ runs { id } }"}',
        })
      ).status,
    ).toBe(401);
    await page.goto(`${stack.url}/ui/runs`);
    await page.waitForSelector('input[name=apiKey]', { timeout: 20_000 });
    await screenshot(page, 'key-prompt');
    await setField(page, 'input[name=apiKey]', 'a-wrong-key');
    await page.click('.key-form button[type=submit]');
    await waitInPage(
      page,
      () => document.querySelector('.key-form .error')?.textContent?.includes('refused'),
      20_000,
      'the refusal',
    );
    await setField(page, 'input[name=apiKey]', KEY);
    await page.click('.key-form button[type=submit]');
    await page.waitForSelector('[role=table][aria-label=runs]', { timeout: 20_000 });
    expect(await page.evaluate(() => sessionStorage.getItem('trainer.apiKey'))).toBe(KEY);

    await uploadPenguins(page, stack.url);
    const epochs = 25;
    const runId = await createModelAndStartRun(page, stack.url, epochs);
    const seen = await watchCurveGrow(page, epochs);
    expect(seen[seen.length - 1]).toBe(2 * epochs);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    await screenshot(page, 'run-with-key');
    const finished = await stack.gql(
      `query($id: ID!) { run(id: $id) { status } }`,
      { id: runId },
      { authorization: `Bearer ${KEY}` },
    );
    expect(finished.data?.run.status).toBe('SUCCEEDED');

    // GraphiQL sends the page's key as a header.
    const before = requests.length;
    const introspection = page.waitForResponse(
      (response) => response.url().endsWith('/graphql') && response.request().method() === 'POST',
    );
    await page.goto(`${stack.url}/graphql`);
    await page.waitForSelector('.graphiql-container', { timeout: 30_000 });
    expect((await introspection).status()).toBe(200);
    await screenshot(page, 'graphiql-with-key');
    const graphqlPosts = requests
      .slice(before)
      .filter((request) => request.url().endsWith('/graphql') && request.method() === 'POST');
    expect(graphqlPosts.length).toBeGreaterThan(0);
    expect(graphqlPosts.every((request) => request.headers().authorization === `Bearer ${KEY}`)).toBe(true);
    // The key is never in a URL: not in a page address, an asset, the graphql-ws upgrade or a download.
    expect(requests.filter((request) => request.url().includes(KEY)).map((request) => request.url())).toEqual([]);
  });
});
