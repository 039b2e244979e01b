import { describe, expect, it } from 'vitest';

import { dashboardShellFile } from './dashboard-files.js';

describe('dashboardShellFile', () => {
  it('gives the page for / and every /ui address, at any depth', () => {
    for (const path of ['/', '/ui', '/ui/runs', '/ui/runs/0b7c', '/ui/sweeps/new', '/ui/datasets/x/y']) {
      expect(dashboardShellFile('GET', path, 'text/html'), path).toBe('index.html');
    }
    expect(dashboardShellFile('HEAD', '/ui/runs', undefined)).toBe('index.html');
  });

  it('gives assets by name and GraphiQL only to a browser asking GET /graphql for HTML', () => {
    expect(dashboardShellFile('GET', '/assets/app.js', '*/*')).toBe('assets/app.js');
    expect(dashboardShellFile('GET', '/graphql', 'text/html,application/xhtml+xml')).toBe('graphiql.html');
    expect(dashboardShellFile('GET', '/graphql', 'application/json')).toBeUndefined();
    expect(dashboardShellFile('GET', '/graphql', undefined)).toBeUndefined();
    expect(dashboardShellFile('POST', '/graphql', 'text/html')).toBeUndefined();
  });

  it('leaves every other route and method to the API', () => {
    for (const path of ['/health', '/metrics', '/v1/datasets', '/v1/layers.js', '/uix', '/graphql/x']) {
      expect(dashboardShellFile('GET', path, 'text/html'), path).toBeUndefined();
    }
    expect(dashboardShellFile('POST', '/ui/runs', 'text/html')).toBeUndefined();
    expect(dashboardShellFile('DELETE', '/', undefined)).toBeUndefined();
  });
});
