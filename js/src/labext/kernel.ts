/**
 * Kernel status for panels: maps JupyterLab's kernel statuses to the panel's, feeds a notebook's
 * status changes to the panels that subscribe (until the notebook closes), and makes sure a
 * notebook has a running kernel before Reconnect rebuilds a panel.
 */

import type { ISessionContext } from '@jupyterlab/apputils';
import type { Kernel } from '@jupyterlab/services';
import type { IDisposable } from '@lumino/disposable';
import type { ISignal } from '@lumino/signaling';
import type { KernelStatus } from '../common/events';

/** How long Reconnect waits for a kernel to come back. */
export const KERNEL_WAIT_MS = 60_000;

/** The part of a session context the status feed reads (an `ISessionContext` is one). */
export interface KernelSource {
  readonly statusChanged: ISignal<unknown, unknown>;
  readonly kernelChanged: ISignal<unknown, unknown>;
  readonly isDisposed: boolean;
  readonly hasNoKernel: boolean;
  readonly session: { readonly kernel: { readonly status: Kernel.Status } | null } | null;
}

/** The panel's status for each of JupyterLab's kernel statuses: the one place they meet. */
export function panelKernelStatus(status: Kernel.Status): KernelStatus {
  switch (status) {
    case 'idle':
      return 'idle';
    case 'busy':
      return 'busy';
    case 'starting':
      return 'starting';
    case 'restarting':
      return 'restarting';
    case 'autorestarting':
      return 'autorestarting';
    case 'terminating': // shutting down: this kernel will not answer again
    case 'dead':
      return 'dead';
    case 'unknown':
      return 'unknown';
  }
}

/** What the notebook's kernel is doing now, as the panel understands it. */
export function currentKernelStatus(ctx: KernelSource): KernelStatus {
  if (ctx.isDisposed) return 'dead';
  const kernel = ctx.session?.kernel;
  if (!kernel) return ctx.hasNoKernel ? 'dead' : 'unknown';
  return panelKernelStatus(kernel.status);
}

/** Is the kernel there and able to run the rehydrate call? */
function kernelReady(ctx: KernelSource): boolean {
  const status = currentKernelStatus(ctx);
  return (status === 'idle' || status === 'busy') && !!ctx.session?.kernel;
}

/**
 * One notebook's kernel status, fed to any number of subscribers (one per panel view). It
 * listens to the session context's signals until disposed; disposing drops every subscriber.
 */
export class KernelStatusFeed implements IDisposable {
  private readonly subscribers = new Set<(status: KernelStatus) => void>();
  private disposed = false;

  constructor(private readonly ctx: KernelSource) {
    ctx.statusChanged.connect(this.broadcast, this);
    ctx.kernelChanged.connect(this.broadcast, this);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** How many subscribers are listening (for tests and diagnostics). */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Call `callback` with the current status now and at every change; returns an unsubscribe. */
  subscribe(callback: (status: KernelStatus) => void): () => void {
    if (this.disposed) return () => undefined;
    this.subscribers.add(callback);
    callback(currentKernelStatus(this.ctx));
    return () => {
      this.subscribers.delete(callback);
    };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.ctx.statusChanged.disconnect(this.broadcast, this);
    this.ctx.kernelChanged.disconnect(this.broadcast, this);
    this.subscribers.clear();
  }

  private broadcast(): void {
    const status = currentKernelStatus(this.ctx);
    for (const subscriber of [...this.subscribers]) subscriber(status);
  }
}

/** The error `ensureKernel` rejects with when `signal` aborts (the notebook closed). */
export class NotebookClosedError extends Error {
  constructor() {
    super('the notebook was closed');
    this.name = 'NotebookClosedError';
  }
}

/**
 * Resolve once the notebook has a kernel that is idle or busy, starting a fresh one of the same
 * kind when it died (a dead kernel cannot restart). Rejects after `KERNEL_WAIT_MS`, or with
 * `NotebookClosedError` as soon as `signal` aborts.
 */
export async function ensureKernel(ctx: ISessionContext, signal: AbortSignal): Promise<void> {
  if (signal.aborted) throw new NotebookClosedError();
  if (kernelReady(ctx)) return;
  if (currentKernelStatus(ctx) === 'dead' || !ctx.session?.kernel) {
    const name = ctx.prevKernelName || ctx.kernelPreference.name || 'python3';
    await ctx.changeKernel({ name });
  }
  await ctx.ready;
  if (signal.aborted) throw new NotebookClosedError();
  if (kernelReady(ctx)) return;
  await new Promise<void>((resolve, reject) => {
    const finish = (error?: Error): void => {
      clearTimeout(timeout);
      ctx.statusChanged.disconnect(check);
      signal.removeEventListener('abort', abort);
      if (error) reject(error);
      else resolve();
    };
    const check = (): void => {
      if (kernelReady(ctx)) finish();
    };
    const abort = (): void => finish(new NotebookClosedError());
    const timeout = setTimeout(() => finish(new Error('the kernel did not come back within a minute')), KERNEL_WAIT_MS);
    ctx.statusChanged.connect(check);
    signal.addEventListener('abort', abort);
    check();
  });
}
