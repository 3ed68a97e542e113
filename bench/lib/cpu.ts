import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`; 100 on Linux). */
export function clockTicks(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

/** utime + stime of a process, all its threads (GC and libuv helpers included), in ticks; undefined once it is gone. */
export function processTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of the line, 12 and 13 after the name and state.
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** Busy and total ticks summed over every CPU of the machine (/proc/stat). */
export function machineTicks(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest times are already in user).
  const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  return { busy: total - idle, total };
}

export interface Sample {
  at: number;
  procs: Map<number, number | undefined>;
  machine: { busy: number; total: number };
}

export function sample(pids: number[]): Sample {
  return { at: performance.now(), procs: new Map(pids.map((p) => [p, processTicks(p)])), machine: machineTicks() };
}

/**
 * Cores used between two samples: per process, cpu-seconds / wall seconds (1.0 = one core
 * busy the whole time); machine: every CPU's busy share times the CPU count (wrk included).
 */
export function coresUsed(a: Sample, b: Sample, ticksPerSecond: number, ncpu: number): { perPid: Map<number, number | null>; machine: number } {
  const wall = (b.at - a.at) / 1000;
  const perPid = new Map<number, number | null>();
  for (const [pid, t0] of a.procs) {
    const t1 = b.procs.get(pid);
    perPid.set(pid, t0 === undefined || t1 === undefined ? null : round2((t1 - t0) / ticksPerSecond / wall));
  }
  const total = b.machine.total - a.machine.total;
  return { perPid, machine: round2(total > 0 ? ((b.machine.busy - a.machine.busy) / total) * ncpu : 0) };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Read and write syscalls (/proc/PID/io) and voluntary context switches (every thread's), for a process; undefined once it is gone. */
export function processIo(pid: number): { syscalls: number; wakeups: number } | undefined {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const syscalls = Number(/syscr: (\d+)/.exec(io)?.[1]) + Number(/syscw: (\d+)/.exec(io)?.[1]);
    let wakeups = 0;
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      wakeups += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8'))?.[1] ?? 0);
    }
    return { syscalls, wakeups };
  } catch {
    return undefined;
  }
}
