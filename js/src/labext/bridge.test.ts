/** NotebookBridge and KernelStatusFeed against a fake notebook panel (real DOM node, counting
 *  signals): the events they answer, and that disposing removes everything they attached. */

import { afterEach, describe, expect, it, vi } from 'vitest';
import type { NotebookPanel } from '@jupyterlab/notebook';
import type { Kernel } from '@jupyterlab/services';
import type { ISignal, Slot } from '@lumino/signaling';
import {
  PANEL_READY_EVENT,
  PANEL_RECONNECT_EVENT,
  PANEL_STATE_EVENT,
  type KernelStatus,
  type PanelReadyDetail,
  type PanelReconnectDetail,
  type PanelStateDetail
} from '../common/events';
import { METADATA_KEY, type SavedRecord } from '../common/record';
import { NotebookBridge } from './bridge';
import { answeringKernel } from '../testing/answering-kernel';
import { KernelStatusFeed } from './kernel';
import { RECONNECT_MEASURE } from './timing';

// the real OutputArea needs JupyterLab's web components; the rehydrate call is faked
const execute = vi.hoisted(() => vi.fn());
vi.mock('@jupyterlab/outputarea', () => ({ OutputArea: { execute } }));

/** A Lumino-like signal that counts its connections. */
class FakeSignal<T, U> implements ISignal<T, U> {
  private slots: { slot: Slot<T, U>; thisArg: unknown }[] = [];

  get connections(): number {
    return this.slots.length;
  }

  connect(slot: Slot<T, U>, thisArg?: unknown): boolean {
    if (this.slots.some(s => s.slot === slot && s.thisArg === thisArg)) return false;
    this.slots.push({ slot, thisArg });
    return true;
  }

  disconnect(slot: Slot<T, U>, thisArg?: unknown): boolean {
    const before = this.slots.length;
    this.slots = this.slots.filter(s => s.slot !== slot || s.thisArg !== thisArg);
    return this.slots.length < before;
  }

  emit(sender: T, args: U): void {
    for (const { slot, thisArg } of [...this.slots]) slot.call(thisArg, sender, args);
  }
}

/** The parts of a session context the bridge, the feed and ensureKernel read. */
class FakeSessionContext {
  readonly statusChanged = new FakeSignal<unknown, unknown>();
  readonly kernelChanged = new FakeSignal<unknown, unknown>();
  readonly isDisposed = false;
  readonly hasNoKernel = false;
  readonly ready = Promise.resolve();
  readonly session: { kernel: { status: Kernel.Status } };

  constructor(status: Kernel.Status) {
    this.session = { kernel: answeringKernel({ status }) };
  }

  /** The kernel reports `status` (JupyterLab emits the session context's statusChanged). */
  set(status: Kernel.Status): void {
    this.session.kernel.status = status;
    this.statusChanged.emit(this, status);
  }
}

/** A notebook panel with a real DOM node, one code cell holding a panel element, and metadata. */
function fakeNotebook(status: Kernel.Status = 'idle') {
  const node = document.createElement('div');
  const cellNode = document.createElement('div');
  const panelEl = document.createElement('div');
  cellNode.append(panelEl);
  node.append(cellNode);
  const metadata = new Map<string, unknown>();
  const notebook = {
    node,
    disposed: new FakeSignal<unknown, void>(),
    sessionContext: new FakeSessionContext(status),
    context: { path: 'work/bench.ipynb' },
    model: {
      getMetadata: (key: string): unknown => metadata.get(key),
      setMetadata: (key: string, value: unknown): void => void metadata.set(key, value)
    },
    content: {
      widgets: [
        {
          node: cellNode,
          model: { type: 'code', sharedModel: { getSource: () => 'panel = fw.FooocusPanel()' } },
          outputArea: { model: { clear: vi.fn(), add: vi.fn() } }
        }
      ]
    }
  };
  // the bridge only touches the members faked above
  return { notebook, panel: notebook as unknown as NotebookPanel, panelEl, metadata };
}

const record = (revision: number): SavedRecord => ({ schema_version: 1, revision, updated_at: 't', state: { prompt: 'p' } });

/** Dispatch a panel event the way the panel does; true when the extension handled it. */
function send<T>(target: Element, name: string, detail: T): boolean {
  return !target.dispatchEvent(new CustomEvent(name, { bubbles: true, cancelable: true, detail }));
}

afterEach(() => {
  vi.restoreAllMocks();
  execute.mockReset();
  performance.clearMarks();
  performance.clearMeasures();
});

describe('NotebookBridge', () => {
  it('answers the panel events and feeds kernel statuses while the notebook is open', () => {
    const { notebook, panel, panelEl, metadata } = fakeNotebook();
    new NotebookBridge(panel);

    expect(send<PanelStateDetail>(panelEl, PANEL_STATE_EVENT, { key: 'k', record: record(2) })).toBe(false);
    expect(metadata.get(METADATA_KEY)).toEqual({ panels: { k: record(2) } });

    const ready: PanelReadyDetail = { key: 'k' };
    expect(send(panelEl, PANEL_READY_EVENT, ready)).toBe(true);
    expect(ready.notebookPath).toBe('work/bench.ipynb');
    expect(ready.saved).toEqual(record(2));
    const seen: KernelStatus[] = [];
    ready.onKernelStatus?.(status => seen.push(status));
    notebook.sessionContext.set('restarting');
    notebook.sessionContext.set('idle');
    expect(seen).toEqual(['idle', 'restarting', 'idle']);
  });

  it('removes every listener, signal connection and subscriber when the notebook closes', () => {
    const { notebook, panel, panelEl, metadata } = fakeNotebook();
    const ctx = notebook.sessionContext;
    const bridge = new NotebookBridge(panel);
    expect([ctx.statusChanged.connections, ctx.kernelChanged.connections, notebook.disposed.connections]).toEqual([2, 1, 1]); // the status feed and the reply watch
    const ready: PanelReadyDetail = { key: 'k' };
    send(panelEl, PANEL_READY_EVENT, ready);
    const seen: KernelStatus[] = [];
    ready.onKernelStatus?.(status => seen.push(status));

    notebook.disposed.emit(notebook, undefined);

    expect(bridge.isDisposed).toBe(true);
    expect([ctx.statusChanged.connections, ctx.kernelChanged.connections, notebook.disposed.connections]).toEqual([0, 0, 0]);
    ctx.set('busy');
    expect(seen).toEqual(['idle']);
    expect(send<PanelReadyDetail>(panelEl, PANEL_READY_EVENT, { key: 'k' })).toBe(false);
    expect(send<PanelStateDetail>(panelEl, PANEL_STATE_EVENT, { key: 'k', record: record(3) })).toBe(false);
    expect(send<PanelReconnectDetail>(panelEl, PANEL_RECONNECT_EVENT, { key: 'k', record: record(3) })).toBe(false);
    expect(metadata.size).toBe(0);
    bridge.dispose(); // twice is harmless
    expect(bridge.isDisposed).toBe(true);
  });

  it('handles Reconnect synchronously and drops it quietly when the notebook closes mid-way', async () => {
    const { notebook, panel, panelEl, metadata } = fakeNotebook('restarting');
    const ctx = notebook.sessionContext;
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const bridge = new NotebookBridge(panel);
    const done = vi.fn();

    expect(send<PanelReconnectDetail>(panelEl, PANEL_RECONNECT_EVENT, { key: 'k', record: record(4), done })).toBe(true);
    expect(metadata.get(METADATA_KEY)).toEqual({ panels: { k: record(4) } });
    await vi.waitFor(() => expect(ctx.statusChanged.connections).toBe(2)); // the feed and the kernel wait

    bridge.dispose();
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(ctx.statusChanged.connections).toBe(0);
    expect(done).not.toHaveBeenCalled();
    expect(error).not.toHaveBeenCalled();
  });

  it('rebuilds the panel in its cell once the kernel is back and measures it', async () => {
    const { notebook, panel, panelEl } = fakeNotebook('restarting');
    const info = vi.spyOn(console, 'info').mockImplementation(() => undefined);
    execute.mockResolvedValue({ content: { status: 'ok' } });
    new NotebookBridge(panel);

    expect(send<PanelReconnectDetail>(panelEl, PANEL_RECONNECT_EVENT, { key: 'k', record: record(4) })).toBe(true);
    await vi.waitFor(() => expect(notebook.sessionContext.statusChanged.connections).toBe(2));
    expect(execute).not.toHaveBeenCalled();
    notebook.sessionContext.set('idle');
    await vi.waitFor(() => expect(info).toHaveBeenCalled());

    expect(execute).toHaveBeenCalledTimes(1);
    expect(String(execute.mock.calls[0]?.[0])).toContain('rehydrate(');
    expect(notebook.content.widgets[0]?.outputArea.model.clear).toHaveBeenCalled();
    const measures = performance.getEntriesByName(RECONNECT_MEASURE, 'measure') as PerformanceMeasure[];
    expect(measures.map(m => m.detail)).toEqual([{ key: 'k', status: 'ok', waitedForKernelMs: expect.any(Number) }]);
    expect(String(info.mock.calls[0]?.[0])).toMatch(/^\[fooocus-widgets\] reconnected k: ok in \d+ ms/);
  });

  it('tells the panel when the kernel could not rebuild it', async () => {
    const { panel, panelEl } = fakeNotebook();
    vi.spyOn(console, 'info').mockImplementation(() => undefined);
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    execute.mockResolvedValue({ content: { status: 'error' } });
    new NotebookBridge(panel);
    const done = vi.fn();
    send<PanelReconnectDetail>(panelEl, PANEL_RECONNECT_EVENT, { key: 'k', record: record(4), done });
    await vi.waitFor(() => expect(done).toHaveBeenCalled());
    expect(done.mock.calls[0]?.[0]).toBe(false);
    expect(String(done.mock.calls[0]?.[1])).toMatch(/could not rebuild the panel \(error\)/);
  });

  it('tells a panel why the notebook\'s copy of it was refused, and hands it nothing', () => {
    const { panel, panelEl, metadata } = fakeNotebook();
    metadata.set(METADATA_KEY, { panels: { k: { ...record(2), state: ['not', 'an', 'object'] } } });
    new NotebookBridge(panel);
    const ready: PanelReadyDetail = { key: 'k' };
    expect(send(panelEl, PANEL_READY_EVENT, ready)).toBe(true);
    expect(ready.saved).toBeUndefined();
    expect(ready.refused).toMatch(/^The copy of this panel saved in the notebook was not used: its state is a list/);
    const fine: PanelReadyDetail = { key: 'other' };
    send(panelEl, PANEL_READY_EVENT, fine);
    expect('refused' in fine).toBe(false);
  });

  it('rebuilds the panel with the keys a newer version added to the notebook\'s copy', async () => {
    const { notebook, panel, panelEl, metadata } = fakeNotebook();
    vi.spyOn(console, 'info').mockImplementation(() => undefined);
    execute.mockResolvedValue({ content: { status: 'ok' } });
    metadata.set(METADATA_KEY, { panels: { k: { ...record(3), state: { prompt: 'p', future_knob: 7 } } } });
    new NotebookBridge(panel);
    send<PanelReconnectDetail>(panelEl, PANEL_RECONNECT_EVENT, { key: 'k', record: record(4) });
    await vi.waitFor(() => expect(execute).toHaveBeenCalledTimes(1));
    expect(String(execute.mock.calls[0]?.[0])).toContain('\\"future_knob\\":7');
    expect(notebook.model.getMetadata(METADATA_KEY)).toEqual({ panels: { k: { ...record(4), state: { prompt: 'p', future_knob: 7 } } } });
  });

  it('ignores a Reconnect from outside any code cell', () => {
    const { panel } = fakeNotebook();
    new NotebookBridge(panel);
    const stray = document.createElement('div');
    panel.node.append(stray);
    expect(send<PanelReconnectDetail>(stray, PANEL_RECONNECT_EVENT, { key: 'k', record: record(1) })).toBe(false);
  });
});

describe('KernelStatusFeed', () => {
  it('sends the current status on subscribe and stops after unsubscribe', () => {
    const ctx = new FakeSessionContext('busy');
    const feed = new KernelStatusFeed(ctx);
    const seen: KernelStatus[] = [];
    const unsubscribe = feed.subscribe(status => seen.push(status));
    ctx.set('dead');
    unsubscribe();
    ctx.set('idle');
    expect(seen).toEqual(['busy', 'dead']);
    expect(feed.subscriberCount).toBe(0);
    feed.dispose();
    expect(feed.subscribe(() => seen.push('idle'))()).toBeUndefined();
    expect(seen).toEqual(['busy', 'dead']);
  });
});
