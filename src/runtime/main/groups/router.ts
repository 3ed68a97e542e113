import { IdTable } from '../../../channel/id-table.js';
import type { Envelope } from '../../../contract/envelope.js';
import type { GroupSpec } from '../../../contract/groups.js';
import type { EngineRelay } from '../../../engine/engine.js';
import { wireErrorOf } from '../../../errors/index.js';
import { withId } from '../../../ipc/frame.js';
import type { Link } from '../../../ipc/transports/link.js';

/** A ready process of a group, as dispatch sees it. */
export interface Member {
  group: string;
  link: Link;
  /** Requests in flight on it. */
  pending: number;
  served: number;
}

/** A request on its way through a group process, and where its answers go back. */
interface Relayed {
  id: string;
  origin: Link;
  originId: string;
  /** Kept only while the request may be tried again (retry > 0). */
  request: Envelope | undefined;
  member: Member;
  group: string;
  retries: number;
  /** A chunk reached the caller: trying again would repeat it. */
  started: boolean;
}

/**
 * The main process's engine's relay to process groups: a request for a grouped handler
 * goes to the group's least-loaded ready process under an id of the relay's own; the
 * process's answers, chunks and errors come back and go to the web process that asked,
 * under the request's id; the caller's cancels and credits go the other way. Payload
 * bytes pass through without being decoded. The group process runs the ordinary Engine,
 * so streams, credit windows, deadlines, cancel and error mapping are the same as here.
 *
 * A process that dies fails its requests at once: 502 APPINFRA_ERR_GROUP_LOST naming the
 * group, or, for a handler with `retry: n` whose caller has seen nothing yet, the request
 * goes to another ready process (up to n times). With no ready process, a request is
 * answered 503 APPINFRA_ERR_GROUP_UNAVAILABLE at once.
 */
export class GroupRouter implements EngineRelay {
  private readonly routes = new Map<string, { group: string; retry: number }>();
  private readonly members = new Map<string, Member[]>();
  private readonly relayed = new IdTable<Relayed>();
  /** Per web process (or other origin), its requests by their own id: an IdTable, as `relayed` (see ../../../channel/id-table.ts). */
  private readonly byOrigin = new Map<Link, IdTable<Relayed>>();
  private seq = 0;
  /** Rotates where a tie between equally loaded processes starts, so ties spread. */
  private turn = 0;
  /** Called when a member's counts change (health reporting, throttled by the listener). */
  onChange: () => void = () => undefined;

  constructor(groups: readonly GroupSpec[]) {
    for (const g of groups) {
      this.members.set(g.name, []);
      for (const h of g.handlers) this.routes.set(h, { group: g.name, retry: g.retry[h] ?? 0 });
    }
  }

  serves(route: string): boolean {
    return this.routes.has(route);
  }

  groupOf(route: string): string | undefined {
    return this.routes.get(route)?.group;
  }

  readyMembers(group: string): readonly Member[] {
    return this.members.get(group) ?? [];
  }

  /** A process of `group` is ready: dispatch may use it from now on. */
  add(group: string, link: Link): Member {
    const member: Member = { group, link, pending: 0, served: 0 };
    this.members.get(group)!.push(member);
    link.onMessage((e) => this.fromMember(member, e));
    link.onClose(() => this.lost(member));
    this.onChange();
    return member;
  }

  request(origin: Link, e: Envelope): void {
    const route = this.routes.get(e.route!)!;
    const r: Relayed = { id: `g${(++this.seq).toString(36)}`, origin, originId: e.id, request: e, member: undefined as unknown as Member, group: route.group, retries: route.retry, started: false };
    if (!this.dispatch(r)) {
      origin.send({ kind: 'error', id: e.id, payload: wireErrorOf('APPINFRA_ERR_GROUP_UNAVAILABLE', `Process group "${route.group}" has no ready process; see /_health`) });
      return;
    }
    let mine = this.byOrigin.get(origin);
    if (!mine) this.byOrigin.set(origin, (mine = new IdTable<Relayed>()));
    mine.set(e.id, r);
    this.relayed.set(r.id, r);
  }

  /** Sends `r` to the least-loaded ready process of its group; false when there is none. */
  private dispatch(r: Relayed): boolean {
    const list = this.members.get(r.group)!;
    if (list.length === 0) return false;
    const start = this.turn++ % list.length;
    let best = list[start]!;
    for (let i = 1; i < list.length; i++) {
      const m = list[(start + i) % list.length]!;
      if (m.pending < best.pending) best = m;
    }
    r.member = best;
    best.pending++;
    best.link.send(withId(r.request!, r.id));
    // Its bytes are not needed again unless it may be tried again elsewhere.
    if (r.retries === 0) r.request = undefined;
    return true;
  }

  control(origin: Link, e: Envelope): void {
    const r = this.byOrigin.get(origin)?.get(e.id);
    if (!r) return;
    if (e.kind === 'credit') {
      r.member.link.send({ kind: 'credit', id: r.id, window: e.window ?? 0 });
    } else if (e.kind === 'cancel') {
      r.member.link.send({ kind: 'cancel', id: r.id });
      this.finish(r, false);
    }
  }

  linkClosed(origin: Link): void {
    const mine = this.byOrigin.get(origin);
    if (!mine) return;
    this.byOrigin.delete(origin);
    for (const r of mine.values()) {
      r.member.link.send({ kind: 'cancel', id: r.id });
      this.finish(r, false);
    }
  }

  private fromMember(member: Member, e: Envelope): void {
    const r = this.relayed.get(e.id);
    if (!r || r.member !== member) return;
    if (e.kind === 'chunk') {
      r.started = true;
      r.origin.send(withId(e, r.originId));
    } else if (e.kind === 'response' || e.kind === 'error' || e.kind === 'end') {
      r.origin.send(withId(e, r.originId));
      this.finish(r, true);
    }
  }

  private finish(r: Relayed, served: boolean): void {
    this.relayed.delete(r.id);
    this.byOrigin.get(r.origin)?.delete(r.originId);
    r.member.pending--;
    if (served) r.member.served++;
    this.onChange();
  }

  /** A process is gone: nothing more goes to it, and its requests end now (or move, when they may). */
  private lost(member: Member): void {
    const list = this.members.get(member.group)!;
    const at = list.indexOf(member);
    if (at >= 0) list.splice(at, 1);
    for (const r of this.relayed.values()) {
      if (r.member !== member) continue;
      member.pending--;
      if (r.retries > 0 && !r.started && r.origin.isOpen) {
        r.retries--;
        if (this.dispatch(r)) continue;
      }
      this.relayed.delete(r.id);
      this.byOrigin.get(r.origin)?.delete(r.originId);
      r.origin.send({ kind: 'error', id: r.originId, payload: wireErrorOf('APPINFRA_ERR_GROUP_LOST', `Process group "${r.group}": the process serving this request exited`) });
    }
    this.onChange();
  }
}
