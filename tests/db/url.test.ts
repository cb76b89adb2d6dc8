import { describe, expect, it } from 'vitest';
import { DatabaseUrlError, describeTarget, parseDatabaseUrl } from '../../src/db/index.ts';

const PASSWORD = 'S3cret-Pa55';

describe('parseDatabaseUrl', () => {
  it.each([
    ['sqlite:.alarmbox/alarmbox.db', { dialect: 'sqlite', file: '.alarmbox/alarmbox.db' }],
    ['sqlite:/var/lib/alarmbox/tokens.db', { dialect: 'sqlite', file: '/var/lib/alarmbox/tokens.db' }],
    ['sqlite::memory:', { dialect: 'sqlite', file: ':memory:' }],
    ['  sqlite:data.db \n', { dialect: 'sqlite', file: 'data.db' }],
  ])('reads %j', (url, expected) => {
    expect(parseDatabaseUrl(url)).toEqual(expected);
  });

  it.each([
    [`mysql://app:${PASSWORD}@127.0.0.1:3306/app`, 'mysql', '127.0.0.1', 3306, 'app'],
    ['mysql://root@db.internal/app', 'mysql', 'db.internal', 3306, 'app'],
    [`mariadb://app:${PASSWORD}@10.0.0.5:3307/tokens`, 'mysql', '10.0.0.5', 3307, 'tokens'],
    [`postgres://app:${PASSWORD}@127.0.0.1:5432/app`, 'postgres', '127.0.0.1', 5432, 'app'],
    ['postgresql://pg.example.com/app?sslmode=require', 'postgres', 'pg.example.com', 5432, 'app'],
    ['POSTGRES://u@[::1]:6543/x', 'postgres', '::1', 6543, 'x'],
    ['mysql://u:p%40ss%2Fword@h:1/my%2Ddb', 'mysql', 'h', 1, 'my-db'],
  ])('reads %s', (url, dialect, host, port, database) => {
    expect(parseDatabaseUrl(url)).toMatchObject({ dialect, url: url.trim(), host, port, database });
  });

  it.each([
    ['', '値が空です'],
    ['   ', '値が空です'],
    ['alarmbox.db', 'sqlite: / mysql:// / postgres://'],
    [`http://u:${PASSWORD}@h/db`, '対応していないスキーム "http"'],
    [`mysql:u:${PASSWORD}@h/db`, 'mysql:// の形'],
    [`mysql://u:${PASSWORD}@127.0.0.1:3306`, 'データベース名がありません'],
    [`mysql://u:${PASSWORD}@127.0.0.1:3306/`, 'データベース名がありません'],
    [`postgres://u:${PASSWORD}@127.0.0.1:abc/db`, 'ポート番号'],
    [`postgres://u:${PASSWORD}@127.0.0.1:70000/db`, 'ポート番号'],
    [`postgres://u:${PASSWORD}@127.0.0.1:0/db`, 'ポート番号'],
    [`mysql://u:${PASSWORD}@/db`, 'ホスト名がありません'],
    [`mysql://u:${PASSWORD}@h/a/b`, 'データベース名に / は使えません'],
    ['sqlite:', 'ファイルのパスがありません'],
    ['sqlite:///var/x.db', 'sqlite:// 形式は使えません'],
  ])('rejects %j', (url, cause) => {
    let caught: unknown;
    try {
      parseDatabaseUrl(url);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DatabaseUrlError);
    const error = caught as DatabaseUrlError;
    expect(error.reason).toBe('configuration');
    expect(error.message).toMatch(/^DATABASE_URL の形式が正しくありません \(/);
    expect(error.message).toContain(cause);
    expect(error.message).toContain('例: sqlite:.alarmbox/alarmbox.db / mysql://');
    expect(error.message).not.toContain(PASSWORD);
  });
});

describe('describeTarget', () => {
  it.each([
    ['sqlite:.alarmbox/alarmbox.db', 'sqlite .alarmbox/alarmbox.db'],
    [`postgres://postgres:${PASSWORD}@127.0.0.1:5432/test`, 'postgres 127.0.0.1:5432/test'],
    [`mariadb://root:${PASSWORD}@db:3306/app`, 'mysql db:3306/app'],
    ['postgres://u@[::1]:5432/x', 'postgres [::1]:5432/x'],
  ])('labels %s without the password', (url, label) => {
    const text = describeTarget(parseDatabaseUrl(url));
    expect(text).toBe(label);
    expect(text).not.toContain(PASSWORD);
  });
});
