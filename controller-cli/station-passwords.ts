import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { t } from '../io/i18n.js';
import { CliError } from './errors.js';
import type { Fleet } from './fleet.js';
import { mosquittoPasswordLine } from './mosquitto-password.js';
import { randomPassword, writePublicFile, writeSecretFile } from './secret-files.js';

/** Broker passwords live only in the central secrets dir (0600) and, hashed, in mosquitto's password file. */
export function stationPasswordFile(fleet: Fleet, station: string): string {
  return join(fleet.secretsDir, 'stations', `${station}.password`);
}

/** The password a bridged broker uses on this one (`remote_password` in its mosquitto.conf). */
export function bridgePasswordFile(fleet: Fleet, bridge: string): string {
  return join(fleet.secretsDir, 'bridges', `${bridge}.password`);
}

export function readSecret(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  return readFileSync(path, 'utf8').trim() || undefined;
}

export function ensurePassword(path: string, mode: 0o600 | 0o640 = 0o600): { password: string; created: boolean } {
  const existing = readSecret(path);
  if (existing) return { password: existing, created: false };
  const password = randomPassword();
  writeSecretFile(path, password + '\n');
  if (mode !== 0o600) {
    chmodSync(path, mode);
    // Its directory must let the group through (station passwords sit in their own 0700 subdirectory).
    if ((statSync(dirname(path)).mode & 0o777) === 0o700) chmodSync(dirname(path), 0o750);
  }
  return { password, created: true };
}

export function rotateStationPassword(fleet: Fleet, station: string): string {
  const password = randomPassword();
  writeSecretFile(stationPasswordFile(fleet, station), password + '\n');
  return password;
}

export function centralPassword(fleet: Fleet): string {
  const pw = readSecret(fleet.broker.passwordFile);
  if (!pw) throw new CliError(t('broker.noCentralPassword', { file: fleet.broker.passwordFile }));
  return pw;
}

/** Where `loa broker config` last wrote, so `loa provision` can rewrite the same password file. */
const brokerDirMarker = (fleet: Fleet) => join(fleet.secretsDir, 'broker-config-dir');

export function rememberBrokerDir(fleet: Fleet, dir: string): void {
  writeSecretFile(brokerDirMarker(fleet), dir + '\n');
}

export function rememberedBrokerDir(fleet: Fleet): string | undefined {
  return readSecret(brokerDirMarker(fleet));
}

/** The two password files `loa broker config` writes: one per kind of listener. */
export function passwordFiles(dir: string): { stations: string; central: string } {
  return { stations: join(dir, 'passwd'), central: join(dir, 'passwd-central') };
}

/**
 * Mosquitto password files: `passwd` holds every station (missing station passwords are
 * created) and is used only by the station listeners; `passwd-central` holds only the central
 * user and is used only by the central listener. So a station's credentials are refused on the
 * central listener, and the central user cannot land on a listener that renames its client id.
 */
export function writeMosquittoPasswordFiles(fleet: Fleet, dir: string): { stations: string; central: string } {
  const files = passwordFiles(dir);
  const lines = fleet.stations.map((s) => mosquittoPasswordLine(s.id, ensurePassword(stationPasswordFile(fleet, s.id)).password));
  // Bridged brokers log in on a station listener too (their client id becomes their user name).
  for (const b of fleet.bridges) lines.push(mosquittoPasswordLine(b.id, ensurePassword(bridgePasswordFile(fleet, b.id)).password));
  // The hashes are salted PBKDF2, but there is still no reason for others to read them.
  writePublicFile(files.stations, lines.join('\n') + '\n', 0o600);
  // The central user's password is shared by the office's officials (their group); a station's is not.
  writePublicFile(files.central, mosquittoPasswordLine(fleet.broker.username, ensurePassword(fleet.broker.passwordFile, 0o640).password) + '\n', 0o600);
  return files;
}
