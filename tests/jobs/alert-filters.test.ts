// The alert filters that `deploy-manifest --target cloud-run` emits, matched against the JSON lines a real
// `refresh-token` run writes (the CLI bundle against the emulator over HTTP): the exit-4 policy's filter matches
// the end line of a run that needs re-authorization and nothing else; the exit-5 metric's filter matches the
// end line of a temporary failure and nothing else. The lines are read as Cloud Logging stores them: `severity`
// and `time` become the entry's own fields, the rest is `jsonPayload`, and Cloud Run adds the resource.
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { runCli } from '../support/cli.ts';
import { type LogEvent, logEvents } from '../support/cli-process.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { expectNoSecrets, openRegistered, type Registered } from '../support/registered.ts';

const JOB = 'alarmbox-refresh-token';

/** A Cloud Logging entry as Cloud Run stores a JSON line of the job named `JOB`. */
function asLogEntry(line: LogEvent): Record<string, unknown> {
  const { severity, time, ...jsonPayload } = line;
  return {
    severity,
    timestamp: time,
    resource: { type: 'cloud_run_job', labels: { job_name: JOB } },
    jsonPayload,
  };
}

/**
 * The filters use one form only, `path=value` terms joined by AND (a value quoted or a number): evaluates that
 * form and fails on anything else, so a filter that grows another form must teach this first.
 */
function matches(filter: string, entry: Record<string, unknown>): boolean {
  return filter.split(' AND ').every((term) => {
    const match = /^([A-Za-z_.]+)=(?:"([^"]*)"|(-?\d+))$/.exec(term);
    if (match === null) throw new Error(`a filter term this test cannot evaluate: ${term}`);
    const [, path, text, number] = match;
    let value: unknown = entry;
    for (const key of path!.split('.')) value = (value as Record<string, unknown> | undefined)?.[key];
    return text === undefined ? value === Number(number) : value === text;
  });
}

/** The two filters as the script hands them to gcloud. */
async function emittedFilters(): Promise<{ reauthorization: string; temporary: string }> {
  const r = await runCli(['deploy-manifest', '--target', 'cloud-run', '--project', 'p'], {});
  expect(r.code, r.stderr).toBe(0);
  const temporary = /^TEMPORARY_FILTER='(.*)'$/m.exec(r.stdout)?.[1];
  const policy = /<<'POLICY'\n([\s\S]*?)\nPOLICY\n/.exec(r.stdout)?.[1];
  const parsed = parseAllDocuments(policy ?? '')[0]?.toJS() as {
    conditions: { conditionMatchedLog: { filter: string } }[];
  };
  const reauthorization = parsed.conditions[0]?.conditionMatchedLog.filter;
  if (temporary === undefined || reauthorization === undefined)
    throw new Error('filters not found in the script');
  return { reauthorization, temporary };
}

describeEachDatabase('the alert filters against a real refresh-token run', (fixture) => {
  let emulator: RunningEmulator;
  let setup: Registered;
  let filters: { reauthorization: string; temporary: string };
  const outputs: string[] = [];
  /** One execution as the deployed job runs it (its args from deploy-manifest), without retries. */
  const run = async () => {
    const r = await runCli(['refresh-token', '--log-format=json', '--retries=0'], setup.env);
    outputs.push(r.stdout, r.stderr);
    const entries = logEvents(r.stdout).map(asLogEntry);
    return { code: r.code, entries };
  };
  const matching = (entries: Record<string, unknown>[], filter: string) =>
    entries.filter((entry) => matches(filter, entry));

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true });
    setup = await openRegistered(emulator, fixture.url, generateKeySpec('k1'));
    await setup.register();
    filters = await emittedFilters();
  });
  afterAll(async () => {
    await setup?.close();
    await emulator?.close();
  });
  afterEach(async () => {
    emulator.setFaults({});
    await setup.collect();
    expectNoSecrets(outputs.splice(0), setup.secrets);
  });

  it('a successful run: its end line matches neither filter', async () => {
    const { code, entries } = await run();
    expect(code).toBe(0);
    expect(entries.length, 'the run logged its lines').toBeGreaterThanOrEqual(2);
    expect(matching(entries, filters.reauthorization)).toEqual([]);
    expect(matching(entries, filters.temporary)).toEqual([]);
  });

  it('AlarmBox answers 503: exit 5, exactly its end line matches the exit-5 filter', async () => {
    emulator.setFaults({ token: { status: 503 } });
    const { code, entries } = await run();
    expect(code).toBe(5);
    const hits = matching(entries, filters.temporary);
    expect(hits, 'one end line counted by the metric').toHaveLength(1);
    expect(hits[0]).toMatchObject({ severity: 'ERROR', jsonPayload: { event: 'end', reason: 'temporary' } });
    expect(matching(entries, filters.reauthorization)).toEqual([]);
  });

  it('invalid_grant: exit 4, exactly its end line matches the re-authorization policy', async () => {
    emulator.setFaults({ token: { oauthError: { error: 'invalid_grant' } } });
    const { code, entries } = await run();
    expect(code).toBe(4);
    const hits = matching(entries, filters.reauthorization);
    expect(hits, 'one end line alerts').toHaveLength(1);
    expect(hits[0]).toMatchObject({
      severity: 'ERROR',
      jsonPayload: { event: 'end', reason: 'reauthorization_required', action: 'reauthorize' },
    });
    expect(matching(entries, filters.temporary)).toEqual([]);
  });
});
