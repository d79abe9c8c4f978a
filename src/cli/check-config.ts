import { ConfigError, describeConfig, loadConfig } from '../config/load-config.js';
import { EXIT_CONFIG, EXIT_OK } from './exit-codes.js';

/**
 * `mllp-dispatcher check-config`: validates the configuration the daemon would run with.
 * Valid: prints the effective configuration (JSON, secrets masked) on stdout, exit 0.
 * Invalid: prints every problem found on stderr, each with its key, exit 78.
 */
export function checkConfigCommand(options: { configFile?: string | undefined }, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): number {
  try {
    const config = loadConfig({ configFile: options.configFile });
    out.write(`${JSON.stringify(describeConfig(config), null, 2)}\n`);
    err.write(`configuration is valid: ${config.subscriptions.length} subscription(s): ${config.subscriptions.map((sub) => sub.name).join(', ')}\n`);
    return EXIT_OK;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    err.write(`${error.message}\n${error.problems.length} problem(s) found\n`);
    return EXIT_CONFIG;
  }
}
