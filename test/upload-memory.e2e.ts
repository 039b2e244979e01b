import { readFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TestStack } from './support/stack.js';

const TARGET_BYTES = 300 * 1024 * 1024;

function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]);
}

/** A multipart body of a generated CSV, produced chunk by chunk: neither side ever holds the file. */
function streamingUpload(boundary: string): { body: ReadableStream<Uint8Array>; bytes: () => number } {
  const encoder = new TextEncoder();
  let written = 0;
  let row = 0;
  let stage = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (stage === 0) {
        controller.enqueue(
          encoder.encode(
            `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\nContent-Type: ` +
              `text/csv\r\n\r\nid,value,label,when\n`,
          ),
        );
        stage = 1;
        return;
      }
      if (stage === 1) {
        const lines: string[] = [];
        for (let i = 0; i < 20_000; i++, row++)
          lines.push(
            `${row},${(row * 0.37) % 1000},${row % 7 === 0 ? 'seven' : 'other'},` +
              `2024-01-${String((row % 28) + 1).padStart(2, '0')}`,
          );
        const chunk = encoder.encode(`${lines.join('\n')}\n`);
        written += chunk.byteLength;
        controller.enqueue(chunk);
        if (written >= TARGET_BYTES) stage = 2;
        return;
      }
      controller.enqueue(encoder.encode(`\r\n--${boundary}--\r\n`));
      controller.close();
    },
  });
  return { body, bytes: () => written };
}

describe('a 300 MB upload', () => {
  const stack = new TestStack();
  beforeAll(() => stack.start({ workers: 0 }));
  afterAll(() => stack.stop());

  it('streams to disk, is analysed in one pass, and grows the API by less than 50 MB', async () => {
    const pid = stack.api!.child.pid!;
    // Settle the heap first so start-up garbage does not count either way.
    await fetch(`${stack.url}/health`);
    const before = rssKiB(pid);
    // Sampled during the upload and its analysis (VmHWM would include the start-up peak).
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssKiB(pid));
    }, 100);
    const boundary = `----trainer${Date.now()}`;
    const upload = streamingUpload(boundary);
    const response = await fetch(`${stack.url}/v1/datasets`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: upload.body,
      duplex: 'half',
    } as RequestInit);
    const dataset = (await response.json()) as Record<string, any>;
    clearInterval(sampler);
    expect(response.status, JSON.stringify(dataset)).toBe(201);
    expect(upload.bytes()).toBeGreaterThanOrEqual(TARGET_BYTES);
    expect(dataset.sizeBytes).toBeGreaterThanOrEqual(TARGET_BYTES);
    expect(dataset.rowCount).toBeGreaterThan(5_000_000);
    const byName = Object.fromEntries(dataset.columns.map((c: { name: string }) => [c.name, c]));
    expect(byName.id).toMatchObject({ type: 'NUMBER', min: 0, max: dataset.rowCount - 1, missing: 0 });
    expect(byName.label).toMatchObject({ type: 'STRING', distinct: 2 });
    expect(byName.when).toMatchObject({ type: 'DATE', distinct: 28 });
    // Exact past 10,000 values is not kept; the estimate must still be close.
    expect(Math.abs(byName.id.distinct - dataset.rowCount) / dataset.rowCount).toBeLessThan(0.05);
    const grewMiB = (peak - before) / 1024;
    console.log(
      `300 MB upload: API RSS ${Math.round(before / 1024)} MiB before, peak ${Math.round(peak / 1024)} MiB ` +
        `(+${grewMiB.toFixed(1)} MiB)`,
    );
    expect(grewMiB).toBeLessThan(50);
  }, 300_000);
});
