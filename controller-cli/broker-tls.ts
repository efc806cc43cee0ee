import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool, ToolMissingError } from './run-tool.js';

export interface BrokerTls {
  caCert: string;
  serverCert: string;
  serverKey: string;
}

/**
 * A private CA (kept in the central secrets dir, reused across runs so stations keep trusting it)
 * and a server certificate for the broker's host names. Returns undefined when openssl is missing.
 */
export async function makeBrokerTls(secretsDir: string, outDir: string, hostnames: string[]): Promise<BrokerTls | undefined> {
  const tlsDir = join(secretsDir, 'tls');
  const caKey = join(tlsDir, 'ca.key');
  const caCert = join(tlsDir, 'ca.crt');
  const work = mkdtempSync(join(tmpdir(), 'loa-tls-'));
  try {
    if (!existsSync(caKey) || !existsSync(caCert)) {
      writeFileSync(
        join(work, 'ca.cnf'),
        [
          '[req]',
          'distinguished_name = dn',
          'prompt = no',
          '[dn]',
          'CN = Loa fleet CA',
          '[v3_ca]',
          'basicConstraints = critical,CA:TRUE',
          'keyUsage = critical,keyCertSign,cRLSign',
          'subjectKeyIdentifier = hash',
        ].join('\n'),
      );
      mkdirSync(tlsDir, { recursive: true, mode: 0o700 });
      await runTool('openssl', [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        caKey,
        '-out',
        caCert,
        '-days',
        '3650',
        '-config',
        join(work, 'ca.cnf'),
        '-extensions',
        'v3_ca',
      ]);
      chmodSync(caKey, 0o600);
    }
    const names = [...new Set(['localhost', '127.0.0.1', ...hostnames])];
    const san = names.map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
    writeFileSync(
      join(work, 'server.cnf'),
      ['[req]', 'distinguished_name = dn', 'prompt = no', '[dn]', `CN = ${names.find((n) => !isIP(n) && n !== 'localhost') ?? 'localhost'}`].join('\n'),
    );
    writeFileSync(
      join(work, 'ext.cnf'),
      [`subjectAltName = ${san}`, 'basicConstraints = critical,CA:FALSE', 'keyUsage = critical,digitalSignature,keyAgreement', 'extendedKeyUsage = serverAuth'].join('\n'),
    );
    const serverKey = join(outDir, 'tls', 'server.key');
    const serverCert = join(outDir, 'tls', 'server.crt');
    mkdirSync(join(outDir, 'tls'), { recursive: true });
    await runTool('openssl', [
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      serverKey,
      '-out',
      join(work, 'server.csr'),
      '-config',
      join(work, 'server.cnf'),
    ]);
    chmodSync(serverKey, 0o600);
    await runTool('openssl', [
      'x509',
      '-req',
      '-in',
      join(work, 'server.csr'),
      '-CA',
      caCert,
      '-CAkey',
      caKey,
      '-CAcreateserial',
      '-CAserial',
      join(work, 'ca.srl'),
      '-out',
      serverCert,
      '-days',
      '825',
      '-extfile',
      join(work, 'ext.cnf'),
    ]);
    const outCa = join(outDir, 'tls', 'ca.crt');
    copyFileSync(caCert, outCa);
    return { caCert: outCa, serverCert, serverKey };
  } catch (e) {
    if (e instanceof ToolMissingError) return undefined;
    throw e;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
