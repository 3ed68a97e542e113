import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Closes an idle keep-alive connection only if it is still idle once pending input is read.
 *
 * Node checks the keep-alive timer in the timers phase, before the poll phase reads the
 * sockets. When a handler held the event loop longer than the keep-alive timeout (direct
 * mode with a synchronous engine call), a request a client sent on a reused connection
 * during that block is still unread when the timer fires, and Node destroys the socket:
 * the client gets ECONNRESET for a request it sent well within the window. uvicorn's
 * asyncio loop reads the socket first and does not have this race. Deferring the decision
 * by one turn of the loop (setImmediate runs after the poll phase) lets the request in.
 */
export function closeIdleAfterRead(server: Server): void {
  // With a 'timeout' listener Node leaves the socket alone; this listener decides instead.
  server.on('timeout', (socket: Socket) => {
    const read = socket.bytesRead;
    setImmediate(() => {
      if (socket.bytesRead === read) socket.destroy();
    });
  });
}
