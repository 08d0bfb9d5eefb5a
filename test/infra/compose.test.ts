/**
 * The deployment files: `infra/compose.yaml` is a valid Compose file (by `docker compose config`
 * when a Compose binary is installed, else against the Compose Specification's JSON schema), and
 * it, the Caddyfile and the Dockerfile keep the promises the README makes: two instances on
 * Postgres + pgvector behind a proxy, a non-root image, health checks everywhere.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = (relative: string) => fileURLToPath(new URL(`../../${relative}`, import.meta.url));
const read = (relative: string) => readFileSync(root(relative), 'utf8');

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  ports?: string[];
  volumes?: string[];
}
interface ComposeFile {
  services: Record<string, ComposeService>;
}

function loadCompose(): ComposeFile {
  // Merge keys (`<<: *hearth`) are YAML 1.1; Compose resolves them, so the test does too.
  return parse(read('infra/compose.yaml'), { merge: true }) as ComposeFile;
}

function composeValidator() {
  // Draft 07, named by an https URL Ajv does not know by that name (it knows http://…#).
  const { $schema: _draft, ...schema } = JSON.parse(read('test/fixtures/compose/compose-spec.json'));
  // Formats such as "duration" are Compose's own; the structure is what is checked here.
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  return ajv.compile(schema);
}

const hasComposeBinary = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status === 0;

describe('infra/compose.yaml', () => {
  it('is a valid Compose file', () => {
    if (hasComposeBinary) {
      const checked = spawnSync('docker', ['compose', '-f', root('infra/compose.yaml'), 'config', '--quiet'], {
        encoding: 'utf8',
        env: { ...process.env, HEARTH_SECRET_KEY: 'x'.repeat(32) },
      });
      expect(checked.stderr).toBe('');
      expect(checked.status).toBe(0);
    }
    const validate = composeValidator();
    const valid = validate(loadCompose());
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('would be refused by the schema check if it were wrong', () => {
    const validate = composeValidator();
    const misspelt = loadCompose();
    const proxy = misspelt.services.proxy as Record<string, unknown>;
    proxy.helthcheck = proxy.healthcheck;
    expect(validate(misspelt)).toBe(false);
    expect(JSON.stringify(validate.errors)).toContain('helthcheck');
    const badPorts = loadCompose();
    (badPorts.services.proxy as Record<string, unknown>).ports = 'not a list';
    expect(validate(badPorts)).toBe(false);
  });

  it('runs two instances on Postgres with pgvector behind a proxy, all with health checks', () => {
    const { services } = loadCompose();
    expect(services.postgres?.image).toMatch(/^pgvector\/pgvector:pg1[6-9]$/);
    const instances = Object.keys(services).filter((name) => /^hearth-\d$/.test(name));
    expect(instances).toEqual(['hearth-1', 'hearth-2']);
    for (const name of instances) {
      const instance = services[name];
      expect(instance?.build?.dockerfile).toBe('infra/Dockerfile');
      expect(instance?.environment?.DATABASE_URL).toMatch(/^postgres:\/\/hearth:.*@postgres:5432\/hearth$/);
      // One secret key for all: a link signed by one instance is checked by the other.
      expect(instance?.environment?.HEARTH_SECRET_KEY).toMatch(/^\$\{HEARTH_SECRET_KEY:\?/);
      expect(instance?.depends_on).toEqual({
        postgres: { condition: 'service_healthy' },
        migrate: { condition: 'service_completed_successfully' },
      });
    }
    expect(services.migrate?.command).toEqual(['node', 'bin/hearth.js', 'migrate']);
    expect(services.migrate?.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(services.proxy?.depends_on).toEqual({
      'hearth-1': { condition: 'service_healthy' },
      'hearth-2': { condition: 'service_healthy' },
    });
    for (const [name, service] of Object.entries(services)) {
      if (name === 'migrate') continue;
      expect(service.healthcheck?.test?.length, `${name} has a health check`).toBeGreaterThan(0);
    }
    expect(services.proxy?.volumes).toContain('./Caddyfile:/etc/caddy/Caddyfile:ro');
  });
});

describe('infra/Caddyfile', () => {
  it('balances over both instances and takes out one that is not ready', () => {
    const caddyfile = read('infra/Caddyfile');
    expect(caddyfile).toMatch(/reverse_proxy hearth-1:3000 hearth-2:3000/);
    expect(caddyfile).toMatch(/health_uri \/readyz/);
  });
});

describe('infra/Dockerfile', () => {
  const dockerfile = read('infra/Dockerfile');

  it('builds in one stage and runs the compiled build as a non-root user in another', () => {
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^CMD \["node", "bin\/hearth\.js", "serve"\]$/m);
    expect(runtime).toMatch(/^HEALTHCHECK .*\n.*\/readyz/m);
    // What `serve` reads at run time is in the image: compiled code, migrations, recorded audio.
    for (const path of ['./dist', './prisma', './bin', './assets', './node_modules']) {
      expect(runtime).toContain(` ${path}`);
    }
  });

  it('keeps its build context small', () => {
    const ignored = read('.dockerignore').split('\n');
    for (const entry of ['node_modules', 'dist', 'data', '.git']) expect(ignored).toContain(entry);
  });
});
