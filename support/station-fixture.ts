// A ready station for a test: temp dir, config, process, subscriptions in place.

import { type StationProcess, type StationSetup, startStation, writeStationConfig } from './station.js';
import { tempDir } from './tmp.js';

export async function launchStation(setup: Omit<StationSetup, 'dir'>, env: Record<string, string> = {}): Promise<{ dir: string; config: string; station: StationProcess }> {
  const dir = tempDir(`loa-${setup.id}-`);
  const config = writeStationConfig({ ...setup, dir });
  const station = startStation(config, env);
  // "subscribed" (not "connected"): a command sent before the SUBACK would be lost.
  try {
    await station.waitForLog(/"msg":"subscribed"/);
  } catch (e) {
    await station.kill9();
    throw e;
  }
  return { dir, config, station };
}
