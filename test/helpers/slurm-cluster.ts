/**
 * A one-node Slurm cluster on this machine for tests: munged, slurmctld and slurmd started as root
 * from a slurm.conf in a temporary folder (no systemd, no cgroups, no accounting, own ports, own
 * munge socket and key), and stopped again by the PIDs it started, after cancelling its jobs.
 * Debian's packages (Slurm 22.05) are installed with apt when missing and root is available.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const PACKAGES = ['slurmctld', 'slurmd', 'slurm-client', 'munge'];
const BINARIES = ['/usr/sbin/munged', '/usr/sbin/slurmctld', '/usr/sbin/slurmd', '/usr/bin/sbatch'];

function tryExec(cmd: string, args: string[]): string | undefined {
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    return undefined;
  } catch (err) {
    return String((err as { stderr?: Buffer }).stderr ?? err).trim().split('\n').at(-1) ?? 'failed';
  }
}

/** What slurmUnavailable asks of the machine (tests pass a stand-in). */
export interface Host {
  platform: string;
  uid: number | undefined;
  exists(file: string): boolean;
  /** run a command; undefined on success, else the last line of its error output */
  run(cmd: string, args: string[]): string | undefined;
}

const thisHost: Host = { platform: process.platform, uid: process.getuid?.(), exists: existsSync, run: tryExec };

/** Why a cluster cannot run here (then the test is skipped with this line), or undefined when it can. */
export function slurmUnavailable(host: Host = thisHost): string | undefined {
  if (host.platform !== 'linux') return `a Slurm test cluster needs Linux (this is ${host.platform})`;
  if (host.uid !== 0) return 'starting a Slurm node (slurmd) needs root';
  if (BINARIES.every((b) => host.exists(b))) return undefined;
  if (!host.exists('/usr/bin/apt-get')) return `Slurm is not installed and there is no apt-get to install ${PACKAGES.join(' ')}`;
  const install = ['install', '-y', '-qq', '--no-install-recommends', ...PACKAGES];
  // a fresh container may have no package lists yet
  const failed = host.run('apt-get', install) && (host.run('apt-get', ['update', '-qq']) ?? host.run('apt-get', install));
  return failed ? `apt-get could not install ${PACKAGES.join(' ')}: ${failed}` : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export interface Cluster {
  /** SLURM_CONF for sbatch, squeue, scancel */
  conf: string;
  /** run a Slurm client command against this cluster */
  client(cmd: string, args: string[]): Promise<string>;
  /** cancel every job, then stop exactly the daemons this cluster started (again: does nothing) */
  stop(): Promise<void>;
  /** processes other than this one still carrying this cluster's SLURM_CONF: daemons, job steps, runs */
  leftovers(): number[];
}

/** PIDs of the processes whose environment holds `entry` (root reads every /proc/<pid>/environ). */
function processesWithEnv(entry: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let env: string;
    try {
      env = readFileSync(`/proc/${name}/environ`, 'latin1');
    } catch {
      continue; // ended meanwhile
    }
    if (env.split('\0').includes(entry)) found.push(Number(name));
  }
  return found;
}

function slurmConf(dir: string, ports: [number, number]): string {
  const host = os.hostname().split('.')[0]!;
  return `ClusterName=sssseg-test
SlurmctldHost=${host}(127.0.0.1)
SlurmctldPort=${ports[0]}
SlurmdPort=${ports[1]}
AuthType=auth/munge
AuthInfo=socket=${dir}/sock/munge.socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=${dir}/state
SlurmdSpoolDir=${dir}/spool
SlurmctldPidFile=${dir}/slurmctld.pid
SlurmdPidFile=${dir}/slurmd.pid
SlurmctldLogFile=${dir}/log/slurmctld.log
SlurmdLogFile=${dir}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
KillWait=30
NodeName=${host} NodeAddr=127.0.0.1 CPUs=${os.cpus().length} State=UNKNOWN
PartitionName=test Nodes=${host} Default=YES MaxTime=INFINITE State=UP
`;
}

/**
 * Start munged, slurmctld and slurmd (niced, so its jobs are too) with everything in a fresh temporary
 * folder (empty state: job ids start at 1), removed again by stop().
 */
export async function startCluster(): Promise<Cluster> {
  // munged wants its key in a private folder and its socket in one every user can enter, up to /
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sssseg-slurm-cluster-'));
  chmodSync(dir, 0o755);
  mkdirSync(path.join(dir, 'key'), { mode: 0o700 });
  for (const d of ['sock', 'state', 'spool', 'log']) mkdirSync(path.join(dir, d), { mode: 0o755 });
  writeFileSync(path.join(dir, 'key', 'munge.key'), randomBytes(1024), { mode: 0o400 });
  const conf = path.join(dir, 'slurm.conf');
  writeFileSync(conf, slurmConf(dir, [await freePort(), await freePort()]));
  const env = { ...process.env, SLURM_CONF: conf };
  const pidFiles: string[] = [];
  const pids = (): number[] => pidFiles.filter((f) => existsSync(f)).map((f) => Number(readFileSync(f, 'utf8').trim())).filter((p) => p > 0);

  const client = (cmd: string, args: string[]) =>
    new Promise<string>((resolve, reject) =>
      execFile(cmd, args, { env, encoding: 'utf8' }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim()}`)) : resolve(stdout))),
    );

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const jobs = (await client('squeue', ['-h', '-o', '%A']).catch(() => '')).split('\n').filter(Boolean);
    if (jobs.length) await client('scancel', jobs).catch(() => undefined);
    // slurmstepd outlives slurmd: wait for the jobs to end before stopping the daemons
    for (let i = 0; i < 200 && (await client('squeue', ['-h']).catch(() => '')).trim(); i++) await sleep(200);
    for (const pid of pids().reverse()) {
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const start = (name: string, cmd: string, args: string[]) => {
    pidFiles.push(path.join(dir, `${name}.pid`));
    execFileSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  try {
    start('munged', '/usr/sbin/munged', [
      `--socket=${dir}/sock/munge.socket`, `--key-file=${dir}/key/munge.key`, `--pid-file=${dir}/munged.pid`,
      `--log-file=${dir}/log/munged.log`, `--seed-file=${dir}/munged.seed`,
    ]);
    start('slurmctld', '/usr/sbin/slurmctld', ['-f', conf]);
    start('slurmd', 'nice', ['-n', '10', '/usr/sbin/slurmd', '-f', conf]);
    for (let i = 0; ; i++) {
      const state = (await client('sinfo', ['-h', '-o', '%T']).catch(() => '')).trim();
      if (state === 'idle') break;
      if (i > 150) throw new Error(`the test node did not become idle (state "${state}"): ${readFileSync(`${dir}/log/slurmd.log`, 'utf8').slice(-500)}`);
      await sleep(200);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const leftovers = () => processesWithEnv(`SLURM_CONF=${conf}`).filter((pid) => pid !== process.pid);
  return { conf, client, stop, leftovers };
}
