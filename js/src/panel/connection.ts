/**
 * Is the kernel still there? Three signals: the widget's own "comm_live_update" (fires when the
 * kernel restarts), the kernel status the JupyterLab extension reports (restarting, dead), and a
 * heartbeat over custom messages (catches a dead kernel and hosts without the extension). When
 * the kernel is gone, the action buttons give way to a Reconnect bar; the controls stay editable.
 */

import type { AnyModel } from '@anywidget/types';
import type { KernelStatus } from '../common/events';
import type { Binder } from './bind';
import { h } from './dom';
import type { PanelModel } from './model';

export const HEARTBEAT_MS = 2000;
/** No answer for this long (while the kernel is not known to be busy) counts as gone. */
export const HEARTBEAT_TIMEOUT_MS = 8000;
const AUTO_KEY = 'fooocus-widgets:auto-reconnect';

export type ConnectionState = 'live' | 'lost' | 'reconnecting';

export function autoReconnectEnabled(): boolean {
  try {
    return globalThis.localStorage?.getItem(AUTO_KEY) === 'true';
  } catch {
    return false;
  }
}

function setAutoReconnect(on: boolean): void {
  try {
    globalThis.localStorage?.setItem(AUTO_KEY, String(on));
  } catch {
    // storage disabled: the setting lasts for this page only
  }
}

export class ConnectionMonitor {
  state: ConnectionState = 'live';
  kernelStatus: KernelStatus = 'unknown';
  readonly bar: HTMLElement;
  private readonly text: HTMLElement;
  private readonly button: HTMLButtonElement;
  private readonly listeners: ((state: ConnectionState) => void)[] = [];
  private lastPong = Date.now();
  private pingId = 0;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    b: Binder,
    private readonly model: AnyModel<PanelModel>,
    /** Called on a click of Reconnect (or automatically after a crash when that is on). */
    private readonly onReconnect: () => void
  ) {
    this.text = h('span', 'fw-connection-text', { 'data-fw': 'connection-text' });
    this.button = h('button', 'fw-button fw-primary fw-reconnect', { type: 'button', 'data-fw': 'reconnect' }, ['Reconnect']);
    const auto = h('input', '', { type: 'checkbox', 'data-fw': 'auto-reconnect' });
    auto.checked = autoReconnectEnabled();
    b.listen(auto, 'change', () => setAutoReconnect(auto.checked));
    this.bar = h('div', 'fw-connection', { 'data-fw': 'connection', role: 'status' }, [
      this.text,
      this.button,
      h('label', 'fw-check fw-auto', { title: 'Reconnect by itself when the kernel comes back after a crash' }, [
        auto,
        h('span', '', {}, ['Reconnect automatically'])
      ])
    ]);
    this.bar.hidden = true;
    b.listen(this.button, 'click', () => this.onReconnect());

    const onCommLive = (): void => this.lose('The kernel restarted or stopped; this panel lost its connection.');
    model.on('comm_live_update', onCommLive);
    const onMessage = (msg: unknown): void => {
      const m = msg as { type?: string };
      if (m.type !== 'pong') return;
      this.lastPong = Date.now();
      if (this.state === 'lost' && this.lostBy === 'heartbeat') this.setState('live');
    };
    model.on('msg:custom', onMessage);
    this.timer = setInterval(() => this.beat(), HEARTBEAT_MS);
    this.cleanup = () => {
      clearInterval(this.timer);
      model.off('comm_live_update', onCommLive);
      model.off('msg:custom', onMessage);
    };
  }

  private lostBy: 'comm' | 'status' | 'heartbeat' | '' = '';
  private readonly cleanup: () => void;

  onChange(listener: (state: ConnectionState) => void): void {
    this.listeners.push(listener);
  }

  /** The extension reports the kernel's status. */
  kernel(status: KernelStatus): void {
    this.kernelStatus = status;
    if (status === 'restarting' || status === 'autorestarting') {
      this.lose('The kernel is restarting…', 'status');
    } else if (status === 'dead') {
      this.lose('The kernel died. Reconnect starts a new one and brings this panel back.', 'status');
    } else if ((status === 'idle' || status === 'busy') && this.state === 'lost' && this.lostBy !== 'heartbeat') {
      this.text.textContent = 'The kernel is back. Reconnect to bring this panel to life with everything you set.';
      if (autoReconnectEnabled() && status === 'idle') this.onReconnect();
    }
  }

  reconnecting(): void {
    this.setState('reconnecting');
    this.text.textContent = 'Reconnecting…';
    this.button.disabled = true;
  }

  /** Reconnect could not be done here (no extension, or it failed): say what to do instead. */
  failed(message: string): void {
    this.setState('lost');
    this.lostBy = 'comm';
    this.text.textContent = message;
    this.button.disabled = false;
  }

  private beat(): void {
    if (this.state !== 'live') return;
    try {
      this.model.send({ type: 'ping', id: ++this.pingId });
    } catch {
      this.lose('The kernel cannot be reached.', 'heartbeat');
      return;
    }
    const silent = Date.now() - this.lastPong;
    if (silent > HEARTBEAT_TIMEOUT_MS && this.kernelStatus !== 'busy') {
      this.lose('No answer from the kernel: it may have stopped, or a long cell is running.', 'heartbeat');
    }
  }

  private lose(message: string, by: 'comm' | 'status' | 'heartbeat' = 'comm'): void {
    if (this.state === 'reconnecting') return;
    if (this.state === 'lost' && this.lostBy === 'comm' && by === 'heartbeat') return;
    this.lostBy = this.state === 'lost' && this.lostBy === 'comm' ? 'comm' : by;
    this.text.textContent = `${message} Your settings are saved.`;
    this.button.disabled = false;
    this.setState('lost');
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    this.bar.hidden = state === 'live';
    this.bar.dataset.state = state;
    for (const listener of this.listeners) listener(state);
  }

  dispose(): void {
    this.cleanup();
  }
}
