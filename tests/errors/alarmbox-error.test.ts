// Issue "every failure named" §1: every error the package throws is an AlarmboxError with a reason from the one
// table, whatever went wrong: a bad URL, a missing table, an undecryptable row, a call after close(). Real
// databases and the emulator; nothing is mocked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlarmbox } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { AlarmboxError, messageOf, reasonOf } from '../../src/errors.ts';
import { ExitCode, exitCodeFor } from '../../src/exit-codes.ts';
import { FAILURE_REASONS, type FailureReason } from '../../src/failure-reason.ts';
import { alarmboxFor, registerToken } from '../support/alarmbox.ts';
import { describeEachDatabase } from '../support/databases.ts';

async function rejectionOf(promise: Promise<unknown>): Promise<AlarmboxError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'expected a rejection').toBeDefined();
  expect(error, String(error)).toBeInstanceOf(AlarmboxError);
  return error as AlarmboxError;
}

describe('the reason table', () => {
  it('gives every reason a non-zero exit code, and temporary ones exit 5', () => {
    for (const [reason, info] of Object.entries(FAILURE_REASONS)) {
      expect(exitCodeFor(reason as FailureReason), reason).not.toBe(ExitCode.ok);
      expect(info.temporary, reason).toBe(info.exitCode === ExitCode.temporary);
      expect(info.label, reason).toMatch(/[ぁ-んァ-ヶ一-龠]/);
    }
  });

  it('classifies foreign errors by class, not by shape: a TLS error with a string reason is unexpected', () => {
    const tls = Object.assign(new Error("IP: 127.0.0.1 is not in the cert's list: "), {
      reason: "IP: 127.0.0.1 is not in the cert's list: ",
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
    expect(reasonOf(tls)).toBe('unexpected');
    expect(messageOf(tls)).not.toContain('127.0.0.1');
    expect(reasonOf({ reason: 'temporary' })).toBe('unexpected');
    expect(reasonOf(new AlarmboxError('x', { reason: 'temporary' }))).toBe('temporary');
  });
});

describe('every error of createAlarmbox is an AlarmboxError', () => {
  it('a malformed DATABASE_URL: configuration', async () => {
    const error = await rejectionOf(
      (async () => createAlarmbox({ databaseUrl: 'oracle://x', encryptionKeys: generateKeySpec('k') }))(),
    );
    expect(error.reason).toBe('configuration');
  });
});

describeEachDatabase('errors of a wired toolkit', (fixture) => {
  let emulator: RunningEmulator;
  const keys = generateKeySpec('e1');
  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true });
  });
  afterAll(() => emulator.close());

  it('tables missing: configuration (run migrate)', async () => {
    const alarmbox = alarmboxFor(emulator, fixture.url, keys);
    try {
      const error = await rejectionOf(alarmbox.tokens.getValidAccessToken());
      expect(error.reason).toBe('configuration');
      expect(error.message).toContain('alarmbox migrate');
    } finally {
      await alarmbox.close();
    }
  });

  it('a row under another key ring: stored_data_invalid', async () => {
    const writer = alarmboxFor(emulator, fixture.url, keys);
    await migrateToLatest(writer.database);
    await registerToken(writer, emulator);
    await writer.close();
    const reader = alarmboxFor(emulator, fixture.url, generateKeySpec('other'));
    try {
      const error = await rejectionOf(reader.tokens.getValidAccessToken());
      expect(error.reason).toBe('stored_data_invalid');
    } finally {
      await reader.close();
    }
  });

  it('any call after close(): the temporary "shutting down" error, never a driver error', async () => {
    const alarmbox = createAlarmbox({
      env: 'dev',
      databaseUrl: fixture.url,
      encryptionKeys: keys,
      baseUrl: emulator.url,
      clientId: emulator.options.clientId,
      clientSecret: emulator.options.clientSecret,
    });
    await alarmbox.tokens.getValidAccessToken();
    await alarmbox.close();
    for (const call of [
      () => alarmbox.tokens.getValidAccessToken(),
      () => alarmbox.tokens.refresh({ force: true }),
      () => alarmbox.migrate(),
      () => alarmbox.api.creditChecks.get('1'),
    ]) {
      const error = await rejectionOf(call());
      expect(error.reason, error.message).toBe('temporary');
      expect(error.message).toContain('close()');
    }
  });
});
