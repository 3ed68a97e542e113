import cluster from 'node:cluster';
import { fork, type ChildProcess, type StdioOptions } from 'node:child_process';

let policyChecked = false;

/**
 * Starts one web process running `exec` as a `node:cluster` worker, so that several web
 * processes can listen on the same port.
 *
 * The scheduling policy is SCHED_NONE: the main process only creates the listening
 * socket and hands it to the workers, which accept connections themselves. With Node's
 * default round-robin the main process would accept every connection and pass it on, so
 * a busy engine (the whole point of this process) would delay every accept.
 *
 * The cluster module is process-wide: its settings are set again before each fork, and
 * its policy is frozen at the first fork of the process, so a program that forked its own
 * round-robin cluster first keeps round-robin (a warning says so).
 *
 * Where this process is itself a cluster worker, it cannot be a primary: a plain fork is
 * used, and only one web process can bind the port.
 */
export function forkWeb(exec: string, options: { execArgv: string[]; stdio: StdioOptions }): ChildProcess {
  if (!cluster.isPrimary) {
    return fork(exec, [], { stdio: options.stdio, execArgv: options.execArgv, serialization: 'json' });
  }
  if (!policyChecked) {
    policyChecked = true;
    const initialised = Object.keys(cluster.settings).length > 0;
    if (!initialised) cluster.schedulingPolicy = cluster.SCHED_NONE;
    else if (cluster.schedulingPolicy !== cluster.SCHED_NONE) {
      process.emitWarning('appinfra: node:cluster was set up before the server started; its round-robin policy makes the main process accept every connection', { code: 'APPINFRA_CLUSTER_RR' });
    }
  }
  cluster.setupPrimary({ exec, args: [], execArgv: options.execArgv, stdio: options.stdio as unknown[], serialization: 'json' });
  const worker = cluster.fork();
  // The Worker re-emits its process's errors; the ChildProcess's owner handles them there,
  // and an unheard 'error' here would crash the main process.
  worker.on('error', () => undefined);
  return worker.process;
}
