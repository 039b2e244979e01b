import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';

import { writeTemp } from '../../../../test/support/fixtures.js';
import { zipOf } from '../../../../test/support/image-zips.js';
import { analyzeImageArchive } from './image-analysis.js';
import { ImageArchiveReader, scanImageArchive } from './image-archive.js';

function png(width: number, height: number, value: number): Buffer {
  const image = new PNG({ width, height });
  image.data.fill(value);
  return PNG.sync.write(image);
}

describe('scanImageArchive', () => {
  it('reads stored (uncompressed) entries as well as deflated ones', async () => {
    const first = png(3, 2, 10);
    const entries = [
      { name: 'cats/1.png', data: first },
      { name: 'dogs/2.png', data: png(4, 4, 90) },
    ];
    const path = writeTemp('stored.zip', await zipOf(entries, { compress: false }));
    const sizes: number[][] = [];
    const scan = await scanImageArchive(path, {
      maxUnpackedBytes: 1e9,
      onImage: (image) => sizes.push([image.width, image.height]),
    });
    expect(scan.rows).toEqual([
      { file: 'cats/1.png', label: 'cats' },
      { file: 'dogs/2.png', label: 'dogs' },
    ]);
    expect(scan.warnings).toEqual([]);
    expect(sizes).toEqual([
      [3, 2],
      [4, 4],
    ]);
    const reader = await ImageArchiveReader.open(path);
    try {
      expect((await reader.read('cats/1.png')).equals(first)).toBe(true);
    } finally {
      reader.close();
    }
  });

  it('takes the class from the folder an image sits in, at any depth, and ignores archiver noise', async () => {
    const path = writeTemp(
      'folders.zip',
      await zipOf([
        { name: 'set/a/cats/1.png', data: png(3, 2, 10) },
        { name: 'set/b/dogs/2.png', data: png(5, 5, 20) },
        { name: '__MACOSX/set/a/cats/._1.png', data: Buffer.from('resource fork') },
        { name: 'set/.DS_Store', data: Buffer.from('finder') },
        { name: 'loose.png', data: png(2, 2, 0) },
      ]),
    );
    const seen: [string, number, number][] = [];
    const scan = await scanImageArchive(path, {
      maxUnpackedBytes: 1e9,
      onImage: (image, row) => seen.push([row.label, image.width, image.height]),
    });
    expect(scan.rows).toEqual([
      { file: 'set/a/cats/1.png', label: 'cats' },
      { file: 'set/b/dogs/2.png', label: 'dogs' },
    ]);
    expect(seen).toEqual([
      ['cats', 3, 2],
      ['dogs', 5, 5],
    ]);
    expect(scan.warnings).toEqual([expect.stringMatching(/^loose\.png: skipped, not in a class folder/)]);
    expect(scan.hasSplit).toBe(false);
  });

  it(
    'reads labels and splits from a root labels.csv, warning about unlisted images and listed files that are ' +
      'missing',
    async () => {
      const labels = 'file,label,split\nimg/a.png,yes,train\n./img/b.png,no,validation\nimg/gone.png,no,train\n';
      const path = writeTemp(
        'labelled.zip',
        await zipOf([
          { name: 'labels.csv', data: Buffer.from(labels) },
          { name: 'img/a.png', data: png(2, 2, 1) },
          { name: 'img/b.png', data: png(2, 2, 2) },
          { name: 'img/extra.png', data: png(2, 2, 3) },
        ]),
      );
      const analysis = await analyzeImageArchive(path, 1e9);
      expect(analysis.rowCount).toBe(2);
      expect(analysis.columns.map((column) => [column.name, column.type, column.distinct])).toEqual([
        ['image', 'IMAGE', 2],
        ['label', 'STRING', 2],
        ['split', 'STRING', 2],
      ]);
      expect(analysis.warnings).toEqual([
        'img/extra.png: skipped, not listed in labels.csv',
        'labels.csv line 4: "img/gone.png" is not in the archive',
      ]);
      const scan = await scanImageArchive(path, { maxUnpackedBytes: 1e9 });
      expect(scan.rows).toEqual([
        { file: 'img/a.png', label: 'yes', split: 'train' },
        { file: 'img/b.png', label: 'no', split: 'validation' },
      ]);
    },
  );

  it('refuses a labels.csv split that is neither train nor validation, naming the line', async () => {
    const path = writeTemp(
      'badsplit.zip',
      await zipOf([
        { name: 'labels.csv', data: Buffer.from('file,label,split\na.png,x,test\n') },
        { name: 'a.png', data: png(2, 2, 1) },
      ]),
    );
    await expect(scanImageArchive(path, { maxUnpackedBytes: 1e9 })).rejects.toThrow(
      /labels\.csv line 2: split must be "train" or "validation", got "test"/,
    );
  });

  it('refuses an entry that inflates past the unpack budget even when its header understates it', async () => {
    const zip = await zipOf([{ name: 'x/1/big.png', data: Buffer.alloc(2_000_000) }]);
    // Rewrite the declared uncompressed size (local header offset 22, central directory offset 24) to 100 bytes.
    const lying = Buffer.from(zip);
    for (
      let at = lying.indexOf(Buffer.from([0x50, 0x4b]));
      at >= 0;
      at = lying.indexOf(Buffer.from([0x50, 0x4b]), at + 1)
    ) {
      const signature = lying.readUInt32LE(at);
      if (signature === 0x04034b50) lying.writeUInt32LE(100, at + 22);
      if (signature === 0x02014b50) lying.writeUInt32LE(100, at + 24);
    }
    await expect(scanImageArchive(writeTemp('lying.zip', lying), { maxUnpackedBytes: 1_000_000 })).rejects.toThrow(
      /unpacks to more than MAX_UPLOAD_BYTES/,
    );
  });
});
