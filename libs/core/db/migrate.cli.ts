import { loadConfig } from '#libs/core/config';

import { applyMigrations } from './migrate.js';

const applied = await applyMigrations(loadConfig().databaseUrl);
console.log(applied.length ? `applied ${applied.join(', ')}` : 'database is up to date');
