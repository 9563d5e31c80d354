import { AppConfig, isLoopbackHost } from '@app/config';

/**
 * Outside production the server is for this machine: bound elsewhere (HOST),
 * anyone on the network reaches development settings (dev mailbox off-loopback
 * is still refused, but demo accounts and private webhook targets are not).
 */
export function warnIfExposed(config: Pick<AppConfig, 'isProduction' | 'host'>, warn: (message: string) => void): void {
  if (config.isProduction || isLoopbackHost(config.host)) return;
  const line = '!'.repeat(78);
  warn(
    `\n${line}\n! WARNING: development server bound to ${config.host}, not 127.0.0.1: other machines can reach it.\n! Unset HOST (or set HOST=127.0.0.1) unless that is what you want.\n${line}`,
  );
}
