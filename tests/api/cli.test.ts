// `alarmbox credit-check` as a user runs it: the real CLI in a child process, against the emulator and a
// SQLite file. Bad input exits 2 without a request; no output ever holds a token or the client secret.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ApiFixture, apiArrivals, useApiFixture } from '../support/api-fixture.ts';
import { type CliResult, runCli } from '../support/cli.ts';
import { CONTROL_EXCEPT_LF } from '../support/controls.ts';

let f: ApiFixture;
let dir: string;

async function cli(args: string[]): Promise<CliResult> {
  const r = await runCli(['credit-check', ...args], f.registered.env, { cwd: dir });
  f.outputs.push(r.stdout, r.stderr);
  return r;
}

useApiFixture((fixture) => {
  f = fixture;
});
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alarmbox-credit-check-'));
});

describe('alarmbox credit-check', () => {
  it('buys a check and prints a Japanese summary; --id reads it back with its information', async () => {
    const bought = await cli(['--corporation-number', '0000000000003']);
    expect(bought.stderr).toBe('');
    expect(bought.code).toBe(0);
    expect(bought.stdout).toContain('信用チェックを購入しました');
    expect(bought.stdout).toMatch(/結果\s+要注意 \(ng\)/);
    expect(bought.stdout).toMatch(/企業名\s+テスト株式会社 \(判定 ng\)/);
    expect(bought.stdout).toMatch(/法人番号\s+0000000000003/);
    expect(bought.stdout).toMatch(/購入日\s+\d{4}-\d{2}-\d{2}/);
    expect(bought.stdout).toMatch(/有効期限\s+\d{4}-\d{2}-\d{2}/);
    const id = /信用チェック ID\s+(\d+)/.exec(bought.stdout)?.[1];
    expect(id).toBeDefined();

    const read = await cli(['--id', id!]);
    expect(read.code).toBe(0);
    expect(read.stdout).toMatch(/結果\s+要注意 \(ng\)/);
    expect(read.stdout).toContain('支払遅延');
    expect(f.emulator.stats().apiRequests, 'API requests at AlarmBox').toEqual({ ok: 2 });
  });

  it('--pdf writes the report; --json prints the check for scripts, without the base64', async () => {
    const file = join(dir, 'report.pdf');
    const r = await cli(['--corporation-number', '0000000000002', '--deal', '2', '--pdf', file, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      credit_check: Record<string, unknown>;
      pdf: { path: string; bytes: number };
    };
    expect(out.credit_check).toMatchObject({ result: 'hold', corporation_number: '0000000000002' });
    expect(out.credit_check.pdf_file_data).toBeUndefined();
    const pdf = await readFile(file);
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(out.pdf).toEqual({ path: file, bytes: pdf.length });
    // The purchase once, then the read with the PDF.
    expect(f.emulator.stats().apiRequests, 'API requests at AlarmBox').toEqual({ ok: 2 });
  });

  it('bad input: a Japanese message naming cause and fix, exit 2, nothing sent', async () => {
    const short = await cli(['--corporation-number', '123']);
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('13 桁の法人番号');
    expect(short.stderr).toContain('例: --corporation-number 0000000000001');
    const both = await cli(['--corporation-number', '0000000000001', '--id', '1', '--deal', '7']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('同時に指定できません');
    expect(apiArrivals(f.emulator), 'API requests that reached AlarmBox').toBe(0);
    expect(f.emulator.stats().faultsInjected.api, 'API faults injected').toBe(0);
  });

  it('an error body with control characters is printed escaped, one line, no forged line', async () => {
    const forged = '\r\n\u001b[2K\u001b[1A信用チェックを購入しました\u0007\u0000\u009b2J\u202e';
    f.emulator.setFaults({
      api: { oauthError: { error: `bad${forged}`, error_description: forged }, times: 1 },
    });
    const r = await cli(['--id', '1']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('\\x1b');
    for (const out of [r.stdout, r.stderr]) {
      expect(out).not.toMatch(CONTROL_EXCEPT_LF);
      for (const line of out.split('\n')) expect(line.trimStart()).not.toMatch(/^信用チェックを購入しました/);
    }
  });

  it('a token without the scope: exit 4, the scope and the re-authorization named', async () => {
    await f.fresh('read');
    const r = await cli(['--corporation-number', '0000000000001']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('credit_check:create');
    expect(r.stderr).toContain('ALARMBOX_SCOPE=');
    expect(r.stderr).toContain('alarmbox authorize-url');
  });

  it('a purchase whose answer was lost: not resent, exit 1, told to check before rerunning', async () => {
    f.emulator.setFaults({ api: { drop: 'after-commit' } });
    const r = await cli(['--corporation-number', '0000000000001']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('購入が完了したかどうかは分かりません');
    expect(f.emulator.stats().faultsInjected.api, 'API faults injected').toBe(1);
    expect(f.emulator.stats().apiRequests, 'API requests at AlarmBox').toEqual({ ok: 1 });
  });
});
