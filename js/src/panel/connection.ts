/**
 * Is the kernel still there? One monitor per panel model (not per view) reads three signals: the
 * widget's own "comm_live_update" (fires when the kernel restarts), the kernel status the
 * JupyterLab extension reports (restarting, dead), and a heartbeat of `ping` requests (catches a
 * dead kernel and hosts without the extension). It holds the state and the sentence to show;
 * each view draws its Reconnect bar from it (./connection-bar).
 *
 * How the panel comes back (its `Recovery`) decides that sentence: with the JupyterLab extension,
 * Reconnect; without it, only running the cell again can, and the sentence says so at once, with
 * where the edits made meanwhile are kept (or that they are not).
 */

import type { KernelStatus } from '../common/events';
import { RequestError, type KernelChannel } from '../common/request';
import type { EditKeeper } from './page-keep';

export const HEARTBEAT_MS = 2000;
/** No answer for this long (while the kernel is not known to be busy) counts as gone. */
export const HEARTBEAT_TIMEOUT_MS = 8000;
const AUTO_KEY = 'fooocus-widgets:auto-reconnect';

export type ConnectionState = 'live' | 'lost' | 'reconnecting';
type LostBy = 'comm' | 'status' | 'heartbeat';

/** How a panel comes back after its kernel went away. */
export interface Recovery {
  /** 'reconnect': the JupyterLab extension brings it back; 'rerun': only running the cell again. */
  by: 'reconnect' | 'rerun';
  /** Where edits made while the kernel is away are kept until then (see ./page-keep). */
  keeps: EditKeeper;
}

/** Until the page knows better (the extension answered or not): the extension's way. */
const WITH_EXTENSION: Recovery = { by: 'reconnect', keeps: 'storage' };

/** What to do without the extension, and what becomes of the edits made until then. */
export function rerunAdvice(keeps: EditKeeper): string {
  switch (keeps) {
    case 'storage':
      return 'Run this cell again: your settings and the edits you make until then come back with it (kept in this browser).';
    case 'page':
      return (
        'Run this cell again: your settings and the edits you make until then come back with it. ' +
        'Browser storage is off here, so those edits live in this page only: reloading it loses them.'
      );
    case 'none':
      return (
        'Run this cell again. Edits you make before then are not saved: ' +
        'the panel comes back with the settings the kernel last had.'
      );
    default: {
      const unhandled: never = keeps;
      throw new Error(`unhandled edit keeper ${String(unhandled)}`);
    }
  }
}

function readAutoReconnect(): boolean {
  try {
    return globalThis.localStorage?.getItem(AUTO_KEY) === 'true';
  } catch {
    return false;
  }
}

function writeAutoReconnect(on: boolean): void {
  try {
    globalThis.localStorage?.setItem(AUTO_KEY, String(on));
  } catch {
    // storage disabled: the setting lasts for this page only
  }
}

export class ConnectionMonitor {
  state: ConnectionState = 'live';
  /** What to tell the user while not live ("" when live). */
  message = '';
  kernelStatus: KernelStatus = 'unknown';
  /** Reconnect by itself when the kernel is back after a crash (kept in browser storage). */
  autoReconnect = readAutoReconnect();
  private lostBy: LostBy | null = null;
  /** The 'reconnecting' state is another window's doing (see `elsewhere`). */
  private byOtherWindow = false;
  /** What happened, without what to do about it (that depends on the recovery). */
  private reason = '';
  private recovery: () => Recovery = () => WITH_EXTENSION;
  private lastAnswer = Date.now();
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly stopListening: () => void;

  constructor(
    private readonly channel: KernelChannel,
    /** Called to reconnect automatically (when that is on and the kernel is back). */
    private readonly onAutoReconnect: () => void
  ) {
    // any pong means the kernel is there, also one that comes after its request timed out
    this.stopListening = channel.on('pong', () => this.answered());
  }

  /** Start the heartbeat (idempotent). */
  start(): void {
    if (this.timer === undefined) this.timer = setInterval(() => this.beat(), HEARTBEAT_MS);
  }

  /** Stop the heartbeat (no view shows this panel any more). */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Whether Reconnect can work here (only with the JupyterLab extension). */
  get canReconnect(): boolean {
    return this.recovery().by === 'reconnect';
  }

  /** Where edits made while the kernel is away are kept ('storage' with the extension). */
  get keeps(): EditKeeper {
    return this.recovery().keeps;
  }

  /** How the panel comes back here, asked again each time it is said (storage may fail later). */
  setRecovery(recovery: () => Recovery): void {
    this.recovery = recovery;
    if (this.state === 'lost') this.say(this.lostMessage());
    else this.notify();
  }

  /** Call `listener` at every change of state, message or the auto-reconnect setting. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setAutoReconnect(on: boolean): void {
    this.autoReconnect = on;
    writeAutoReconnect(on);
    this.notify();
  }

  /** The widget's comm went away (the kernel restarted or stopped). */
  commLost(): void {
    this.lose(
      this.canReconnect ? 'The kernel restarted or stopped; this panel lost its connection.' : 'The kernel restarted or stopped.',
      'comm'
    );
  }

  /** The extension reports the kernel's status. */
  kernel(status: KernelStatus): void {
    this.kernelStatus = status;
    switch (status) {
      case 'restarting':
      case 'autorestarting':
        this.lose('The kernel is restarting…', 'status');
        return;
      case 'dead':
        this.lose('The kernel died. Reconnect starts a new one and brings this panel back.', 'status');
        return;
      case 'idle':
      case 'busy':
        if (this.state === 'lost' && this.lostBy !== 'heartbeat' && this.canReconnect) {
          this.reason = '';
          this.say('The kernel is back. Reconnect to bring this panel to life with everything you set.');
          if (this.autoReconnect && status === 'idle') this.onAutoReconnect();
        }
        return;
      case 'starting':
      case 'unknown':
        return; // nothing to tell yet: the next status will
      default: {
        const unhandled: never = status;
        throw new Error(`unhandled kernel status ${String(unhandled)}`);
      }
    }
  }

  reconnecting(): void {
    this.byOtherWindow = false;
    this.setState('reconnecting', 'Reconnecting…');
  }

  /**
   * Another window showing this notebook is bringing the panel back (true), or no longer is
   * (false). While it is, this view waits: its output is replaced by the live panel when done.
   */
  elsewhere(active: boolean): void {
    if (active) {
      if (this.state === 'live') return;
      this.byOtherWindow = true;
      this.setState('reconnecting', 'Reconnecting from another window…');
      return;
    }
    if (!this.byOtherWindow || this.state !== 'reconnecting') return;
    this.byOtherWindow = false; // that window gave up or went away: this one can do it
    this.lostBy = 'comm';
    this.reason = '';
    this.setState('lost', 'The kernel is back. Reconnect to bring this panel to life with everything you set.');
  }

  /** Reconnect failed: say why, and what to do instead. */
  failed(message: string): void {
    this.lostBy = 'comm';
    this.reason = '';
    this.setState('lost', message);
  }

  /** Reconnect cannot be done here (nobody answered it): only running the cell again can. */
  mustRerun(): void {
    this.lostBy = 'comm';
    this.reason = 'The kernel restarted or stopped.';
    this.setState('lost', this.lostMessage());
  }

  dispose(): void {
    this.stop();
    this.stopListening();
    this.listeners.clear();
  }

  private beat(): void {
    // a lost comm or a restarting kernel does not answer; a silent one may again
    if (this.state === 'reconnecting' || (this.state === 'lost' && this.lostBy !== 'heartbeat')) return;
    this.channel.request({ type: 'ping' }, { timeoutMs: HEARTBEAT_TIMEOUT_MS }).then(
      () => this.answered(),
      (err: unknown) => {
        if (!(err instanceof RequestError)) return;
        switch (err.failure) {
          case 'refused': // it answered, only not the way we asked
            this.answered();
            return;
          case 'unsent':
            this.lose('The kernel cannot be reached.', 'heartbeat');
            return;
          case 'timeout':
          case 'bad-reply':
            if (Date.now() - this.lastAnswer >= HEARTBEAT_TIMEOUT_MS && this.kernelStatus !== 'busy') {
              this.lose('No answer from the kernel: it may have stopped, or a long cell is running.', 'heartbeat');
            }
            return;
          case 'aborted':
          case 'closed':
            return;
          default: {
            const unhandled: never = err.failure;
            throw new Error(`unhandled request failure ${String(unhandled)}`);
          }
        }
      }
    );
  }

  private answered(): void {
    this.lastAnswer = Date.now();
    if (this.state === 'lost' && this.lostBy === 'heartbeat') {
      this.lostBy = null;
      this.setState('live', '');
    }
  }

  private lose(message: string, by: LostBy): void {
    if (this.state === 'reconnecting') return;
    if (this.state === 'lost' && this.lostBy === 'comm' && by === 'heartbeat') return;
    this.lostBy = this.state === 'lost' && this.lostBy === 'comm' ? 'comm' : by;
    this.reason = message;
    this.setState('lost', this.lostMessage());
  }

  /** The reason, then what to do: Reconnect (settings saved), or run the cell again. */
  private lostMessage(): string {
    if (!this.reason) return this.message;
    const recovery = this.recovery();
    if (recovery.by === 'reconnect') return `${this.reason} Your settings are saved.`;
    const advice = rerunAdvice(recovery.keeps);
    // a silent kernel may only be busy with a long cell: then nothing needs to run again
    if (this.lostBy === 'heartbeat') return `${this.reason} If it stopped: ${advice[0]?.toLowerCase()}${advice.slice(1)}`;
    return `${this.reason} ${advice}`;
  }

  private say(message: string): void {
    this.message = message;
    this.notify();
  }

  private setState(state: ConnectionState, message: string): void {
    this.state = state;
    this.say(message);
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
