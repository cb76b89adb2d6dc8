export { type ClientCredentials, parseAlarmboxInfo } from './client-info.ts';
export {
  type AlarmboxConfig,
  type AlarmboxOptions,
  DEFAULT_BASE_URL,
  DEFAULT_DATABASE_URL,
  DEFAULT_SCOPE,
  loadConfig,
  OOB_REDIRECT_URI,
} from './config.ts';
export { type AlarmboxEnv, parseAlarmboxEnv } from './environment.ts';
export { ConfigError } from './errors.ts';
