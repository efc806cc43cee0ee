#!/usr/bin/env node
// `npm run proof`: every fault, hostile-input and access-control case in full mode, one table
// each; exit 1 if any count or verdict is wrong. `--quick` runs the CI repetitions instead.
//   node dist/proof/main.js [--quick] [--only faults|hostile|acl] [--json FILE]
import { writeFileSync } from 'node:fs';
import { type AclReport, acl } from '../support/proof/acl.js';
import { FAULT_CASES, type FaultResult } from '../support/proof/faults.js';
import { type HostileReport, hostile } from '../support/proof/hostile.js';
import { cleanupTemp } from '../support/proof/lib.js';
import { aclTable, faultFailures, faultTable, hostileTable } from '../support/proof/report.js';

/** Repetitions per fault case: full run, and the CI run (test/proof-faults.test.ts). */
export const FULL_REPS: Record<keyof typeof FAULT_CASES, number> = {
  brokerKill: 5,
  daemonKill: 5,
  collectorDown: 4,
  collectorFailover: 4,
  brokerDownAtSchedule: 3,
  cacheQuota: 2,
  clockStep: 2,
  diskFull: 3,
  silentAiring: 2,
  corruptStore: 2,
  clockWrong: 2,
  catchUp: 2,
};
export const HOSTILE_FULL_REPS = 3;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<number> {
  const quick = process.argv.includes('--quick');
  const only = arg('--only');
  const started = Date.now();
  const faults: FaultResult[] = [];
  let hostileReport: HostileReport | undefined;
  let aclReport: AclReport | undefined;
  const log = (s: string) => process.stderr.write(`${new Date().toISOString()} ${s}\n`);

  if (!only || only === 'faults') {
    for (const [name, fn] of Object.entries(FAULT_CASES) as [keyof typeof FAULT_CASES, (n: number) => Promise<FaultResult>][]) {
      const reps = quick ? 1 : FULL_REPS[name];
      log(`fault case ${name} × ${reps} …`);
      const r = await fn(reps);
      log(
        `  ${r.verdict}: commands ${r.commandsSent} sent, ${r.commandsLost} lost before an ack; acks emitted ${r.emitted}, received ${r.received}, lost ${r.lost}, duplicated ${r.duplicated}, crashes ${r.crashes} (${r.seconds} s)`,
      );
      faults.push(r);
    }
  }
  if (!only || only === 'hostile') {
    log(`hostile input × ${quick ? 1 : HOSTILE_FULL_REPS} …`);
    hostileReport = await hostile({ reps: quick ? 1 : HOSTILE_FULL_REPS });
    log(`  ${hostileReport.rows.filter((r) => r.verdict === 'PASS').length}/${hostileReport.rows.length} pass (${hostileReport.seconds} s)`);
  }
  if (!only || only === 'acl') {
    log('access control …');
    aclReport = await acl();
    log(`  ${aclReport.rows.filter((r) => r.verdict === 'PASS').length}/${aclReport.rows.length} pass`);
  }

  const out: string[] = [`# Loa proof run (${quick ? 'quick' : 'full'}), ${new Date().toISOString()}, ${Math.round((Date.now() - started) / 1000)} s`, ''];
  if (faults.length) out.push('## Faults', '', faultTable(faults), '', faultFailures(faults), '');
  if (hostileReport) {
    const pass = hostileReport.rows.filter((r) => r.verdict === 'PASS').length;
    out.push(
      '## Hostile input',
      '',
      hostileTable(hostileReport),
      '',
      `${pass}/${hostileReport.rows.length} cases pass. Daemon RSS ${(hostileReport.rssStartKiB / 1024).toFixed(1)} MB before the first case, ${(hostileReport.rssEndKiB / 1024).toFixed(1)} MB after the last.`,
      '',
    );
  }
  if (aclReport) {
    const pass = aclReport.rows.filter((r) => r.verdict === 'PASS').length;
    out.push('## Access control (mosquitto from `loa broker config`, TLS ' + aclReport.tls + ')', '', aclTable(aclReport), '', `${pass}/${aclReport.rows.length} checks pass.`, '');
  }
  const failed =
    faults.some((r) => r.verdict !== 'PASS') || (hostileReport?.rows.some((r) => r.verdict !== 'PASS') ?? false) || (aclReport?.rows.some((r) => r.verdict !== 'PASS') ?? false);
  out.push(failed ? '**Verdict: FAIL**' : '**Verdict: PASS**');
  process.stdout.write(out.join('\n') + '\n');
  const json = arg('--json');
  if (json) writeFileSync(json, JSON.stringify({ faults, hostile: hostileReport, acl: aclReport }, null, 2));
  return failed ? 1 : 0;
}

main()
  .then((code) => {
    cleanupTemp();
    process.exit(code);
  })
  .catch((e: Error) => {
    process.stderr.write(`proof: ${e.stack ?? e.message}\n`);
    cleanupTemp();
    process.exit(2);
  });
