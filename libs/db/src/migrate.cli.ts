import { loadConfig } from '../../config/src/index.js';
import { applyMigrations } from './migrate.js';

const applied = await applyMigrations(loadConfig().databaseUrl);
console.log(applied.length ? `applied ${applied.join(', ')}` : 'database is up to date');
