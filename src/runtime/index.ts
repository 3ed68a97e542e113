/** The main process's runtime as a program sees it: the server and what it reports. */
export { Server, type BoundAddress, type ServerEvents } from './main/server.js';
export type { ExitInfo } from './main/subprocess.js';
