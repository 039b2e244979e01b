import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { build } from 'esbuild';
import { type GraphQLError, Kind, parse, print, printSchema, specifiedRules, validate, visit } from 'graphql';

import { queryLimitsRule } from '../api/src/platform/graphql-limits.js';
import { servedSchema } from './served-schema.js';

/**
 * The dashboard's build, run by `npm run build` after swc: validate every GraphQL document of the page against the
 * schema the API serves (a renamed or removed field fails here, not in a user's browser), then bundle the page and
 * GraphiQL with esbuild into dist/web, which the API serves as static files.
 */
const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const SOURCE = join(ROOT, 'apps', 'web', 'src');
const OUT = join(ROOT, 'dist', 'web');
/** The fragments the documents share (page info, a run's links); not a document itself. */
const FRAGMENTS_FILE = 'fragments.graphql';

function sharedFragments(): Map<string, string> {
  const document = parse(readFileSync(join(SOURCE, 'graphql', FRAGMENTS_FILE), 'utf8'));
  const fragments = new Map<string, string>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.FRAGMENT_DEFINITION)
      throw new Error(`apps/web/src/graphql/${FRAGMENTS_FILE} holds fragments only, found a ${definition.kind}`);
    fragments.set(definition.name.value, print(definition));
  }
  return fragments;
}

/**
 * A document as the page sends it: its own text, then each shared fragment it spreads (and those spread in turn).
 * The bundle embeds this text and the schema check validates it, so what is checked is what is sent.
 */
function withFragments(text: string, fragments: Map<string, string>): string {
  const added = new Set<string>();
  const pending = [text];
  while (pending.length) {
    visit(parse(pending.pop()!), {
      FragmentSpread(node) {
        const name = node.name.value;
        const fragment = fragments.get(name);
        if (!fragment || added.has(name)) return;
        added.add(name);
        pending.push(fragment);
      },
    });
  }
  return [text.trimEnd(), ...[...added].map((name) => fragments.get(name)!)].join('\n\n') + '\n';
}

async function checkDocuments(): Promise<void> {
  const schema = await servedSchema();
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'schema.graphql'), printSchema(schema));
  const problems: string[] = [];
  const folder = join(SOURCE, 'graphql');
  const fragments = sharedFragments();
  const used = new Set<string>();
  for (const file of readdirSync(folder).filter((name) => name.endsWith('.graphql') && name !== FRAGMENTS_FILE)) {
    let errors: readonly GraphQLError[];
    try {
      const document = parse(withFragments(readFileSync(join(folder, file), 'utf8'), fragments));
      for (const definition of document.definitions)
        if (definition.kind === Kind.FRAGMENT_DEFINITION) used.add(definition.name.value);
      // The server's own limits too: a document it would refuse as too deep or too expensive fails here.
      errors = validate(schema, document, [...specifiedRules, queryLimitsRule()]);
    } catch (error) {
      errors = [error as GraphQLError];
    }
    for (const error of errors) problems.push(`apps/web/src/graphql/${file}: ${error.message}`);
  }
  for (const name of fragments.keys())
    if (!used.has(name))
      problems.push(`apps/web/src/graphql/${FRAGMENTS_FILE}: fragment ${name} is used by no document`);
  if (problems.length)
    throw new Error(`the dashboard's GraphQL documents do not match the served schema:\n${problems.join('\n')}`);
}

async function bundle(): Promise<void> {
  rmSync(join(OUT, 'assets'), { recursive: true, force: true });
  await build({
    entryPoints: { app: join(SOURCE, 'main.tsx'), graphiql: join(SOURCE, 'graphiql.tsx') },
    outdir: join(OUT, 'assets'),
    bundle: true,
    minify: true,
    format: 'esm',
    splitting: true,
    target: 'es2022',
    sourcemap: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    loader: { '.woff2': 'file', '.woff': 'file', '.ttf': 'file' },
    plugins: [
      {
        name: 'graphql-documents',
        setup(builder) {
          const fragments = sharedFragments();
          builder.onLoad({ filter: /\.graphql$/ }, (args) => ({
            contents: withFragments(readFileSync(args.path, 'utf8'), fragments),
            loader: 'text',
          }));
        },
      },
    ],
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
    // `#libs/...` (the error codes) resolve to dist/, which swc has just built: the "source" condition would also
    // send packages that publish one (react-aria) to sources they do not ship.
    // GraphiQL is React; the page is Preact: each entry keeps its own JSX runtime (see graphiql.tsx's pragma).
    tsconfig: join(ROOT, 'apps', 'web', 'tsconfig.json'),
  });
  for (const page of ['index.html', 'graphiql.html']) copyFileSync(join(SOURCE, page), join(OUT, page));
}

await checkDocuments();
await bundle();
// Quiet on success: `npm start` builds first, and the service's first line must be its own summary.
if (process.env.LOG_LEVEL === 'debug') console.log(`dashboard built into ${OUT}`);
