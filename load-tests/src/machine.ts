import { cpus, hostname, loadavg, platform, release, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';

/** Where a figure came from: every benchmark figure is printed with this. */
export interface MachineInfo {
  host: string;
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  redis: string;
  /** 1-minute load average when the run started: other work on the machine skews every figure */
  loadAvg1m: number;
}

function redisVersion(): string {
  try {
    const out = execFileSync('redis-server', ['--version'], { encoding: 'utf8', timeout: 3000 });
    return /v=([\d.]+)/.exec(out)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function loadAvg(): number {
  return Math.round(loadavg()[0] * 100) / 100;
}

export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    host: hostname(),
    cores: c.length,
    cpuModel: (c[0]?.model ?? 'unknown').trim(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()}`,
    node: process.version,
    redis: redisVersion(),
    loadAvg1m: loadAvg(),
  };
}

export function describeMachine(m: MachineInfo): string {
  return (
    `${m.cores} cores, ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.os}, node ${m.node}, redis ${m.redis}, ` +
    `load average ${m.loadAvg1m} at start`
  );
}
